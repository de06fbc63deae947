"""Who is at the desk, by keys: the login screen, « Changer d'utilisateur », the lock (by key,
by idle time, in kiosk mode) with the form kept behind it, the menu's audit warning, and
« Données › Utilisateurs » for an administrateur only."""

from __future__ import annotations

import time
from datetime import date, datetime

import pytest
from textual.widgets import Input, Static

from tests.conftest import make_db
from tuibill.app import TuibillApp
from tuibill.config import Settings
from tuibill.screens.login import LockScreen, LoginScreen
from tuibill.services.demo import DEMO_PASSWORD, DEMO_PIN

SIZE = (100, 30)


@pytest.fixture(scope="module")
def staffed_path(tmp_path_factory):
    from tuibill.services.demo import build_demo, build_demo_accounts

    path = tmp_path_factory.mktemp("desk") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    build_demo_accounts()
    return path


@pytest.fixture
def bound(staffed_path):
    from tuibill.models import database

    database.bind(str(staffed_path))
    # The wrong PINs each test types count towards the account's block (services.users): every
    # test starts from a password just set, as after an administrateur's reset.
    from tuibill.services import users

    users.set_password("secretariat", DEMO_PASSWORD, by="demo")
    return staffed_path


def kiosk_settings() -> Settings:
    settings = Settings()
    settings.ui.kiosk = True
    return settings


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def log_in(pilot, login: str, password: str = DEMO_PASSWORD) -> None:
    app = pilot.app
    assert isinstance(app.screen, LoginScreen)
    app.screen.query_one("#login", Input).value = ""
    app.screen.query_one("#login", Input).focus()
    await type_text(pilot, login)
    await pilot.press("enter")
    await type_text(pilot, password)
    await pilot.press("enter")
    await pilot.pause()


async def test_the_login_screen_comes_first_and_the_f_keys_wait(bound) -> None:
    app = TuibillApp()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen)
        await pilot.press("f2", "escape", "f5")
        await pilot.pause()
        assert isinstance(app.screen, LoginScreen) and app.current_mode == "menu"
        await log_in(pilot, "secretariat", "wrong password")
        assert isinstance(app.screen, LoginScreen)
        assert "incorrect" in str(app.screen.query_one("#login-error", Static).render())
        await log_in(pilot, "secretariat")
        assert not isinstance(app.screen, LoginScreen)
        assert app.user == "secretariat" and app.sub_title.startswith("secretariat (secrétariat)")
        await pilot.press("f2")
        await pilot.pause()
        assert app.current_mode == "facturer"


async def test_the_demo_logs_in_by_itself_and_says_so(bound) -> None:
    from tuibill.services import users

    app = TuibillApp(session=users.session_for("demo"), demo=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.is_locked and app.user == "demo"
        assert "DÉMONSTRATION" in app.sub_title
        assert any("connecté automatiquement" in n.message for n in app._notifications)


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash"])
async def test_kiosk_quitting_keys_lock_and_the_form_stays_behind(bound, key) -> None:
    app = TuibillApp(settings=kiosk_settings(), user="secretariat")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")  # Patients: type a search, unsaved
        await pilot.pause()
        search = app.screen.query_one("#search", Input)
        search.focus()
        await type_text(pilot, "dup")
        behind = app.screen
        await pilot.press(key)
        await pilot.pause()
        assert isinstance(app.screen, LockScreen) and app.is_running
        # Nothing gets past the lock: F-keys, Échap, the quitting keys again.
        await pilot.press("f2", "f5", "escape", "ctrl+q", "ctrl+c", "ctrl+z", "ctrl+backslash")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen) and app.current_mode == "patients"
        await type_text(pilot, "0000")  # a wrong PIN
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, DEMO_PIN)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is behind and search.value == "dup"
    assert app.return_code in (None, 0)


async def test_kiosk_escape_attempts_from_every_screen_leave_it_running(bound) -> None:
    from tuibill.screens.menu import MENU

    app = TuibillApp(settings=kiosk_settings(), user="secretariat")
    async with app.run_test(size=SIZE) as pilot:
        for _, key, mode, _, _ in MENU:
            await pilot.press(key)
            await pilot.pause()
            assert app.current_mode == mode
            await pilot.press("escape", "escape", "escape", "ctrl+q")
            await pilot.pause()
            assert app.is_running and isinstance(app.screen, LockScreen)
            await type_text(pilot, DEMO_PASSWORD)
            await pilot.press("enter")
            await pilot.pause()
            assert not app.is_locked
        app.action_command_palette()
        await pilot.pause()
        assert app.is_locked and app.is_running


async def test_an_idle_desk_locks_itself(bound) -> None:
    settings = Settings()
    settings.ui.lock_after_minutes = 5
    app = TuibillApp(settings=settings, user="secretariat")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.lock_if_idle()
        assert not app.is_locked  # just used
        app.last_input = time.monotonic() - 5 * 60
        app.lock_if_idle()
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        # Three wrong PINs: then only the password unlocks.
        for _ in range(3):
            await type_text(pilot, "9999")
            await pilot.press("enter")
        await type_text(pilot, DEMO_PIN)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LockScreen)
        await type_text(pilot, DEMO_PASSWORD)
        await pilot.press("enter")
        await pilot.pause()
        assert not app.is_locked


async def test_changer_d_utilisateur_starts_the_next_user_afresh(bound) -> None:
    app = TuibillApp(user="secretariat")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        app.lock()
        await pilot.pause()
        await pilot.press("ctrl+u")
        await pilot.pause()
        await log_in(pilot, "a.gautier")
        await pilot.pause()
        assert app.user == "a.gautier" and app.current_mode == "menu"
        assert "praticien" in app.sub_title and not app.is_locked


async def test_utilisateurs_is_for_an_administrateur(bound) -> None:
    from tuibill.screens.users import UsersScreen

    app = TuibillApp(user="secretariat")
    async with app.run_test(size=SIZE) as pilot:
        app.open_users()
        await pilot.pause()
        assert not isinstance(app.screen, UsersScreen)
        assert any("réservée au rôle administrateur" in n.message for n in app._notifications)
    app = TuibillApp(user="demo")
    async with app.run_test(size=SIZE) as pilot:
        app.open_users()
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        logins = [app.screen.query_one("#users").get_row_at(i)[0] for i in range(4)]
        assert sorted(logins) == ["a.gautier", "demo", "k.brunet", "secretariat"]


async def test_the_menu_warns_while_the_last_audit_check_failed(bound) -> None:
    from tuibill.services import audit

    audit.record_check(
        audit.VerifyReport(False, 3, "Ligne 7 : contenu modifié."), user="demo", at=datetime.now()
    )
    try:
        app = TuibillApp(user="demo")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            warning = app.screen.query_one("#audit-warning", Static)
            assert warning.display and "Historique retouché" in str(warning.render())
    finally:
        audit.record_check(audit.VerifyReport(True, 3, "intact"), user="demo", at=datetime.now())
    app = TuibillApp(user="demo")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not app.screen.query("#audit-warning")  # no warning, no widget
        # A check fails while the desk is open: the menu says so when it is shown again, under
        # its title; once a check passes, the warning goes.
        audit.record_check(audit.VerifyReport(False, 3, "Ligne 2."), user="demo", at=datetime.now())
        try:
            app.screen.refresh_counts()
            await pilot.pause()
            warning = app.screen.query_one("#audit-warning", Static)
            assert "Ligne 2." in str(warning.render())
            before = app.screen.children[app.screen.children.index(warning) - 1]
            assert before.has_class("title")  # under the screen's name
        finally:
            audit.record_check(audit.VerifyReport(True, 3, "intact"), user="demo", at=datetime.now())
        app.screen.refresh_counts()
        await pilot.pause()
        assert not app.screen.query("#audit-warning")


def test_a_kiosk_app_leaves_the_next_app_s_keys_alone() -> None:
    # The kiosk's lock keys were bound into lists Textual shares with the class: every later app
    # of the process locked on Ctrl+C (a test after the kiosk tests met the lock screen).
    before = [b.action for b in TuibillApp()._bindings.key_to_bindings.get("ctrl+c", [])]
    kiosk = TuibillApp(settings=kiosk_settings(), user="secretariat")
    assert "lock" in [b.action for b in kiosk._bindings.key_to_bindings["ctrl+c"]]
    after = [b.action for b in TuibillApp()._bindings.key_to_bindings.get("ctrl+c", [])]
    assert after == before and "lock" not in after
