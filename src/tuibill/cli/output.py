"""Printing records and lists as text tables or JSON."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

import orjson

# The layout of ``json.dumps(data, ensure_ascii=False, indent=2)``, written by orjson (C, ~9×
# faster: the JSON of a million-row export or of a 10,000-invoice return was mostly the standard
# library's pure-Python indenting encoder, issue 12). Dates through ``_default``, as before;
# non-string keys as strings, as the standard library writes them.
_OPTIONS = orjson.OPT_INDENT_2 | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not serialisable: {type(value)!r}")


def _dumps(data: Any) -> str:
    return orjson.dumps(data, default=_default, option=_OPTIONS).decode()


def print_json(data: Any) -> None:
    sys.stdout.write(_dumps(data))
    sys.stdout.write("\n")


def print_json_stream(items: Iterable[Any]) -> None:
    """A JSON list written item by item (memory stays flat over a million rows), byte for byte
    what :func:`print_json` writes for the same list."""
    write = sys.stdout.write
    first = True
    for item in items:
        text = _dumps(item)
        write(("[\n" if first else ",\n") + "\n".join("  " + line for line in text.split("\n")))
        first = False
    write("[]\n" if first else "\n]\n")


def print_table_stream(
    headers: Sequence[str], widths: Sequence[int], rows: Iterable[Sequence[Any]]
) -> None:
    """A text table printed row by row with set column widths (a longer value overflows its
    column rather than holding every row in memory to measure them)."""
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        cells = ["" if cell is None else str(cell) for cell in row]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())


def print_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    rows = [["" if cell is None else str(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=False)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    print(line.rstrip())
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


def print_record(pairs: Sequence[tuple[str, Any]]) -> None:
    width = max(len(k) for k, _ in pairs) if pairs else 0
    for key, value in pairs:
        print(f"{key.ljust(width)}  {'' if value is None else value}")


def error(message: str) -> None:
    print(f"tuibill : {message}", file=sys.stderr)
