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
        return self.rows(list(self._newest_first(query).limit(limit).tuples()))

    def page_before(self, key: tuple[Any, int] | None, limit: int = PAGE) -> list[Row]:
        """Rows strictly before *key*, returned in list order; None = the tail."""
        query = self._select()
        if key is not None:
            query = query.where(self._key() > peewee.Tuple(*key))
        rows = self.rows(list(self._oldest_first(query).limit(limit).tuples()))
        rows.reverse()
        return rows

    def page_at(self, offset: int, limit: int = PAGE) -> list[Row]:
        """Fallback for a jump far from any known page: O(offset)."""
        query = self._newest_first(self._select()).limit(limit).offset(offset)
        return self.rows(list(query.tuples()))

    def page_from_tail(self, skip: int, limit: int = PAGE) -> list[Row]:
        """The *limit* rows after the *skip* oldest ones, returned in list order: O(skip)."""
        query = self._oldest_first(self._select()).limit(limit).offset(max(0, skip))
        rows = self.rows(list(query.tuples()))
        rows.reverse()
        return rows


class KeysetPager(Generic[Row]):
    """Random access to row *i* of a :class:`KeysetQuery`, page by page, with an LRU cache."""

    def __init__(
        self, query: KeysetQuery[Row], *, page_size: int = PAGE, cache_pages: int = 64
    ) -> None:
        self.query = query
        self.page_size = page_size
        self.cache_pages = cache_pages
        self._pages: OrderedDict[int, list[Row]] = OrderedDict()
        self.total = query.count()
        self.reads = {"key": 0, "tail": 0, "offset": 0}

    @property
    def page_count(self) -> int:
        return (self.total + self.page_size - 1) // self.page_size

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
        if index == self.page_count - 1:
            self.reads["tail"] += 1
            last_size = self.total - index * size
            return self._store(index, self.query.page_before(None, last_size))
        self.reads["offset"] += 1
        return self._store(index, self.query.page_at(index * size, size))

    def row(self, i: int) -> Row | None:
        if not 0 <= i < self.total:
            return None
        rows = self.page(i // self.page_size)
        offset = i % self.page_size
        return rows[offset] if offset < len(rows) else None

    def is_cheap(self, i: int) -> bool:
        """True when ``row(i)`` is cached or one keyset query away (sub-millisecond)."""
        if not 0 <= i < self.total:
            return True  # row() answers None without reading anything
        index = i // self.page_size
        if index in (0, self.page_count - 1) or index in self._pages:
            return True
        return bool(self._pages.get(index - 1)) or bool(self._pages.get(index + 1))

    def read_far(self, index: int) -> list[Row]:
        """Read page *index* by OFFSET from the nearer end, touching no cache: it may run in a
        worker thread while the UI thread reads cached pages (hand the result to
        :meth:`put_page` on the UI thread)."""
        start = index * self.page_size
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

    def prefetch(self, i: int) -> None:
        """Make row *i* cheap: read its page (by key, tail or offset) — for a worker thread."""
        if not 0 <= i < self.total:
            return
        index = i // self.page_size
        if self.is_cheap(i):
            self.page(index)
        else:
            self.put_page(index, self.read_far(index))


def open_pager(
    query: KeysetQuery[Row], *, around: int = 0, page_size: int = PAGE
) -> KeysetPager[Row]:
    """Count the list and read the page holding row *around* (for a worker)."""
    pager = KeysetPager(query, page_size=page_size)
    pager.prefetch(min(around, max(0, pager.total - 1)))
    return pager
