"""The journals' common screen: a filter bar, a virtual table fed page by page by key, a status
line. The Journal des factures (F5) and the Journal des lots (F6) are two of these.

Nothing is loaded up front, and no search runs on the UI thread: keys never wait for the
database. A search reads its first page in a worker thread and shows it at once, then counts
the rows (« Compte… » meanwhile: a one-letter prefix over a million invoices shows its rows in
milliseconds, its count a moment later). Then the table asks for the rows it shows, which the
pager (``services.paging.KeysetPager``) reads by key, page by page — next to a page already
read, a sub-millisecond index range. A page far from every page read so far (a scrollbar drag)
needs an O(n) OFFSET read: it is read in a worker too, the rows showing « … » until it arrives.

A journal names its service in its class statement — ``class JournalScreen(
PagedJournalScreen[JournalFilter], prefix="journal", pager=open_journal)``: *pager* reads a
filter's first page (``count=False``) or counts it and reads the page around a row — sets its
:attr:`~PagedJournalScreen.COLUMNS` and :attr:`~PagedJournalScreen.NOUNS`, and says what it
shows (:meth:`~PagedJournalScreen.compose_filters`, :meth:`~PagedJournalScreen.read_filter`,
:meth:`~PagedJournalScreen.window_text`, :meth:`~PagedJournalScreen.row_cells`,
:meth:`~PagedJournalScreen.open_row`); this screen does the rest. The *prefix* names its
widgets (``#journal-table``…) and its bindings' ids (``journal_filtrer``…, for a keymap).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any, ClassVar, Generic, TypeVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.reactive import Reactive
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Select

from tuibill.services.database import DatabaseError, close_thread_connection
from tuibill.services.paging import KeysetPager
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.status_line import StatusLine
from tuibill.widgets.virtual_table import Column, VirtualTable

Filter = TypeVar("Filter")
FAR_PAGE_DELAY = 0.05  # s: lets a scrollbar drag settle before an OFFSET read

# A search starts reading the moment Entrée is handled, in a thread of this pool. (A Textual
# worker starts only once the UI thread is through with what it is doing — the frame that moves
# the focus, the key's other effects —: 3 to 14 ms later over a million invoices.) A search
# that a newer one made stale runs to its end in its thread; its answer is dropped.
SEARCHES = ThreadPoolExecutor(max_workers=4, thread_name_prefix="journal-search")


_heap_frozen = False


def freeze_heap() -> None:
    """Keep what the application has built so far out of the garbage collector's full passes.

    A full pass walks every object alive (some 90,000 once a journal is open: ~50 ms on this
    machine, during which no key is read and no worker runs); it comes every few searches.
    Frozen, they are no longer walked (they are still freed when their last reference goes):
    a full pass then reads only what was made since. Once per process: asking the collector
    (``gc.get_freeze_count()``) walks every frozen object, ~7 ms per search."""
    global _heap_frozen
    if not _heap_frozen:
        _heap_frozen = True
        gc.freeze()


def journal_bindings(prefix: str) -> list[BindingType]:
    """The journals' keys, with ids of their own (*prefix*) so that a keymap can tell them apart."""
    return [
        Binding("slash,ctrl+f", "filters", "Filtrer", id=f"{prefix}_filtrer"),
        # One key, two labels: the footer says what Ctrl+T will do (check_action shows one).
        Binding("ctrl+t", "all_time", "Sans limite de temps", id=f"{prefix}_sans_limite"),
        Binding("ctrl+t", "two_months", "2 derniers mois", id=f"{prefix}_deux_mois"),
        Binding("ctrl+r", "clear_filters", "Effacer filtres", id=f"{prefix}_effacer_filtres"),
        Binding("escape", "leave", "Retour", id=f"{prefix}_retour"),
    ]


def count_text(count: int, singular: str, plural: str) -> str:
    """1000000 → « 1 000 000 factures » (a plain space: the Linux console lacks U+202F)."""
    return f"{count:,}".replace(",", " ") + f" {singular if count < 2 else plural}"


class PagedJournalScreen(DrawnOnce, Generic[Filter]):
    """Filters, the virtual table, a status line; see the module's documentation."""

    # Textual repaints the whole screen at every focus change (Entrée in a filter moves to the
    # list: 6–12 ms of the UI thread on top of the rows' arrival). The two widgets concerned
    # repaint themselves (their :focus styles), the footer follows the bindings.
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    COLUMNS: ClassVar[Sequence[Column]]
    NOUNS: ClassVar[tuple[str, str]] = ("ligne", "lignes")  # what a row is
    FILTERS_ID: ClassVar[str]
    TABLE_ID: ClassVar[str]
    STATUS_ID: ClassVar[str]
    PAGER: ClassVar[Callable[..., KeysetPager]]

    def __init_subclass__(
        cls,
        *,
        prefix: str = "",
        pager: Callable[..., KeysetPager] | None = None,
        **kwargs: Any,
    ) -> None:
        if prefix:
            cls.FILTERS_ID, cls.TABLE_ID = f"{prefix}-filters", f"{prefix}-table"
            cls.STATUS_ID = f"{prefix}-status"
            # Straight to the list: one focus change, one footer redraw.
            cls.AUTO_FOCUS = f"#{cls.TABLE_ID}"
            cls.BINDINGS = journal_bindings(prefix)  # before Textual merges the bindings
        if pager is not None:
            cls.PAGER = staticmethod(pager)
        super().__init_subclass__(**kwargs)

    class Loaded(Message):
        """A worker read the journal's first rows for *generation* (pager None: *error*)."""

        bubble = False

        def __init__(
            self, generation: int, pager: KeysetPager | None, error: str = ""
        ) -> None:
            super().__init__()
            self.generation = generation
            self.pager = pager
            self.error = error

    class Failed(Message):
        """A search ended on an unexpected error (raised again on the UI thread)."""

        bubble = False

        def __init__(self, error: Exception) -> None:
            super().__init__()
            self.error = error

    class Counted(Message):
        """A worker counted the rows of *pager* (None: *error*)."""

        bubble = False

        def __init__(
            self, generation: int, pager: KeysetPager, total: int | None, error: str = ""
        ) -> None:
            super().__init__()
            self.generation = generation
            self.pager = pager
            self.total = total
            self.error = error

    class NextPage(Message):
        """A worker read page *index* of *pager* by key, ahead of the keys (None: failed)."""

        bubble = False

        def __init__(self, pager: KeysetPager, index: int, rows: list | None) -> None:
            super().__init__()
            self.pager = pager
            self.index = index
            self.rows = rows

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
        self._filter: Filter | None = None  # none until the first search
        self._pager: KeysetPager | None = None
        self._generation = 0
        self._loading = False
        self._loaded_once = False
        self._active = False
        self._far_wanted: int | None = None
        self._far_busy = False
        self._far_timer: Timer | None = None
        self._reading_ahead: set[int] = set()  # pages read ahead by a worker now
        self._table: VirtualTable | None = None
        self._status_text = ""  # what the status line shows (set in compose)

    # --- what a journal says --------------------------------------------------------------

    def compose_filters(self) -> ComposeResult:
        """The filter bar's rows (« / » goes to its first field)."""
        raise NotImplementedError

    def read_filter(self) -> Filter:
        """The filter the bar shows, over :meth:`window` (Ctrl+T: the whole history)."""
        raise NotImplementedError

    def window_text(self, flt: Filter) -> str:
        """The period searched, short enough for the status line at 80 columns."""
        raise NotImplementedError

    def row_cells(self, row: Any) -> tuple[str, ...]:
        """The table's cells for one row, in :attr:`COLUMNS` order."""
        raise NotImplementedError

    def open_row(self, row: Any) -> None:
        """Entrée on a row."""
        raise NotImplementedError

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Vertical(id=self.FILTERS_ID):
            yield from self.compose_filters()
        yield VirtualTable(self.COLUMNS, self._row, 0, pending_text=self._dots, id=self.TABLE_ID)
        self._status_text = f"Recherche{self._dots}"
        yield StatusLine(self._status_text, id=self.STATUS_ID)
        yield AppFooter()

    @property
    def _dots(self) -> str:
        # The Linux console's fonts may lack « … ».
        return "..." if getattr(self.app, "ascii_borders", False) else "…"

    @property
    def table(self) -> VirtualTable:
        # Asked for every row drawn (the read-ahead): found once, not by a query each time.
        if self._table is None:
            self._table = self.query_one(f"#{self.TABLE_ID}", VirtualTable)
        return self._table

    @property
    def search_filter(self) -> Filter | None:
        """The filter in force (the one the table shows, or is being searched)."""
        return self._filter

    def window(self) -> dict[str, Any]:
        """The period part of a filter: today, and Ctrl+T's « sans limite de temps »."""
        return {"all_time": self._all_time, "today": date.today()}

    @property
    def pager(self) -> KeysetPager | None:
        return self._pager

    @property
    def is_searching(self) -> bool:
        """True while a worker reads or counts the journal for the filter in force."""
        return self._loading

    def on_screen_resume(self) -> None:
        if self._active:
            return  # Textual posts ScreenResume twice when a mode's first screen starts
        self._active = True
        # First display, or back from a row's detail or another menu: states may have changed.
        self._reload(keep_cursor=self._loaded_once, quiet=self._loaded_once)

    def on_screen_suspend(self) -> None:
        self._active = False

    # --- loading ---------------------------------------------------------------------------

    def number_in(self, widget_id: str) -> int | None:
        """The number typed in a filter field, if any."""
        text = self.query_one(widget_id, Input).value.strip()
        return int(text) if text.isdigit() else None

    def choice_in(self, widget_id: str) -> Any:
        """The value chosen in a filter list (None: all)."""
        value = self.query_one(widget_id, Select).value
        return None if value is Select.NULL else value

    def _reload(self, *, keep_cursor: bool = False, quiet: bool = False) -> None:
        """Search again; the table keeps its rows until the new ones come."""
        flt = self.read_filter()
        if quiet and self._loading and flt == self._filter:
            return  # the same search is already under way
        self._filter = flt
        self._generation += 1
        around = max(0, self.table.cursor_row) if keep_cursor else 0
        self._loading = True
        if not quiet:
            self._show_status()
        SEARCHES.submit(self._search, self._generation, flt, around)

    def _search(self, generation: int, flt: Filter, around: int) -> None:
        """Read the first page, then count (in a thread of :data:`SEARCHES`)."""
        try:
            if around:
                # Back on a row (from its detail): the count first, to read the page around it.
                pager = self.PAGER(flt, around=around)
            else:
                pager = self.PAGER(flt, count=False)
            self.post_message(self.Loaded(generation, pager))
            if pager.total is None and generation == self._generation:
                try:
                    total = pager.query.count()
                except DatabaseError as error:
                    self.post_message(self.Counted(generation, pager, None, str(error)))
                else:
                    self.post_message(self.Counted(generation, pager, total))
        except DatabaseError as error:
            self.post_message(self.Loaded(generation, None, str(error)))
        except Exception as error:  # a bug: raised on the UI thread, as a worker's would be
            self.post_message(self.Failed(error))
        finally:
            close_thread_connection()

    def on_paged_journal_screen_failed(self, message: Failed) -> None:
        raise message.error

    def on_paged_journal_screen_loaded(self, message: Loaded) -> None:
        if message.generation != self._generation:
            return  # a newer search is under way
        if message.pager is None:
            self._loading = False
            self._show_error(message.error)
        else:
            self._loading = message.pager.total is None
            self._show_pager(message.pager)
            freeze_heap()  # the app, its menu and this screen are built by now

    def on_paged_journal_screen_counted(self, message: Counted) -> None:
        if message.generation != self._generation or message.pager is not self._pager:
            return
        self._loading = False
        if message.total is None:
            self._show_error(message.error)
            return
        message.pager.set_total(message.total)
        self.table.set_row_count(message.total)
        self._show_status()

    def _show_error(self, error: str) -> None:
        self._loaded_once = True
        self._status(f"Erreur de lecture du journal : {error}")

    def _show_pager(self, pager: KeysetPager) -> None:
        self._loaded_once = True
        # Same search again (back from a row's detail): stay on the same line; a new one: the top.
        same_search = self._pager is not None and self._pager.query.filter == pager.query.filter
        cursor = min(max(0, self.table.cursor_row), max(0, pager.known - 1)) if same_search else 0
        self._pager = pager
        self._far_wanted = None
        self._reading_ahead.clear()
        self.table.set_source(self._row, pager.known, cursor=cursor)
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
        self._read_ahead(pager, index)
        return None if row is None else self.row_cells(row)

    def _read_ahead(self, pager: KeysetPager, index: int) -> None:
        # Two screens before the rows read so far end, the next page is read in a worker: a
        # page down never waits for the database (a few milliseconds every dozen pages).
        if pager.total is None:
            return  # not before the count (next_to_read): the view's height is not asked
        wanted = pager.next_to_read(index, 2 * self.table.visible_rows)
        if wanted is not None and wanted[0] not in self._reading_ahead:
            self._reading_ahead.add(wanted[0])
            self._read_next(pager, *wanted)

    @work(thread=True, group="journal-next")
    def _read_next(self, pager: KeysetPager, index: int, direction: str, key: Any) -> None:
        rows = None
        try:
            rows = pager.read_next(direction, key)
        except DatabaseError:
            pass  # read by key when shown, on the UI thread, as without this
        finally:
            close_thread_connection()
            self.post_message(self.NextPage(pager, index, rows))

    def on_paged_journal_screen_next_page(self, message: NextPage) -> None:
        self._reading_ahead.discard(message.index)
        if message.pager is self._pager and message.rows is not None:
            message.pager.put_next(message.index, message.rows)

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
        except DatabaseError:
            pass  # rows=None: reported in the status line, the rows stay « … »
        finally:
            close_thread_connection()
            self.post_message(self.FarPage(pager, index, rows))

    def on_paged_journal_screen_far_page(self, message: FarPage) -> None:
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

    # --- status ----------------------------------------------------------------------------

    def _status(self, text: str) -> None:
        # One line of a set size: no relayout of the screen (a cursor move repaints only this
        # line and the two rows it changes). The same text again (the rows' arrival and the
        # cursor's message both say it) is not rendered again.
        if text == self._status_text:
            return
        self._status_text = text
        self.query_one(f"#{self.STATUS_ID}", StatusLine).show(text)

    def _show_status(self) -> None:
        pager = self._pager
        window = self.window_text(self._filter)
        if pager is None or (self._loading and pager.query.filter != self._filter):
            self._status(f"Recherche{self._dots} · {window}")
            return
        if pager.total is None:
            text = f"Compte{self._dots} · {window}"
        else:
            text = f"{count_text(pager.total, *self.NOUNS)} · {window}"
        if pager.known:
            text += f" · ligne {self.table.cursor_row + 1:,}".replace(",", " ")
        self._status(text)

    def on_virtual_table_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        self._show_status()

    # --- actions ---------------------------------------------------------------------------

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        pager = self._pager
        if pager is None or not pager.is_cheap(event.index):
            return  # its page is still being read
        row = pager.row(event.index)
        if row is not None:
            self.open_row(row)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        # The focus moves now, not after the screen's queue (Widget.focus): its repaint (the
        # field, the footer, the cursor's line) then comes in the frame after the key, not in
        # the one that shows the new rows, which would draw the whole screen at once.
        self.set_focus(self.table)
        self._reload()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Select also reports values set by the program (at mount, clearing): search only on
        # a change.
        if self._filter is not None and self.read_filter() != self._filter:
            self._reload()

    def action_filters(self) -> None:
        self.query_one(f"#{self.FILTERS_ID}").query("Input, Select").first().focus()

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
        filters: Iterable[Widget] = self.query_one(f"#{self.FILTERS_ID}").query("Input, Select")
        for widget in filters:
            if isinstance(widget, Input):
                widget.value = ""
            elif isinstance(widget, Select):
                widget.clear()
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
