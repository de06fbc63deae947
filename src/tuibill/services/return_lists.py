"""F7's lists, paged by key: returns received, virements, rejected invoices, partial payments,
non rapprochées — the same pager as the journals (``services.paging``).

Each list is newest first on (its date or id, id), read through an index; a page carries what
its rows need from other tables in one query per page (never one per row).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

import peewee

from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import (
    Invoice,
    Practitioner,
    ReceivedFile,
    ReturnEntry,
    ReturnLine,
    ReturnRejection,
    Virement,
)
from tuibill.services.journal import DEFAULT_WINDOW_DAYS
from tuibill.services.paging import KeysetPager, KeysetQuery, open_pager
from tuibill.services.return_views import (
    FILE_STATUS_LABELS,
    LEVEL_LABELS,
    NOT_MATCHED,
    PART_LABELS,
    RETURN,
)


class ReturnView(StrEnum):
    """F7's tabs (and ``returns list --vue``)."""

    FILES = "fichiers"
    VIREMENTS = "virements"
    REJECTED = "rejets"
    PARTIAL = "partiels"
    NOT_MATCHED = "non-rapprochees"

    @property
    def label(self) -> str:
        return VIEW_LABELS[self]


VIEW_LABELS = {
    ReturnView.FILES: "Retours reçus",
    ReturnView.VIREMENTS: "Virements",
    ReturnView.REJECTED: "Factures rejetées",
    ReturnView.PARTIAL: "Paiements partiels",
    ReturnView.NOT_MATCHED: "Non rapprochées",
}
# The lists of invoices to act on are short and all kept; the others open on 2 months.
WINDOWED = (ReturnView.FILES, ReturnView.VIREMENTS)


@dataclass(frozen=True)
class ReturnListFilter:
    view: ReturnView = ReturnView.FILES
    practitioner_id: int | None = None
    to_treat: bool = False  # rejets / partiels: only invoices still in that state
    all_time: bool = False
    today: date | None = None

    @property
    def window_start(self) -> date | None:
        if self.view not in WINDOWED or self.all_time:
            return None
        return (self.today or date.today()) - timedelta(days=DEFAULT_WINDOW_DAYS)


def _datetime(value: object) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _names() -> dict[int, str]:
    return {
        pid: f"{last} {first}".strip()
        for pid, last, first in Practitioner.select(
            Practitioner.id, Practitioner.last_name, Practitioner.first_name
        ).tuples()
    }


# --- the rows ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileRow:
    id: int
    file_name: str
    received_at: datetime
    status: str
    error: str
    invoices: int
    paid: int
    partial: int
    rejected: int
    not_matched: int
    paid_cents: int
    paying_body: str

    @property
    def key(self) -> tuple[datetime, int]:
        return (self.received_at, self.id)

    @property
    def status_label(self) -> str:
        return FILE_STATUS_LABELS.get(self.status, self.status)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "fichier": self.file_name,
            "recu_le": self.received_at,
            "etat": self.status_label,
            "etat_code": self.status,
            "motif": self.error,
            "caisse": self.paying_body,
            "factures": self.invoices,
            "payees": self.paid,
            "partielles": self.partial,
            "rejetees": self.rejected,
            "non_rapprochees": self.not_matched,
            "montant_paye_cents": self.paid_cents,
        }


@dataclass(frozen=True)
class VirementRow:
    id: int
    accounting_date: date
    paying_body: str
    label: str
    practitioner: str
    total_cents: int
    invoice_count: int
    file_id: int

    @property
    def key(self) -> tuple[date, int]:
        return (self.accounting_date, self.id)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "date": self.accounting_date,
            "organisme": self.paying_body,
            "libelle": self.label,
            "praticien": self.practitioner,
            "montant_cents": self.total_cents,
            "factures": self.invoice_count,
            "retour": self.file_id,
        }


@dataclass(frozen=True)
class EntryRow:
    """An invoice of a return: rejected, partly paid or not matched."""

    id: int  # the ReturnEntry (or, for rejections, the rejection's entry)
    invoice_id: int | None
    number: str
    patient: str
    practitioner: str
    billing_date: date | None
    lot_number: int | None
    asked_cents: int
    paid_cents: int
    state: str | None  # the invoice's state now
    code: str = ""
    label: str = ""
    level: str = ""
    part: str = ""
    line: int | None = None
    refused_lines: int = 0
    note: str = ""
    row_id: int = 0  # the key's id (the rejection's for rejections, else the entry's)

    @property
    def key(self) -> tuple[int, int]:
        return (self.row_id, self.row_id)

    @property
    def state_label(self) -> str:
        return InvoiceState(self.state).label if self.state else "—"

    def as_dict(self) -> dict:
        return {
            "ligne_retour": self.id,
            "facture": self.invoice_id,
            "numero": self.number,
            "patient": self.patient,
            "praticien": self.practitioner,
            "date_facturation": self.billing_date,
            "lot": self.lot_number,
            "demande_cents": self.asked_cents,
            "paye_cents": self.paid_cents,
            "etat": self.state_label if self.state else None,
            "code": self.code,
            "libelle": self.label,
            "niveau": LEVEL_LABELS.get(self.level, self.level),
            "part": PART_LABELS.get(self.part, self.part),
            "ligne": self.line,
            "lignes_refusees": self.refused_lines,
            "note": self.note,
        }


# --- the queries ------------------------------------------------------------------------------


class FilesQuery(KeysetQuery[FileRow]):
    model = ReceivedFile
    columns = (
        ReceivedFile.id,
        ReceivedFile.file_name,
        ReceivedFile.received_at,
        ReceivedFile.status,
        ReceivedFile.error,
    )
    sort_field = ReceivedFile.received_at

    def __init__(self, flt: ReturnListFilter) -> None:
        self.filter = flt

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        query = query.where(ReceivedFile.kind == RETURN)
        start = self.filter.window_start
        if start is not None:
            query = query.where(ReceivedFile.received_at >= datetime.combine(start, time.min))
        if self.filter.practitioner_id is not None:
            files = Virement.select(Virement.received_file).where(
                Virement.practitioner == self.filter.practitioner_id
            )
            query = query.where(ReceivedFile.id.in_(files))
        return query

    def rows(self, tuples: list[tuple]) -> list[FileRow]:
        ids = [t[0] for t in tuples]
        counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        paid: dict[int, int] = defaultdict(int)
        bodies: dict[int, str] = {}
        if ids:
            for file_id, outcome, count, cents in (
                ReturnEntry.select(
                    ReturnEntry.received_file,
                    ReturnEntry.outcome,
                    peewee.fn.COUNT(ReturnEntry.id),
                    peewee.fn.SUM(
                        peewee.Case(
                            None,
                            [(ReturnEntry.posted & ReturnEntry.invoice.is_null(False),
                              ReturnEntry.amo_paid_cents + ReturnEntry.amc_paid_cents)],
                            0,
                        )
                    ),
                )  # fmt: skip
                .where(ReturnEntry.received_file.in_(ids))
                .group_by(ReturnEntry.received_file, ReturnEntry.outcome)
                .tuples()
            ):
                counts[file_id][outcome] += count
                paid[file_id] += cents or 0
            for file_id, body in (
                Virement.select(Virement.received_file, Virement.paying_body)
                .where(Virement.received_file.in_(ids))
                .order_by(Virement.id)
                .tuples()
            ):
                bodies.setdefault(file_id, body)
        rows = []
        for t in tuples:
            c = counts[t[0]]
            rows.append(
                FileRow(
                    id=t[0],
                    file_name=t[1],
                    received_at=_datetime(t[2]),
                    status=t[3],
                    error=t[4],
                    invoices=sum(c.values()),
                    paid=c.get("payee", 0),
                    partial=c.get("partielle", 0),
                    rejected=c.get("rejetee", 0),
                    not_matched=c.get(NOT_MATCHED, 0),
                    paid_cents=paid[t[0]],
                    paying_body=bodies.get(t[0], ""),
                )
            )
        return rows


class VirementsQuery(KeysetQuery[VirementRow]):
    model = Virement
    columns = (
        Virement.id,
        Virement.accounting_date,
        Virement.paying_body,
        Virement.label,
        Virement.practitioner,
        Virement.total_cents,
        Virement.invoice_count,
        Virement.received_file,
    )
    sort_field = Virement.accounting_date

    def __init__(self, flt: ReturnListFilter) -> None:
        self.filter = flt
        self._names = _names()

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        start = self.filter.window_start
        if start is not None:
            query = query.where(Virement.accounting_date >= start)
        if self.filter.practitioner_id is not None:
            query = query.where(Virement.practitioner == self.filter.practitioner_id)
        return query

    def rows(self, tuples: list[tuple]) -> list[VirementRow]:
        return [
            VirementRow(
                id=t[0],
                accounting_date=_date(t[1]),
                paying_body=t[2],
                label=t[3],
                practitioner=self._names.get(t[4], "") if t[4] else "",
                total_cents=t[5],
                invoice_count=t[6],
                file_id=t[7],
            )
            for t in tuples
        ]


_ENTRY_COLUMNS = (
    ReturnEntry.id,
    ReturnEntry.invoice,
    ReturnEntry.invoice_number,
    ReturnEntry.patient_name,
    ReturnEntry.practitioner,
    ReturnEntry.billing_date,
    ReturnEntry.lot_number,
    ReturnEntry.amo_asked_cents + ReturnEntry.amc_asked_cents,
    ReturnEntry.amo_paid_cents + ReturnEntry.amc_paid_cents,
    ReturnEntry.note,
    ReturnEntry.payee_number,
)


def _states(invoice_ids: list[int]) -> dict[int, str]:
    if not invoice_ids:
        return {}
    return dict(
        Invoice.select(Invoice.id, Invoice.state).where(Invoice.id.in_(invoice_ids)).tuples()
    )


def _entry_row(t: tuple, names: dict[int, str], states: dict[int, str], **more) -> EntryRow:
    return EntryRow(
        id=t[0],
        invoice_id=t[1],
        number=format_invoice_number(t[2]) if t[2] else "",
        patient=t[3],
        practitioner=names.get(t[4], "") if t[4] else f"PS {t[10]}",
        billing_date=_date(t[5]) if t[5] else None,
        lot_number=t[6],
        asked_cents=t[7] or 0,
        paid_cents=t[8] or 0,
        state=states.get(t[1]) if t[1] else None,
        note=t[9],
        **more,
    )


class EntriesQuery(KeysetQuery[EntryRow]):
    """Partial payments or non rapprochées: entries of one outcome, newest first."""

    model = ReturnEntry
    columns = _ENTRY_COLUMNS
    sort_field = ReturnEntry.id

    def __init__(self, flt: ReturnListFilter, outcome: str, still: InvoiceState | None) -> None:
        self.filter = flt
        self.outcome = outcome
        self.still = still  # with to_treat: the invoice must still be in that state
        self._names = _names()

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        query = query.where(ReturnEntry.outcome == self.outcome)
        if self.filter.practitioner_id is not None:
            query = query.where(ReturnEntry.practitioner == self.filter.practitioner_id)
        if self.filter.to_treat and self.still is not None:
            still = Invoice.select(Invoice.id).where(Invoice.state == self.still.value)
            query = query.where(ReturnEntry.invoice.in_(still))
        return query

    def rows(self, tuples: list[tuple]) -> list[EntryRow]:
        states = _states([t[1] for t in tuples if t[1]])
        refused: dict[int, int] = defaultdict(int)
        ids = [t[0] for t in tuples]
        if ids and self.outcome == "partielle":
            for entry_id, count in (
                ReturnLine.select(ReturnLine.entry, peewee.fn.COUNT(ReturnLine.id))
                .where(ReturnLine.entry.in_(ids) & ReturnLine.refused)
                .group_by(ReturnLine.entry)
                .tuples()
            ):
                refused[entry_id] = count
        return [
            _entry_row(t, self._names, states, refused_lines=refused.get(t[0], 0), row_id=t[0])
            for t in tuples
        ]


class RejectionsQuery(KeysetQuery[EntryRow]):
    """Every rejection received (invoice or line level), newest first, with its invoice."""

    model = ReturnRejection
    columns = (
        ReturnRejection.id,
        ReturnRejection.entry,
        ReturnRejection.code,
        ReturnRejection.label,
        ReturnRejection.level,
        ReturnRejection.part,
        ReturnRejection.line_number,
    )
    sort_field = ReturnRejection.id

    def __init__(self, flt: ReturnListFilter) -> None:
        self.filter = flt
        self._names = _names()

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        query = query.where(
            (ReturnRejection.kind == "rejet") & (ReturnRejection.level != "A")
        )
        if self.filter.practitioner_id is not None:
            mine = ReturnEntry.select(ReturnEntry.id).where(
                ReturnEntry.practitioner == self.filter.practitioner_id
            )
            query = query.where(ReturnRejection.entry.in_(mine))
        if self.filter.to_treat:
            rejected = Invoice.select(Invoice.id).where(
                Invoice.state.in_(
                    [InvoiceState.REJETEE.value, InvoiceState.PAYEE_PARTIELLEMENT.value]
                )
            )
            query = query.where(ReturnRejection.invoice.in_(rejected))
        return query

    def rows(self, tuples: list[tuple]) -> list[EntryRow]:
        entry_ids = list({t[1] for t in tuples})
        entries = {
            e[0]: e
            for e in ReturnEntry.select(*_ENTRY_COLUMNS)
            .where(ReturnEntry.id.in_(entry_ids))
            .tuples()
        } if entry_ids else {}  # fmt: skip
        states = _states([e[1] for e in entries.values() if e[1]])
        rows = []
        for t in tuples:
            entry = entries.get(t[1])
            if entry is None:
                continue
            rows.append(
                _entry_row(
                    entry, self._names, states,
                    code=t[2], label=t[3], level=t[4], part=t[5], line=t[6], row_id=t[0],
                )  # fmt: skip
            )
        return rows


def list_query(flt: ReturnListFilter) -> KeysetQuery:
    if flt.view is ReturnView.FILES:
        return FilesQuery(flt)
    if flt.view is ReturnView.VIREMENTS:
        return VirementsQuery(flt)
    if flt.view is ReturnView.REJECTED:
        return RejectionsQuery(flt)
    if flt.view is ReturnView.PARTIAL:
        return EntriesQuery(flt, "partielle", InvoiceState.PAYEE_PARTIELLEMENT)
    return EntriesQuery(flt, NOT_MATCHED, None)


def open_return_list(
    flt: ReturnListFilter, *, around: int = 0, count: bool = True
) -> KeysetPager:
    """Count one of F7's lists and read the page holding row *around* (for a worker); without
    *count*, the first page only (see ``services.paging.open_pager``)."""
    return open_pager(list_query(flt), around=around, count=count)


def iter_rows(flt: ReturnListFilter, *, limit: int | None = None):
    """Every row of a list, page by page by key (the CLI's streaming output)."""
    query = list_query(flt)
    key = None
    seen = 0
    while True:
        page = query.page_after(key)
        if not page:
            return
        for row in page:
            yield row
            seen += 1
            if limit is not None and seen >= limit:
                return
        key = page[-1].key
