"""« Banque », driven by keys only at 80×24 on a copy of the demo (its statement matched, one
difference, one stranger, one virement not on the bank yet)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import make_db
from tuibill.formats.bank import BankLine, BankStatement
from tuibill.formats.cfonb import write_cfonb
from tuibill.models import BankMatch, BankOperation, database

SIZE = (80, 24)
TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def bank_template(tmp_path_factory) -> Path:
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("bank") / "demo.sqlite"
    make_db(path)
    db = database.bind(str(path))
    build_demo(today=TODAY)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def app(bank_template, tmp_path, monkeypatch):
    from tuibill.app import TuibillApp
    from tuibill.config import Settings

    path = tmp_path / "demo.sqlite"
    shutil.copy(bank_template, path)
    database.bind(str(path))
    settings = Settings()
    settings.transmission.archive_dir = str(tmp_path / "archive")
    return TuibillApp(settings=settings, user="test")


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def cells(table: DataTable) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def open_bank(pilot):
    from tuibill.screens.bank import BankScreen

    await pilot.press("b")
    await pilot.pause()
    assert isinstance(pilot.app.screen, BankScreen)
    return pilot.app.screen


async def test_the_menu_opens_the_bank_and_escape_comes_back(app) -> None:
    from tuibill.screens.bank import BankScreen
    from tuibill.screens.menu import MenuScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = await open_bank(pilot)
        assert text_of(screen, "#bk-title") == "Banque — relevés et rapprochement"
        tabs = text_of(screen, "#bk-tabs")
        assert "1 Relevés (1)" in tabs and "4 Écarts (1)" in tabs and len(tabs.rstrip()) <= 80
        (row,) = cells(screen.query_one("#bk-statements", DataTable))
        assert row[2] == "CFONB 120" and row[4] == str(BankOperation.select().count())
        assert "i Importer un relevé" in text_of(screen, "#bk-hint")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MenuScreen)
        # Left for an F-key menu, Échap comes back to the menu, as from any menu.
        await pilot.press("b", "f5")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, MenuScreen)
        # The menu's list has the entry too: right after the F-key menus.
        await pilot.press("home", *["down"] * 8, "enter")
        await pilot.pause()
        assert isinstance(app.screen, BankScreen)


async def test_the_tabs_show_both_sides_left_over_and_the_difference(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_bank(pilot)
        await pilot.press("2")
        await pilot.pause()
        assert "(1)" in text_of(screen, "#bk-credits-title")
        (credit,) = cells(screen.query_one("#bk-credits", DataTable))
        assert credit[2] == "45,00" and "DUPUIS" in credit[3]
        receipts = cells(screen.query_one("#bk-receipts", DataTable))
        # The last virement is not on the statement yet; the clients' cheques (F8) neither.
        assert len([r for r in receipts if r[0].startswith("virement:")]) == 1
        await pilot.press("4")
        await pilot.pause()
        (difference,) = cells(screen.query_one("#bk-differences", DataTable))
        assert difference[5] == "-1,50" and difference[6] == "Libellé annoncé, écart signalé"
        assert "total -1,50 €" in text_of(screen, "#bk-status")
        await pilot.press("3")
        await pilot.pause()
        assert len(cells(screen.query_one("#bk-matches", DataTable))) == BankMatch.select().count()


async def test_undo_a_match_then_the_rules_make_it_again(app) -> None:
    from tuibill.dialogs.reason import ReasonDialog
    from tuibill.dialogs.text_view import TextDialog

    matched = BankMatch.select().count()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_bank(pilot)
        await pilot.press("4", "a")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press("enter")  # a reason is required
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press(*"mauvais montant", "enter")
        await pilot.pause()
        assert app.screen is screen
        assert "annulé" in text_of(screen, "#bk-status")
        undone = BankMatch.get(BankMatch.state == "annule")
        assert (undone.undo_reason, undone.undone_by) == ("mauvais montant", "test")
        assert "4 Écarts (0)" in text_of(screen, "#bk-tabs")

        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, TextDialog)
        preview = str(app.screen.query_one("#td-text", Static).render())
        assert "écart -1,50 €" in preview and "seraient rapprochée(s)" in preview
        await pilot.press("o")
        await pilot.pause()
        assert "1 ligne(s) bancaire(s) rapprochée(s)" in text_of(screen, "#bk-status")
        assert "4 Écarts (1)" in text_of(screen, "#bk-tabs")
        assert BankMatch.select().where(BankMatch.state == "actif").count() == matched


async def test_link_the_stranger_to_the_receipt_by_hand(app) -> None:
    from tuibill.dialogs.confirm import ConfirmDialog

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_bank(pilot)
        await pilot.press("2", "tab", "l")  # the credit, then the receipt under the cursors
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("o")
        await pilot.pause()
        assert "fait à la main" in text_of(screen, "#bk-status")
        assert screen.query_one("#bk-credits", DataTable).row_count == 0
        assert BankMatch.get(BankMatch.rule_name == "à la main").difference_cents != 0
        await pilot.press("l")  # nothing left to link: the key does nothing
        await pilot.pause()
        assert app.screen is screen


async def test_a_match_shows_its_detail_and_history(app) -> None:
    from tuibill.dialogs.text_view import TextDialog

    async with app.run_test(size=SIZE) as pilot:
        await open_bank(pilot)
        await pilot.press("4", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TextDialog)
        text = str(app.screen.query_one("#td-text", Static).render())
        assert "Écart : -1,50 €" in text and "Historique :" in text and "demo : rapprocher" in text
        await pilot.press("escape")
        await pilot.pause()


async def test_import_a_statement_and_a_file_refused(app, tmp_path) -> None:
    from tuibill.dialogs.file_name import PathDialog

    good = tmp_path / "novembre.cfonb"
    line = BankLine(TODAY, TODAY, 2_000, "REMISE CHEQUE")
    good.write_bytes(write_cfonb([BankStatement(
        "cfonb120", "EUR", (line,), bank_code="30004", branch_code="00823",
        account_number="00012345678", opening_date=TODAY, opening_balance_cents=0,
        closing_date=TODAY, closing_balance_cents=2_000,
    )]))  # fmt: skip
    bad = tmp_path / "abime.cfonb"
    bad.write_bytes(b"01 ceci n'est pas un releve\r\n")

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_bank(pilot)
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, PathDialog)
        app.screen.query_one(Input).value = str(good)
        await pilot.press("enter")
        await pilot.pause()
        assert "1 ligne(s) nouvelle(s)" in text_of(screen, "#bk-status")
        assert screen.query_one("#bk-statements", DataTable).row_count == 2
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(bad)
        await pilot.press("enter")
        await pilot.pause()
        assert "refusé" in text_of(screen, "#bk-status")
        assert screen.query_one("#bk-status").has_class("error")
        assert "abime.cfonb" in text_of(screen, "#bk-refused")


async def test_f1_lists_the_bank_keys_in_french(app) -> None:
    from tuibill.dialogs.help import HelpDialog

    async with app.run_test(size=SIZE) as pilot:
        await open_bank(pilot)
        await pilot.press("3", "f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpDialog)
        table = app.screen.query_one(DataTable)
        labels = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Importer un relevé", "Rapprocher (règles)", "Annuler le rapprochement",
                "Actualiser"} <= labels  # fmt: skip
