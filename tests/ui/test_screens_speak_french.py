"""Every screen names itself and speaks French (issue 13 #12, #15): the walk below opens each
menu and the screens under it at 80×24, reads the header's title and scans the rendered text for
Textual's English (its key names, its widgets' words, its quit notice)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from tests.conftest import make_db
from tests.support.screen_text import header_title, screen_text
from tuibill.app import TuibillApp

# Textual's own English, as it would reach the screen.
ENGLISH = re.compile(
    r"Dismiss|Do you want to quit|Press |to quit|Search for|Select\b|Cursor|Scroll|Toggle|"
    r"Copy|Paste|Focus|Quit\b|usage:|options:|show this help|"
    r"\b(home|end|pgup|pgdn|pageup|pagedown|escape|esc|enter|delete|space|ctrl|shift)\b|"
    r"\^[a-z]\b"
)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("french") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    return path


@pytest.fixture
def app(demo_path):
    from tuibill.models import database

    database.bind(str(demo_path))
    return TuibillApp(user="test")


def english_in(app) -> list[str]:
    return [line for line in screen_text(app).splitlines() if ENGLISH.search(line)]


# (keys from the main menu, the title the header must show)
WALK: list[tuple[tuple[str, ...], str]] = [
    ((), "Cabinet"),
    (("f2",), "Facturer"),
    (("f2", "2"), "Facturer"),
    (("f2", "2", "enter"), "Facture n°"),
    (("f2", "enter"), "Nouvelle facture"),
    (("f3",), "Transmettre"),
    (("f3", "3"), "Transmettre"),
    (("f4",), "Lecteur"),
    (("f5",), "Journal des factures"),
    (("f5", "enter"), "Facture n°"),
    (("f6",), "Journal des lots"),
    (("f7",), "Retours et rejets"),
    (("f8",), "Tiers-payeurs"),
    (("f9",), "Patients"),
    (("f9", "enter", "enter"), "Patient"),
    (("f9", "ctrl+p"), "Prescripteurs"),
]


@pytest.mark.parametrize(("keys", "title"), WALK, ids=[" ".join(k) or "menu" for k, _ in WALK])
async def test_each_screen_names_itself_and_speaks_french(app, keys, title) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await pilot.pause()
        assert title in header_title(app), header_title(app)
        assert english_in(app) == []
        await pilot.press("f1")  # the help lists the keys by their French names
        await pilot.pause()
        assert english_in(app) == []


async def test_an_open_list_and_the_quit_question_speak_french(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "s", "enter")  # the Secteur list, opened
        await pilot.pause()
        assert "Fermer la liste" in screen_text(app)
        assert english_in(app) == []
        await pilot.press("escape", "escape")
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert english_in(app) == [] and "Quitter tuibill" in screen_text(app)
