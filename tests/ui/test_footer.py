"""The footer: the screen's keys in one line, made again only when they change (issue 12:
a focus move no longer rebuilds ~20 widgets), and a click on a key presses it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import make_db
from tuibill.app import TuibillApp
from tuibill.widgets.footer import AppFooter


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("footer") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    return path


@pytest.fixture
def app(demo_path):
    from tuibill.models import database

    database.bind(str(demo_path))
    return TuibillApp(user="test")


def footer_text(app) -> str:
    return app.screen.query_one(AppFooter).render().plain


async def test_the_footer_follows_the_focus_and_is_made_again_only_on_a_change(
    app, monkeypatch
) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        footer = app.screen.query_one(AppFooter)
        text = footer_text(app)
        assert "Ouvrir" in text  # the list's Entrée
        assert text.rstrip().endswith("… F1 Aide")  # cut at 80 columns: the help says the rest
        assert "Sans limite de temps" in text and "2 derniers mois" not in text
        assert text.count("Filtrer") == 1  # « / » and Ctrl+F: one action, one key shown

        refreshed = []
        real = footer.refresh
        monkeypatch.setattr(footer, "refresh", lambda *a, **k: refreshed.append(1) or real(*a, **k))
        await pilot.press("slash")  # to the filter bar: the list's Entrée goes
        await pilot.pause()
        assert "Ouvrir" not in footer_text(app) and refreshed
        refreshed.clear()
        await pilot.press("tab", "tab")  # within the filter bar: the same keys
        await pilot.pause()
        assert not refreshed
        await pilot.press("escape", "ctrl+t")
        await pilot.pause()
        text = footer_text(app)
        assert "Ouvrir" in text and "2 derniers mois" in text and refreshed


async def test_a_click_on_a_key_presses_it(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = app.screen.query_one(AppFooter)
        text = footer_text(app)
        x = text.index("F5")
        await pilot.click(AppFooter, offset=(x + 1, 0))
        await pilot.pause()
        assert app.current_mode == "journal"
        assert footer.keys_shown  # the menu's own footer kept its keys


async def test_keys_that_do_not_fit_leave_the_last_place_to_the_help(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        text = footer_text(app)
        assert len(text.rstrip()) <= 80 and text.rstrip().endswith("… F1 Aide")
        assert "Effacer filtres" not in text  # no half label: whole keys or none
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        text = footer_text(app)
        assert "Effacer filtres" in text and "F2 Facturer" in text


async def test_a_focus_move_back_shows_the_line_kept_for_those_keys(app, monkeypatch) -> None:
    """From the list to the filter bar and back: the footer's two lines are each made once,
    then shown again as they were (a focus move no longer makes the footer again) — and a
    click still finds the key under it."""
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        footer = app.screen.query_one(AppFooter)
        made = []
        real = footer.render
        monkeypatch.setattr(footer, "render", lambda: made.append(1) or real())
        await pilot.press("slash")
        await pilot.pause()
        assert "Ouvrir" not in " ".join(label for _, _, label, _ in footer.keys_shown)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert len(made) <= 1  # the filter bar's keys, once; the list's were kept from before
        assert app.screen.focused is app.screen.table
        text = real().plain
        await pilot.click(AppFooter, offset=(text.index("Filtrer") - 2, 0))
        await pilot.pause()
        assert app.screen.focused is not app.screen.table  # « / »: to the filter bar
