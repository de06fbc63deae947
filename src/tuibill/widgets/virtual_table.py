"""A table for lists of any length: only the visible lines are ever rendered (Textual Line API).

``DataTable`` keeps every row in memory (100k rows: 12 s and 129 MB); this widget asks a row
source for row *i* only when that row is on screen, like Textualize's ``toolong`` does for
multi-gigabyte logs. The caller owns the data (a keyset-paged pager, a list, anything indexable)
and tells the table how many rows there are. The header line stays pinned while rows scroll; the
columns scroll horizontally (← →) when they are wider than the widget.

Built for slow links (an SSH session over a poor line): a cursor move repaints the two rows it
changes; when the cursor leaves the view, the list scrolls by half a page (as mutt and
``less -j`` do), so that most steps are cursor moves and a full repaint comes once per half page.
There is no horizontal scrollbar (80 one-cell segments repainted at every scroll): the header's
edges show « ‹ » / « › » when columns are hidden on that side.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import ceil
from typing import Any, ClassVar, Literal, Self

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.dom import NoScreen
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.widget import Widget

from tuibill.widgets.recent import Recent

Align = Literal["left", "right", "center"]
RowSource = Callable[[int], Sequence[str] | None]
"""``row(i)`` → the cells of row *i*, or None while that row is not available yet."""

GAP = 1  # blank cells between two columns


@dataclass(frozen=True)
class Column:
    """A fixed column. *flex* > 0: the column also takes that share of any spare width."""

    title: str
    width: int
    align: Align = "left"
    flex: int = 0


def _no_row(index: int) -> Sequence[str] | None:
    return None


def fit(text: str, width: int, align: Align, ellipsis: str = "…") -> str:
    """*text* cut or padded to exactly *width* cells."""
    if width <= 0:
        return ""
    # ASCII is one cell a character (most cells: numbers, dates, amounts).
    length = len(text) if text.isascii() else cell_len(text)
    if length > width:
        # Cut by cells, not characters: a wide character must not overflow the column.
        return set_cell_size(text, width - cell_len(ellipsis)) + ellipsis
    pad = width - length
    if align == "right":
        return " " * pad + text
    if align == "center":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


def _thumb(bar: ScrollBar, position: float) -> tuple[int, int] | None:
    """Where a vertical scrollbar's thumb is drawn, in eighths of a cell, at *position* (as
    Textual's ``ScrollBarRender.render_bar`` places it); None when no thumb is drawn."""
    size = bar.size.height
    virtual_size = ceil(bar.window_virtual_size)
    window_size = ceil(bar.window_size) if bar.window_size < bar.window_virtual_size else 0
    if not (window_size and size and virtual_size and size != virtual_size):
        return None
    thumb_size = max(1, window_size / (virtual_size / size))
    start = int((size - thumb_size) * (bar.validate_position(position) /
                                       (virtual_size - window_size)) * 8)  # fmt: skip
    return start, start + ceil(thumb_size * 8)


class _TableScrollBar(ScrollBar):
    """Textual's vertical scrollbar, drawn again only when what it shows changes.

    Textual asks a scrollbar to repaint whenever its widget's styles are applied again — at
    every focus change of the table, its colours set anew to the same values — and at every
    change of the rows' count, which over long lists leaves the thumb as it was (one cell at the
    top). A repaint is ~1 ms of the frame that shows a search's rows, and leaves its 19 lines
    as cyclic garbage once the screen has cut them (Textual's ``Strip.divide`` caches a strip
    in itself), for the collector's full passes. The lines of the last few looks are kept: a
    search goes from one to the other and back (rows read so far, then counted)."""

    LOOKS = 4  # looks whose lines are kept

    def __init__(self, *, thickness: int = 1) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._drawn: tuple[Any, ...] | None = None  # the look of the lines on screen
        self._lines = Recent(self.LOOKS)

    def _look(self) -> tuple[Any, ...]:
        """What its drawing depends on (``ScrollBar.render``, ``ScrollBarRender``, the styles
        Textual applies to any widget's lines). Asked at each of the seven colours a restyle
        sets: kept cheap (every cell of the bar has its own background, so the bar's is not
        seen; the table's shows only under a translucent bar)."""
        parent = self.parent
        if isinstance(parent, Widget):
            styles = parent.styles
            backgrounds = (
                styles.scrollbar_background, styles.scrollbar_background_hover,
                styles.scrollbar_background_active,
            )  # fmt: skip
            translucent = any(background.a < 1 for background in backgrounds)
            colours: tuple[Any, ...] = (
                *backgrounds, styles.scrollbar_color, styles.scrollbar_color_hover,
                styles.scrollbar_color_active, parent.background_colors if translucent else None,
            )  # fmt: skip
        else:
            colours = ()
        return (
            self.size, _thumb(self, self.position), bool(self.grabbed), self.mouse_over,
            colours, self.screen.styles.scrollbar_color.a == 0, self.opacity,
            self.app.ansi_theme, tuple(self.get_line_filters()),
        )  # fmt: skip

    def refresh(self, *regions: Region, **kwargs: Any) -> Self:
        # A reactive's change refreshes with repaint=True (and no layout): the same case.
        layout = kwargs.get("layout", False) or kwargs.get("recompose", False)
        if not regions and not layout and self._drawn is not None:
            try:
                if self._look() == self._drawn:
                    return self
            except NoScreen:
                pass  # being removed
        self._drawn = None
        return super().refresh(*regions, **kwargs)

    def render_lines(self, crop: Region) -> list[Strip]:
        look = self._look()
        lines = self._lines.get((look, crop))
        if lines is None:
            lines = self._lines[look, crop] = super().render_lines(crop)
        self._drawn = look
        return lines


class VirtualTable(ScrollView, can_focus=True):
    """A read-only table over *row_count* rows fetched one by one from *row*, with a row cursor."""

    DEFAULT_CSS = """
    VirtualTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
        overflow-y: scroll;
        overflow-x: hidden;
        scrollbar-size-vertical: 1;

        & > .virtual-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--pending {
            color: $text-muted;
        }
        &:ansi {
            & > .virtual-table--header {
                background: ansi_bright_blue;
                color: ansi_default;
            }
            & > .virtual-table--cursor {
                background: ansi_white;
                color: ansi_black;
                text-style: none;
            }
            &:focus > .virtual-table--cursor {
                background: ansi_blue;
                color: ansi_bright_white;
                text-style: bold;
            }
        }
    }
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--pending",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_row", "Ouvrir", id="tableau_ouvrir"),
        Binding("up", "cursor_up", "Ligne précédente", show=False, id="tableau_haut"),
        Binding("down", "cursor_down", "Ligne suivante", show=False, id="tableau_bas"),
        Binding("pageup", "page_up", "Page précédente", show=False, id="tableau_page_haut"),
        Binding("pagedown", "page_down", "Page suivante", show=False, id="tableau_page_bas"),
        Binding("home", "cursor_home", "Première ligne", show=False, id="tableau_debut"),
        Binding("end", "cursor_end", "Dernière ligne", show=False, id="tableau_fin"),
        Binding("left", "column_left", "Colonnes à gauche", show=False, id="tableau_gauche"),
        Binding("right", "column_right", "Colonnes à droite", show=False, id="tableau_droite"),
        # Replace ScrollableContainer's English labels for the same keys (F1 lists them).
        Binding("ctrl+pageup", "page_left", "Page à gauche", show=False, id="tableau_page_gauche"),
        Binding(
            "ctrl+pagedown", "page_right", "Page à droite", show=False, id="tableau_page_droite"
        ),
    ]

    class CursorMoved(Message):
        """The cursor is now on row *index* (-1: the table is empty)."""

        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    class RowSelected(Message):
        """Enter (or a click on the cursor row) on row *index*."""

        def __init__(self, table: VirtualTable, index: int) -> None:
            super().__init__()
            self.table = table
            self.index = index

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column],
        row: RowSource | None = None,
        row_count: int = 0,
        *,
        pending_text: str = "…",
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self.columns: tuple[Column, ...] = tuple(columns)
        self._row: RowSource = row or _no_row
        self._row_count = max(0, row_count)
        self._cursor = 0
        self.pending_text = pending_text
        self._widths: list[int] = [c.width for c in self.columns]
        # A row's line of text (every column) by index, and the strips shown of it by (index,
        # style, first column shown, width): a style change (the focus recolours the cursor)
        # or a sideways scroll cuts the same text again, and redraws only the rows whose style
        # changed. Cleared when the data or the widths change. Bounded: a million rows never
        # all land here.
        self._texts = Recent(256)
        self._strips = Recent(256)
        self._header: Strip | None = None
        self._styles: dict[tuple[str, ...], Style] = {}
        self._focus_changing = False  # see refresh()
        self._focus_style = Style()

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's ``Widget.vertical_scrollbar``, made of :class:`_TableScrollBar`."""
        if self._vertical_scrollbar is None:
            bar = _TableScrollBar(thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar

    # ----------------------------------------------------------------- data

    @property
    def row_count(self) -> int:
        return self._row_count

    @property
    def cursor_row(self) -> int:
        """The cursor's row, or -1 when the table is empty."""
        return self._cursor if self._row_count else -1

    @property
    def column_widths(self) -> list[int]:
        """The widths in use (flexible columns included), in cells."""
        return list(self._widths)

    def set_source(self, row: RowSource, row_count: int, *, cursor: int = 0) -> None:
        """Show *row_count* rows from *row*, the cursor on row *cursor* (clamped)."""
        self._row = row
        self._row_count = max(0, row_count)
        self._cursor = min(max(0, cursor), max(0, self._row_count - 1))
        self._strips.clear()
        self._texts.clear()
        self._update_virtual_size()
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(self, self.cursor_row))

    def set_row_count(self, row_count: int) -> None:
        """The same rows, *row_count* of them now (a count has come): cursor and view stay."""
        old, self._row_count = self._row_count, max(0, row_count)
        self._cursor = min(self._cursor, max(0, self._row_count - 1))
        self._update_virtual_size()
        # The rows shown are the same ones: only lines past the shorter count change (a count
        # over the first page's rows redraws no row, only the scrollbar if its thumb moves).
        first_changed, end = min(old, self._row_count), round(self.scroll_y) + self.visible_rows
        if first_changed < end:
            self.refresh_lines(first_changed + 1, end - first_changed)  # line 0: the header

    def refresh_rows(self) -> None:
        """Re-read the visible rows from the source (e.g. a page of data has just arrived)."""
        self._strips.clear()
        self._texts.clear()
        self.refresh()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on row *index* (clamped) and scroll it into view."""
        if not self._row_count:
            return
        index = min(max(0, index), self._row_count - 1)
        if index == self._cursor:
            self._scroll_to_cursor()
            return
        old, self._cursor = self._cursor, index
        self._refresh_row(old)
        self._refresh_row(index)
        self._scroll_to_cursor()
        self.post_message(self.CursorMoved(self, index))

    # --------------------------------------------------------------- layout

    @property
    def visible_rows(self) -> int:
        """How many data rows fit under the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _content_width(self) -> int:
        return sum(self._widths) + GAP * max(0, len(self._widths) - 1)

    def _layout_columns(self) -> None:
        """Give spare width to the flexible columns; too narrow: keep widths, scroll sideways."""
        widths = [c.width for c in self.columns]
        available = self.scrollable_content_region.width
        natural = sum(widths) + GAP * max(0, len(widths) - 1)
        weights = sum(c.flex for c in self.columns)
        spare = available - natural
        if spare > 0 and weights:
            given = 0
            flexible = [i for i, c in enumerate(self.columns) if c.flex]
            for i in flexible:
                share = spare * self.columns[i].flex // weights
                widths[i] += share
                given += share
            widths[flexible[0]] += spare - given  # rounding leftovers
        if widths != self._widths:
            self._widths = widths
            self._strips.clear()
            self._texts.clear()
            self._header = None

    def _update_virtual_size(self) -> None:
        """The virtual size for the rows and columns; the rows are not drawn again (callers
        refresh the lines that changed)."""
        # One extra line: the pinned header.
        size = Size(self._content_width(), self._row_count + 1)
        if size == self.virtual_size:
            return
        # Set without the reactive's layout of the whole screen (10–20 ms, at every search):
        # nothing but this widget's scrollbars depends on how many rows it has.
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # ScrollView repaints the scrollbar at every scroll. Over a million rows its thumb
        # moves by an eighth of a cell every ~5,000 rows: a Page suivante would repaint 22
        # identical cells (~1.5 ms). The position is kept exact (a drag starts from it).
        if self.show_vertical_scrollbar:
            bar = self.vertical_scrollbar
            if _thumb(bar, bar.position) == _thumb(bar, new_value):
                bar.set_reactive(ScrollBar.position, bar.validate_position(new_value))
            else:
                bar.position = new_value
        if round(old_value) != round(new_value):
            self.refresh(self.size.region)

    def on_resize(self, event: events.Resize) -> None:
        self._layout_columns()
        self._update_virtual_size()
        self._scroll_to_cursor()
        self.refresh()

    def on_mount(self) -> None:
        self._layout_columns()
        self._update_virtual_size()
        self.refresh()

    def notify_style_update(self) -> None:
        # Theme or pseudo-class (focus) change, called by Textual at every focus change: the
        # styles are computed again; a row whose style is the same keeps its strip.
        super().notify_style_update()
        self._styles.clear()
        self._header = None

    # Textual repaints a widget whole three times over when it gains or loses the focus
    # (``Widget.focus``, ``Widget._on_focus`` / ``_on_blur``, and the stylesheet when the
    # component classes' styles change): over a journal, 19 lines drawn again at each Entrée in
    # its filter. What the focus changes here is the cursor's colours (``:focus >
    # .virtual-table--cursor``): that line alone is repainted — unless the table's own style
    # changed too (a theme's ``VirtualTable:focus``), then the whole table.

    def refresh(self, *regions: Region, **kwargs: Any) -> Self:
        if self._focus_changing and not regions and not kwargs:
            if self.rich_style == self._focus_style:
                self._repaint_cursor()
                return self
        return super().refresh(*regions, **kwargs)

    def watch_has_focus(self, value: bool) -> None:
        self._focus_changing = True
        try:
            super().watch_has_focus(value)  # the styles for the new state
        finally:
            self._focus_changing = False

    def _set_focus_state(self, focused: bool) -> None:
        self._focus_style = self.rich_style
        self.has_focus = focused
        self._repaint_cursor()
        if self.parent is not None:
            message = events.DescendantFocus if focused else events.DescendantBlur
            self.parent.post_message(message(self))

    def _on_focus(self, event: events.Focus) -> None:
        event.prevent_default()  # Widget._on_focus: the same, with a whole repaint
        self._set_focus_state(True)

    def _on_blur(self, event: events.Blur) -> None:
        event.prevent_default()  # Widget._on_blur: the same, with a whole repaint
        self._set_focus_state(False)

    def focus(self, scroll_visible: bool = True) -> Self:
        """Give the table the focus, as ``Widget.focus`` does but without repainting it whole
        (see :meth:`refresh`)."""

        def set_focus(widget: VirtualTable) -> None:
            try:
                widget.screen.set_focus(widget, scroll_visible=scroll_visible)
            except NoScreen:
                pass  # removed meanwhile

        self.app.call_later(set_focus, self)
        return self

    def _repaint_cursor(self) -> None:
        # Focus changes the cursor's colours (``:focus > .virtual-table--cursor``): that line
        # is repainted, not every row (when the table's own style changes, Textual repaints it
        # whole and the rows' strips, keyed by style, are drawn again).
        self._styles.clear()
        if self._row_count:
            self._refresh_row(self._cursor)

    def _style(self, *parts: str) -> Style:
        """The widget's style plus those of the component classes *parts*, computed once per
        style change (``rich_style`` walks the ancestors: some 0.1 ms, for every line drawn)."""
        style = self._styles.get(parts)
        if style is None:
            style = self.rich_style
            for part in parts:
                style += self.get_component_rich_style(f"virtual-table--{part}")
            self._styles[parts] = style
        return style

    # ------------------------------------------------------------ rendering

    @property
    def _ellipsis(self) -> str:
        # The Linux console's 256-glyph fonts may lack « … »: fall back to ASCII there.
        return "~" if getattr(self.app, "ascii_borders", False) else "…"

    def _line_text(self, cells: Sequence[str]) -> str:
        """The cells fitted to their columns, in one line of text."""
        ellipsis = self._ellipsis
        count = len(cells)
        return (" " * GAP).join(
            [
                fit(str(cells[i]) if i < count else "", width, column.align, ellipsis)
                for i, (column, width) in enumerate(zip(self.columns, self._widths, strict=True))
            ]
        )

    def _line_segments(self, cells: Sequence[str], style: Style) -> Strip:
        # Each column is fitted to its width: the line's length is known without measuring it.
        return Strip([Segment(self._line_text(cells), style)], self._content_width())

    def _header_strip(self) -> Strip:
        if self._header is None:
            style = self._style("header")
            self._header = self._line_segments([c.title for c in self.columns], style)
        return self._header

    def _row_strip(self, index: int, scroll_x: int, width: int) -> Strip:
        """Row *index* as shown: columns from *scroll_x*, *width* cells; the cursor's bar spans
        the whole width, past the last column."""
        is_cursor = index == self._cursor and self._row_count > 0
        style = self._style("cursor") if is_cursor else self._style()
        key = (index, style, scroll_x, width)
        strip = self._strips.get(key)
        if strip is not None:
            return strip
        text = self._texts.get(index)
        if text is None:
            cells = self._row(index)
            if cells is None:
                # Not loaded yet: a muted placeholder, replaced by refresh_rows() when data
                # arrives (not kept: asked again).
                style = self._style("pending", "cursor") if is_cursor else self._style("pending")
                return self._line_segments([self.pending_text], style).crop_extend(
                    scroll_x, scroll_x + width, style
                )
            text = self._line_text(cells)
            self._texts[index] = text
        strip = self._cut(text, style, scroll_x, width)
        self._strips[key] = strip
        return strip

    def _cut(self, text: str, style: Style, start: int, width: int) -> Strip:
        """The *width* cells of *text* from cell *start*, padded in *style*: one strip made
        (a strip of the whole line, then cut, made three)."""
        if max(text, default=" ") < "\u0300":  # Latin, no combining mark: a cell a character
            shown = text[start : start + width]
            return Strip([Segment(shown + " " * (width - len(shown)), style)], width)
        line = Strip([Segment(text, style)], cell_len(text))
        return line.crop_extend(start, start + width, style)

    def render_line(self, y: int) -> Strip:
        # size includes the scrollbars; lines hidden under the horizontal one are not read.
        width, height = self.scrollable_content_region.size
        scroll_x, scroll_y = self.scroll_offset
        if y >= height:
            return Strip.blank(self.size.width, self._style())
        if y == 0:
            strip = self._header_strip()
            header_style = self._style("header")
            return self._marked(
                strip.crop_extend(scroll_x, scroll_x + width, header_style), header_style
            )
        index = scroll_y + y - 1
        if index >= self._row_count:
            return Strip.blank(width, self._style())
        return self._row_strip(index, scroll_x, width)

    def _marked(self, header: Strip, style: Style) -> Strip:
        """The header with « ‹ » / « › » at the edges beyond which columns are hidden."""
        scroll_x, width = round(self.scroll_x), header.cell_length
        left, right = scroll_x > 0, scroll_x < self.max_scroll_x
        if not (left or right) or width < 3:
            return header
        ascii_only = getattr(self.app, "ascii_borders", False)
        first, middle, last = header.divide([1, width - 1, width])
        if left:
            first = Strip([Segment("<" if ascii_only else "‹", style)], 1)
        if right:
            last = Strip([Segment(">" if ascii_only else "›", style)], 1)
        return Strip.join([first, middle, last])

    def _refresh_row(self, index: int) -> None:
        # Row i sits on virtual line i + 1 (line 0 is the pinned header).
        self.refresh_line(index + 1)

    # ------------------------------------------------------------ scrolling

    def _scroll_to_cursor(self) -> None:
        if not self.is_mounted:
            return
        rows = self.visible_rows
        top = round(self.scroll_y)
        cursor = self._cursor
        if top <= cursor < top + rows:
            return
        # Off the view: bring the cursor to the middle. One step past an edge scrolls half a
        # page, and the next half page of steps are plain cursor moves (a few hundred bytes
        # each instead of a repaint of every row).
        target = min(max(0, cursor - rows // 2), max(0, self._row_count - rows))
        if target != top:
            self.scroll_to(y=target, animate=False)

    # -------------------------------------------------------------- actions

    def action_cursor_up(self) -> None:
        self.move_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self._cursor + 1)

    def _page(self, direction: int) -> None:
        if not self._row_count:
            return
        rows = self.visible_rows
        # Scroll by a page and keep the cursor at the same place on screen: one repaint.
        top = min(max(0, round(self.scroll_y) + direction * rows), max(0, self._row_count - rows))
        offset_on_screen = self._cursor - round(self.scroll_y)
        self.scroll_to(y=top, animate=False)
        self.move_cursor(self._cursor + direction * rows if 0 <= offset_on_screen < rows else top)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_page_down(self) -> None:
        self._page(1)

    def action_cursor_home(self) -> None:
        self.move_cursor(0)

    def action_cursor_end(self) -> None:
        self.move_cursor(self._row_count - 1)

    def action_select_row(self) -> None:
        if self._row_count:
            self.post_message(self.RowSelected(self, self._cursor))

    def _column_starts(self) -> list[int]:
        starts, x = [], 0
        for width in self._widths:
            starts.append(x)
            x += width + GAP
        return starts

    def action_column_right(self) -> None:
        x = round(self.scroll_x)
        following = [s for s in self._column_starts() if s > x]
        if following and x < self.max_scroll_x:
            # force: the columns scroll by key although no horizontal scrollbar is shown.
            self.scroll_to(x=min(following[0], self.max_scroll_x), animate=False, force=True)

    def action_page_right(self) -> None:
        width = self.scrollable_content_region.width
        self.scroll_to(x=min(round(self.scroll_x) + width, self.max_scroll_x), animate=False,
                       force=True)  # fmt: skip

    def action_page_left(self) -> None:
        width = self.scrollable_content_region.width
        self.scroll_to(x=max(0, round(self.scroll_x) - width), animate=False, force=True)

    def action_column_left(self) -> None:
        x = round(self.scroll_x)
        preceding = [s for s in self._column_starts() if s < x]
        if preceding:
            self.scroll_to(x=preceding[-1], animate=False, force=True)

    # ---------------------------------------------------------------- mouse

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None or offset.y == 0 or not self._row_count:
            return
        index = round(self.scroll_y) + offset.y - 1
        if index >= self._row_count:
            return
        if index == self._cursor or event.chain > 1:
            self.move_cursor(index)
            self.post_message(self.RowSelected(self, index))
        else:
            self.move_cursor(index)
