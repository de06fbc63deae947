"""Journal des factures: filtered, keyset-paged access to the whole invoice history.

Never loads the history: pages of ``PAGE`` rows are read by key on (billing_date DESC, id DESC)
through the indexes of ``models.invoices``; :class:`JournalPager` gives random access to row *i*
for a virtual list, reading only the pages that are looked at.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta

import peewee

from tuibill.domain.invoices import InvoiceState
from tuibill.domain.numbering import format_invoice_number
from tuibill.models import Invoice, Organism, Practitioner
from tuibill.services.patients import prefix_range, search_key

PAGE = 256
DEFAULT_WINDOW_DAYS = 61  # « par défaut affichage sur une période de 2 mois »


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


@dataclass(frozen=True)
class JournalRow:
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


class JournalQuery:
    """The filtered journal: counts and pages by key, newest first."""

    def __init__(self, flt: JournalFilter) -> None:
        self.filter = flt
        self._practitioners = {
            pid: f"{last} {first}"
            for pid, last, first in Practitioner.select(
                Practitioner.id, Practitioner.last_name, Practitioner.first_name
            ).tuples()
        }
        self._organisms = {
            oid: name for oid, name in Organism.select(Organism.id, Organism.name).tuples()
        }

    def _where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        f = self.filter
        if f.number is not None:
            query = query.where(Invoice.number == f.number)
        if f.lot_number is not None:
            query = query.where(Invoice.lot_number == f.lot_number)
        if f.patient.strip():
            low, high = prefix_range(search_key(f.patient))
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

    def count(self) -> int:
        # fn.COUNT(*) directly: peewee's .count() wraps the query in a slower sub-select.
        return self._where(Invoice.select(peewee.fn.COUNT(peewee.SQL("*")))).scalar() or 0

    def _rows(self, query: peewee.ModelSelect) -> list[JournalRow]:
        out = []
        for t in query.tuples():
            out.append(
                JournalRow(
                    id=t[0],
                    number=t[1],
                    state=t[2],
                    billing_date=t[3] if isinstance(t[3], date) else date.fromisoformat(t[3]),
                    patient_name=t[4],
                    practitioner=self._practitioners.get(t[5], ""),
                    organism=self._organisms.get(t[6], ""),
                    total_cents=t[7],
                    amo_cents=t[8],
                    amc_cents=t[9],
                    patient_cents=t[10],
                    lot_number=t[11],
                    mode=t[12],
                )
            )
        return out

    def page_after(self, key: tuple[date, int] | None, limit: int = PAGE) -> list[JournalRow]:
        """Rows strictly after *key* in journal order (newest first); None = from the top."""
        query = self._where(Invoice.select(*_COLUMNS))
        if key is not None:
            query = query.where(
                peewee.Tuple(Invoice.billing_date, Invoice.id) < peewee.Tuple(key[0], key[1])
            )
        return self._rows(query.order_by(Invoice.billing_date.desc(), Invoice.id.desc()).limit(limit))

    def page_before(self, key: tuple[date, int] | None, limit: int = PAGE) -> list[JournalRow]:
        """Rows strictly before *key* in journal order, returned in journal order; None = the tail."""
        query = self._where(Invoice.select(*_COLUMNS))
        if key is not None:
            query = query.where(
                peewee.Tuple(Invoice.billing_date, Invoice.id) > peewee.Tuple(key[0], key[1])
            )
        rows = self._rows(query.order_by(Invoice.billing_date, Invoice.id).limit(limit))
        rows.reverse()
        return rows

    def page_at(self, offset: int, limit: int = PAGE) -> list[JournalRow]:
        """Fallback for a jump far from any known page (scrollbar drag): O(offset)."""
        query = self._where(Invoice.select(*_COLUMNS))
        return self._rows(
            query.order_by(Invoice.billing_date.desc(), Invoice.id.desc()).limit(limit).offset(offset)
        )


class JournalPager:
    """Random access to row *i* of a :class:`JournalQuery`, page by page, with an LRU cache.

    A page next to a cached one is read by key from that page's edge; the last pages are read
    from the tail in reverse; only a jump into the unknown middle falls back to OFFSET.
    """

    def __init__(self, query: JournalQuery, *, page_size: int = PAGE, cache_pages: int = 64) -> None:
        self.query = query
        self.page_size = page_size
        self.cache_pages = cache_pages
        self._pages: OrderedDict[int, list[JournalRow]] = OrderedDict()
        self.total = query.count()
        self.reads = {"key": 0, "tail": 0, "offset": 0}

    @property
    def page_count(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size

    def _store(self, index: int, rows: list[JournalRow]) -> list[JournalRow]:
        self._pages[index] = rows
        self._pages.move_to_end(index)
        while len(self._pages) > self.cache_pages:
            self._pages.popitem(last=False)
        return rows

    def page(self, index: int) -> list[JournalRow]:
        if index in self._pages:
            self._pages.move_to_end(index)
            return self._pages[index]
        size = self.page_size
        if index == 0:
            self.reads["key"] += 1
            return self._store(0, self.query.page_after(None, size))
        previous = self._pages.get(index - 1)
        if previous:
            self.reads["key"] += 1
            return self._store(index, self.query.page_after(previous[-1].key, size))
        following = self._pages.get(index + 1)
        if following:
            self.reads["key"] += 1
            return self._store(index, self.query.page_before(following[0].key, size))
        if index == self.page_count - 1:
            self.reads["tail"] += 1
            last_size = self.total - index * size
            return self._store(index, self.query.page_before(None, last_size))
        self.reads["offset"] += 1
        return self._store(index, self.query.page_at(index * size, size))

    def row(self, i: int) -> JournalRow | None:
        if not 0 <= i < self.total:
            return None
        rows = self.page(i // self.page_size)
        offset = i % self.page_size
        return rows[offset] if offset < len(rows) else None
