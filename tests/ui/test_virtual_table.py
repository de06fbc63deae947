"""VirtualTable over synthetic sources: only visible rows are read, keys move the cursor."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import App, ComposeResult
from textual.geometry import Region

from tuibill.widgets.virtual_table import Column, VirtualTable, fit

MILLION = 1_000_000
COLUMNS = (
    Column("Numéro", 9),
    Column("Libellé", 20, flex=1),
    Column("Montant", 10, "right"),
    Column("Colonne 4", 20),
    Column("Colonne 5", 20),
    Column("Fin", 10),
)


class TableApp(App[None]):
    def __init__(self, count: int, *, pending: set[int] | None = None) -> None:
        super().__init__()
        self.count = count
        self.pending = pending or set()
        self.calls: list[int] = []
        self.moved: list[int] = []
        self.selected: list[int] = []

    def compose(self) -> ComposeResult:
        yield VirtualTable(COLUMNS, self.row, self.count, id="table")

    def on_mount(self) -> None:
        self.query_one(VirtualTable).focus()

    def row(self, index: int) -> Sequence[str] | None:
        self.calls.append(index)
        if index in self.pending:
            return None
        return (f"{index:09d}", f"Ligne {index}", f"{index % 1000},00", "x", "y", "fin")

    def on_virtual_table_cursor_moved(self, event: VirtualTable.CursorMoved) -> None:
        self.moved.append(event.index)

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        self.selected.append(event.index)


def screen_lines(table: VirtualTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_million_rows_reads_only_visible_rows() -> None:
    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        visible = table.visible_rows
        assert 10 < visible < 24
        assert table.virtual_size.height == MILLION + 1  # rows + the pinned header
        # First paint: a few dozen reads at most, all of them on screen.
        assert 0 < len(app.calls) <= 3 * visible
        assert max(app.calls) < visible

        app.calls.clear()
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == MILLION - 1
        assert 0 < len(app.calls) <= 3 * visible
        assert min(app.calls) >= MILLION - visible
        lines = screen_lines(table)
        assert lines[0].startswith("Numéro")  # the header stays pinned
        assert lines[-1].startswith(f"{MILLION - 1:09d}")

        app.calls.clear()
        await pilot.press("pageup")
        await pilot.pause()
        assert table.cursor_row == MILLION - 1 - visible
        assert len(app.calls) <= 3 * visible

        await pilot.press("home")
        await pilot.pause()
        assert table.cursor_row == 0
        assert screen_lines(table)[1].startswith(f"{0:09d}")


async def test_keys_and_messages() -> None:
    app = TableApp(100)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        await pilot.press("down", "down", "down")
        await pilot.pause()
        assert table.cursor_row == 3
        assert app.moved[-1] == 3
        await pilot.press("enter")
        await pilot.pause()
        assert app.selected == [3]

        await pilot.press("pagedown")
        await pilot.pause()
        assert table.cursor_row == 3 + table.visible_rows
        await pilot.press("up")
        await pilot.pause()
        assert table.cursor_row == 2 + table.visible_rows
        await pilot.press("end", "down")  # past the end: stays on the last row
        await pilot.pause()
        assert table.cursor_row == 99

        await pilot.click(VirtualTable, offset=(2, 3))  # line 3 = the third visible row
        await pilot.pause()
        top = round(table.scroll_y)
        assert table.cursor_row == top + 2


async def test_horizontal_scroll_when_columns_are_wider_than_the_screen() -> None:
    app = TableApp(50)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        natural = sum(c.width for c in COLUMNS) + len(COLUMNS) - 1
        assert table.virtual_size.width == natural > 80
        assert table.column_widths == [c.width for c in COLUMNS]  # no spare width: no flex
        assert table.scrollbars_enabled == (True, False)  # no horizontal scrollbar to repaint
        header = screen_lines(table)[0]
        assert header.startswith("Numéro") and header.endswith("›")  # more columns on the right
        await pilot.press("right")
        await pilot.pause()
        assert round(table.scroll_x) == COLUMNS[0].width + 1
        header = screen_lines(table)[0]
        assert header.startswith("‹ibellé") and header.endswith("›")  # hidden on both sides
        await pilot.press("ctrl+pagedown")
        await pilot.pause()
        assert round(table.scroll_x) == table.max_scroll_x
        assert screen_lines(table)[0].startswith("‹") and "›" not in screen_lines(table)[0]
        await pilot.press("ctrl+pageup", "left", "left")
        await pilot.pause()
        assert round(table.scroll_x) == 0
        assert screen_lines(table)[0].startswith("Numéro")


async def test_flexible_column_takes_spare_width() -> None:
    app = TableApp(5)
    async with app.run_test(size=(140, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        widths = table.column_widths
        assert widths[1] > COLUMNS[1].width
        assert sum(widths) + len(widths) - 1 == table.scrollable_content_region.width


async def test_rows_not_yet_available_show_a_placeholder() -> None:
    app = TableApp(30, pending={1, 2})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        lines = screen_lines(table)
        assert lines[2].startswith("…") and lines[3].startswith("…")
        app.pending.clear()
        table.refresh_rows()
        await pilot.pause()
        assert screen_lines(table)[2].startswith(f"{1:09d}")


async def test_empty_table() -> None:
    app = TableApp(0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        assert table.cursor_row == -1
        await pilot.press("down", "end", "enter")
        await pilot.pause()
        assert app.selected == [] and app.calls == []


def test_fit_cuts_by_cells_and_aligns() -> None:
    assert fit("abc", 5, "left") == "abc  "
    assert fit("abc", 5, "right") == "  abc"
    assert fit("abcdef", 4, "left") == "abc…"
    assert fit("abcdef", 4, "left", "~") == "abc~"
    assert fit("漢字漢字", 5, "left") == "漢字…"  # wide characters never overflow


async def test_leaving_the_view_scrolls_half_a_page() -> None:
    """A step past the bottom edge scrolls half a page: the next steps are cursor moves (a slow
    link carries two rows, not a repaint of every row)."""
    app = TableApp(1000)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        rows = table.visible_rows
        for _ in range(rows - 1):
            await pilot.press("down")
        await pilot.pause()
        assert (table.cursor_row, round(table.scroll_y)) == (rows - 1, 0)
        await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row == rows
        assert round(table.scroll_y) == rows - rows // 2  # the cursor in the middle
        for _ in range(rows // 2 - 1):
            await pilot.press("down")
        await pilot.pause()
        assert round(table.scroll_y) == rows - rows // 2  # no scrolling meanwhile
        await pilot.press("home", "end")
        await pilot.pause()
        assert round(table.scroll_y) == 1000 - rows  # the end: the last page, full
        await pilot.press("up")
        await pilot.pause()
        assert round(table.scroll_y) == 1000 - rows


async def test_a_count_that_arrives_keeps_the_cursor() -> None:
    app = TableApp(256)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        await pilot.press("pagedown", "down")
        await pilot.pause()
        cursor, top = table.cursor_row, round(table.scroll_y)
        table.set_row_count(MILLION)
        await pilot.pause()
        assert (table.cursor_row, round(table.scroll_y), table.row_count) == (cursor, top, MILLION)
        await pilot.press("end")
        await pilot.pause()
        assert table.cursor_row == MILLION - 1


async def test_focus_repaints_only_the_cursor_line() -> None:
    """Focus changes the cursor's colours only: the other rows are not read or drawn again
    (Entrée in a journal's filter moves the focus to the list as its new rows come)."""
    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        focused = list(table.render_line(1))  # line 1: row 0, the cursor
        app.calls.clear()
        table.blur()
        await pilot.pause()
        lines = screen_lines(table)
        assert app.calls == []  # the cursor's line drawn again from the text kept, none read
        blurred = list(table.render_line(1))
        assert blurred[0].text == focused[0].text and blurred[0].style != focused[0].style
        assert lines[2].startswith("000000001")  # the others, from the cache
        table.focus()
        await pilot.pause()
        assert list(table.render_line(1))[0].style == focused[0].style
        assert app.calls == []


async def test_focus_draws_no_line_but_the_cursor_again(monkeypatch) -> None:
    """focus() does not repaint the whole table (as Textual's Widget.focus would): the next
    frame draws the cursor's line only, the other rows stay on screen as they were."""
    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        table.blur()
        await pilot.pause()
        drawn: list[int] = []
        original = VirtualTable.render_line

        def render_line(self: VirtualTable, y: int):
            drawn.append(y)
            return original(self, y)

        monkeypatch.setattr(VirtualTable, "render_line", render_line)
        table.focus()
        await pilot.pause()
        assert app.focused is table
        assert set(drawn) == {1}  # line 1: row 0, the cursor


async def test_the_scrollbar_repaints_only_when_its_thumb_moves() -> None:
    """Over a million rows a page moves the thumb by far less than the eighth of a cell it is
    drawn to: the scrollbar is not repainted, and its position stays exact."""
    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        bar = table.vertical_scrollbar
        repaints: list[object] = []
        original = bar.refresh

        def counted(*args, **kwargs):
            repaints.append(args)
            return original(*args, **kwargs)

        bar.refresh = counted  # type: ignore[method-assign]
        await pilot.press("pagedown", "pagedown", "pagedown")
        await pilot.pause()
        assert table.scroll_y > 0 and bar.position == table.scroll_y
        assert repaints == []
        await pilot.press("end")
        await pilot.pause()
        assert bar.position == table.scroll_y == MILLION - table.visible_rows
        assert repaints  # the thumb went to the bottom: drawn again


async def test_a_short_list_scrollbar_follows_every_page() -> None:
    """A few hundred rows: each page moves the thumb, which is drawn again where it now is."""
    app = TableApp(300)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        bar = table.vertical_scrollbar
        for _ in range(3):
            repaints: list[object] = []
            original = bar.refresh

            def counted(*args, _original=original, _repaints=repaints, **kwargs):
                _repaints.append(args)
                return _original(*args, **kwargs)

            bar.refresh = counted  # type: ignore[method-assign]
            await pilot.press("pagedown")
            await pilot.pause()
            bar.refresh = original  # type: ignore[method-assign]
            assert bar.position == table.scroll_y > 0
            assert repaints


async def test_focus_and_a_count_leave_the_scrollbar_and_rows_as_drawn() -> None:
    """Textual asks the scrollbar to repaint at every focus change of its table (its colours
    set again, the same) and a new count changes the virtual size: the scrollbar is drawn again
    only when its thumb changes, and a count past the rows shown draws no row again."""
    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        bar = table.vertical_scrollbar
        drawn: list[int] = []
        original = bar.render

        def render():
            drawn.append(round(bar.window_virtual_size))
            return original()

        bar.render = render  # type: ignore[method-assign]
        table.blur()
        await pilot.pause()
        table.focus()
        await pilot.pause()
        assert drawn == []
        app.calls.clear()
        table.set_row_count(2 * MILLION)  # the thumb: one cell at the top, as before
        await pilot.pause()
        assert drawn == [] and app.calls == []
        assert table.row_count == 2 * MILLION and bar.window_virtual_size == 2 * MILLION + 1
        table.set_row_count(100)  # a short list: a long thumb
        await pilot.pause()
        assert drawn == [101]
        assert app.calls == []  # the 100 rows are the same ones
        table.set_row_count(5)  # fewer rows than the view: the lines past them are cleared
        await pilot.pause()
        assert app.calls == []
        # As the screen has them (Textual's cache of the widget's lines, redrawn if refreshed).
        lines = [strip.text for strip in table.render_lines(Region(0, 0, *table.size))]
        assert lines[5].startswith("000000004") and lines[6].strip() == ""
        assert drawn == [101, 6]
        # Back to a long list (a search's rows, then its count): the lines of that look are
        # kept, not drawn again (each drawing leaves its lines to the collector).
        before = bar.render_lines(Region(0, 0, *bar.size))
        table.set_row_count(MILLION)
        await pilot.pause()
        assert drawn == [101, 6] and bar.window_virtual_size == MILLION + 1
        assert bar.render_lines(Region(0, 0, *bar.size)) != before


async def test_new_rows_free_the_old_ones_without_the_collector() -> None:
    """The rows' strips kept for redrawing are freed when new rows come, by reference counting
    alone: left as cyclic garbage every search, they would wait for the collector's full
    passes, which then walk them all while no key is read."""
    import gc

    from textual.strip import Strip

    app = TableApp(MILLION)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        # The table's own strips, by identity (no reference kept to them; set_source draws
        # nothing, so no new strip can take the place of one freed).
        kept = {id(table._strips.get(key)) for key in table._strips.keys()}
        assert len(kept) >= table.visible_rows
        gc.disable()
        try:
            table.set_source(app.row, 10)
            alive = [o for o in gc.get_objects() if type(o) is Strip and id(o) in kept]
            assert alive == []
        finally:
            gc.enable()


async def test_wide_characters_are_cut_by_cells_when_scrolling_sideways() -> None:
    """A row's text is cut to the view by cells: a wide character or a combining accent takes
    its own width, the line keeps the view's width, scrolled or not."""

    class WideApp(TableApp):
        def row(self, index: int) -> Sequence[str] | None:
            self.calls.append(index)
            return (f"{index:09d}", "日本語の名前" if index % 2 else "Noe\u0308l", "1,00")

    app = WideApp(10)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.query_one(VirtualTable)
        width = table.scrollable_content_region.width
        await pilot.press("right")  # the next column first: the names at the left edge
        await pilot.pause()
        assert screen_lines(table)[2].startswith("日本語の名前 ")
        assert screen_lines(table)[1].startswith("Noe\u0308l ")
        await pilot.press("right")  # the last columns: cut in the middle of « 語 »
        await pilot.pause()
        assert round(table.scroll_x) == 15
        assert screen_lines(table)[2].startswith(" の名前 ")  # half a wide character: a blank
        assert [table.render_line(y).cell_length for y in (1, 2)] == [width, width]
