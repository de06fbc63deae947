"""At 80×24 (issue 13 #14): the lists are designed for 80 columns first — what identifies a row,
its state and its amount are on screen without scrolling — and the texts the desk reads are
whole (a reader's PIN tries, an act's label, an invoice's mode)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import make_db
from tests.support.screen_text import screen_text
from tuibill.app import TuibillApp


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("columns") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    return path


@pytest.fixture
def app(demo_path):
    from tuibill.models import database

    database.bind(str(demo_path))
    return TuibillApp(user="test")


def header_of(text: str, first_column: str) -> str:
    return next(line for line in text.splitlines() if first_column in line)


async def test_facturer_shows_each_invoice_state_without_scrolling(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "2")
        await pilot.pause()
        text = screen_text(app)
        assert "État" in header_of(text, "Patient")
        rows = [line for line in text.splitlines() if "[ ]" in line]
        assert len(rows) >= 2
        # « Factures non validées »: in entry, to load, loaded in the portable reader (seed 003).
        states = ("Saisie", "À charger", "Chargée TLA")
        odd = [row for row in rows if not any(s in row for s in states)]
        assert not odd, odd


async def test_the_card_readers_show_the_pin_tries_whole(app) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        for _ in range(20):
            await pilot.pause(0.1)
            if "CPS" in screen_text(app):
                break
        line = next(line for line in screen_text(app).splitlines() if "CPS" in line)
        assert line.rstrip(" │").endswith("essai(s)")


async def test_an_invoice_shows_its_acts_labels_and_the_validated_list_its_mode(app) -> None:
    from tuibill.services.invoice_views import invoice_detail

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5", "enter")
        await pilot.pause()
        record = invoice_detail(app.screen.invoice_id)
        label = record["lignes"][0]["libelle"]
        assert label[:25] in screen_text(app)
        await pilot.press("f3", "enter")  # the invoices of the first group
        await pilot.pause()
        text = screen_text(app)
        assert "Dégradé" in text or "Vitale" in text
        assert "SESAM-Vit" not in text
