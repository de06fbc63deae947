"""« Données › Praticiens » (issue 13 #17): validating for a practitioner without numbering says
to set it there, and there it is set — with the next lot number and the CPS his invoices need."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import make_db
from tests.support.screen_text import dialog_text, header_title, screen_text
from tuibill.app import TuibillApp
from tuibill.domain.errors import ValidationError
from tuibill.models import Practitioner, database
from tuibill.services import numbering


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("practitioners") / "demo.sqlite"
    db = database.bind(str(make_db(path)))
    build_demo(today=date.today())
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def demo(template, tmp_path) -> None:
    path = tmp_path / "demo.sqlite"
    shutil.copy(template, path)
    database.bind(str(path))


def noel() -> Practitioner:
    return Practitioner.get(Practitioner.last_name == "NOËL")


async def test_the_numbering_is_set_in_donnees_praticiens(demo) -> None:
    from tuibill.dialogs.practitioner import PractitionerDialog
    from tuibill.screens.practitioners import PractitionersScreen

    assert numbering.peek(noel()) is None
    app = TuibillApp(user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*["down"] * 9, "enter")  # the main menu's « Données › Praticiens »
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, PractitionersScreen)
        assert "Praticiens" in header_title(app)
        assert "non configuré" in screen_text(app) and "NOËL" in screen_text(app)
        index = [row.id for row in screen.rows].index(noel().id)
        await pilot.press("home", *["down"] * index, "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PractitionerDialog)
        assert f"CPS : la carte n° {noel().am_number}" in dialog_text(app)
        dialog.set_focus(dialog.query_one("#next_invoice_number"))
        await pilot.press(*"1000", "enter", *"5", "enter")  # the lot number's Entrée saves
        await pilot.pause()
        assert app.screen is screen
        assert numbering.peek(noel()) == 1000
        assert numbering.peek(noel(), numbering.LOT) == 5
        assert "000001000" in screen_text(app)


def test_the_refusal_to_validate_says_where_to_set_the_numbering(demo) -> None:
    from tuibill.models import Invoice

    with pytest.raises(ValidationError, match="Données › Praticiens"):
        numbering.allocate(noel())
    assert Invoice.select().exists()


def test_an_am_number_that_billed_is_kept_and_numbers_never_go_back(demo) -> None:
    from tuibill.services.practice import PractitionerInput, practitioner_row, save_practitioner

    gautier = Practitioner.get(Practitioner.last_name == "GAUTIER")
    row = practitioner_row(gautier.id)
    assert row.has_billed
    base = PractitionerInput(
        last_name=row.last_name, first_name=row.first_name, am_number=row.am_number,
        rpps=row.rpps, specialty=row.specialty, zone=row.zone,
    )
    with pytest.raises(ValidationError, match="déjà facturé") as refused:
        save_practitioner(gautier.id, PractitionerInput(**{**base.__dict__, "am_number": "281999999"}), user="test")
    assert refused.value.field == "am_number"
    with pytest.raises(ValidationError) as back:
        save_practitioner(gautier.id, PractitionerInput(**{**base.__dict__, "next_invoice_number": 1}), user="test")
    assert back.value.field == "next_invoice_number"
    with pytest.raises(ValidationError) as lot:
        save_practitioner(gautier.id, PractitionerInput(**{**base.__dict__, "next_lot_number": 1000}), user="test")
    assert lot.value.field == "next_lot_number"
    saved = save_practitioner(gautier.id, PractitionerInput(**{**base.__dict__, "rpps": "10001234567"}), user="test")
    assert saved.rpps == "10001234567" and saved.am_number == row.am_number
