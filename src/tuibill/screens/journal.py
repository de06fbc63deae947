"""Journal des factures (F5): the whole invoice history, filtered, in a virtual table.

Nothing is loaded up front: a worker thread counts the filtered journal and reads the page under
the cursor (« Recherche… » meanwhile), then the table asks for the rows it shows, which the
pager reads by key, page by page. A page far from every page read so far (a scrollbar drag)
needs an O(n) OFFSET read: it is read in a worker too, the rows showing « … » until it arrives.
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
from tuibill.domain.invoices import InvoiceState
from tuibill.services.journal import JournalFilter, JournalRow, open_journal
from tuibill.services.paging import KeysetPager
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.virtual_table import Column, VirtualTable

# The first eight columns fit an 80-column terminal (79 cells beside the scrollbar); the
# amounts' split and the mode are reached by scrolling right, or shown on wider terminals.
COLUMNS = (
    Column("Numéro", 9),
    Column("État", 11),
    Column("Date", 8),
    Column("Patient", 15, flex=3),
    Column("Praticien", 9, flex=1),
    Column("Caisse", 9, flex=1),
    Column("Total", 8, "right"),
    Column("Lot", 3, "right"),
    Column("AMO", 8, "right"),
    Column("AMC", 8, "right"),
    Column("Assuré", 8, "right"),
    Column("Mode", 12),
)

MODES = {"degrade": "Dégradé", "sesam_vitale": "SESAM-Vitale"}
FAR_PAGE_DELAY = 0.05  # s: lets a scrollbar drag settle before an OFFSET read


def row_cells(row: JournalRow) -> tuple[str, ...]:
    """The table's cells for one journal row, in :data:`COLUMNS` order."""
    return (
        row.number_text,
        row.state_label,
        f"{row.billing_date:%d/%m/%y}",
        row.patient_name,
        row.practitioner,
        row.organism,
        format_cents(row.total_cents),
        str(row.lot_number or ""),
        format_cents(row.amo_cents),
        format_cents(row.amc_cents),
        format_cents(row.patient_cents),
        MODES.get(row.mode, row.mode),
    )


def count_text(count: int) -> str:
    """1000000 → « 1 000 000 factures » (a plain space: the Linux console lacks U+202F)."""
    noun = "facture" if count < 2 else "factures"
    return f"{count:,}".replace(",", " ") + f" {noun}"


def window_text(flt: JournalFilter) -> str:
    """The period searched, short enough for the status line at 80 columns."""
    start = flt.window_start
    if start is None:
        return "sans limite de temps" if flt.all_time else "toutes dates (numéro)"
    text = f"du {start:%d/%m/%y} au {flt.until or flt.today:%d/%m/%y}"
    if flt.since is None and flt.until is None:
        text += " (2 derniers mois)"
    return text


def is_bounded(flt: JournalFilter) -> bool:
    """True when the search cannot match more than a window or a number's invoices."""
    return flt.window_start is not None or flt.number is not None or flt.lot_number is not None


class JournalScreen(Screen):
    """The Journal des factures: filters, the virtual table, a status line."""

    CSS_PATH = "../styles/journal.tcss"
    AUTO_FOCUS = "#journal-table"  # straight to the list: one focus change, one footer redraw

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash,ctrl+f", "filters", "Filtrer", id="journal_filtrer"),
        # One key, two labels: the footer says what Ctrl+T will do (check_action shows one).
        Binding("ctrl+t", "all_time", "Sans limite de temps", id="journal_sans_limite"),
        Binding("ctrl+t", "two_months", "2 derniers mois", id="journal_deux_mois"),
        Binding("ctrl+r", "clear_filters", "Effacer filtres", id="journal_effacer_filtres"),
        Binding("escape", "leave", "Retour", id="journal_retour"),
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
        self._filter = JournalFilter()
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
        from tuibill.services.patients import list_organisms
        from tuibill.services.practice import list_practitioners

        states = [(state.label, state.value) for state in InvoiceState]
        practitioners = [(p.display_name, p.id) for p in list_practitioners(active_only=False)]
        organisms = [(o.name, o.id) for o in list_organisms()]
        yield AppHeader()
        with Vertical(id="journal-filters"):
            with Horizontal(classes="filter-row"):
                yield Label("Patient", classes="filter-label")
                yield Input(placeholder="début du nom", id="f-patient", compact=True)
                yield Label("N°", classes="filter-label")
                yield Input(id="f-number", compact=True, restrict=r"[0-9]*", max_length=9)
                yield Label("Lot", classes="filter-label")
                yield Input(id="f-lot", compact=True, restrict=r"[0-9]*", max_length=6)
                yield Label("État", classes="filter-label")
                yield Select(states, prompt="Tous", id="f-state", compact=True)
            with Horizontal(classes="filter-row"):
                yield Label("Praticien", classes="filter-label")
                yield Select(practitioners, prompt="Tous", id="f-practitioner", compact=True)
                yield Label("Caisse", classes="filter-label")
                yield Select(organisms, prompt="Toutes", id="f-organism", compact=True)
        yield VirtualTable(COLUMNS, self._row, 0, pending_text=self._dots, id="journal-table")
        yield Static(f"Recherche{self._dots}", id="journal-status")
        yield AppFooter()

    @property
    def _dots(self) -> str:
        # The Linux console's fonts may lack « … ».
        return "..." if getattr(self.app, "ascii_borders", False) else "…"

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#journal-table", VirtualTable)

    @property
    def journal_filter(self) -> JournalFilter:
        """The filter in force (the one the table shows, or is being searched)."""
        return self._filter

    @property
    def pager(self) -> KeysetPager | None:
        return self._pager

    @property
    def is_searching(self) -> bool:
        """True while a worker counts the journal for the filter in force."""
        return self._loading

    def on_screen_resume(self) -> None:
        if self._active:
            return  # Textual posts ScreenResume twice when a mode's first screen starts
        self._active = True
        # First display, or back from an invoice or another menu: states may have changed.
        self._reload(keep_cursor=self._loaded_once, quiet=self._loaded_once)

    def on_screen_suspend(self) -> None:
        self._active = False

    # -------------------------------------------------------------- loading

    def _read_filter(self) -> JournalFilter:
        def number(widget_id: str) -> int | None:
            text = self.query_one(widget_id, Input).value.strip()
            return int(text) if text.isdigit() else None

        def choice(widget_id: str):
            value = self.query_one(widget_id, Select).value
            return None if value is Select.NULL else value

        return JournalFilter(
            number=number("#f-number"),
            lot_number=number("#f-lot"),
            patient=self.query_one("#f-patient", Input).value.strip(),
            state=choice("#f-state"),
            practitioner_id=choice("#f-practitioner"),
            organism_id=choice("#f-organism"),
            all_time=self._all_time,
            today=date.today(),
        )

    def _reload(self, *, keep_cursor: bool = False, quiet: bool = False) -> None:
        """Count and page the journal again; the table keeps its rows until the new ones come."""
        flt = self._read_filter()
        if quiet and self._loading and flt == self._filter:
            return  # the same search is already under way
        self._filter = flt
        self._generation += 1
        around = max(0, self.table.cursor_row) if keep_cursor else 0
        if is_bounded(flt):
            # Two months of invoices, or one number: an index range counted in milliseconds.
            # Inline, so that the rows are in the screen's first frame (a worker thread would
            # wait for the GIL while the screen mounts).
            self._loading = False
            try:
                pager = open_journal(flt, around=around)
            except PeeweeException as error:
                self._show_error(str(error))
            else:
                self._show_pager(pager)
            return
        self._loading = True
        if not quiet:
            self._show_status()
        self._count(self._generation, flt, around)

    @work(thread=True, exclusive=True, group="journal-count")
    def _count(self, generation: int, flt: JournalFilter, around: int) -> None:
        # Counting the whole history of a busy practice takes tens of milliseconds: off the UI
        # thread, so that typing and F-keys stay instant.
        try:
            pager = open_journal(flt, around=around)
        except PeeweeException as error:
            self.post_message(self.Loaded(generation, None, str(error)))
        else:
            self.post_message(self.Loaded(generation, pager))
        finally:
            _close_thread_connection()

    def on_journal_screen_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return  # a newer search is under way
        self._loading = False
        if message.pager is None:
            self._show_error(message.error)
        else:
            self._show_pager(message.pager)

    def _show_error(self, error: str) -> None:
        self._loaded_once = True
        self.query_one("#journal-status", Static).update(f"Erreur de lecture du journal : {error}")

    def _show_pager(self, pager: KeysetPager) -> None:
        self._loaded_once = True
        # Same search again (back from an invoice): stay on the same line; a new one: the top.
        same_search = self._pager is not None and self._pager.query.filter == pager.query.filter
        cursor = min(max(0, self.table.cursor_row), max(0, pager.total - 1)) if same_search else 0
        self._pager = pager
        self._far_wanted = None
        self.table.set_source(self._row, pager.total, cursor=cursor)
        self._show_status()

    # Rows are asked for by the table while it renders: this must never block on an OFFSET read.
    def _row(self, index: int) -> tuple[str, ...] | None:
        pager = self._pager
        if pager is None:
            return None
        if not pager.is_cheap(index):
            self._want_far(index // pager.page_size)
            return None
        row = pager.row(index)
        return None if row is None else row_cells(row)

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

    @work(thread=True, group="journal-far")
    def _read_far(self, pager: KeysetPager, index: int) -> None:
        rows = None
        try:
            rows = pager.read_far(index)
        except PeeweeException:
            pass  # rows=None: reported in the status line, the rows stay « … »
        finally:
            _close_thread_connection()
            self.post_message(self.FarPage(pager, index, rows))

    def on_journal_screen_far_page(self, message: FarPage) -> None:
        self._far_busy = False
        if message.pager is not self._pager:
            return  # the search changed meanwhile
        if self._far_wanted == message.index:
            self._far_wanted = None
        if message.rows is None:
            self._show_error("page non lue")
            return
        message.pager.put_page(message.index, message.rows)
        # Re-rendering asks again for any row still missing (the drag may have moved on).
        self.table.refresh_rows()

    # --------------------------------------------------------------- status

    def _show_status(self) -> None:
        status = self.query_one("#journal-status", Static)
        if self._loading:
            status.update(f"Recherche{self._dots} · {window_text(self._filter)}")
            return
        total = self._pager.total if self._pager else 0
        text = f"{count_text(total)} · {window_text(self._filter)}"
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
            from tuibill.screens.invoice_detail import InvoiceDetailScreen

            self.app.push_screen(InvoiceDetailScreen(row.id))

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
        self.query_one("#f-patient", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "all_time":
            return not self._all_time
        if action == "two_months":
            return self._all_time
        return True

    def action_all_time(self) -> None:
        """Ctrl+T: widen the search to the whole history (« étendre sans limite de temps »)."""
        self._set_all_time(True)

    def action_two_months(self) -> None:
        """Ctrl+T again: back to the last 2 months."""
        self._set_all_time(False)

    def _set_all_time(self, all_time: bool) -> None:
        self._all_time = all_time
        self.refresh_bindings()
        self._reload()

    def action_clear_filters(self) -> None:
        for widget_id in ("#f-patient", "#f-number", "#f-lot"):
            self.query_one(widget_id, Input).value = ""
        for widget_id in ("#f-state", "#f-practitioner", "#f-organism"):
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


def _close_thread_connection() -> None:
    """Close the worker thread's database connection.

    peewee opens one connection per thread, and Textual runs thread workers in the event loop's
    default executor, whose threads outlive the worker: without this, each would keep one open.
    """
    from tuibill.models import db

    if not db.is_closed():
        db.close()
