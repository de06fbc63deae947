"""What every follow-up report is: a title, columns, and pages read by key (never OFFSET)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

PAGE = 200


@dataclass(frozen=True)
class Column:
    key: str  # the --json / CSV key
    label: str  # the screen's and the PDF's header
    kind: str = "text"  # text / cents / date / int
    width: int = 12  # characters on the screen and in the text output


@dataclass(frozen=True)
class Filters:
    since: date | None = None
    until: date | None = None
    today: date | None = None  # the clock (tests pass it)
    awaiting_days: int = 21  # « en attente de retour »: sent less than that many days ago
    pointed: bool | None = None  # lots sans retour: True traités, False à traiter, None both

    @property
    def day(self) -> date:
        return self.today or date.today()


@dataclass(frozen=True)
class ReportRow:
    key: tuple[Any, ...]  # where the next page starts
    values: dict[str, Any] = field(default_factory=dict)


class Report(ABC):
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    # The columns an 80-column screen shows first, in this order (the rest follow, scrolled
    # sideways); the invoice's or lot's id is the exports' (the screen opens the row by it).
    screen_keys: tuple[str, ...] = ()

    def screen_columns(self) -> tuple[Column, ...]:
        first = [c for key in self.screen_keys for c in self.columns if c.key == key]
        rest = [c for c in self.columns if c not in first and c.key != "id"]
        return (*first, *rest)

    @abstractmethod
    def page(self, filters: Filters, after: tuple | None, limit: int = PAGE) -> list[ReportRow]:
        """The rows after *after* (None: from the start), in key order."""

    def rows(self, filters: Filters, *, page_size: int = PAGE) -> Iterator[ReportRow]:
        """Every row, page by page (memory stays flat over a million invoices)."""
        after = None
        while True:
            page = self.page(filters, after, page_size)
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].key
