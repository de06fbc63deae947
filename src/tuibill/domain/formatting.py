"""How amounts, numbers, dates and times are written for a French reader — one place for all.

Pure functions of values (no Textual, no database): the screens, the command line, the reports
and the printed lists all spell a value the same way.
"""

from __future__ import annotations

from datetime import date, datetime, time


def format_cents(cents: int) -> str:
    """1234 → « 12,34 » (French decimal comma)."""
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    return f"{sign}{euros},{rest:02d}"


def format_coefficient(value_x100: int) -> str:
    """150 → « 1,5 »; 200 → « 2 »."""
    whole, frac = divmod(value_x100, 100)
    return str(whole) if frac == 0 else f"{whole},{frac:02d}".rstrip("0")


def format_invoice_number(number: int | None) -> str:
    """FSE numbers are shown on 9 digits, zero-padded (« 000007433 »)."""
    return "" if number is None else f"{number:09d}"


def format_lot_number(number: int | None) -> str:
    """Lot numbers on 3 digits (« 007 »)."""
    return "" if number is None else f"{number:03d}"


def format_day(value: date | datetime | None) -> str:
    """« 06/12/2026 »; empty for no date."""
    return "" if value is None else f"{value:%d/%m/%Y}"


def format_short_day(value: date | datetime | None) -> str:
    """« 06/12/26 »: the lists' narrow date column."""
    return "" if value is None else f"{value:%d/%m/%y}"


def format_when(value: datetime | None) -> str:
    """« 06/12/2026 14:05 »; empty for no time."""
    return "" if value is None else f"{value:%d/%m/%Y %H:%M}"


def format_short_when(value: datetime | None) -> str:
    """« 06/12/26 14:05 »: the histories' narrow date column (80 columns)."""
    return "" if value is None else f"{value:%d/%m/%y %H:%M}"


def format_time(value: time | None) -> str:
    """« 08:30 »; empty for no time."""
    return "" if value is None else f"{value:%H:%M}"


def format_rate(bp: int) -> str:
    """A rate in basis points, in French: 1000 → « 10 % », 3333 → « 33,33 % », 1250 → « 12,5 % »."""
    whole, frac = divmod(bp, 100)
    if frac == 0:
        return f"{whole} %"
    return f"{whole},{frac:02d}".rstrip("0") + " %"
