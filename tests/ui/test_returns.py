"""F7 Retours et rejets, driven by keys at 80×24 on the whole demo (lots, ARLs, returns): the five
lists, a return file, an invoice's answers, a match by hand, an import with its dry run, the
legal delays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from textual.widgets import Input, Static

from tuibill.app import TuibillApp
from tuibill.models import (
    Invoice,
    ReceivedFile,
    ReturnEntry,
    ReturnRejection,
    Virement,
    database,
    schema,
)
from tuibill.screens.invoice_detail import InvoiceDetailScreen
from tuibill.screens.rejection_treatment import RejectionTreatmentScreen
from tuibill.screens.reports import ReportsScreen
from tuibill.screens.return_file import ReturnFileScreen
from tuibill.screens.returns import (
    NotMatchedScreen,
    RejectedScreen,
    ReturnFilesScreen,
    VirementsScreen,
)
from tuibill.services.demo_transmissions import TO_IMPORT, demo_folder

SIZE = (80, 24)


@pytest.fixture
def story(tmp_path) -> str:
    from tuibill.services import demo, tariffs

    path = str(tmp_path / "story.sqlite")
    database.bind(path)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(today=date.today())
    return path


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def lines(screen) -> list[str]:
    table = screen.table
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


async def test_the_five_lists_by_keys(story) -> None:
    app = TuibillApp(user="anne")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReturnFilesScreen)
        assert "[1 Retours]" in str(screen.query_one("#rt-tabs", Static).render())
        files = ReceivedFile.select().where(ReceivedFile.kind == "retour").count()
        assert screen.pager.total == files > 0
        assert "Reçu le" in lines(screen)[0]

        await pilot.press("2")
        await settle(pilot)
        assert isinstance(app.screen, VirementsScreen)
        assert app.screen.pager.total == Virement.select().count()

        await pilot.press("3")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, RejectedScreen)
        still = (
            ReturnRejection.select()
            .join(Invoice, on=(ReturnRejection.invoice == Invoice.id))
            .where(
                (ReturnRejection.kind == "rejet")
                & (ReturnRejection.level != "A")
                & Invoice.state.in_(["REJETEE", "PAYEE_PARTIELLEMENT"])
            )
            .count()
        )
        assert screen.pager.total == still > 0
        assert "rejet" in str(screen.query_one("#retours-status", Static).render())

        # Entrée: the guided treatment of the rejection; d: the invoice, with what the caisse
        # answered.
        row = screen.pager.row(0)
        await pilot.press("enter")
        await settle(pilot)
        treatment = app.screen
        assert isinstance(treatment, RejectionTreatmentScreen)
        assert treatment.invoice_id == row.invoice_id
        await pilot.press("d")
        await settle(pilot)
        detail = app.screen
        assert isinstance(detail, InvoiceDetailScreen) and detail.invoice_id == row.invoice_id
        text = str(detail.query_one("#detail-returns", Static).render())
        assert "Payé par la caisse" in text and row.code in text
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, RejectedScreen)

        await pilot.press("1")
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReturnFileScreen)
        assert app.screen.view is not None and app.screen.view.entries

        # o: the follow-up reports (seed 002), from any of the lists.
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("o")
        await settle(pilot)
        assert isinstance(app.screen, ReportsScreen)


async def test_the_menu_says_what_the_returns_ask_today(story) -> None:
    """« À faire » under the menu: read in a worker (a year of returns), shown when it comes."""
    app = TuibillApp(user="anne")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        alerts = app.screen.query_one("#alerts", Static)
        text = str(alerts.render())
        assert "À faire" in text and "rejetée(s) à traiter (F7)" in text
        assert "non rapprochée(s)" in text
        # At 80×24 every line of it is on the screen, none wider than the terminal.
        lines = text.splitlines()
        assert alerts.region.height >= len(lines) and alerts.region.bottom <= 23
        assert max(map(len, lines)) <= 80


async def test_the_menu_shows_what_the_start_read_ahead_in_its_first_frame(story) -> None:
    """The desk's start reads the menu's facts on a thread (services.dashboard.MenuFacts): the
    menu composes with them — no worker of its own, no second frame for « À faire »."""
    from tuibill.config import ReturnSettings
    from tuibill.services.dashboard import MenuFacts

    facts = MenuFacts(ReturnSettings(), date.today()).start()
    facts.join(timeout=30)
    assert facts.check_read and facts.counts is not None and facts.alerts
    facts.alerts = ["7 rejetée(s) à traiter (F7)"]  # what only the read-ahead facts say
    app = TuibillApp(user="anne", menu_facts=facts)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "7 rejetée(s) à traiter (F7)" in str(app.screen.query_one("#alerts").render())
        assert not [w for w in app.workers if w.group == "menu-alerts"]
        assert app.menu_facts is None  # taken once: the next display reads afresh
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("escape")
        await settle(pilot)
        await pilot.pause(0.3)  # past the first display's grace: the menu counts again
        await pilot.press("f5", "escape")
        await settle(pilot)
        text = str(app.screen.query_one("#alerts").render())
        assert "7 rejetée(s)" not in text and "rejetée(s) à traiter (F7)" in text


async def test_the_menu_reads_itself_what_the_start_could_not(story) -> None:
    """Facts of another day, or not read in time, are not shown: the menu reads them."""
    from tuibill.config import ReturnSettings
    from tuibill.services.dashboard import MenuFacts

    yesterday = MenuFacts(ReturnSettings(), date.today() - timedelta(days=1))
    yesterday.check_read, yesterday.counts = True, [("Saisie", 999999)]
    yesterday.alerts = ["7 rejetée(s) à traiter (F7)"]
    unread = MenuFacts(ReturnSettings(), date.today())  # never started: nothing read
    for facts in (yesterday, unread):
        app = TuibillApp(user="anne", menu_facts=facts)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert "999999" not in str(app.screen.query_one("#counts").render())
            text = str(app.screen.query_one("#alerts").render())
            assert "7 rejetée(s)" not in text and "rejetée(s) à traiter (F7)" in text


def test_five_alerts_fit_under_the_menu_at_80_columns() -> None:
    from tuibill.screens.menu import alerts_text

    alerts = [
        "123 rejetée(s) à traiter (F7)", "45 payée(s) partiellement (F7)",
        "6 non rapprochée(s) (F7, 5)", "13565 FSE en retard d'envoi (R161-47)",
        "32 paiement(s) en retard (F7 r)",
    ]  # fmt: skip
    lines = alerts_text(alerts).splitlines()
    assert lines[0] == "À faire :" and len(lines) == 4 and max(map(len, lines)) <= 80
    assert all(alert in alerts_text(alerts) for alert in alerts)


async def test_match_a_non_rapprochee_by_hand(story) -> None:
    target = Invoice.select().where(Invoice.state == "TRANSMISE").order_by(Invoice.id).first()
    app = TuibillApp(user="anne")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7", "5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NotMatchedScreen) and screen.pager.total == 1
        assert "000000042" in lines(screen)[1]
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one(Input).value = f"{target.number:09d}"
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, NotMatchedScreen)
        assert app.screen.pager.total == 0
    assert Invoice.get_by_id(target.id).state == "PAYEE"
    entry = ReturnEntry.get(ReturnEntry.invoice == target.id)
    assert entry.matched_by == "anne"


async def test_import_shows_the_dry_run_then_imports(story) -> None:
    path = sorted((demo_folder() / TO_IMPORT).glob("*.noe"))[0]
    before = ReceivedFile.select().where(ReceivedFile.kind == "retour").count()
    app = TuibillApp(user="anne")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("i")
        await pilot.pause()
        app.screen.query_one(Input).value = str(path)
        await pilot.press("enter")
        await settle(pilot)
        report = str(app.screen.query_one("#td-text", Static).render())
        assert "Simulation" in str(app.screen.query_one("#td-title", Static).render())
        assert "payée(s)" in report
        # Nothing written by the dry run.
        assert ReceivedFile.select().where(ReceivedFile.kind == "retour").count() == before
        await pilot.press("o")
        await settle(pilot)
        assert "importé" in str(app.screen.query_one("#td-title", Static).render())
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ReturnFilesScreen)
        assert app.screen.pager.total == before + 1
    assert ReceivedFile.select().where(ReceivedFile.kind == "retour").count() == before + 1


async def test_the_legal_delays(story) -> None:
    app = TuibillApp(user="anne")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        text = str(app.screen.query_one("#td-text", Static).render())
        assert "Paiements des caisses en retard" in text
        from tuibill.config import ReturnSettings
        from tuibill.services.legal_delays import late_report

        report = late_report(ReturnSettings())
        assert report.paid_late and report.penalty_cents > 0
        assert f"Payées en retard : {len(report.paid_late)} " in text
