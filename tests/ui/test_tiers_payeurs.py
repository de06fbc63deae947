"""F8 Tiers-payeurs driven by keys at 80×24, on the demo's home-care service."""

from __future__ import annotations

from datetime import date

import pytest
from textual.widgets import DataTable, Input, Static, TabbedContent

from tuibill.app import TuibillApp
from tuibill.dialogs.payment_entry import PaymentDialog
from tuibill.dialogs.text_view import TextDialog
from tuibill.domain.formatting import format_cents
from tuibill.models import database, schema
from tuibill.screens.homecare_clients import ClientPlanningScreen, ClientsBillingScreen
from tuibill.screens.payer_file import PayerFileScreen
from tuibill.screens.slips import SlipsScreen
from tuibill.screens.tiers_payeurs import TiersPayeursScreen
from tuibill.services import payers, payments, slips

SIZE = (80, 24)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    from tuibill.services import demo, tariffs

    path = str(tmp_path_factory.mktemp("tiers_ui") / "demo.sqlite")
    database.bind(path)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo()
    return path


@pytest.fixture(autouse=True)
def bound(demo_db):
    database.bind(demo_db)
    yield demo_db


def column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def open_f8(pilot) -> TiersPayeursScreen:
    await pilot.press("f8")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TiersPayeursScreen)
    return screen


async def test_f8_lists_the_payers_with_a_flag_for_no_email(bound):
    rows = payers.list_payers()
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_f8(pilot)
        assert screen.title == "Tiers-payeurs"
        table = screen.query_one("#payers", DataTable)
        assert column(table, 0) == [row.name for row in rows]
        flags = dict(zip(column(table, 0), column(table, 2), strict=True))
        assert flags["Harmonie Services à la personne"] == "⚠ aucune"
        assert flags["CARSAT Centre-Val de Loire"] == "oui"
        owed = dict(zip(column(table, 0), column(table, 4), strict=True))
        carsat = next(row for row in rows if row.name.startswith("CARSAT"))
        assert carsat.remaining_cents > 0
        assert owed[carsat.name] == format_cents(carsat.remaining_cents)


async def test_payer_file_tabs_show_its_plans_slips_and_payments(bound):
    carsat = next(p for p in payers.list_payers() if p.name.startswith("CARSAT"))
    expected_slips = slips.list_slips(payer_id=carsat.id)
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_f8(pilot)
        table = screen.query_one("#payers", DataTable)
        table.move_cursor(row=column(table, 0).index(carsat.name))
        await pilot.press("enter")
        await pilot.pause()
        file = pilot.app.screen
        assert isinstance(file, PayerFileScreen)
        assert file.title == f"Tiers-payeur — {carsat.name}"
        assert file.query_one("#email", Input).value == carsat.email
        tabs = file.query_one(TabbedContent)
        await pilot.press("ctrl+t")  # Paramétrage
        assert tabs.active == "tab-parametrage"
        defaults = file.query_one("#defaults", DataTable)
        assert column(defaults, 0) == ["MEN"]
        await pilot.press("ctrl+t", "ctrl+t")  # Plans, Bordereaux
        await pilot.pause()
        assert tabs.active == "tab-bordereaux"
        slips_table = file.query_one("#slips", DataTable)
        assert slips_table.row_count == len(expected_slips)
        # The partly paid bordereau's « Réglé » stands out in red.
        partial = next(r for r in expected_slips if r.partly_paid)
        cell = slips_table.get_row(str(partial.id))[5]
        assert "red" in str(cell.style)
        await pilot.press("ctrl+t")
        assert tabs.active == "tab-reglements"
        assert file.query_one("#payments", DataTable).row_count == len(
            payments.list_payments(payer_id=carsat.id)
        )


async def test_new_payer_saved_from_the_definition_tab(bound):
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_f8(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        file = pilot.app.screen
        assert isinstance(file, PayerFileScreen) and file.title == "Nouveau tiers-payeur"
        tabs = file.query_one(TabbedContent)
        assert tabs.get_tab("tab-plans").disabled
        await pilot.press(*"MSA")
        await pilot.press("tab")
        file.query_one("#siret", Input).value = "123"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert file.payer_id is None  # refused: the SIRET
        assert "SIRET" in str(file.query_one("#err-siret", Static).render())
        file.query_one("#siret", Input).value = ""
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert file.payer_id is not None
        assert file.title == "Tiers-payeur — MSA"
        assert not tabs.get_tab("tab-plans").disabled
    assert payers.get_payer(file.payer_id).name == "MSA"


async def test_record_a_payment_and_spread_it_from_the_payer_file(bound):
    harmonie = next(p for p in payers.list_payers() if p.name.startswith("Harmonie"))
    before = len(payments.list_payments(payer_id=harmonie.id))
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_f8(pilot)
        table = screen.query_one("#payers", DataTable)
        table.move_cursor(row=column(table, 0).index(harmonie.name))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, PaymentDialog)
        await pilot.press(*"30,00")
        await pilot.press("ctrl+s")
        await pilot.pause()
        file = pilot.app.screen
        assert isinstance(file, PayerFileScreen)
        assert file.query_one(TabbedContent).active == "tab-reglements"
    rows = payments.list_payments(payer_id=harmonie.id)
    assert len(rows) == before + 1
    assert rows[0].amount_cents == 3000 and rows[0].allocated_cents == 3000
    assert rows[0].day == date.today()


async def test_bordereaux_screen_simulates_and_validates_by_keys(bound):
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_f8(pilot)
        await pilot.press("b")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, SlipsScreen) and screen.title == "Tiers-payeurs — Bordereaux"
        start, end = screen._bounds()
        expected = slips.list_slips(start=start, end=end)
        table = screen.query_one("#slips", DataTable)
        assert table.row_count == len(expected)
        await pilot.press("1")  # Simuler
        await pilot.pause()
        assert isinstance(pilot.app.screen, TextDialog)
        await pilot.press("escape")
        created = [r for r in expected if r.state == "CREE"]
        await pilot.press("3")  # Validation
        await pilot.pause()
        summary = pilot.app.screen
        assert isinstance(summary, TextDialog)
        assert f"{len(created)} bordereau(x) validé(s)" in summary.text
        await pilot.press("escape")
    after = {r.id: r.state for r in slips.list_slips(start=start, end=end)}
    assert all(after[r.id] == "VALIDE" for r in created)


async def test_an_unconfirmed_send_is_resolved_from_the_bordereaux_screen(bound):
    """« Envoi par courriel » does not mail a bordereau whose earlier send was never confirmed:
    it says so, then asks whether the payer received it (O: « Envoyé »)."""
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.models import Slip
    from tuibill.services import homecare_lifecycle

    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_f8(pilot)
        await pilot.press("b")
        await pilot.pause()
        start, end = pilot.app.screen._bounds()
        waiting = [r.id for r in slips.list_slips(start=start, end=end) if r.state == "VALIDE"]
        assert waiting
        for slip_id in waiting:
            slip = Slip.get_by_id(slip_id)
            homecare_lifecycle.record_slip(
                slip, slip.state, slip.state, "send_unconfirmed", "test", "message <x@y>"
            )
        await pilot.press("4")  # Envoi par courriel
        await pilot.pause()
        summary = pilot.app.screen
        assert isinstance(summary, TextDialog) and "peut-être reçu" in summary.text
        await pilot.press("escape")
        await pilot.pause()
        question = pilot.app.screen
        assert isinstance(question, ConfirmDialog) and "a-t-il reçu" in question.question
        await pilot.press("o")
        await pilot.pause()
    assert {Slip.get_by_id(i).state for i in waiting} == {"ENVOYE"}


async def test_clients_billing_shows_invoices_and_the_planning(bound):
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_f8(pilot)
        await pilot.press("c")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ClientsBillingScreen)
        assert screen.title == "Clients — Facturation"
        clients = screen.query_one("#clients", DataTable)
        assert clients.row_count == 6
        assert screen.query_one("#invoices", DataTable).row_count >= 2
        await pilot.press("4")  # Financement of the invoice under the cursor
        await pilot.pause()
        detail = pilot.app.screen
        assert isinstance(detail, TextDialog) and "Historique" in detail.text
        await pilot.press("escape")
        await pilot.press("enter")
        await pilot.pause()
        planning = pilot.app.screen
        assert isinstance(planning, ClientPlanningScreen)
        assert planning.title.startswith("Planning — ")
        rows = planning.query_one("#planning", DataTable).row_count
        assert rows > 0
        await pilot.press("p")
        await pilot.pause()
        assert "Semaine du" in str(planning.query_one("#week", Static).render())


async def test_new_aid_plan_from_the_payer_file_then_validated(bound):
    from tuibill.dialogs.aid_plan_entry import AidPlanDialog
    from tuibill.services import aid_plans

    carsat = next(p for p in payers.list_payers() if p.name.startswith("CARSAT"))
    before = {row.id for row in aid_plans.list_plans(payer_id=carsat.id)}
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_f8(pilot)
        table = screen.query_one("#payers", DataTable)
        table.move_cursor(row=column(table, 0).index(carsat.name))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, AidPlanDialog)
        assert dialog.prestations == ["MEN"]  # only the prestations with default values
        await pilot.press("enter", "down", "down", "down", "down", "enter")  # LEGRAND Marcelle
        await pilot.press("tab", "enter", "down", "enter")  # MEN
        await pilot.pause()
        assert dialog.query_one("#pec_bp", Input).value == "60"  # from the defaults
        await pilot.press("tab", *"01/01/2027")
        await pilot.press("ctrl+s")
        await pilot.pause()
        file = pilot.app.screen
        assert isinstance(file, PayerFileScreen)
        assert file.query_one(TabbedContent).active == "tab-plans"
        (new,) = [r for r in aid_plans.list_plans(payer_id=carsat.id) if r.id not in before]
        assert (new.client, new.prestation, new.state) == ("LEGRAND Marcelle", "MEN", "SAISI")
        plans_table = file.query_one("#plans", DataTable)
        plans_table.move_cursor(row=plans_table.get_row_index(str(new.id)))
        await pilot.press("f10")
        await pilot.pause()
    assert aid_plans.get_plan(new.id).state == "VALIDE"


async def test_new_client_with_a_contract_line(bound):
    from tuibill.dialogs.client_entry import ClientDialog
    from tuibill.services import homecare

    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_f8(pilot)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(pilot.app.screen, ClientDialog)
        await pilot.press(*"ZOLA", "tab", *"Emile")
        await pilot.press("ctrl+s")  # no prestation chosen: a client without contract
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, ClientsBillingScreen)
        clients = screen.query_one("#clients", DataTable)
        assert "ZOLA Emile" in column(clients, 1)
    (client,) = homecare.search_clients("zola")
    assert homecare.contract_of(client.id) == []


async def test_bordereaux_made_from_one_payer_s_file(bound):
    carsat = next(p for p in payers.list_payers() if p.name.startswith("CARSAT"))
    before = {row.id for row in slips.list_slips()}
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_f8(pilot)
        table = screen.query_one("#payers", DataTable)
        table.move_cursor(row=column(table, 0).index(carsat.name))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("ctrl+b")
        await pilot.pause()
        slips_screen = pilot.app.screen
        assert isinstance(slips_screen, SlipsScreen)
        assert slips_screen.title == f"Bordereaux — {carsat.name}"
        start, end = slips_screen._bounds()
        shown = slips_screen.query_one("#slips", DataTable).row_count
        assert shown == len(slips.list_slips(payer_id=carsat.id, start=start, end=end))
        await pilot.press("2")  # Créer: the simulation first, then « Oui »
        await pilot.pause()
        assert isinstance(pilot.app.screen, TextDialog)
        await pilot.press("o")
        await pilot.pause()
    new = [row for row in slips.list_slips() if row.id not in before]
    assert new and {row.payer_id for row in new} == {carsat.id}
