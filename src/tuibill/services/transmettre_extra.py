"""What the Transmettre (F3) and Journal des lots (F6) screens need beyond ``services.lots``.

* « FSE à transmettre »: the Validée invoices counted per practitioner and destination caisse
  (one SQL ``GROUP BY``, no lot file written: :func:`lots.preview_build` checks every invoice
  against the codec, which is for the moment the user asks to build), and the invoices of one
  group, bounded.
* « FSE à sécuriser »: the invoices to sign, as display rows.
* « Fichier à transmettre »: the lots to send, those whose sending is uncertain first.
* The Journal des lots as a virtual list: ``lot_journal`` pages by key; this adds what the
  invoice journal's view adds (reading a far page by offset off the UI thread) and the
  2-month default window.
* The paper list of a lot: saved as text + CSV, or handed to the system's print command.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import peewee

from tuibill.domain.errors import RefusedOperation
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.lots import LotState
from tuibill.domain.numbering import format_invoice_number
from tuibill.models import Invoice, Lot, Organism, Practitioner
from tuibill.services.journal import DEFAULT_WINDOW_DAYS, PAGE
from tuibill.services.journal_extra import JournalViewPager
from tuibill.services.lot_journal import _COLUMNS as LOT_COLUMNS
from tuibill.services.lot_journal import LotFilter, LotJournalQuery, LotRow
from tuibill.services.lots import LotSummary, list_lots, lots_to_send, paper_list

LIST_LIMIT = 500  # invoices of one group shown at once (the build takes them all)
NO_CAISSE = ""  # the destination of invoices without an AMO caisse (the build refuses them)


# --- « FSE à transmettre » --------------------------------------------------------------------


@dataclass(frozen=True)
class ValidatedGroup:
    """The Validée invoices of one practitioner for one destination (régime + caisse)."""

    practitioner_id: int
    practitioner: str
    destination: str  # « 01281 », or NO_CAISSE
    organism: str
    count: int
    total_cents: int
    oldest: date | None  # the oldest billing date: the legal delay runs from it

    @property
    def key(self) -> str:
        return f"{self.practitioner_id}:{self.destination}"


def _destination_expr():
    return Organism.regime.concat(Organism.caisse)


def validated_groups() -> list[ValidatedGroup]:
    """Every Validée invoice counted per practitioner and destination, oldest first inside."""
    destination = _destination_expr()
    rows = (
        Invoice.select(
            Invoice.practitioner,
            destination.alias("destination"),
            peewee.fn.COUNT(Invoice.id),
            peewee.fn.SUM(Invoice.total_cents),
            peewee.fn.MIN(Invoice.billing_date),
        )
        .join(Organism, peewee.JOIN.LEFT_OUTER, on=(Invoice.organism == Organism.id))
        .where(Invoice.state == InvoiceState.VALIDEE.value)
        .group_by(Invoice.practitioner, destination)
        .tuples()
    )
    practitioners = {
        pid: f"{last} {first}"
        for pid, last, first in Practitioner.select(
            Practitioner.id, Practitioner.last_name, Practitioner.first_name
        ).tuples()
    }
    # Several centres of one caisse share its destination: name it after the first centre.
    names: dict[str, str] = {}
    for regime, caisse, name in (
        Organism.select(Organism.regime, Organism.caisse, Organism.name)
        .order_by(Organism.centre, Organism.id)
        .tuples()
    ):
        names.setdefault(f"{regime}{caisse}", name)
    groups = [
        ValidatedGroup(
            practitioner_id=pid,
            practitioner=practitioners.get(pid, ""),
            destination=code or NO_CAISSE,
            organism=names.get(code or "", "sans caisse AMO"),
            count=count,
            total_cents=total or 0,
            oldest=_day(oldest),
        )
        for pid, code, count, total, oldest in rows
    ]
    return sorted(groups, key=lambda g: (g.practitioner, g.destination))


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])


def _group_query(columns: Sequence, practitioner_id: int, destination: str) -> peewee.ModelSelect:
    query = (
        Invoice.select(*columns)
        .join(Organism, peewee.JOIN.LEFT_OUTER, on=(Invoice.organism == Organism.id))
        .where(
            (Invoice.state == InvoiceState.VALIDEE.value)
            & (Invoice.practitioner == practitioner_id)
        )
    )
    if destination == NO_CAISSE:
        return query.where(Invoice.organism.is_null())
    return query.where((Organism.regime == destination[:2]) & (Organism.caisse == destination[2:]))


@dataclass(frozen=True)
class ValidatedInvoice:
    id: int
    number: int | None
    patient: str
    billing_date: date
    first_act_date: date
    last_act_date: date
    total_cents: int
    mode: str

    @property
    def number_text(self) -> str:
        return format_invoice_number(self.number)


def validated_invoices(
    practitioner_id: int, destination: str, *, limit: int = LIST_LIMIT
) -> list[ValidatedInvoice]:
    """The Validée invoices of one group, in lot order (by number), at most *limit*."""
    columns = (
        Invoice.id,
        Invoice.number,
        Invoice.patient_name,
        Invoice.billing_date,
        Invoice.first_act_date,
        Invoice.last_act_date,
        Invoice.total_cents,
        Invoice.mode,
    )
    query = _group_query(columns, practitioner_id, destination).order_by(Invoice.number, Invoice.id)
    return [
        ValidatedInvoice(
            id=t[0],
            number=t[1],
            patient=t[2],
            billing_date=_day(t[3]) or date.min,
            first_act_date=_day(t[4]) or date.min,
            last_act_date=_day(t[5]) or date.min,
            total_cents=t[6],
            mode=t[7],
        )
        for t in query.limit(limit).tuples()
    ]


def validated_ids(practitioner_id: int, destination: str) -> list[int]:
    """Every Validée invoice id of one group (ids only: cheap even past the list's limit)."""
    query = _group_query((Invoice.id,), practitioner_id, destination)
    return [row[0] for row in query.order_by(Invoice.number, Invoice.id).tuples()]


def still_validated(invoice_ids: set[int]) -> set[int]:
    """Those of *invoice_ids* still Validée (a selection kept across a reload)."""
    if not invoice_ids:
        return set()
    query = Invoice.select(Invoice.id).where(
        Invoice.id.in_(list(invoice_ids)) & (Invoice.state == InvoiceState.VALIDEE.value)
    )
    return {row[0] for row in query.tuples()}


def validated_count() -> int:
    return (
        Invoice.select(peewee.fn.COUNT(peewee.SQL("*")))
        .where(Invoice.state == InvoiceState.VALIDEE.value)
        .scalar()
        or 0
    )


# --- « FSE à sécuriser » ----------------------------------------------------------------------


@dataclass(frozen=True)
class SecureRow:
    id: int
    number: int | None
    patient: str
    practitioner: str
    billing_date: date
    total_cents: int
    secured_at: datetime | None  # when the patient's card was used (at home, in the TLA)
    signer: str  # the CPE that semi-secured it

    @property
    def number_text(self) -> str:
        return format_invoice_number(self.number)


def secure_rows() -> list[SecureRow]:
    """« FSE à sécuriser », oldest first, bounded like ``securing.invoices_to_secure``."""
    from tuibill.services.securing import invoices_to_secure

    practitioners = {p.id: p.display_name for p in Practitioner.select()}
    return [
        SecureRow(
            id=invoice.id,
            number=invoice.number,
            patient=invoice.patient_name,
            practitioner=practitioners.get(invoice.practitioner_id, ""),
            billing_date=invoice.billing_date,
            total_cents=invoice.total_cents,
            secured_at=invoice.secured_at,
            signer=invoice.signer,
        )
        for invoice in invoices_to_secure()
    ]


# --- « Fichier à transmettre » ----------------------------------------------------------------


def lots_to_transmit() -> list[LotSummary]:
    """Lots « En cours » (uncertain: a person decides) first, then those to send or re-send."""
    return list_lots([LotState.EN_COURS]) + lots_to_send()


# --- Journal des lots -------------------------------------------------------------------------


def journal_filter(
    *,
    number: int | None = None,
    state: LotState | None = None,
    practitioner_id: int | None = None,
    destination: str | None = None,
    kind: str | None = None,
    all_time: bool = False,
    today: date | None = None,
) -> LotFilter:
    """The Journal des lots' filter: the last 2 months by default, like the invoice journal.

    A lot number or *all_time* searches the whole history (numbers wrap after 999: the most
    recent lots come first).
    """
    today = today or date.today()
    since = None
    if not all_time and number is None:
        since = today - timedelta(days=DEFAULT_WINDOW_DAYS)
    return LotFilter(
        state=state,
        kind=kind,
        practitioner_id=practitioner_id,
        destination=destination,
        number=number,
        since=since,
    )


class LotJournalViewQuery(LotJournalQuery):
    """:class:`LotJournalQuery` plus reading a page by offset from the oldest end."""

    def page_from_tail(self, skip: int, limit: int = PAGE) -> list[LotRow]:
        query = self._where(Lot.select(*LOT_COLUMNS))
        rows = self._rows(query.order_by(Lot.created_at, Lot.id).limit(limit).offset(max(0, skip)))
        rows.reverse()
        return rows


class LotJournalViewPager(JournalViewPager):
    """The invoice journal's view pager (cheap reads by key, far pages in a worker) over lots.

    The paging only relies on the query's ``count/page_after/page_before/page_at/
    page_from_tail`` and the rows' ``key``, which :class:`LotJournalViewQuery` provides.
    """

    query: LotJournalViewQuery  # type: ignore[assignment]

    def __init__(
        self, query: LotJournalViewQuery, *, page_size: int = PAGE, cache_pages: int = 64
    ) -> None:
        super().__init__(query, page_size=page_size, cache_pages=cache_pages)  # type: ignore[arg-type]


def open_lot_journal(flt: LotFilter, *, around: int = 0) -> LotJournalViewPager:
    """Count the filtered lots and read the page holding row *around* (for a worker)."""
    pager = LotJournalViewPager(LotJournalViewQuery(flt))
    pager.prefetch(min(around, max(0, pager.total - 1)))
    return pager


def is_bounded(flt: LotFilter) -> bool:
    """True when the search is an index range (a window or a number): counted inline."""
    return flt.since is not None or flt.number is not None


def destinations() -> list[tuple[str, str]]:
    """(« 01281 », « 01281 CPAM CHARTRES ») for every caisse, for the Journal's filter."""
    seen: dict[str, str] = {}
    for regime, caisse, name in (
        Organism.select(Organism.regime, Organism.caisse, Organism.name)
        .order_by(Organism.regime, Organism.caisse, Organism.centre)
        .tuples()
    ):
        seen.setdefault(f"{regime}{caisse}", f"{regime}{caisse} {name}")
    return list(seen.items())


# --- the paper list of a lot (« Traitement manuel ») ------------------------------------------


def default_paper_path(lot: LotSummary, directory: Path | None = None) -> Path:
    """``~/lot-<AM>-<numéro>-<AAAAMMJJ>.txt``: one name per lot and day, easy to find."""
    base = directory or Path.home()
    return base / f"lot-{lot.practitioner_am}-{lot.number_text}-{date.today():%Y%m%d}.txt"


def save_paper_list(lot_id: int, path: str | Path) -> tuple[Path, Path]:
    """Write the paper list as text at *path* and as CSV beside it (same name, ``.csv``)."""
    paper = paper_list(lot_id)
    text_path = Path(path).expanduser()
    if text_path.suffix.lower() == ".csv":
        text_path = text_path.with_suffix(".txt")
    text_path.parent.mkdir(parents=True, exist_ok=True)
    csv_path = text_path.with_suffix(".csv")
    text_path.write_text(paper.text(), encoding="utf-8")
    # utf-8-sig: a French spreadsheet opens the accents right.
    csv_path.write_text(paper.csv(), encoding="utf-8-sig")
    return text_path, csv_path


class PrintError(RefusedOperation):
    """Printing failed; the message is French."""


def print_command() -> list[str] | None:
    """The system's print command (CUPS ``lp``, else BSD ``lpr``), or None."""
    for name in ("lp", "lpr"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def print_paper_list(lot_id: int) -> str:
    """Send the paper list to the default printer; the French outcome, or PrintError."""
    command = print_command()
    if command is None:
        raise PrintError(
            "Aucune commande d'impression (lp ou lpr) sur ce poste : enregistrez la liste dans "
            "un fichier et imprimez-le depuis un autre poste."
        )
    text = paper_list(lot_id).text()
    try:
        done = subprocess.run(
            command,
            input=text.encode("utf-8"),
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PrintError(f"Impression impossible : {error}") from error
    if done.returncode != 0:
        why = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
        raise PrintError(f"Impression refusée par {Path(command[0]).name} : {why or 'erreur'}.")
    return f"Liste envoyée à l'imprimante ({Path(command[0]).name})."
