"""Small tables of the lot screens, and keeping a ``DataTable``'s cursor across a refill."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import DataTable


class RowTable(DataTable):
    """Every list of the application: a row cursor, and Début / Fin go to the first / last row
    as the help (F1) says. DataTable's own Home / End scroll sideways on a row cursor: the
    highlighted row stayed where it was, and « Début » then « v » validated it, not the first.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "Première ligne", show=False, id="liste_premiere_ligne"),
        Binding("end", "scroll_bottom", "Dernière ligne", show=False, id="liste_derniere_ligne"),
    ]

    def __init__(self, *, id: str | None = None, zebra_stripes: bool = True, **options) -> None:
        options.setdefault("cursor_type", "row")
        super().__init__(id=id, zebra_stripes=zebra_stripes, **options)


class LotTable(RowTable):
    """A table of Transmettre and the lot detail; Entrée opens the row (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Ouvrir", key_display="Entrée", id="lot_ouvrir"),
    ]


class ListsPanel(VerticalScroll):
    """Lists one under the other in the scrolled part of a detail screen, under its fixed
    header. Each list is at most as high as the part: Tab brings a list into view whole, and its
    cursor (Début / Fin) reaches its last row — at 80×24 the history's last move was below the
    screen, and nothing scrolled to it (issue 13 #13)."""

    can_focus = False  # Tab goes from list to list

    def on_resize(self) -> None:
        height = max(3, self.scrollable_content_region.height)
        for table in self.query(DataTable):
            table.styles.max_height = height


def cursor_key(table: DataTable) -> str | None:
    """The key of the row under the cursor (None: an empty table)."""
    if not table.row_count:
        return None
    return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value


def keep_cursor(table: DataTable, keys: Sequence[str], previous: str | None, index: int) -> None:
    """After a refill: back on row *previous* if it is still there, else near row *index*."""
    if not keys:
        return
    row = keys.index(previous) if previous in keys else min(max(0, index), len(keys) - 1)
    table.move_cursor(row=row, animate=False)


def next_row(table: DataTable) -> None:
    """One row down, if there is one (Espace Espace Espace marks consecutive rows)."""
    if table.cursor_row < table.row_count - 1:
        table.move_cursor(row=table.cursor_row + 1, animate=False)
