"""F4 « Lecteur », driven by keys at 80×24 on a copy of the demo practice: the card readers
live, the demo Vitale read into the file, the emulated TLA (a temporary state file) identified,
loaded, secured « at the patient's home » and unloaded; the SESAM-Vitale helpers' dialogs."""

from __future__ import annotations

import shutil
from datetime import date, time, timedelta
from pathlib import Path
from time import monotonic

import pytest

from tuibill.config import DeviceSettings, Settings
from tuibill.domain.acts import Act
from tuibill.hardware.cards import demo_card_reader
from tuibill.hardware.tla import CardType
from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.models import Invoice, Patient, Practitioner, database, schema

SIZE = (80, 24)
TODAY = date.today()


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from tuibill.services import demo, tariffs

    path = tmp_path_factory.mktemp("lecteur") / "demo.sqlite"
    db = database.bind(str(path))
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(today=TODAY, story=False)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "demo.sqlite"
    shutil.copy(demo_template, path)
    database.bind(str(path))
    return str(path)


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "tla.json"


@pytest.fixture
def app(demo_db, state_file):
    from tuibill.app import TuibillApp

    settings = Settings(devices=DeviceSettings(tla_url=f"emulated:{state_file}"))
    return TuibillApp(settings=settings, user="test")


@pytest.fixture(autouse=True)
def demo_cards():
    """The process-wide demo bench, as the demo starts: put back whatever a test pulled."""
    bench = demo_card_reader()
    vitale, cps = bench.card_in(0), bench.card_in(1)
    yield bench
    bench.insert(vitale, slot=0)
    bench.insert(cps, slot=1)


async def wait_until(pilot, condition, timeout: float = 8.0) -> None:
    deadline = monotonic() + timeout
    while not condition():
        if monotonic() > deadline:
            raise AssertionError("condition never met")
        await pilot.pause(0.05)


async def open_lecteur(pilot):
    from tuibill.screens.lecteur import LecteurScreen

    await pilot.press("f4")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, LecteurScreen)
    await wait_until(pilot, lambda: screen.identity is not None and not screen.busy)
    return screen


def text_of(screen, selector: str) -> str:
    from textual.widgets import Static

    return str(screen.query_one(selector, Static).render())


def states(ids: list[int]) -> list[str]:
    return [Invoice.get_by_id(i).state for i in ids]


# --- the card readers and the Vitale -------------------------------------------------------------


async def test_readers_live_and_the_vitale_into_the_file(app, demo_cards) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lecteur(pilot)
        await wait_until(pilot, lambda: "Claire DUBOIS" in text_of(screen, "#lecteur-cards"))
        assert "Carte Vitale 2" in text_of(screen, "#lecteur-cards")
        assert "3 essai(s)" in text_of(screen, "#lecteur-cards")

        # Cards come and go: the panel follows.
        vitale = demo_cards.remove(0)
        await wait_until(pilot, lambda: "aucune carte" in text_of(screen, "#lecteur-cards"))
        await pilot.press("v")
        await wait_until(pilot, lambda: "Aucune carte Vitale" in text_of(screen, "#lecteur-status"))
        demo_cards.insert(vitale, slot=0)
        await wait_until(pilot, lambda: "Carte Vitale 2" in text_of(screen, "#lecteur-cards"))

        await pilot.press("v")
        table = screen.query_one("#lecteur-vitale")
        await wait_until(pilot, lambda: table.row_count == 3)
        assert "3 absent(s) du fichier" in text_of(screen, "#lecteur-status")

        # Entrée: the dialog proposes to create the assuré; Entrée creates.
        await pilot.press("enter")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "VitalePatientDialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        sophie = Patient.get(Patient.nir == "282032808504251")
        assert (sophie.first_name, sophie.quality) == ("Sophie", "00")
        assert str(table.get_row_at(0)[4]) == "Dans le fichier"

        # The daughter: a child of the assuré by default; the assuré's file is linked.
        await pilot.press("down", "down", "enter")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "VitalePatientDialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: pilot.app.screen is screen)
        lea = Patient.get(Patient.nir == "212062808511759")
        assert (lea.quality, lea.insured_id) == ("06", sophie.id)


# --- the portable reader ---------------------------------------------------------------------


async def test_tla_identify_load_unload_by_keys(app, state_file) -> None:
    prepared = [i.id for i in Invoice.select().where(Invoice.state == "A_CHARGER")]
    assert prepared
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lecteur(pilot)
        assert "0/50 factures" in text_of(screen, "#lecteur-tla-info")
        assert f"À charger : {len(prepared)}" in text_of(screen, "#lecteur-status")

        await pilot.press("c")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmDialog")
        await pilot.press("o")
        table = screen.query_one("#lecteur-tla")
        await wait_until(pilot, lambda: table.row_count == len(prepared) and not screen.busy)
        assert set(states(prepared)) == {"CHARGEE_TLA"}
        assert f"{len(prepared)}/50 factures" in text_of(screen, "#lecteur-tla-info")

        # Erasing an invoice the desk counts as loaded would strand it: refused, in French, at
        # once — never asked, then refused (issue 13 #17).
        await pilot.press("e")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ != "ConfirmDialog"
        assert "bloquerait" in text_of(screen, "#lecteur-status")
        assert table.row_count == len(prepared)

        # At the patients' homes.
        device = TlaDevice(state_file)
        keys = [stored.key for stored in device.stored()]
        for key in keys[:2]:  # each with the CPS of its exécutant (the key starts with his AM)
            device.secure([key], CardType.CPS, ps_number=key.partition("-")[0])
        device.secure(keys[2:3], CardType.CPE)
        await pilot.press("i")
        await wait_until(pilot, lambda: not screen.busy)
        assert "Sécurisée" in [str(table.get_row_at(r)[3]) for r in range(table.row_count)]

        await pilot.press("d")
        await wait_until(pilot, lambda: table.row_count == len(prepared) - 3 and not screen.busy)
        by_key = {Invoice.get_by_id(i).tla_key: Invoice.get_by_id(i).state for i in prepared}
        assert [by_key[k] for k in keys[:3]] == ["VALIDEE", "VALIDEE", "A_SECURISER"]
        assert "À sécuriser : 1" in text_of(screen, "#lecteur-status")

        # The clock.
        await pilot.press("h")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmDialog")
        await pilot.press("o")
        await wait_until(pilot, lambda: not screen.busy and abs(screen.clock_drift) <= 1)


async def test_a_dead_line_is_said_in_french(demo_db, tmp_path) -> None:
    from tuibill.app import TuibillApp

    settings = Settings(devices=DeviceSettings(tla_url=str(tmp_path / "ttyAbsent"), tla_retries=0))
    async with TuibillApp(settings=settings, user="test").run_test(size=SIZE) as pilot:
        from tuibill.screens.lecteur import LecteurScreen

        await pilot.press("f4")
        screen = pilot.app.screen
        assert isinstance(screen, LecteurScreen)
        await wait_until(pilot, lambda: "Impossible d'ouvrir" in text_of(screen, "#lecteur-status"))
        assert "Vérifiez le câble" in text_of(screen, "#lecteur-status")
        assert not screen.busy


# --- the SESAM-Vitale helpers (bound in Facturer) ----------------------------------------------


def sophie_invoice(first_name: str = "Sophie") -> int:
    from tuibill.services import invoices as invoice_service
    from tuibill.services import patients

    nurse = Practitioner.get(Practitioner.am_number == "281234567")  # the demo CPS's number
    patient = patients.create_patient(
        patients.PatientInput(
            last_name="MARTIN",
            first_name=first_name,
            birth_date=date(1982, 3, 14),
            nir="282032808504251",
            organism_id=1,
        )
    )
    act = Act(
        act_date=TODAY - timedelta(days=1), code="AMI", act_time=time(9), home_visit=True
    )
    return invoice_service.create_invoice(nurse.id, patient.id, [act], user="test").id


async def test_validate_with_cards_dialogs(app) -> None:
    from tuibill.screens.sesam_actions import validate_with_cards

    invoice_id = sophie_invoice("Sofie")  # the file's spelling differs from the card's
    outcomes = []
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lecteur(pilot)
        await validate_with_cards(screen, [invoice_id], on_done=outcomes.append)

        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "VitalePatientDialog")
        dialog = pilot.app.screen
        await wait_until(pilot, lambda: "mettre la fiche à jour" in text_of(dialog, "#vitale-hint"))
        await pilot.press("enter")  # update the file from the card, then sign
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "PinDialog")
        await wait_until(pilot, lambda: "3 essais" in text_of(pilot.app.screen, "#pin-tries"))
        await pilot.press(*"0000", "enter")
        await wait_until(
            pilot,
            lambda: (
                type(pilot.app.screen).__name__ == "PinDialog"
                and "il reste 2" in text_of(pilot.app.screen, "#pin-error")
            ),
        )
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: outcomes != [])

    invoice = Invoice.get_by_id(invoice_id)
    assert (invoice.state, invoice.mode) == ("VALIDEE", "sesam_vitale")
    assert Patient.get_by_id(invoice.patient_id).first_name == "Sophie"
    assert [i.id for i in outcomes[0].done] == [invoice_id]


async def test_secure_batch_by_key(app, state_file) -> None:
    from tuibill.hardware.tla import EmulatedPortableReader
    from tuibill.services import invoices as invoice_service
    from tuibill.services import tla_transfer

    invoice_id = sophie_invoice()
    invoice_service.prepare(invoice_id, user="test")
    reader = EmulatedPortableReader(state_file)
    tla_transfer.load_prepared(reader, "test", invoice_ids=[invoice_id])
    reader.device.secure(None, CardType.CPE)
    tla_transfer.unload(reader, "test")
    assert Invoice.get_by_id(invoice_id).state == "A_SECURISER"

    async with app.run_test(size=SIZE) as pilot:
        await open_lecteur(pilot)
        await pilot.press("s")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "PinDialog")
        await pilot.press("escape")  # giving up changes nothing
        await pilot.pause(0.2)
        assert Invoice.get_by_id(invoice_id).state == "A_SECURISER"
        await pilot.press("s")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "PinDialog")
        await pilot.press(*"1234", "enter")
        await wait_until(pilot, lambda: Invoice.get_by_id(invoice_id).state == "VALIDEE")


async def test_vitale_1_offers_the_mode_dégradé(app, demo_cards) -> None:
    from tuibill.hardware.cards.data import CardType as CardKind
    from tuibill.hardware.cards.emulator_cards import SilentCard
    from tuibill.screens.sesam_actions import validate_with_cards

    invoice_id = sophie_invoice()
    demo_cards.insert(SilentCard(CardKind.VITALE_1), slot=0)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lecteur(pilot)
        await wait_until(pilot, lambda: "Carte Vitale 1" in text_of(screen, "#lecteur-cards"))
        await pilot.press("v")
        await wait_until(pilot, lambda: "mode dégradé" in text_of(screen, "#lecteur-status"))

        await validate_with_cards(screen, [invoice_id])
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmDialog")
        await pilot.press("o")
        await wait_until(pilot, lambda: Invoice.get_by_id(invoice_id).state == "VALIDEE")
    assert Invoice.get_by_id(invoice_id).mode == "degrade"


async def test_an_invoice_loaded_but_not_secured_comes_back_from_facturer(app, state_file) -> None:
    """Issue 13 #17: « Chargée dans le TLA » had no way back in the screens. In Facturer's
    « Factures non validées », « a » (Annuler préparation) names it, erases it from the portable
    reader, and puts it back in Saisie."""
    from tests.support.screen_text import dialog_text

    prepared = [i.id for i in Invoice.select().where(Invoice.state == "A_CHARGER")]
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lecteur(pilot)
        await pilot.press("c")
        await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "ConfirmDialog")
        await pilot.press("o")
        await wait_until(pilot, lambda: set(states(prepared)) == {"CHARGEE_TLA"} and not screen.busy)
        target = Invoice.get_by_id(prepared[0])
        await pilot.press("f2", "2")
        await pilot.pause()
        facturer = pilot.app.screen
        facturer.query_one("#crit-practitioner").value = target.practitioner_id
        await pilot.pause()
        facturer.query_one("#facturer-table").focus()
        await pilot.pause()
        key = f"invoice:{target.id}"
        assert key in facturer.rows  # listed, « Chargée TLA »
        index = list(facturer.rows).index(key)
        await pilot.press("home", *["down"] * index, "a")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "ConfirmDialog"
        assert target.patient.display_name in dialog_text(pilot.app)
        await pilot.press("o")
        await wait_until(pilot, lambda: Invoice.get_by_id(target.id).state == "SAISIE")
        assert target.tla_key not in [stored.key for stored in TlaDevice(state_file).stored()]
        assert Invoice.get_by_id(target.id).tla_key is None
