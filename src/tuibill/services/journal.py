"""Journal des factures: filtered, keyset-paged access to the whole invoice history.

Never loads the history: pages of ``PAGE`` rows are read by key on (billing_date DESC, id DESC)
through the indexes of ``models.invoices``; ``services.paging`` gives random access to row *i*
for a virtual list, reading only the pages that are looked at.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import peewee

from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Organism, Practitioner
from tuibill.services.paging import PAGE, KeysetPager, KeysetQuery, open_pager
from tuibill.services.patients import prefix_range, search_key

DEFAULT_WINDOW_DAYS = 61  # « par défaut affichage sur une période de 2 mois »

# How a patient prefix is read (SQLite; PostgreSQL's planner is left to itself), so that no row
# is read that is not shown (indexes of schema v9). A narrow prefix is read through the name
# index: a page costs its R index entries (their (date, id) keys sorted, then one page of rows
# read). A wide one — one letter over a million invoices — walks the journal's order instead,
# the name checked in the index, until a page is full: about PAGE × N / R entries for N
# invoices. The two cost the same when R² = PAGE × N: below that R, the name index.
BY_DATE_INDEX = "invoice_billing_date_id_patient_name"
BY_NAME_INDEX = "invoice_patient_name_billing_date_id"


@dataclass(frozen=True)
class JournalFilter:
    number: int | None = None
    lot_number: int | None = None
    patient: str = ""
    state: str | None = None
    practitioner_id: int | None = None
    organism_id: int | None = None
    all_time: bool = False  # « étendre la recherche sans limite de temps »
    since: date | None = None
    until: date | None = None
    today: date = field(default_factory=date.today)

    @property
    def window_start(self) -> date | None:
        if self.since is not None:
            return self.since
        if self.all_time or self.number is not None or self.lot_number is not None:
            return None  # a number search always looks through the whole history
        return self.today - timedelta(days=DEFAULT_WINDOW_DAYS)


class JournalRow(NamedTuple):
    """One invoice of the journal. A named tuple: a search thread makes 256 of them for each
    page it reads, holding the interpreter meanwhile (a frozen dataclass took ~2 µs each, set
    field by field; a tuple is made at once)."""

    id: int
    number: int | None
    state: str
    billing_date: date
    patient_name: str
    practitioner: str
    organism: str
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    lot_number: int | None
    mode: str

    @property
    def key(self) -> tuple[date, int]:
        return (self.billing_date, self.id)

    @property
    def state_label(self) -> str:
        return InvoiceState(self.state).label

    @property
    def number_text(self) -> str:
        return format_invoice_number(self.number)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "numero": self.number_text,
            "etat": self.state_label,
            "etat_code": self.state,
            "date": self.billing_date,
            "patient": self.patient_name,
            "praticien": self.practitioner,
            "caisse": self.organism,
            "total_cents": self.total_cents,
            "amo_cents": self.amo_cents,
            "amc_cents": self.amc_cents,
            "patient_cents": self.patient_cents,
            "lot": self.lot_number,
            "mode": self.mode,
        }


_COLUMNS = (
    Invoice.id,
    Invoice.number,
    Invoice.state,
    Invoice.billing_date,
    Invoice.patient_name,
    Invoice.practitioner,
    Invoice.organism,
    Invoice.total_cents,
    Invoice.amo_cents,
    Invoice.amc_cents,
    Invoice.patient_cents,
    Invoice.lot_number,
    Invoice.mode,
)


class JournalQuery(KeysetQuery[JournalRow]):
    """The filtered journal, newest first (billing date, then id), read by key."""

    model = Invoice
    columns = _COLUMNS
    sort_field = Invoice.billing_date

    def __init__(self, flt: JournalFilter) -> None:
        self.filter = flt
        self.plan: str | None = None  # "by_name", "by_date" or "plain"; see prepare()
        self._practitioners = {
            pid: f"{last} {first}"
            for pid, last, first in Practitioner.select(
                Practitioner.id, Practitioner.last_name, Practitioner.first_name
            ).tuples()
        }
        self._organisms = {
            oid: name for oid, name in Organism.select(Organism.id, Organism.name).tuples()
        }

    def _name_range(self) -> tuple[str, str] | None:
        if not self.filter.patient.strip():
            return None
        return prefix_range(search_key(self.filter.patient))

    def prepare(self) -> None:
        """Choose how a patient prefix is read: through the name index when it is narrow, in
        the journal's order when it is wide (one index-only count, bounded; see the module)."""
        if self.plan is not None:
            return
        names = self._name_range()
        if names is None or not isinstance(Invoice._meta.database.obj, peewee.SqliteDatabase):
            self.plan = "plain"
            return
        low, high = names
        history = Invoice.select(peewee.fn.MAX(Invoice.id)).scalar() or 0  # ≈ N, at once
        # R ≤ √(PAGE × N) or not: counting stops one entry past that bound (a one-letter
        # prefix over a million invoices: 16,001 index entries, not 178,757).
        bound = math.isqrt(PAGE * history)
        matching = (
            Invoice.select(peewee.SQL("1"))
            .where((Invoice.patient_name >= low) & (Invoice.patient_name < high))
            .limit(bound + 1)
        )
        matches = peewee.Select([matching], [peewee.fn.COUNT(peewee.SQL("*"))])
        found = matches.bind(Invoice._meta.database).scalar() or 0
        self.plan = "by_name" if found <= bound else "by_date"

    def fetch(self, query: peewee.ModelSelect, newest_first: bool) -> list[tuple]:
        self.prepare()
        if self.plan == "by_date":
            hinted = _with_index(query, BY_DATE_INDEX)
            if hinted is not None:
                return list(Invoice._meta.database.execute_sql(*hinted).fetchall())
        elif self.plan == "by_name":
            hinted = _with_index(query.select(Invoice.id), BY_NAME_INDEX)
            if hinted is not None:
                sql, params = hinted
                rows = Invoice.select(*self.columns).where(
                    Invoice.id.in_(peewee.SQL(f"({sql})", params))
                )
                ordered = self._newest_first(rows) if newest_first else self._oldest_first(rows)
                return list(ordered.tuples())
        return super().fetch(query, newest_first)

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        f = self.filter
        if f.number is not None:
            query = query.where(Invoice.number == f.number)
        if f.lot_number is not None:
            query = query.where(Invoice.lot_number == f.lot_number)
        names = self._name_range()
        if names is not None:
            low, high = names
            query = query.where((Invoice.patient_name >= low) & (Invoice.patient_name < high))
        if f.state:
            query = query.where(Invoice.state == InvoiceState(f.state).value)
        if f.practitioner_id is not None:
            query = query.where(Invoice.practitioner == f.practitioner_id)
        if f.organism_id is not None:
            query = query.where(Invoice.organism == f.organism_id)
        start = f.window_start
        if start is not None:
            query = query.where(Invoice.billing_date >= start)
        if f.until is not None:
            query = query.where(Invoice.billing_date <= f.until)
        return query

    def rows(self, tuples: list[tuple]) -> list[JournalRow]:
        make = JournalRow._make
        practitioners, organisms = self._practitioners.get, self._organisms.get
        day = date.fromisoformat
        # The columns' order is JournalRow's (see _COLUMNS).
        return [
            make((
                t[0], t[1], t[2], t[3] if isinstance(t[3], date) else day(t[3]), t[4],
                practitioners(t[5], ""), organisms(t[6], ""), *t[7:],
            ))
            for t in tuples
        ]  # fmt: skip


def _with_index(query: peewee.ModelSelect, index: str) -> tuple[str, list] | None:
    """*query*'s SQL reading the invoices through *index* (SQLite's ``INDEXED BY``); None when
    its text is not the expected one (then the query runs as written: slower, as correct)."""
    sql, params = query.sql()
    source = 'FROM "invoice" AS "t1" '
    if sql.count(source) != 1:
        return None
    return sql.replace(source, f'{source}INDEXED BY "{index}" ', 1), params


def open_journal(
    flt: JournalFilter, *, around: int = 0, page_size: int = PAGE, count: bool = True
) -> KeysetPager[JournalRow]:
    """Count the filtered journal and read the page holding row *around* (for a worker);
    without *count*, the first page only (see ``services.paging.open_pager``)."""
    return open_pager(JournalQuery(flt), around=around, page_size=page_size, count=count)
