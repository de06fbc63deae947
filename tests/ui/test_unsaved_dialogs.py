"""Issue 13 #4 for the entry dialogs: Échap, an F-key, Ctrl+Q on a dialog holding typed data go
through the one unsaved-changes guard (« Quitter sans enregistrer ? », « Non » focused and keeping
what was typed); an untouched dialog closes at once. Driven by keys at 80×24 from the screens that
open them, on the whole demo (home-care payers and clients, returns, rejections, accounts)."""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import DataTable, Input, Static

from tests.conftest import make_db
from tuibill.app import TuibillApp
from tuibill.dialogs.unsaved import LeaveDialog
from tuibill.models import Invoice, database

SIZE = (80, 24)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    from tuibill.services.demo import build_demo, build_demo_accounts

    path = tmp_path_factory.mktemp("unsaved_dialogs") / "demo.sqlite"
    make_db(path)
    build_demo(today=date.today())
    build_demo_accounts()
    return path


@pytest.fixture
def app(demo_path):
    # Every test only cancels its dialogs: the module's demo stays as built.
    database.bind(str(demo_path))
    return TuibillApp(user="demo")


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def asked(pilot) -> str:
    """The guard's question is on screen, « Non » focused: its whole text."""
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LeaveDialog)
    assert screen.focused is not None and screen.focused.id == "no"
    return " ".join(str(widget.render()) for widget in screen.query(Static))


async def open_payer_file(pilot, prefix: str) -> None:
    await pilot.press("f8")
    await pilot.pause()
    table = pilot.app.screen.query_one("#payers", DataTable)
    names = [str(table.get_row_at(row)[0]) for row in range(table.row_count)]
    table.move_cursor(row=next(i for i, name in enumerate(names) if name.startswith(prefix)))
    await pilot.press("enter")
    await pilot.pause()


async def test_a_payment_typed_asks_on_escape_and_on_ctrl_q(app) -> None:
    from tuibill.dialogs.payment_entry import PaymentDialog
    from tuibill.screens.payer_file import PayerFileScreen

    exits: list[bool] = []
    app.exit = lambda *args, **kwargs: exits.append(True)
    async with app.run_test(size=SIZE) as pilot:
        await open_payer_file(pilot, "Harmonie")
        await pilot.press("ctrl+r")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PaymentDialog)
        await pilot.press(*"120")
        await pilot.press("escape")
        text = await asked(pilot)
        assert "Quitter sans enregistrer ?" in text
        assert "la saisie d'un règlement de 120,00 €" in text
        await pilot.press("enter")  # a stray Entrée answers « Non »: nothing is lost
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#amount", Input).value == "120"
        await pilot.press("ctrl+q")  # quitting asks about it too
        text = await asked(pilot)
        assert "Quitter tuibill sans enregistrer ?" in text and "120,00 €" in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog and not exits
        await pilot.press("escape")
        await asked(pilot)
        await pilot.press("o")  # dropped: back to the payer's file, nothing recorded
        await pilot.pause()
        assert isinstance(app.screen, PayerFileScreen) and not exits


async def test_an_untouched_dialog_closes_at_once_and_a_changed_one_asks(app) -> None:
    from tuibill.dialogs.aid_plan_entry import AidPlanDialog
    from tuibill.dialogs.client_entry import ClientDialog
    from tuibill.dialogs.payment_entry import PaymentDialog
    from tuibill.screens.homecare_clients import ClientsBillingScreen
    from tuibill.screens.payer_file import PayerFileScreen

    async with app.run_test(size=SIZE) as pilot:
        await open_payer_file(pilot, "CARSAT")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, AidPlanDialog)
        await pilot.press("escape")  # nothing chosen or typed
        await pilot.pause()
        assert isinstance(app.screen, PayerFileScreen)
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, PaymentDialog)
        await pilot.press("escape")  # today's date, « Virement », « oui »: as it came
        await pilot.pause()
        assert isinstance(app.screen, PayerFileScreen)

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ClientsBillingScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, ClientDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ClientsBillingScreen)

        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = app.screen
        await pilot.press(*"ZOLA", "tab", *"Emile")
        await pilot.press("escape")
        text = await asked(pilot)
        assert "la saisie du nouveau client ZOLA Emile" in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#last_name", Input).value == "ZOLA"
        assert dialog.query_one("#first_name", Input).value == "Emile"


async def test_an_intervention_typed_is_not_dropped_by_an_f_key(app) -> None:
    from tuibill.dialogs.intervention_entry import InterventionDialog
    from tuibill.screens.homecare_clients import ClientPlanningScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ClientPlanningScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, InterventionDialog)
        await pilot.press("escape")  # the week's Monday, 09:00–11:00: as it came
        await pilot.pause()
        assert isinstance(app.screen, ClientPlanningScreen)
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, InterventionDialog) and dialog.prestations  # a Select among them
        intervenant = dialog.query_one("#intervenant", Input)
        intervenant.focus()
        await pilot.press(*"Julie")
        await pilot.press("f2")  # another menu: the dialog would be closed
        text = await asked(pilot)
        assert "la saisie d'une intervention le " in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog and intervenant.value == "Julie"
        assert app.current_mode == "tiers"


async def test_a_user_account_asks_without_naming_the_password(app) -> None:
    from tuibill.dialogs.user_account import UserAccountDialog
    from tuibill.screens.users import UsersScreen

    async with app.run_test(size=SIZE) as pilot:
        app.open_users()
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)
        await pilot.press("enter")  # an existing account, untouched: Échap closes it at once
        await pilot.pause()
        assert isinstance(app.screen, UserAccountDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)

        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        login = dialog.account.login
        dialog.query_one("#password", Input).focus()
        await pilot.press(*"Secret-2026")
        await pilot.press("escape")
        text = await asked(pilot)
        assert f"le compte de l'utilisateur {login}" in text
        assert "Secret" not in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog
        assert dialog.query_one("#password", Input).value == "Secret-2026"
        await pilot.press("escape")
        await asked(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, UsersScreen)

        await pilot.press("ctrl+n")  # a new account: named by the login typed
        await pilot.pause()
        await pilot.press(*"x.test")
        await pilot.press("escape")
        assert "le nouveau compte x.test" in await asked(pilot)


async def test_rejection_corrections_typed_ask_before_closing(app) -> None:
    from tuibill.dialogs.rejection_corrections import CorrectionsDialog
    from tuibill.screens.rejection_treatment import RejectionTreatmentScreen
    from tuibill.screens.returns import RejectedScreen

    rejected = {invoice.id for invoice in Invoice.select().where(Invoice.state == "REJETEE")}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7", "3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RejectedScreen)
        for _ in range(screen.pager.total):
            if screen.pager.row(screen.table.cursor_row).invoice_id in rejected:
                break
            await pilot.press("down")
            await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, RejectionTreatmentScreen)
        await pilot.press("r")  # Recommencer la FSE
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, CorrectionsDialog)
        await pilot.press("escape")  # untouched: closed at once
        await pilot.pause()
        assert isinstance(app.screen, RejectionTreatmentScreen)

        await pilot.press("r")
        await pilot.pause()
        dialog = app.screen
        reason = dialog.query_one("#fix-reason", Input)
        reason.focus()
        await pilot.press(*"bon prescripteur")
        await pilot.press("escape")
        text = await asked(pilot)
        assert f"les corrections de la FSE n° {dialog.view.number}" in text
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog and reason.value == "bon prescripteur"
        await pilot.press("ctrl+q")
        assert "Quitter tuibill sans enregistrer ?" in await asked(pilot)


async def test_an_invoice_number_typed_to_match_asks_before_closing(app) -> None:
    from tuibill.dialogs.match_entry import MatchEntryDialog
    from tuibill.screens.returns import NotMatchedScreen

    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7", "5")
        await settle(pilot)
        assert isinstance(app.screen, NotMatchedScreen)
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, MatchEntryDialog)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, NotMatchedScreen)

        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        await pilot.press(*"42")
        await pilot.press("escape")
        assert "avec la facture 42" in await asked(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is dialog and dialog.query_one(Input).value == "42"
        await pilot.press("escape")
        await asked(pilot)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, NotMatchedScreen)
