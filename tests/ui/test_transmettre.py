"""Transmettre (F3), driven by keys only at 80×24, on a fresh copy of the demo practice, with the
caisse simulator running in-process on SMTP (its answers land in a maildir read as the inbox).

The demo is built once per module (through the real services) and copied for each test, so
every test starts from the same 61 Validée invoices and may change them freely.
"""

from __future__ import annotations

import mailbox
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from tuibill.config import MailboxSettings, Settings, SmtpSettings, TransmissionSettings
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.lots import LotState
from tuibill.models import Invoice, Lot, LotTransition, Organism, database, schema
from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse
from tuibill.simulator.scenarios import Answer, FixedScenario

SIZE = (80, 24)
TODAY = date.today()
SENDER = "cabinet.tilleuls@example.org"
CAISSES = {
    "01281": "lots@cpam-chartres.example",
    "01594": "lots@cpam-flandres.example",
    "01595": "lots@cpam-lille.example",
    "02028": "lots@msa-beauce.example",
}
GAUTIER = 1  # the demo's nurse whose number the demo CPS carries (281234567)


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from tuibill.services import demo, tariffs

    path = tmp_path_factory.mktemp("transmettre") / "demo.sqlite"
    db = database.bind(str(path))
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(today=TODAY, story=False)
    # Fold the WAL into the file so that a plain copy holds everything.
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    database.bind(str(path))
    return str(path)


@dataclass
class Caisse:
    server: SmtpCaisse
    simulator: CaisseSimulator
    maildir: Path
    settings: Settings

    def mails(self) -> int:
        """Answer mails waiting in the practice's inbox."""
        return len(mailbox.Maildir(self.maildir, create=False).keys())


def transmission(tmp_path: Path, port: int) -> TransmissionSettings:
    return TransmissionSettings(
        archive_dir=str(tmp_path / "archive"),
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none", sender=SENDER),
        mailbox=MailboxSettings(protocol="inbox", folder=str(tmp_path / "Maildir")),
        caisses=dict(CAISSES),
    )


@pytest.fixture
def start_caisse(tmp_path, demo_db) -> Iterator[Callable[..., Caisse]]:
    """The simulated caisse on a free port; it answers into tmp/Maildir (the inbox)."""
    servers: list[SmtpCaisse] = []

    def start(answer: str = "positive") -> Caisse:
        maildir = tmp_path / "Maildir"
        simulator = CaisseSimulator(maildir, FixedScenario((Answer(answer),)))
        server = SmtpCaisse(simulator, port=0)
        server.start()
        servers.append(server)
        settings = Settings(transmission=transmission(tmp_path, server.port))
        return Caisse(server, simulator, maildir, settings)

    yield start
    for server in servers:
        server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- helpers ------------------------------------------------------------------------------


def make_app(settings: Settings):
    from tuibill.app import TuibillApp

    return TuibillApp(settings=settings, user="test")


async def settle(pilot, screen=None) -> None:
    """Let the worker threads finish and their outcome reach the screen."""
    deadline = time.monotonic() + 20
    while True:
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        busy = getattr(screen, "busy", "") if screen is not None else ""
        if not busy or time.monotonic() > deadline:
            break
    assert not busy, f"still busy: {busy}"


async def open_transmettre(pilot):
    from tuibill.screens.transmettre import TransmettreScreen

    await pilot.press("f3")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TransmettreScreen)
    return screen


def dialog_text(pilot) -> str:
    from tuibill.dialogs.text_view import TextDialog

    dialog = pilot.app.screen
    assert isinstance(dialog, TextDialog), type(dialog).__name__
    return str(dialog.query_one("#td-title", Static).render()) + "\n" + dialog.text


def states(model, ids) -> set[str]:
    return {row.state for row in model.select(model.state).where(model.id.in_(list(ids)))}


def validated_ids() -> list[int]:
    return [i.id for i in Invoice.select().where(Invoice.state == InvoiceState.VALIDEE.value)]


def build(settings: Settings, **kwargs):
    from tuibill.services import lots

    return lots.build_lots(settings.transmission, user="test", **kwargs)


# --- « FSE à transmettre » ----------------------------------------------------------------


async def test_f3_shows_the_validated_invoices_per_practitioner_and_caisse(start_caisse) -> None:
    from tuibill.services.transmit_lists import validated_groups

    caisse = start_caisse()
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        groups = validated_groups()
        total = len(validated_ids())
        assert total == sum(g.count for g in groups) > 0
        assert f"1 FSE à transmettre ({total})" in str(screen.query_one("#tx-tabs").render())
        table = screen.query_one("#tx-groups", DataTable)
        assert table.row_count == len(groups)
        first = groups[0]
        assert table.get_row_at(0)[1].plain == first.practitioner
        assert str(first.count) in str(table.get_row_at(0)[3])
        # The invoices of the highlighted group, in lot order.
        invoices = screen.query_one("#tx-invoices", DataTable)
        assert invoices.row_count == first.count
        expected = (
            Invoice.select(Invoice.id)
            .join(Organism)
            .where(
                (Invoice.state == "VALIDEE")
                & (Invoice.practitioner == first.practitioner_id)
                & (Organism.regime == first.destination[:2])
                & (Organism.caisse == first.destination[2:])
            )
        )
        assert {int(k.value) for k in invoices.rows} == {i.id for i in expected}
        # Down moves to the next group: its invoices follow.
        await pilot.press("down")
        await pilot.pause()
        assert invoices.row_count == groups[1].count
        # Entrée: into the group's invoices, Entrée again: the invoice itself.
        await pilot.press("enter")
        assert screen.focused is invoices
        await pilot.press("enter")
        await pilot.pause()
        from tuibill.screens.invoice_detail import InvoiceDetailScreen

        assert isinstance(pilot.app.screen, InvoiceDetailScreen)
        await pilot.press("escape")
        assert pilot.app.screen is screen


async def test_building_the_lots_also_builds_the_validated_dres_lots(start_caisse) -> None:
    """Issue 9 §5: « b » puts the validated DREs (part mutuelle in tiers payant) of the invoices
    it lots into their own lots, and says so."""
    from tuibill.models import Dre
    from tuibill.services import dre

    caisse = start_caisse()
    before = validated_ids()
    with_dre = [i for (i,) in Dre.select(Dre.invoice).where(Dre.invoice.in_(before)).tuples()]
    assert with_dre  # the demo has mutualists in tiers payant
    for invoice_id in with_dre:
        dre.validate(invoice_id, user="test")
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        await pilot.press("b")
        await settle(pilot, screen)
        await pilot.press("o")
        await settle(pilot, screen)
        summary = dialog_text(pilot)
    dre_lots = list(Lot.select().where(Lot.kind == "DRE"))
    assert dre_lots and "Lot de DRE" in summary, summary
    assert sum(lot.invoice_count for lot in dre_lots) == len(with_dre)


async def test_build_send_and_receive_the_arls(start_caisse) -> None:
    caisse = start_caisse()
    before = validated_ids()
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)

        # b: a preview first (nothing written yet), then the lots.
        await pilot.press("b")
        await settle(pilot, screen)
        preview = dialog_text(pilot)
        assert "Constituer ces lots ?" in preview and f"pour {len(before)} facture(s)" in preview
        assert Lot.select().count() == 0
        await pilot.press("o")
        await settle(pilot, screen)
        summary = dialog_text(pilot)
        lots = list(Lot.select().where(Lot.kind == "FSE"))
        assert len(lots) >= 9  # one per practitioner and caisse
        assert f"{len(lots)} lot(s) de FSE constitué(s) : {len(before)} facture(s)" in summary
        assert states(Invoice, before) == {InvoiceState.A_TRANSMETTRE.value}
        assert states(Lot, [lot.id for lot in lots]) == {LotState.A_TRANSMETTRE.value}
        await pilot.press("escape")
        # The lots wait in « Fichier à transmettre », where the screen went.
        table = screen.query_one("#tx-lots", DataTable)
        assert screen.tab == "tx-tab-fichiers" and screen.focused is table
        assert table.row_count == Lot.select().count()

        # t: every lot, after a confirmation.
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("o")
        await settle(pilot, screen)
        summary = dialog_text(pilot)
        sent = Lot.select().count()
        assert f"{sent} lot(s) transmis." in summary, summary
        assert states(Lot, [lot.id for lot in Lot.select()]) == {LotState.TRANSMIS.value}
        assert states(Invoice, before) == {InvoiceState.TRANSMISE.value}
        # The caisse read every lot and answered each with an ARL.
        assert sum(caisse.simulator.state.receptions.values()) == sent
        assert caisse.mails() == sent
        await pilot.press("escape")
        assert table.row_count == 0

        # r: the ARLs, fetched from the inbox and applied.
        await pilot.press("r")
        await settle(pilot, screen)
        summary = dialog_text(pilot)
        assert f"{sent} message(s) lu(s), {sent} fichier(s) enregistré(s)" in summary
        assert "ARL positif, reçu par la caisse" in summary
        assert states(Lot, [lot.id for lot in Lot.select()]) == {LotState.ARL_POSITIF.value}
        assert caisse.mails() == 0
        await pilot.press("escape")
        status = str(screen.query_one("#tx-status", Static).render())
        assert status.startswith(f"{sent} message(s) lu(s)")


async def test_only_the_selected_invoices_go_in_lots(start_caisse) -> None:
    caisse = start_caisse()
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        invoices = screen.query_one("#tx-invoices", DataTable)
        chosen = [int(key.value) for key in list(invoices.rows)[:2]]
        await pilot.press("enter")  # into the first group's invoices
        await pilot.press("space", "space")  # Espace marks and moves down
        assert screen.marked == set(chosen)
        assert "2 facture(s) sélectionnée(s)" in str(screen.query_one("#tx-status").render())
        await pilot.press("b")
        await settle(pilot, screen)
        assert "pour 2 facture(s)" in dialog_text(pilot)
        await pilot.press("o")
        await settle(pilot, screen)
        (lot,) = Lot.select()
        assert (lot.invoice_count, lot.state) == (2, "A_TRANSMETTRE")
        assert states(Invoice, chosen) == {"A_TRANSMETTRE"}
        assert screen.marked == set()


async def test_delete_a_lot_not_sent(start_caisse) -> None:
    caisse = start_caisse()
    report = build(caisse.settings, practitioner_id=GAUTIER)
    first = report.lots[0]
    ids = [i.id for i in Invoice.select().where(Invoice.lot == first.id)]
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        await pilot.press("3")
        table = screen.query_one("#tx-lots", DataTable)
        assert screen.focused is table and table.row_count == len(report.lots)
        assert "Suppr" in str(screen.query_one("#tx-hint").render())
        await pilot.press("delete")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        assert Lot.get_by_id(first.id).state == LotState.SUPPRIME.value
        assert states(Invoice, ids) == {InvoiceState.VALIDEE.value}
        assert all(i.lot_id is None for i in Invoice.select().where(Invoice.id.in_(ids)))
        assert table.row_count == len(report.lots) - 1
        assert str(len(validated_ids())) in str(screen.query_one("#tx-tabs").render())


async def test_an_uncertain_sending_is_resolved_from_the_screen(start_caisse) -> None:
    from tuibill.services import sending

    caisse = start_caisse()
    report = build(caisse.settings, practitioner_id=GAUTIER)
    went, stayed = report.lots[0], report.lots[1]

    def crash(lot):  # the desk dies after the server took the mail, before recording it
        raise RuntimeError("coupure")

    for lot in (went, stayed):
        with pytest.raises(RuntimeError):
            sending.send_lots(
                caisse.settings.transmission, user="test", lot_ids=[lot.id], on_accepted=crash
            )
    assert states(Lot, [went.id, stayed.id]) == {"EN_COURS"}
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        assert "3 Fichier à transmettre" in str(screen.query_one("#tx-tabs").render())
        assert "!" in str(screen.query_one("#tx-tabs").render())
        await pilot.press("3")
        warning = screen.query_one("#tx-warning", Static)
        assert warning.display and "2 lot(s) « En cours »" in str(warning.render())
        table = screen.query_one("#tx-lots", DataTable)
        # The uncertain ones come first; e (send) is not offered on them, i is.
        order = [int(k.value) for k in table.rows]
        assert set(order[:2]) == {went.id, stayed.id}
        await pilot.press(*["down"] * order.index(went.id))
        assert screen.current_lot().id == went.id
        assert screen.check_action("send_one", ()) is False
        assert screen.check_action("resolve", ()) is True

        await pilot.press("i")  # « Envoyé »: the mail server's log shows it went out
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        await pilot.press(*"journal", "enter")
        await pilot.pause()
        lot = Lot.get_by_id(went.id)
        assert lot.state == LotState.TRANSMIS.value and lot.send_count == 1
        assert states(Invoice, [i.id for i in Invoice.select().where(Invoice.lot == went.id)]) == {
            "TRANSMISE"
        }
        last = (
            LotTransition.select()
            .where(LotTransition.lot == went.id)
            .order_by(LotTransition.id.desc())[0]
        )
        assert (last.action, last.reason, last.user) == ("resolve_sent", "journal", "test")

        # « Pas envoyé »: back among the lots to send, sent by the next « t ».
        order = [int(k.value) for k in table.rows]
        await pilot.press("home", *["down"] * order.index(stayed.id))
        assert screen.current_lot().id == stayed.id
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("enter")  # no reason given
        await pilot.pause()
        assert Lot.get_by_id(stayed.id).state == LotState.A_TRANSMETTRE.value
        assert not screen.query_one("#tx-warning", Static).display


async def test_a_server_down_is_reported_lot_by_lot(start_caisse, tmp_path) -> None:
    caisse = start_caisse()
    settings = Settings(transmission=transmission(tmp_path, free_port()))  # nobody listens
    report = build(settings, practitioner_id=GAUTIER)
    async with make_app(settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        await pilot.press("t")
        await pilot.pause()
        await pilot.press("o")
        await settle(pilot, screen)
        summary = dialog_text(pilot)
        assert f"0 lot(s) transmis, {len(report.lots)} non envoyé(s)." in summary
        assert "Non envoyé : lot(s) 001 (GAUTIER Anne)" in summary
        await pilot.press("escape")
        assert "non envoyé" in str(screen.query_one("#tx-status", Static).render())
        for lot in Lot.select():
            assert lot.state == "A_TRANSMETTRE" and lot.last_error
    assert caisse.mails() == 0


async def test_the_time_out_check_offers_the_identical_re_sending(start_caisse) -> None:
    from tuibill.services import sending

    caisse = start_caisse("silent")  # the caisse never answers
    report = build(caisse.settings, practitioner_id=GAUTIER)
    long_ago = datetime.now() - timedelta(hours=60)
    sending.send_lots(caisse.settings.transmission, user="test", now=long_ago)
    ids = [lot.id for lot in report.lots]
    files = {lot.id: lot.file_sha256 for lot in Lot.select()}
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        await pilot.press("d")
        await settle(pilot, screen)
        question = dialog_text(pilot)
        assert f"Sans ARL 48 h après l'envoi : {len(ids)} lot(s)" in question
        assert "Les renvoyer maintenant ?" in question
        assert states(Lot, ids) == {LotState.ARL_NEGATIF.value}
        await pilot.press("o")
        await settle(pilot, screen)
        assert f"{len(ids)} lot(s) transmis." in dialog_text(pilot)
    for lot in Lot.select():
        # The same file, sent a second time.
        assert (lot.state, lot.send_count, lot.file_sha256) == ("TRANSMIS", 2, files[lot.id])
    assert sum(caisse.simulator.state.receptions.values()) == 2 * len(ids)


# --- « FSE à sécuriser » ------------------------------------------------------------------


def semi_secured(count: int) -> list[int]:
    """« À charger » invoices of GAUTIER loaded in the (emulated) portable reader, secured at
    the patient's home with a CPE, unloaded: « À sécuriser »."""
    from tuibill.hardware.tla import CardType as DeviceCard
    from tuibill.hardware.tla import EmulatedPortableReader
    from tuibill.services import tla_transfer

    ids = [
        i.id
        for i in Invoice.select().where(
            (Invoice.state == "A_CHARGER") & (Invoice.practitioner == GAUTIER)
        )
    ][:count]
    device = EmulatedPortableReader()
    tla_transfer.load_prepared(device, "test", invoice_ids=ids)
    device.device.secure(None, DeviceCard.CPE, "Julie PETIT")
    tla_transfer.unload(device, "test")
    assert states(Invoice, ids) == {"A_SECURISER"}
    return ids


async def test_secure_the_selected_invoices_with_the_cps(start_caisse) -> None:
    caisse = start_caisse()
    first, second = semi_secured(2)
    async with make_app(caisse.settings).run_test(size=SIZE) as pilot:
        screen = await open_transmettre(pilot)
        assert "2 FSE à sécuriser (2)" in str(screen.query_one("#tx-tabs").render())
        await pilot.press("2")
        table = screen.query_one("#tx-secure", DataTable)
        assert screen.focused is table and table.row_count == 2
        assert screen.check_action("build", ()) is False
        target = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        await pilot.press("space")  # one of them only
        await pilot.press("s")
        from tuibill.dialogs.pin_entry import PinDialog

        deadline = time.monotonic() + 10
        while not isinstance(pilot.app.screen, PinDialog) and time.monotonic() < deadline:
            await pilot.pause(0.05)
        assert isinstance(pilot.app.screen, PinDialog)
        await pilot.press(*"1234", "enter")
        await settle(pilot, screen)
        assert Invoice.get_by_id(target).state == InvoiceState.VALIDEE.value
        other = second if target == first else first
        assert Invoice.get_by_id(other).state == InvoiceState.A_SECURISER.value
        assert table.row_count == 1
        assert "1 FSE sécurisée(s)" in str(screen.query_one("#tx-status", Static).render())
