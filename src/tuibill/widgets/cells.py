"""Table cells: right-aligned numbers and amounts, selection marks.

Cells are ``rich.text.Text``, never plain strings: a name or a number typed by a user is never
read as markup.
"""

from __future__ import annotations

from rich.text import Text

from tuibill.domain.formatting import format_cents


def right(text: str) -> Text:
    """A right-aligned cell (amounts, counts)."""
    return Text(text, justify="right")


def money(cents: int | None) -> Text | str:
    """An amount in a table, right-aligned; empty for no amount."""
    return "" if cents is None else right(format_cents(cents))


def mark(marked: bool | None) -> Text:
    """The « Sél » cell: [x] chosen, [ ] not; None: part of a group is chosen."""
    return Text("[-]" if marked is None else "[x]" if marked else "[ ]")
