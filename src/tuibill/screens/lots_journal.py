"""Journal des lots et bordereaux (F6): every lot ever built, with its « État du lot ».

The same shape as the Journal des factures (F5): filters (lot number, state, type,
practitioner, caisse), the last 2 months by default and Ctrl+T for the whole history, a
virtual table fed page by page by key (``services.lot_journal``, through
``services.transmettre_extra``'s view pager). A search without a window is counted in a worker
thread; a page far from every page read (a scrollbar drag) is read in a worker too. Entrée opens
the lot (``LotDetailScreen``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from peewee import PeeweeException
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Input, Label, Select, Static

from tuibill.domain.formatting import format_cents
from tuibill.domain.lots import LotState
from tuibill.screens.lot_detail import TRANSMETTRE_CSS, close_thread_connection
from tuibill.services.lot_journal import (
    LotFilter,
    LotRow,
    is_bounded,
    journal_filter,
    open_lot_journal,
)
from tuibill.services.paging import KeysetPager
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.virtual_table import Column, VirtualTable

# 79 cells beside the scrollbar at 80 columns: the type, the sendings and the reason are
# reached by scrolling right, or shown on wider terminals.
COLUMNS = (
    Column("Lot", 3, "right"),
    Column("État du lot", 17),  # « Traitement manuel » in full
    Column("Praticien", 8, flex=2),
    Column("Caisse", 6),
    Column("Créé le", 8),
    Column("Envoyé", 8),
    Column("ARL le", 8),
    Column("FSE", 4, "right"),
    Column("Total", 8, "right"),
    Column("Type", 4),
    Column("Envois", 6, "right"),
    Column("Motif / erreur", 30, flex=1),
)
FAR_PAGE_DELAY = 0.05  # s: lets a scrollbar drag settle before an OFFSET read


def _day(value) -> str:
    return "" if value is None else f"{value:%d/%m/%y}"


def row_cells(row: LotRow) -> tuple[str, ...]:
    """The table's cells for one lot, in :data:`COLUMNS` order."""
    is_fse = row.kind == "FSE"
    return (
        row.number_text,
        row.state_label,
        row.practitioner,
        row.destination,
        _day(row.created_at),
        _day(row.sent_at),
        _day(row.arl_at),
        str(row.invoice_count) if is_fse else f"{row.piece_count}p",
        format_cents(row.total_cents) if is_fse else "",
        row.kind,
        str(row.send_count),
        row.arl_reason or row.last_error,
    )


def count_text(count: int) -> str:
    noun = "lot" if count < 2 else "lots"
    return f"{count:,}".replace(",", " ") + f" {noun}"


def window_text(flt: LotFilter, today: date) -> str:
    if flt.since is None:
        return "toutes dates (numéro)" if flt.number is not None else "sans limite de temps"
    return f"créés du {flt.since:%d/%m/%y} au {today:%d/%m/%y} (2 derniers mois)"


class LotsJournalScreen(Screen):
    """The Journal des lots: filters, the virtual table, a status line."""

    CSS_PATH = TRANSMETTRE_CSS
    AUTO_FOCUS = "#lots-table"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "filters", "Filtrer", id="lots_filtrer"),
        # One key, two labels: the footer says what Ctrl+T will do (check_action shows one).
        Binding("ctrl+t", "all_time", "Sans limite de temps", id="lots_sans_limite"),
        Binding("ctrl+t", "two_months", "2 derniers mois", id="lots_deux_mois"),
        Binding("ctrl+r", "clear_filters", "Effacer filtres", id="lots_effacer_filtres"),
        Binding("escape", "leave", "Retour", id="lots_retour"),
    ]

    class Loaded(Message):
        """A worker counted the journal for *generation* (pager None: *error*)."""

        bubble = False

        def __init__(
            self, generation: int, pager: KeysetPager | None, error: str = ""
        ) -> None:
            super().__init__()
            self.generation = generation
            self.pager = pager
            self.error = error

    class FarPage(Message):
        """A worker read page *index* of *pager* by offset."""

        bubble = False

        def __init__(self, pager: KeysetPager, index: int, rows: list | None) -> None:
            super().__init__()
            self.pager = pager
            self.index = index
            self.rows = rows

    def __init__(self) -> None:
        super().__init__()
        self._all_time = False
        self._filter: LotFilter = journal_filter()
        self._pager: KeysetPager | None = None
        self._generation = 0
        self._loading = False
        self._loaded_once = False
        self._active = False
        self._far_wanted: int | None = None
        self._far_busy = False
        self._far_timer: Timer | None = None

    # --------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        from tuibill.services.lot_journal import destinations
        from tuibill.services.practice import list_practitioners

        states = [(state.label, state.value) for state in LotState]
        practitioners = [(p.display_name, p.id) for p in list_practitioners(active_only=False)]
        yield AppHeader()
        with Vertical(id="lots-filters"):
            with Horizontal(classes="filter-row"):
                yield Label("N° de lot", classes="filter-label")
                yield Input(id="lf-number", compact=True, restrict=r"[0-9]*", max_length=3)
                yield Label("État", classes="filter-label")
                yield Select(states, prompt="Tous", id="lf-state", compact=True)
                yield Label("Type", classes="filter-label")
                yield Select(
                    [("FSE", "FSE"), ("SCOR", "SCOR")], prompt="Tous", id="lf-kind", compact=True
                )
            with Horizontal(classes="filter-row"):
                yield Label("Praticien", classes="filter-label")
                yield Select(practitioners, prompt="Tous", id="lf-practitioner", compact=True)
                yield Label("Caisse", classes="filter-label")
                yield Select(
                    [(label, code) for code, label in destinations()],
                    prompt="Toutes",
                    id="lf-destination",
                    compact=True,
                )
        yield VirtualTable(COLUMNS, self._row, 0, pending_text=self._dots, id="lots-table")
        yield Static(f"Recherche{self._dots}", id="lots-status")
        yield AppFooter()

    @property
    def _dots(self) -> str:
        # The Linux console's fonts may lack « … ».
        return "..." if getattr(self.app, "ascii_borders", False) else "…"

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#lots-table", VirtualTable)

    @property
    def lot_filter(self) -> LotFilter:
        """The filter in force (the one the table shows, or is being searched)."""
        return self._filter

    @property
    def pager(self) -> KeysetPager | None:
        return self._pager

    @property
    def is_searching(self) -> bool:
        return self._loading

    def on_screen_resume(self) -> None:
        if self._active:
            return  # Textual posts ScreenResume twice when a mode's first screen starts
        self._active = True
        # First display, or back from a lot or another menu: states may have changed.
        self._reload(keep_cursor=self._loaded_once, quiet=self._loaded_once)

    def on_screen_suspend(self) -> None:
        self._active = False

    # -------------------------------------------------------------- loading

    def _read_filter(self) -> LotFilter:
        def choice(widget_id: str):
            value = self.query_one(widget_id, Select).value
            return None if value is Select.NULL else value

        text = self.query_one("#lf-number", Input).value.strip()
        state = choice("#lf-state")
        return journal_filter(
            number=int(text) if text.isdigit() else None,
            state=LotState(state) if state else None,
            kind=choice("#lf-kind"),
            practitioner_id=choice("#lf-practitioner"),
            destination=choice("#lf-destination"),
            all_time=self._all_time,
            today=date.today(),
        )

    def _reload(self, *, keep_cursor: bool = False, quiet: bool = False) -> None:
        """Count and page again; the table keeps its rows until the new ones come."""
        flt = self._read_filter()
        if quiet and self._loading and flt == self._filter:
            return  # the same search is already under way
        self._filter = flt
        self._generation += 1
        around = max(0, self.table.cursor_row) if keep_cursor else 0
        if is_bounded(flt):
            # Two months of lots, or one number: an index range, counted inline so that the
            # rows are in the screen's first frame.
            self._loading = False
            try:
                pager = open_lot_journal(flt, around=around)
            except PeeweeException as error:
                self._show_error(str(error))
            else:
                self._show_pager(pager)
            return
        self._loading = True
        if not quiet:
            self._show_status()
        self._count(self._generation, flt, around)

    @work(thread=True, exclusive=True, group="lots-count")
    def _count(self, generation: int, flt: LotFilter, around: int) -> None:
        # The whole history, counted off the UI thread: typing and F-keys stay instant.
        try:
            pager = open_lot_journal(flt, around=around)
        except PeeweeException as error:
            self.post_message(self.Loaded(generation, None, str(error)))
        else:
            self.post_message(self.Loaded(generation, pager))
        finally:
            close_thread_connection()

    def on_lots_journal_screen_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return  # a newer search is under way
        self._loading = False
        if message.pager is None:
            self._show_error(message.error)
        else:
            self._show_pager(message.pager)

    def _show_error(self, error: str) -> None:
        self._loaded_once = True
        self.query_one("#lots-status", Static).update(f"Erreur de lecture du journal : {error}")

    def _show_pager(self, pager: KeysetPager) -> None:
        self._loaded_once = True
        # Same search again (back from a lot): stay on the same line; a new one: the top.
        same = self._pager is not None and self._pager.query.filter == pager.query.filter
        cursor = min(max(0, self.table.cursor_row), max(0, pager.total - 1)) if same else 0
        self._pager = pager
        self._far_wanted = None
        self.table.set_source(self._row, pager.total, cursor=cursor)
        self._show_status()

    # Rows are asked for by the table while it renders: never an OFFSET read here.
    def _row(self, index: int) -> tuple[str, ...] | None:
        pager = self._pager
        if pager is None:
            return None
        if not pager.is_cheap(index):
            self._want_far(index // pager.page_size)
            return None
        row = pager.row(index)
        return None if row is None else row_cells(row)  # type: ignore[arg-type]

    def _want_far(self, page_index: int) -> None:
        self._far_wanted = page_index
        if not self._far_busy and self._far_timer is None:
            self._far_timer = self.set_timer(FAR_PAGE_DELAY, self._start_far_read)

    def _start_far_read(self) -> None:
        self._far_timer = None
        if self._far_wanted is None or self._pager is None:
            return
        self._far_busy = True
        self._read_far(self._pager, self._far_wanted)

    @work(thread=True, group="lots-far")
    def _read_far(self, pager: KeysetPager, index: int) -> None:
        rows = None
        try:
            rows = pager.read_far(index)
        except PeeweeException:
            pass  # rows=None: reported in the status line, the rows stay « … »
        finally:
            close_thread_connection()
            self.post_message(self.FarPage(pager, index, rows))

    def on_lots_journal_screen_far_page(self, message: FarPage) -> None:
        self._far_busy = False
        if message.pager is not self._pager:
            return  # the search changed meanwhile
        if self._far_wanted == message.index:
            self._far_wanted = None
        if message.rows is None:
            self._show_error("page non lue")
            return
        message.pager.put_page(message.index, message.rows)
        self.table.refresh_rows()

    # --------------------------------------------------------------- status

    def _show_status(self) -> None:
        status = self.query_one("#lots-status", Static)
        if self._loading:
            status.update(f"Recherche{self._dots} · {window_text(self._filter, date.today())}")
            return
        total = self._pager.total if self._pager else 0
        text = f"{count_text(total)} · {window_text(self._filter, date.today())}"
        if total:
            text += f" · ligne {self.table.cursor_row + 1:,}".replace(",", " ")
        status.update(text)

    def on_virtual_table_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        if not self._loading:
            self._show_status()

    # -------------------------------------------------------------- actions

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        pager = self._pager
        if pager is None or not pager.is_cheap(event.index):
            return  # its page is still being read
        row = pager.row(event.index)
        if row is not None:
            from tuibill.screens.lot_detail import LotDetailScreen

            self.app.push_screen(LotDetailScreen(row.id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._reload()
        self.table.focus()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Select also reports values set by the program (clearing): search only on a change.
        if self._read_filter() != self._filter:
            self._reload()

    def action_filters(self) -> None:
        self.query_one("#lf-number", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "all_time":
            return not self._all_time
        if action == "two_months":
            return self._all_time
        return True

    def action_all_time(self) -> None:
        """Ctrl+T: the whole history (« étendre la recherche sans limite de temps »)."""
        self._set_all_time(True)

    def action_two_months(self) -> None:
        """Ctrl+T again: back to the last 2 months."""
        self._set_all_time(False)

    def _set_all_time(self, all_time: bool) -> None:
        self._all_time = all_time
        self.refresh_bindings()
        self._reload()

    def action_clear_filters(self) -> None:
        self.query_one("#lf-number", Input).value = ""
        for widget_id in ("#lf-state", "#lf-kind", "#lf-practitioner", "#lf-destination"):
            self.query_one(widget_id, Select).clear()
        self._all_time = False
        self.refresh_bindings()
        self._reload()
        self.table.focus()

    def action_leave(self) -> None:
        """Escape: from the filter bar back to the list; from the list back to the menu."""
        if self.focused is not None and self.focused is not self.table:
            self.table.focus()
        else:
            self.app.action_back()
