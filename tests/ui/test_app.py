"""The application shell: F-key menus, help, Escape, unsaved-changes guard, ASCII mode."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import make_db
from tuibill.app import TuibillApp


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("app") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today(), story=False)
    return path


@pytest.fixture
def app(demo_path):
    from tuibill.models import database

    database.bind(str(demo_path))
    return TuibillApp(user="test")


async def test_every_f_key_opens_its_menu_and_escape_returns(app) -> None:
    from tuibill.screens.menu import MENU

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.current_mode == "menu"
        for _, key, mode, _, _ in MENU:
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "menu"


async def test_help_lists_the_screen_keys_in_french(app) -> None:
    from textual.widgets import DataTable

    from tuibill.dialogs.help import HelpDialog

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpDialog)
        table = app.screen.query_one(DataTable)
        labels = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Facturer" in labels and "Sans limite de temps" in labels
        assert not [label for label in labels if label.startswith(("Cursor", "Scroll"))]
        await pilot.press("escape")
        await pilot.pause()
        assert app.current_mode == "journal" and not isinstance(app.screen, HelpDialog)


async def test_an_f_key_never_drops_unsaved_changes_silently(app) -> None:
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.screens.patient_file import PatientFileScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen)
        await pilot.press(*"ZORRO")
        await pilot.pause()
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen) and app.current_mode == "patients"
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert app.current_mode == "facturer"


async def test_ascii_borders_setting(demo_path) -> None:
    from tuibill.config import Settings
    from tuibill.models import database

    database.bind(str(demo_path))
    settings = Settings()
    settings.ui.ascii_borders = True
    app = TuibillApp(settings=settings, user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        assert app.get_css_variables()["frame"] == "ascii"
        table = app.screen.query_one("DataTable")
        assert table.styles.border_top[0] == "ascii"


async def test_keymap_rebinds_a_menu(demo_path) -> None:
    from tuibill.config import Settings
    from tuibill.models import database

    database.bind(str(demo_path))
    settings = Settings()
    settings.ui.keymap = {"patients": "f10"}
    app = TuibillApp(settings=settings, user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        assert app.current_mode == "patients"


async def _unsaved_patient(app, pilot) -> None:
    from tuibill.screens.patient_file import PatientFileScreen

    await pilot.press("f9")
    await pilot.pause()
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(app.screen, PatientFileScreen)
    await pilot.press(*"ZORRO")
    await pilot.pause()


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_quitting_never_drops_an_unsaved_form_silently(app, key) -> None:
    """Issue 13 #4: Ctrl+Q and Ctrl+C go through the same guard as Escape and the F-keys."""
    from tuibill.dialogs.unsaved import LeaveDialog
    from tuibill.screens.patient_file import PatientFileScreen

    exits: list[bool] = []
    app.exit = lambda *args, **kwargs: exits.append(True)
    async with app.run_test(size=(80, 24)) as pilot:
        await _unsaved_patient(app, pilot)
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, LeaveDialog) and not exits
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "ZORRO" in text  # it names what would be lost
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen) and not exits
        await pilot.press(key)
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert exits == [True]


async def test_ctrl_c_asks_in_french_before_quitting(app) -> None:
    from tuibill.dialogs.confirm import ConfirmDialog

    exits: list[bool] = []
    app.exit = lambda *args, **kwargs: exits.append(True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        assert not [n for n in app._notifications if "quit" in n.message.lower()]
        await pilot.press("n")
        await pilot.pause()
        assert not exits and app.current_mode == "menu"
        await pilot.press("ctrl+q")  # nothing unsaved: at once
        await pilot.pause()
        assert exits == [True]


async def test_leaving_a_form_by_an_f_key_drops_it_once_agreed(app) -> None:
    from tuibill.screens.patient_file import PatientFileScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await _unsaved_patient(app, pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert app.current_mode == "facturer"
        await pilot.press("f9")
        await pilot.pause()
        # What the user agreed to drop is gone, not waiting behind the list.
        assert not isinstance(app.screen, PatientFileScreen)


async def test_escape_on_a_dialog_over_a_form_asks_for_the_dialog_only(app) -> None:
    from tuibill.dialogs.prescription import PrescriptionDialog
    from tuibill.dialogs.unsaved import LeaveDialog
    from tuibill.screens.patient_file import PatientFileScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        await pilot.press("enter", "enter")  # to the list, then the first patient's file
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, PrescriptionDialog)
        await pilot.press("tab", "tab", "tab", *"AMI:3")  # the acts line
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveDialog)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, PatientFileScreen)
        await pilot.press("escape")  # the file itself has no change: closed at once
        await pilot.pause()
        assert not isinstance(app.screen, (PatientFileScreen, LeaveDialog))


async def test_an_isolated_act_typed_is_not_dropped_by_escape_silently(app) -> None:
    from tuibill.dialogs.isolated_act import IsolatedActDialog
    from tuibill.dialogs.unsaved import LeaveDialog

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "i")
        await pilot.pause()
        await pilot.press(*"dup", "enter")
        await pilot.pause()
        assert isinstance(app.screen, IsolatedActDialog)
        await pilot.press(*"AMI 1")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LeaveDialog)
        await pilot.press("n")
        await pilot.press("ctrl+q")  # quitting asks about it too
        await pilot.pause()
        assert isinstance(app.screen, LeaveDialog)


async def test_the_first_frame_names_the_practice_and_notifications_still_show(app) -> None:
    """The header says where and who from the menu's first frame (set once mounted, the title
    came a frame late and the whole screen was drawn twice); the toasts are shown on the screen
    in front, and a screen's first display with none to show changes nothing (issue 12)."""
    from textual.widgets._header import HeaderTitle

    from tuibill.services.practice import get_practice

    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        title = str(app.screen.query_one(HeaderTitle).render())
        assert get_practice().name in title and "test" in title
        rack = app.screen.get_child_by_id("textual-toastrack")
        assert not rack.display
        app.notify("Premier avis", timeout=30)
        await pilot.pause()
        assert rack.display and "Premier avis" in str(rack.query_one("Toast").render())
        await pilot.press("f5")
        await pilot.pause()
        await pilot.pause()
        rack = app.screen.get_child_by_id("textual-toastrack")  # the journal's own
        assert rack.display and rack.query("Toast")
        app.clear_notifications()
        await pilot.pause()
        assert not rack.display and not rack.query("Toast")
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.get_child_by_id("textual-toastrack").display


async def test_the_same_terminal_size_again_lays_nothing_out_a_new_one_does(app) -> None:
    from textual import events
    from textual.geometry import Size

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        layouts = []
        screen = app.screen
        original = screen._refresh_layout

        def counted(size=None, scroll=False):
            layouts.append(size)
            return original(size, scroll)

        screen._refresh_layout = counted
        app.post_message(events.Resize(Size(80, 24), Size(80, 24)))  # the driver's, again
        await pilot.pause()
        await pilot.pause()
        assert layouts == []
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        await pilot.pause()
        assert Size(100, 30) in layouts and app.screen.size == Size(100, 30)


async def test_a_field_cursor_stays_lit(app) -> None:
    # Textual blinks a field's cursor by drawing the field twice a second: ~1.8 KB/s to the
    # terminal while the desk waits on a form (issue 12, slow SSH links).
    from textual.widgets import Input

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        field = app.screen.query(Input).first()
        field.focus()
        await pilot.pause()
        assert field.cursor_blink is False
        for _ in range(3):
            await pilot.pause(0.4)
            assert field._cursor_visible
