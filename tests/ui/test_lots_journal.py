"""Journal des lots (F6) and the lot detail, driven by keys at 80×24.

The demo practice's invoices are put in lots and taken through their life cycle once per module,
through the real services and the caisse simulator on SMTP: lots acknowledged long ago (outside
the 2-month window), a lot in « Traitement manuel » after a silent caisse, lots acknowledged
yesterday, lots not sent yet. Each test works on a copy.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from tuibill.config import MailboxSettings, SmtpSettings, TransmissionSettings
from tuibill.domain.lots import LotState
from tuibill.models import Invoice, Lot, LotTransition, database, schema
from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse
from tuibill.simulator.scenarios import Answer, FixedScenario
from tuibill.widgets.virtual_table import VirtualTable

SIZE = (80, 24)
NOW = datetime.now().replace(microsecond=0)
TODAY = NOW.date()
WINDOW = TODAY - timedelta(days=61)
GAUTIER, BRUNET, LEMAIRE = 1, 2, 3  # the demo's practitioners
CAISSES = {
    "01281": "lots@cpam-chartres.example",
    "01594": "lots@cpam-flandres.example",
    "01595": "lots@cpam-lille.example",
    "02028": "lots@msa-beauce.example",
}


def transmission(folder: Path, port: int) -> TransmissionSettings:
    return TransmissionSettings(
        archive_dir=str(folder / "archive"),
        smtp=SmtpSettings(
            host="127.0.0.1", port=port, security="none", sender="cabinet@tilleuls.example"
        ),
        mailbox=MailboxSettings(protocol="inbox", folder=str(folder / "Maildir")),
        caisses=dict(CAISSES),
    )


def _life_cycles(folder: Path) -> None:
    from tuibill.services import lots, receiving, sending

    def caisse(answer: str) -> SmtpCaisse:
        server = SmtpCaisse(
            CaisseSimulator(folder / "Maildir", FixedScenario((Answer(answer),))), port=0
        )
        server.start()
        return server

    positive, silent = caisse("positive"), caisse("silent")
    try:
        answered = transmission(folder, positive.port)
        unanswered = transmission(folder, silent.port)

        def days_ago(days: int) -> datetime:
            return NOW - timedelta(days=days)

        # LEMAIRE: sent and acknowledged 100 days ago (outside the default window).
        lots.build_lots(answered, user="anne", practitioner_id=LEMAIRE, now=days_ago(100))
        sending.send_lots(answered, user="anne", now=days_ago(100))
        receiving.receive(answered, user="anne", now=days_ago(100))
        # BRUNET, one group: the caisse never answers, twice → Traitement manuel.
        (group,) = [
            p
            for p in lots.preview_build(answered, practitioner_id=BRUNET)[0]
            if p.destination == "01281"
        ]
        lots.build_lots(answered, user="anne", invoice_ids=group.invoice_ids, now=days_ago(10))
        sending.send_lots(unanswered, user="anne", now=days_ago(10))
        lots.apply_timeouts(unanswered, user="anne", now=days_ago(7))
        sending.send_lots(unanswered, user="anne", now=days_ago(7))
        lots.apply_timeouts(unanswered, user="anne", now=days_ago(4))
        # GAUTIER: sent and acknowledged yesterday.
        lots.build_lots(answered, user="anne", practitioner_id=GAUTIER, now=days_ago(1))
        sending.send_lots(answered, user="anne", now=days_ago(1))
        receiving.receive(answered, user="anne", now=days_ago(1))
        # BRUNET, the rest: built today, not sent.
        lots.build_lots(answered, user="anne", practitioner_id=BRUNET, now=NOW)
    finally:
        positive.stop()
        silent.stop()


@pytest.fixture(scope="module")
def lots_template(tmp_path_factory) -> Path:
    from tuibill.services import demo, tariffs

    folder = tmp_path_factory.mktemp("lots_journal")
    path = folder / "lots.sqlite"
    db = database.bind(str(path))
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(today=TODAY, story=False)
    _life_cycles(folder)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def lots_db(lots_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "lots.sqlite"
    shutil.copy(lots_template, path)
    database.bind(str(path))
    return str(path)


@pytest.fixture
def app(lots_db, monkeypatch, tmp_path):
    from tuibill.app import TuibillApp

    monkeypatch.setenv("HOME", str(tmp_path))  # where the paper lists are saved by default
    return TuibillApp(user="test")


# --- helpers ------------------------------------------------------------------------------


async def settle(pilot):
    from tuibill.screens.lots_journal import LotsJournalScreen

    screen = pilot.app.screen
    assert isinstance(screen, LotsJournalScreen)
    deadline = time.monotonic() + 10
    while True:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if not screen.is_searching or time.monotonic() > deadline:
            break
    assert not screen.is_searching
    return screen


async def open_journal(pilot):
    await pilot.press("f6")
    return await settle(pilot)


def rows(screen) -> list:
    return [screen.pager.row(i) for i in range(screen.pager.total)]


def screen_lines(table: VirtualTable) -> list[str]:
    return [table.render_line(y).text for y in range(table.scrollable_content_region.height)]


def status(screen) -> str:
    return str(screen.query_one("#lots-status", Static).render())


def in_window():
    return Lot.select().where(Lot.created_at >= datetime.combine(WINDOW, datetime.min.time()))


async def pick_state(pilot, screen, state: LotState) -> None:
    """The État filter, by keys: « Tous » then the states in life-cycle order."""
    await pilot.press("slash", "tab")
    assert screen.focused is screen.query_one("#lf-state", Select)
    await pilot.press("enter", *["down"] * (list(LotState).index(state) + 1), "enter")
    await settle(pilot)
    assert screen.search_filter.state is state


async def open_first(pilot, screen):
    from tuibill.screens.lot_detail import LotDetailScreen

    await pilot.press("enter")
    await pilot.pause()
    detail = pilot.app.screen
    assert isinstance(detail, LotDetailScreen)
    return detail


# --- the journal --------------------------------------------------------------------------


async def test_opens_on_the_lots_of_the_last_two_months(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        expected = in_window().order_by(Lot.created_at.desc(), Lot.id.desc())
        assert 0 < screen.pager.total == expected.count() < Lot.select().count()
        assert [row.id for row in rows(screen)] == [lot.id for lot in expected]
        lines = screen_lines(screen.table)
        assert lines[0].split()[:4] == ["Lot", "État", "du", "lot"]
        shown = "\n".join(lines)
        for label in ("À transmettre", "ARL positif", "Traitement manuel"):
            assert label in shown
        assert f"{expected.count()} lots" in status(screen) and "2 derniers mois" in status(screen)
        assert screen.focused is screen.table


async def test_ctrl_t_searches_the_whole_history(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("ctrl+t")
        await settle(pilot)
        assert screen.pager.total == Lot.select().count()
        assert "sans limite de temps" in status(screen)
        oldest = Lot.select().order_by(Lot.created_at).first()
        assert rows(screen)[-1].id == oldest.id
        await pilot.press("ctrl+t")  # back to 2 months
        await settle(pilot)
        assert screen.pager.total == in_window().count()


async def test_filter_by_state(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pick_state(pilot, screen, LotState.ARL_POSITIF)
        expected = in_window().where(Lot.state == "ARL_POSITIF")
        assert 0 < screen.pager.total == expected.count()
        assert {row.state for row in rows(screen)} == {LotState.ARL_POSITIF}
        assert "ARL positif" in screen_lines(screen.table)[1]
        assert screen.focused is screen.query_one("#lf-state", Select)
        await pilot.press("escape")  # back to the list
        assert screen.focused is screen.table
        await pilot.press("ctrl+r")  # clear the filters
        await settle(pilot)
        assert screen.search_filter.state is None and screen.pager.total == in_window().count()


async def test_a_lot_number_searches_every_date(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pilot.press("slash")
        assert screen.focused is screen.query_one("#lf-number", Input)
        await pilot.press("1", "enter")
        await settle(pilot)
        expected = Lot.select().where(Lot.number == 1)
        assert screen.pager.total == expected.count()
        # LEMAIRE's lot 001, 100 days old, is found without Ctrl+T.
        assert any(row.created_at.date() < WINDOW for row in rows(screen))
        assert "toutes dates" in status(screen)


# --- the detail ---------------------------------------------------------------------------


async def test_enter_opens_the_lot_with_its_invoices_arl_and_history(app) -> None:
    from tuibill.screens.invoice_detail import InvoiceDetailScreen

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pick_state(pilot, screen, LotState.ARL_POSITIF)
        await pilot.press("escape")
        lot = Lot.get_by_id(screen.pager.row(0).id)
        detail = await open_first(pilot, screen)
        title = str(detail.query_one("#ld-title", Static).render())
        assert title == f"Lot {lot.number:03d} (FSE) — ARL positif"
        invoices = detail.query_one("#ld-invoices", DataTable)
        members = {i.id for i in Invoice.select().where(Invoice.lot == lot.id)}
        assert {int(k.value) for k in invoices.rows} == members
        assert invoices.row_count == lot.invoice_count
        received = detail.query_one("#ld-received", DataTable)
        assert received.row_count == 1 and "Traité" in str(received.get_row_at(0))
        history = detail.query_one("#ld-history", DataTable)
        moves = LotTransition.select().where(LotTransition.lot == lot.id)
        assert history.row_count == moves.count() == 4  # built, started, sent, ARL
        assert "ARL positif reçu" in str(history.get_row_at(3))
        # Nothing to delete or decide on an acknowledged lot.
        assert detail.check_action("delete", ()) is False
        assert detail.check_action("resolve", ()) is False
        # Entrée on an invoice opens it; Échap comes back to the lot, then to the journal.
        assert detail.focused is invoices
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, InvoiceDetailScreen)
        assert pilot.app.screen.invoice_id in members
        await pilot.press("escape")
        assert pilot.app.screen is detail
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_delete_a_lot_not_sent_from_its_detail(app) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pick_state(pilot, screen, LotState.A_TRANSMETTRE)
        await pilot.press("escape")
        lot = Lot.get_by_id(screen.pager.row(0).id)
        members = [i.id for i in Invoice.select().where(Invoice.lot == lot.id)]
        detail = await open_first(pilot, screen)
        assert detail.check_action("delete", ()) is True
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert Lot.get_by_id(lot.id).state == LotState.SUPPRIME.value
        assert {i.state for i in Invoice.select().where(Invoice.id.in_(members))} == {"VALIDEE"}
        assert "— Supprimé" in str(detail.query_one("#ld-title", Static).render())
        assert detail.check_action("delete", ()) is False
        # Back in the journal, filtered on « À transmettre »: the lot has left the list.
        await pilot.press("escape")
        await settle(pilot)
        assert lot.id not in {row.id for row in rows(screen)}


async def test_paper_list_of_a_lot_in_manual_treatment(app, tmp_path, monkeypatch) -> None:
    # A print command that keeps what it is given (CUPS' « lp » reads the document on stdin).
    printed = tmp_path / "printed.txt"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cat = shutil.which("cat")
    (bin_dir / "lp").write_text(f"#!/bin/sh\n{cat} > {printed}\n", encoding="utf-8")
    (bin_dir / "lp").chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pick_state(pilot, screen, LotState.TRAITEMENT_MANUEL)
        await pilot.press("escape")
        assert screen.pager.total == 1
        lot = Lot.get_by_id(screen.pager.row(0).id)
        detail = await open_first(pilot, screen)
        info = str(detail.query_one("#ld-info", Static).render())
        assert "Traitement manuel : envoyez ce lot sur papier" in info
        await pilot.press("p")
        await pilot.pause()
        from tuibill.dialogs.paper_list import PaperListDialog

        paper = pilot.app.screen
        assert isinstance(paper, PaperListDialog)
        assert paper.text.startswith(f"TRAITEMENT MANUEL - envoi papier du lot {lot.number:03d}")
        await pilot.press("s")  # save: the proposed name, in the home directory
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        (saved,) = tmp_path.glob(f"lot-*-{lot.number:03d}-*.txt")
        assert saved.read_text(encoding="utf-8") == paper.text
        assert saved.with_suffix(".csv").read_text(encoding="utf-8-sig").startswith("lot;facture")
        await pilot.press("i")  # print: the same text, to the default printer
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert printed.read_text(encoding="utf-8") == paper.text
        await pilot.press("escape")
        assert pilot.app.screen is detail


async def test_details_keep_their_header_and_reach_the_last_history_row(app) -> None:
    """Issue 13 #13: at 80×24 the lot in « Traitement manuel » and an invoice opened from it
    keep their title and facts on screen, and Tab then Fin shows the last history row."""
    from tests.support.screen_text import screen_text
    from tuibill.domain.formatting import format_short_when
    from tuibill.domain.invoices import history_label as invoice_label
    from tuibill.domain.lots import history_label as lot_label
    from tuibill.models import InvoiceTransition
    from tuibill.screens.invoice_detail import InvoiceDetailScreen

    async def last_history_row_shown(detail, history_id: str, expected: list[str]) -> str:
        for _ in range(6):
            if detail.focused is detail.query_one(history_id):
                break
            await pilot.press("tab")
        assert detail.focused is detail.query_one(history_id)
        await pilot.press("end")
        await pilot.pause()
        shown = screen_text(pilot.app)
        assert all(text in shown for text in expected), shown
        return shown

    async with app.run_test(size=SIZE) as pilot:
        screen = await open_journal(pilot)
        await pick_state(pilot, screen, LotState.TRAITEMENT_MANUEL)
        await pilot.press("escape")
        lot = Lot.get_by_id(screen.pager.row(0).id)
        detail = await open_first(pilot, screen)
        last = (
            LotTransition.select()
            .where(LotTransition.lot == lot.id)
            .order_by(LotTransition.id.desc())
            .first()
        )
        assert LotTransition.select().where(LotTransition.lot == lot.id).count() >= 5
        shown = await last_history_row_shown(
            detail, "#ld-history", [format_short_when(last.at), lot_label(last.action)]
        )
        assert f"Lot {lot.number:03d} (FSE)" in shown and "Praticien :" in shown

        await pilot.press("shift+tab")  # back to the invoices, and open the first one
        while detail.focused is not detail.query_one("#ld-invoices"):
            await pilot.press("shift+tab")
        await pilot.press("home", "enter")
        await pilot.pause()
        invoice = pilot.app.screen
        assert isinstance(invoice, InvoiceDetailScreen)
        move = (
            InvoiceTransition.select()
            .where(InvoiceTransition.invoice == invoice.invoice_id)
            .order_by(InvoiceTransition.id.desc())
            .first()
        )
        shown = await last_history_row_shown(
            invoice, "#detail-history", [format_short_when(move.at), invoice_label(move.action)]
        )
        assert "Facture n°" in shown and "Patient      :" in shown
