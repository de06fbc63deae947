"""Journal additions for an interactive view (the TUI's Journal des factures).

:class:`JournalPager` reads a page far from every cached page with ``OFFSET``: O(n), up to a
second at the middle of a million invoices. A screen must never do that on its UI thread (a
scrollbar drag would freeze it), so :class:`JournalViewPager` says which rows are cheap to read
now, and reads far pages without touching its cache, in a worker thread, from the nearer end of
the journal (which halves the worst case). The rest — counting, keyset pages, the LRU cache —
is :mod:`tuibill.services.journal`'s.
"""

from __future__ import annotations

from tuibill.models import Invoice

# The journal's column list: importing it keeps this module's rows identical to the pager's.
from tuibill.services.journal import (
    _COLUMNS,
    PAGE,
    JournalFilter,
    JournalPager,
    JournalQuery,
    JournalRow,
)


class JournalViewQuery(JournalQuery):
    """:class:`JournalQuery`, plus reading a page by offset from the tail (the oldest end)."""

    def page_from_tail(self, skip: int, limit: int = PAGE) -> list[JournalRow]:
        """The *limit* rows that come after the *skip* oldest ones, returned in journal order."""
        query = self._where(Invoice.select(*_COLUMNS))
        rows = self._rows(
            query.order_by(Invoice.billing_date, Invoice.id).limit(limit).offset(max(0, skip))
        )
        rows.reverse()
        return rows


class JournalViewPager(JournalPager):
    """A :class:`JournalPager` that tells cheap reads (by key, or cached) from far ones."""

    query: JournalViewQuery

    def __init__(
        self, query: JournalViewQuery, *, page_size: int = PAGE, cache_pages: int = 64
    ) -> None:
        super().__init__(query, page_size=page_size, cache_pages=cache_pages)

    def is_cheap(self, i: int) -> bool:
        """True when ``row(i)`` is cached or one keyset query away (sub-millisecond)."""
        if not 0 <= i < self.total:
            return True  # row() answers None without reading anything
        index = i // self.page_size
        if index in (0, self.page_count - 1) or index in self._pages:
            return True
        return bool(self._pages.get(index - 1)) or bool(self._pages.get(index + 1))

    def read_far(self, index: int) -> list[JournalRow]:
        """Read page *index* by OFFSET from the nearer end of the journal.

        Touches no cache, so it may run in a worker thread while the UI thread reads cached
        pages; hand the result to :meth:`put_page` on the UI thread.
        """
        start = index * self.page_size
        end = min(start + self.page_size, self.total)
        if end <= start:
            return []
        if start <= self.total - end:
            return self.query.page_at(start, end - start)
        return self.query.page_from_tail(self.total - end, end - start)

    def put_page(self, index: int, rows: list[JournalRow]) -> None:
        """Store a page read by :meth:`read_far`."""
        self.reads["offset"] += 1
        self._store(index, rows)

    def prefetch(self, i: int) -> None:
        """Make row *i* cheap: read its page (by key, tail or offset) — for a worker thread."""
        if not 0 <= i < self.total:
            return
        index = i // self.page_size
        if self.is_cheap(i):
            self.page(index)
        else:
            self.put_page(index, self.read_far(index))


def open_journal(flt: JournalFilter, *, around: int = 0, page_size: int = PAGE) -> JournalViewPager:
    """Count the filtered journal and read the page holding row *around* (for a worker)."""
    pager = JournalViewPager(JournalViewQuery(flt), page_size=page_size)
    pager.prefetch(min(around, max(0, pager.total - 1)))
    return pager


def invoice_detail(invoice_id: int) -> dict | None:
    """The invoice's record (header, lines, history of transitions), or None if it is gone."""
    from tuibill.services.records import invoice_record

    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    return None if invoice is None else invoice_record(invoice)
