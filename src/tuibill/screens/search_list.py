"""A list searched as one types: the Patients (F9) and the Prescripteurs screens.

A search field over a table and a hint line. Typing anywhere starts a new search (the desk never
has to aim first), Entrée in the field or ↓ goes to the list, Ctrl+F back to the field. In pick
mode (``pick=True``) the screen chooses a row for another screen and is dismissed with it.
"""

from __future__ import annotations

from typing import ClassVar, TypeVar

from textual import events, on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input, Static

from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce

Picked = TypeVar("Picked")


class SearchListScreen(DrawnOnce[Picked]):
    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#search"

    LIST_ID: ClassVar[str]  # the table's id; the hint line's is « {LIST_ID}-hint »
    PLACEHOLDER: ClassVar[str]  # what the search field takes

    def __init__(self, *, pick: bool = False) -> None:
        super().__init__()
        self.pick = pick

    def heading(self) -> str:
        """The line above the search field."""
        raise NotImplementedError

    def make_table(self) -> DataTable:
        """The list's table (its Entrée binding says what Entrée does)."""
        raise NotImplementedError

    def reload(self) -> None:
        """Search again with the text typed."""
        raise NotImplementedError

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static(self.heading(), classes="title")
        search = Input(placeholder=self.PLACEHOLDER, id="search", max_length=40)
        search.border_title = "Rechercher"
        yield search
        yield self.make_table()
        yield Static("", id=f"{self.LIST_ID}-hint", classes="hint", markup=False)
        yield AppFooter()

    @property
    def table(self) -> DataTable:
        return self.query_one(f"#{self.LIST_ID}", DataTable)

    @property
    def search_text(self) -> str:
        return self.query_one("#search", Input).value

    def show_hint(self, text: str) -> None:
        self.query_one(f"#{self.LIST_ID}-hint", Static).update(text)

    def cursor_id(self) -> int | None:
        """The id (row key) of the row under the cursor."""
        table = self.table
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return int(row_key.value) if row_key.value is not None else None

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self.action_focus_list()

    def on_key(self, event: events.Key) -> None:
        # Typing on the list starts a new search. The key is handed on after the focus (which
        # selects the old text, so the key replaces it).
        search = self.query_one("#search", Input)
        if event.is_printable and event.character and self.focused is not search:
            event.stop()
            self.set_focus(search)  # now, not later as Widget.focus() would
            search.post_message(events.Key(event.key, event.character))

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_list(self) -> None:
        if self.table.row_count:
            self.table.focus()
