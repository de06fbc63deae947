"""Journal des factures (F5) and the invoice detail, driven by keys at 80×24 on a real database."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from textual.widgets import DataTable, Input, Select, Static

from tuibill.app import TuibillApp
from tuibill.domain.invoices import history_label
from tuibill.models import Invoice, InvoiceLine, InvoiceTransition, database, schema
from tuibill.screens.invoice_detail import InvoiceDetailScreen
from tuibill.screens.journal import JournalScreen
from tuibill.services.journal import DEFAULT_WINDOW_DAYS
from tuibill.widgets.virtual_table import VirtualTable

SIZE = (80, 24)
NEWEST_FIRST = (Invoice.billing_date.desc(), Invoice.id.desc())


@pytest.fixture(scope="module")
def journal_db(tmp_path_factory) -> str:
    """The demo practice plus 20,000 invoices over five years."""
    from tuibill.services import demo, seed, tariffs

    path = str(tmp_path_factory.mktemp("journal_ui") / "journal.sqlite")
    database.bind(path)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(story=False)
    seed.seed(20_000)
    return path


@pytest.fixture(autouse=True)
def bound(journal_db):
    # Other test modules bind their own databases: point the models back at this one.
    database.bind(journal_db)
    yield journal_db


def window_start() -> date:
    return date.today() - timedelta(days=DEFAULT_WINDOW_DAYS)


async def settle(pilot) -> JournalScreen:
    """Wait until the journal's count and first page, read in a worker, are on screen."""
    screen = pilot.app.screen
    assert isinstance(screen, JournalScreen)
    deadline = time.monotonic() + 10
    while True:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not screen.is_searching or time.monotonic() > deadline:
            break
    assert not screen.is_searching
    return screen


async def open_journal(pilot) -> JournalScreen:
    await pilot.press("f5")
    return await settle(pilot)


def shown_ids(screen: JournalScreen) -> list[int]:
    """Ids of the rows the table shows now."""
    table = screen.table
    top = round(table.scroll_y)
    last = min(table.row_count, top + table.visible_rows)
    return [screen.pager.row(i).id for i in range(top, last)]


def screen_lines(table: VirtualTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def status(screen: JournalScreen) -> str:
    return str(screen.query_one("#journal-status", Static).render())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


async def test_opens_on_the_newest_invoices_of_the_last_two_months() -> None:
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        window = Invoice.select().where(Invoice.billing_date >= window_start())
        newest = [i.id for i in window.order_by(*NEWEST_FIRST).limit(screen.table.visible_rows)]
        assert screen.pager.total == window.count()
        assert shown_ids(screen) == newest
        lines = screen_lines(screen.table)
        assert lines[0].split()[:3] == ["Numéro", "État", "Date"]
        first = Invoice.get_by_id(newest[0])
        assert first.patient_name[:10] in lines[1]
        assert f"{window.count():,}".replace(",", " ") in status(screen)
        assert "2 derniers mois" in status(screen)
        assert screen.focused is screen.table


async def test_patient_prefix_filter() -> None:
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("slash")
        assert screen.focused is screen.query_one("#f-patient", Input)
        await type_text(pilot, "dup")
        await pilot.press("enter")
        await settle(pilot)
        expected = Invoice.select().where(
            Invoice.patient_name.startswith("DUP") & (Invoice.billing_date >= window_start())
        )
        assert 0 < screen.pager.total == expected.count()
        rows = [screen.pager.row(i) for i in range(screen.pager.total)]
        assert all(row.patient_name.startswith("DUP") for row in rows)
        assert screen.focused is screen.table  # Enter applied and went back to the list


async def test_state_filter_by_keys() -> None:
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("slash", "tab", "tab", "tab")  # Patient → N° → Lot → État
        assert screen.focused is screen.query_one("#f-state", Select)
        await pilot.press("enter", "down", "down", "enter")  # « Tous », Saisie, Validée
        await settle(pilot)
        assert screen.search_filter.state == "VALIDEE"
        expected = Invoice.select().where(
            (Invoice.state == "VALIDEE") & (Invoice.billing_date >= window_start())
        )
        assert 0 < screen.pager.total == expected.count()
        assert {screen.pager.row(i).state for i in range(screen.pager.total)} == {"VALIDEE"}
        assert "Validée" in screen_lines(screen.table)[1]


async def test_number_finds_an_old_invoice_and_enter_shows_its_history() -> None:
    # An invoice of the demo that was validated then « Défacturée »: a real history.
    moved = InvoiceTransition.get(InvoiceTransition.action == "unvalidate").invoice
    old = (
        Invoice.select()
        .where(Invoice.number.is_null(False) & (Invoice.billing_date < window_start()))
        .order_by(Invoice.billing_date)
        .first()
    )
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("slash", "tab")
        await type_text(pilot, str(old.number))
        await pilot.press("enter")
        await settle(pilot)
        assert [screen.pager.row(i).id for i in range(screen.pager.total)] == [
            i.id
            for i in Invoice.select().where(Invoice.number == old.number).order_by(*NEWEST_FIRST)
        ]
        assert old.id in shown_ids(screen)  # whatever its date
        assert "toutes dates" in status(screen)

        await pilot.press("ctrl+r")  # clear the filters: back to the 2 months
        await settle(pilot)
        assert screen.search_filter.number is None
        await pilot.press("slash", "tab")
        await type_text(pilot, str(moved.number))
        await pilot.press("enter")
        await settle(pilot)
        assert screen.pager.row(0).id == moved.id
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, InvoiceDetailScreen) and detail.invoice_id == moved.id
        lines = detail.query_one("#detail-lines", DataTable)
        assert lines.row_count == InvoiceLine.select().where(InvoiceLine.invoice == moved).count()
        history = detail.query_one("#detail-history", DataTable)
        moves = InvoiceTransition.select().where(InvoiceTransition.invoice == moved)
        assert history.row_count == moves.count() >= 3
        actions = [str(history.get_cell_at((r, 1))) for r in range(history.row_count)]  # Action
        assert "Valider" in actions and "Défacturer" in actions
        # Each move in French, as the domain names it: never a code such as « put_in_lot ».
        ordered = moves.order_by(InvoiceTransition.at, InvoiceTransition.id)
        assert actions == [history_label(t.action) for t in ordered]
        assert not [action for action in actions if "_" in action]
        reasons = [str(history.get_cell_at((r, 5))) for r in range(history.row_count)]  # Motif
        assert "Erreur de cotation" in reasons
        assert users_of(history) == {t.user for t in moves}
        title = str(detail.query_one("#detail-title", Static).render())
        assert f"{moved.number:09d}" in title

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        await settle(pilot)  # back on the list, re-read (states may have moved meanwhile)
        assert screen.pager.row(0).id == moved.id


def users_of(history: DataTable) -> set[str]:
    return {str(history.get_cell_at((r, 3))) for r in range(history.row_count)}  # Par


async def test_default_window_excludes_old_invoices_and_ctrl_t_includes_them() -> None:
    oldest = Invoice.select().order_by(Invoice.billing_date, Invoice.id).first()
    assert oldest.billing_date < window_start()
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        in_window = Invoice.select().where(Invoice.billing_date >= window_start()).count()
        assert screen.pager.total == in_window
        await pilot.press("end")
        await pilot.pause()
        last = screen.pager.row(screen.table.cursor_row)
        assert last.billing_date >= window_start() and last.id != oldest.id

        await pilot.press("ctrl+t")
        await settle(pilot)
        assert screen.pager.total == Invoice.select().count() > in_window
        assert "sans limite de temps" in status(screen)
        await pilot.press("end")
        await pilot.pause()
        assert screen.table.cursor_row == screen.pager.total - 1
        assert screen.pager.row(screen.table.cursor_row).id == oldest.id
        assert screen.pager.reads["offset"] == 0  # the tail was read by key, not by OFFSET
        assert oldest.patient_name[:10] in screen_lines(screen.table)[-1]
        assert f"ligne {screen.pager.total:,}".replace(",", " ") in status(screen)

        await pilot.press("ctrl+t")  # and back to the 2 months
        await settle(pilot)
        assert screen.pager.total == in_window


async def test_a_far_page_is_read_in_a_worker_and_escape_goes_back() -> None:
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        middle = screen.pager.total // 2
        assert not screen.pager.is_cheap(middle)
        screen.table.move_cursor(middle)  # what a scrollbar drag does
        await pilot.pause()
        deadline = time.monotonic() + 10
        while not screen.pager.is_cheap(middle) and time.monotonic() < deadline:
            await pilot.pause(0.05)
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.pager.reads["offset"] == 1
        expected = Invoice.select().order_by(*NEWEST_FIRST).offset(middle).first()
        assert screen.pager.row(middle).id == expected.id
        cursor_line = middle - round(screen.table.scroll_y) + 1
        assert expected.patient_name[:10] in screen_lines(screen.table)[cursor_line]

        await pilot.press("slash")  # Escape: first out of the filter bar, then to the menu
        await pilot.press("escape")
        assert app.screen is screen and screen.focused is screen.table
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "menu"


async def test_linux_console_gets_ascii_only_table_text(monkeypatch) -> None:
    monkeypatch.setenv("TERM", "linux")
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        assert app.theme == "ansi-dark"
        lines = screen_lines(screen.table)
        assert any("~" in line for line in lines[1:])  # long names cut with « ~ »
        assert not any("…" in line for line in lines)
        assert "…" not in status(screen)


async def test_a_search_never_holds_the_keys(monkeypatch) -> None:
    """The database is read in a worker: while a search waits on it, keys still move the list;
    the first page shows before the count, which comes after (« Compte… » meanwhile)."""
    import threading

    from tuibill.services import journal as journal_service

    reading, counting = threading.Event(), threading.Event()
    count = journal_service.JournalQuery.count

    def slow_count(query):
        if query.filter.patient:
            assert counting.wait(10)
        return count(query)

    real = JournalScreen.PAGER

    def slow_pager(flt, **kwargs):
        if flt.patient:
            assert reading.wait(10)
        return real(flt, **kwargs)

    monkeypatch.setattr(journal_service.JournalQuery, "count", slow_count)
    monkeypatch.setattr(JournalScreen, "PAGER", staticmethod(slow_pager))
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("ctrl+t")  # the whole history: more than one page of « M »
        await settle(pilot)
        before = shown_ids(screen)
        await pilot.press("slash")
        await type_text(pilot, "m")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.is_searching and status(screen).startswith("Recherche")
        await pilot.press("down", "down")  # the old rows, still there, still answer
        await pilot.pause()
        assert screen.table.cursor_row == 2 and shown_ids(screen) == before

        reading.set()  # the first page comes, not the count
        deadline = time.monotonic() + 10
        while screen.pager.query.filter.patient != "m" and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert screen.is_searching and screen.pager.total is None
        assert status(screen).startswith("Compte")
        expected = Invoice.select().where(Invoice.patient_name.startswith("M"))
        assert expected.count() > screen.pager.page_size
        newest = [i.id for i in expected.order_by(*NEWEST_FIRST).limit(screen.table.visible_rows)]
        assert shown_ids(screen) == newest and screen.table.cursor_row == 0

        counting.set()
        await settle(pilot)
        assert screen.pager.total == expected.count()
        assert screen.table.row_count == expected.count()
        assert status(screen).startswith(f"{expected.count():,}".replace(",", " "))


async def test_the_next_page_is_read_ahead_in_a_worker() -> None:
    """Paging down, the page after the rows read so far is read by key in a worker before the
    cursor gets there: the UI thread never waits for it (issue 12, page down p95)."""
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        pager = screen.pager
        size = pager.page_size
        assert pager.total > 2 * size and 1 not in pager._pages
        rows = screen.table.visible_rows
        while screen.table.cursor_row < size - 2 * rows:
            await pilot.press("pagedown")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert 1 in pager._pages  # read ahead, by key, while the cursor is still on page 0
        assert screen.table.cursor_row < size and pager.reads["offset"] == 0
        expected = Invoice.select().order_by(*NEWEST_FIRST).offset(size).first()
        assert pager.row(size).id == expected.id


async def test_a_stale_answer_never_replaces_a_newer_search(monkeypatch) -> None:
    """« dup », Entrée, then « mar » typed and Entrée while « dup » is still being read: the keys
    land in the filter, the table shows « mar », and the answer for « dup » that comes last is
    dropped (issue 12)."""
    import threading

    first_may_answer = threading.Event()
    real = JournalScreen.PAGER

    def pager(flt, **kwargs):
        if flt.patient == "dup":
            assert first_may_answer.wait(10)
        return real(flt, **kwargs)

    monkeypatch.setattr(JournalScreen, "PAGER", staticmethod(pager))
    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        await pilot.press("slash")
        await type_text(pilot, "dup")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.is_searching and screen.focused is screen.table
        await pilot.press("slash", "backspace", "backspace", "backspace")
        await type_text(pilot, "mar")
        assert screen.query_one("#f-patient", Input).value == "mar"  # no key lost
        await pilot.press("enter")
        deadline = time.monotonic() + 10
        while screen.is_searching and time.monotonic() < deadline:
            await pilot.pause(0.02)
        assert screen.pager.query.filter.patient == "mar"

        first_may_answer.set()  # « dup » answers now, after « mar »
        await settle(pilot)
        assert screen.search_filter.patient == "mar"
        assert screen.pager.query.filter.patient == "mar"
        expected = Invoice.select().where(Invoice.patient_name.startswith("MAR"))
        assert screen.pager.total == screen.table.row_count == expected.count() > 0
        assert all(screen.pager.row(i).patient_name.startswith("MAR") for i in shown_ids_range(screen))
        assert status(screen).startswith(f"{expected.count():,}".replace(",", " "))


def shown_ids_range(screen: JournalScreen) -> range:
    top = round(screen.table.scroll_y)
    return range(top, min(screen.table.row_count, top + screen.table.visible_rows))


async def test_entree_in_the_filter_repaints_the_list_once(monkeypatch) -> None:
    """Entrée moves the focus to the list: the screen is not repainted whole for it, nor the
    rows of the old search (issue 12: the UI thread only swaps in rows)."""
    from textual.screen import Screen

    app = TuibillApp(user="test")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("slash")
        await type_text(pilot, "dup")
        whole: list[object] = []
        original = Screen.refresh

        def refresh(self, *regions, **kwargs):
            if self is screen and not regions:
                whole.append(kwargs)
            return original(self, *regions, **kwargs)

        monkeypatch.setattr(Screen, "refresh", refresh)
        built: list[str] = []
        cells = screen.row_cells

        def counted(row):
            built.append(row.patient_name)
            return cells(row)

        monkeypatch.setattr(screen, "row_cells", counted)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.focused is screen.table
        assert whole == []
        assert screen.pager.query.filter.patient == "dup"
        # The focus recoloured the cursor's line only: of the old search's rows, that one alone
        # was drawn again before the new rows came.
        assert sum(not name.startswith("DUP") for name in built) <= 1
        assert sum(name.startswith("DUP") for name in built) >= screen.table.visible_rows


async def test_a_bug_in_a_search_is_not_swallowed(monkeypatch) -> None:
    """A search reads in a thread of its own: an unexpected error there still reaches the
    application (as a Textual worker's would), it is not lost with the thread."""

    def broken(flt, **kwargs):
        if flt.patient:
            raise RuntimeError("bogue de lecture")
        return real(flt, **kwargs)

    real = JournalScreen.PAGER
    monkeypatch.setattr(JournalScreen, "PAGER", staticmethod(broken))
    app = TuibillApp(user="test")
    with pytest.raises(RuntimeError, match="bogue de lecture"):
        async with app.run_test(size=SIZE) as pilot:
            await open_journal(pilot)
            await pilot.press("slash")
            await type_text(pilot, "dup")
            await pilot.press("enter")
            deadline = time.monotonic() + 10
            while app.is_running and time.monotonic() < deadline:
                await pilot.pause(0.02)
