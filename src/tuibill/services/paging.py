"""One keyset pager for every big list: random access to row *i*, reading only pages looked at.

A list is a :class:`KeysetQuery`: a table, the columns shown, an order on (a sort column, id)
read through an index, a filter (:meth:`KeysetQuery.where`) and a row builder
(:meth:`KeysetQuery.rows`). :class:`KeysetPager` reads pages of ``PAGE`` rows: a page next to a
cached one by key from that page's edge, the last pages from the tail in reverse, and only a
jump into the unknown middle (a scrollbar drag) by ``OFFSET`` — O(n), so a screen asks
:meth:`KeysetPager.is_cheap` first and reads far pages in a worker thread
(:meth:`KeysetPager.read_far`, :meth:`KeysetPager.put_page`), from the nearer end.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import OrderedDict
from typing import Any, Generic, Protocol, TypeVar

import peewee

PAGE = 256


class Keyed(Protocol):
    @property
    def key(self) -> tuple[Any, int]: ...


Row = TypeVar("Row", bound=Keyed)


class KeysetQuery(ABC, Generic[Row]):
    """A filtered list ordered by (``sort_field`` DESC, ``id`` DESC), read by key."""

    model: type[peewee.Model]
    columns: tuple[peewee.Field, ...]
    sort_field: peewee.Field

    def where(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        """The list's filter (none by default)."""
        return query

    @abstractmethod
    def rows(self, tuples: list[tuple]) -> list[Row]:
        """Build the rows from the selected columns' values."""

    def prepare(self) -> None:
        """What the list decides once, off the UI thread, before its pages are read (a plan
        that depends on the data…). Called by :func:`open_pager`; nothing by default."""

    def fetch(self, query: peewee.ModelSelect, newest_first: bool) -> list[tuple]:
        """The values of a page's rows, in *query*'s order (newest first or oldest first). A
        list may read them its own way (an index it knows is best…); by default as written."""
        return list(query.tuples())

    def _select(self) -> peewee.ModelSelect:
        return self.where(self.model.select(*self.columns))

    def _key(self) -> peewee.Tuple:
        return peewee.Tuple(self.sort_field, self.model.id)

    def _newest_first(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        return query.order_by(self.sort_field.desc(), self.model.id.desc())

    def _oldest_first(self, query: peewee.ModelSelect) -> peewee.ModelSelect:
        return query.order_by(self.sort_field, self.model.id)

    def count(self) -> int:
        # fn.COUNT(*) directly: peewee's .count() wraps the query in a slower sub-select.
        return self.where(self.model.select(peewee.fn.COUNT(peewee.SQL("*")))).scalar() or 0

    def page_after(self, key: tuple[Any, int] | None, limit: int = PAGE) -> list[Row]:
        """Rows strictly after *key* in list order (newest first); None = from the top."""
        query = self._select()
        if key is not None:
            query = query.where(self._key() < peewee.Tuple(*key))
        return self.rows(self.fetch(self._newest_first(query).limit(limit), True))

    def page_before(self, key: tuple[Any, int] | None, limit: int = PAGE) -> list[Row]:
        """Rows strictly before *key*, returned in list order; None = the tail."""
        query = self._select()
        if key is not None:
            query = query.where(self._key() > peewee.Tuple(*key))
        rows = self.rows(self.fetch(self._oldest_first(query).limit(limit), False))
        rows.reverse()
        return rows

    def page_at(self, offset: int, limit: int = PAGE) -> list[Row]:
        """Fallback for a jump far from any known page: O(offset)."""
        query = self._newest_first(self._select()).limit(limit).offset(offset)
        return self.rows(self.fetch(query, True))

    def page_from_tail(self, skip: int, limit: int = PAGE) -> list[Row]:
        """The *limit* rows after the *skip* oldest ones, returned in list order: O(skip)."""
        query = self._oldest_first(self._select()).limit(limit).offset(max(0, skip))
        rows = self.rows(self.fetch(query, False))
        rows.reverse()
        return rows


class KeysetPager(Generic[Row]):
    """Random access to row *i* of a :class:`KeysetQuery`, page by page, with an LRU cache.

    With ``count=False`` the list is not counted: ``total`` is None and only the rows up to the
    last page read from the top are known (:attr:`known`) until :meth:`set_total` gives the
    count — a screen shows the first page at once and the count when it comes.
    """

    def __init__(
        self,
        query: KeysetQuery[Row],
        *,
        page_size: int = PAGE,
        cache_pages: int = 64,
        count: bool = True,
    ) -> None:
        self.query = query
        self.page_size = page_size
        self.cache_pages = cache_pages
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self.total: int | None = query.count() if count else None
        self.reads = {"key": 0, "tail": 0, "offset": 0}

    def set_total(self, total: int) -> None:
        self.total = total

    @property
    def known(self) -> int:
        """How many rows can be shown: the count, or before it the rows of the first pages
        read by key (a short page ends the list)."""
        if self.total is not None:
            return self.total
        index = 0
        while index in self._pages and len(self._pages[index]) == self.page_size:
            index += 1
        return index * self.page_size + len(self._pages.get(index, ()))

    @property
    def page_count(self) -> int:
        return (self.known + self.page_size - 1) // self.page_size

    def _store(self, index: int, rows: list[Row]) -> list[Row]:
        self._pages[index] = rows
        self._pages.move_to_end(index)
        while len(self._pages) > self.cache_pages:
            self._pages.popitem(last=False)
        return rows

    def page(self, index: int) -> list[Row]:
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
        if self.total is not None and index == self.page_count - 1:
            self.reads["tail"] += 1
            last_size = self.total - index * size
            return self._store(index, self.query.page_before(None, last_size))
        self.reads["offset"] += 1
        return self._store(index, self.query.page_at(index * size, size))

    def row(self, i: int) -> Row | None:
        if not 0 <= i < self.known:
            return None
        rows = self.page(i // self.page_size)
        offset = i % self.page_size
        return rows[offset] if offset < len(rows) else None

    def is_cheap(self, i: int) -> bool:
        """True when ``row(i)`` is cached or one keyset query away (sub-millisecond)."""
        if not 0 <= i < self.known:
            return True  # row() answers None without reading anything
        index = i // self.page_size
        if index == 0 or index in self._pages:
            return True
        if self.total is not None and index == self.page_count - 1:
            return True
        return bool(self._pages.get(index - 1)) or bool(self._pages.get(index + 1))

    def read_far(self, index: int) -> list[Row]:
        """Read page *index* by OFFSET from the nearer end, touching no cache: it may run in a
        worker thread while the UI thread reads cached pages (hand the result to
        :meth:`put_page` on the UI thread)."""
        start = index * self.page_size
        if self.total is None:
            return self.query.page_at(start, self.page_size)
        end = min(start + self.page_size, self.total)
        if end <= start:
            return []
        if start <= self.total - end:
            return self.query.page_at(start, end - start)
        return self.query.page_from_tail(self.total - end, end - start)

    def put_page(self, index: int, rows: list[Row]) -> None:
        """Store a page read by :meth:`read_far`."""
        self.reads["offset"] += 1
        self._store(index, rows)

    def next_to_read(self, i: int, margin: int) -> tuple[int, str, tuple[Any, int]] | None:
        """When row *i* is cached and within *margin* rows of its page's end (or start), the
        neighbour page not read yet, as (index, "after" or "before", key): a screen reads it
        by key in a worker (:meth:`read_next`) before the keys get there."""
        if self.total is None:
            return None
        size = self.page_size
        index, offset = divmod(i, size)
        rows = self._pages.get(index)
        if not rows:
            return None
        if offset >= size - margin and (index + 1) * size < self.total:
            if index + 1 not in self._pages:
                return index + 1, "after", rows[-1].key
        if offset < margin and index > 0 and index - 1 not in self._pages:
            return index - 1, "before", rows[0].key
        return None

    def read_next(self, direction: str, key: tuple[Any, int]) -> list[Row]:
        """The page after or before *key*, touching no cache (for a worker thread; hand the
        rows to :meth:`put_next` on the UI thread)."""
        if direction == "after":
            return self.query.page_after(key, self.page_size)
        return self.query.page_before(key, self.page_size)

    def put_next(self, index: int, rows: list[Row]) -> None:
        """Store a page read by :meth:`read_next` (a key read)."""
        if index not in self._pages:
            self.reads["key"] += 1
            self._store(index, rows)

    def prefetch(self, i: int) -> None:
        """Make row *i* cheap: read its page (by key, tail or offset) — for a worker thread."""
        if i == 0:
            self.page(0)  # the first page, even before the count: it tells a short list
            return
        if not 0 <= i < self.known:
            return
        index = i // self.page_size
        if self.is_cheap(i):
            self.page(index)
        else:
            self.put_page(index, self.read_far(index))


def open_pager(
    query: KeysetQuery[Row], *, around: int = 0, page_size: int = PAGE, count: bool = True
) -> KeysetPager[Row]:
    """Count the list and read the page holding row *around* (for a worker). Without *count*,
    the first page only (*around* is then 0): :meth:`KeysetPager.set_total` later."""
    query.prepare()
    pager = KeysetPager(query, page_size=page_size, count=count)
    if pager.total is None:
        pager.prefetch(0)
        if len(pager.page(0)) < page_size:
            pager.set_total(len(pager.page(0)))  # a short first page is the whole list
    else:
        pager.prefetch(min(around, max(0, pager.total - 1)))
    return pager
