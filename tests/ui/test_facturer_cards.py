"""Facturer's « Valider avec les cartes » (V): Vitale + CPS on the emulated reader, by keys."""

from __future__ import annotations

from datetime import date, timedelta

from tests.conftest import make_db
from tuibill.app import TuibillApp
from tuibill.domain.acts import Act


async def test_validate_with_vitale_and_cps_from_facturer(tmp_path) -> None:
    from tuibill.config import Settings
    from tuibill.domain.public_holidays import is_sunday_or_holiday
    from tuibill.hardware.cards import open_card_reader
    from tuibill.models import Invoice, Organism
    from tuibill.services import invoices as invoice_service
    from tuibill.services import securing, vitale_patients
    from tuibill.services.demo import build_demo
    from tuibill.services.practice import find_practitioner

    make_db(tmp_path / "demo.sqlite")
    build_demo(today=date.today(), story=False)
    settings = Settings()  # emulated card reader: a Vitale (MARTIN family) and a CPS 281234567
    reader = open_card_reader(settings.devices)
    reading = vitale_patients.read_card_patients(reader)
    patient = vitale_patients.create_patient_from_card(
        reading, 0, organism_id=Organism.select().first().id
    )
    day = date.today() - timedelta(days=1)
    while is_sunday_or_holiday(day):
        day -= timedelta(days=1)
    nurse = find_practitioner("281234567")
    invoice = invoice_service.create_invoice(
        nurse.id, patient.id, [Act(act_date=day, code="AMI")], user="test"
    )

    app = TuibillApp(settings=settings, user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2", "2")
        await pilot.pause()
        # GAUTIER Anne holds the CPS; her invoice billed today is the first row.
        app.screen.query_one("#crit-practitioner").value = nurse.id
        await pilot.pause()
        app.screen.query_one("#facturer-table").focus()
        await pilot.pause()
        table = app.screen.query_one("DataTable")
        assert "MARTIN" in str(table.get_row_at(0))
        await pilot.press("V")
        for _ in range(50):  # the card is read in a worker, then the PIN is asked
            await pilot.pause(0.1)
            if type(app.screen).__name__ == "PinDialog":
                break
        notes = [n.message for n in app._notifications]
        assert type(app.screen).__name__ == "PinDialog", (notes, app.screen.notice)
        await pilot.press(*"1234", "enter")
        for _ in range(50):
            await pilot.pause(0.1)
            if Invoice.get_by_id(invoice.id).state == "VALIDEE":
                break
    done = Invoice.get_by_id(invoice.id)
    assert done.state == "VALIDEE" and done.mode == "sesam_vitale"
    assert done.secured_with_vitale and done.signature and "281234567" in done.signer
    assert securing.verify_invoice_signature(done)


def _card_setup(tmp_path, practitioner_am: str):
    from tuibill.config import Settings
    from tuibill.domain.public_holidays import is_sunday_or_holiday
    from tuibill.hardware.cards import open_card_reader
    from tuibill.models import Organism
    from tuibill.services import invoices as invoice_service
    from tuibill.services import vitale_patients
    from tuibill.services.demo import build_demo
    from tuibill.services.practice import find_practitioner

    make_db(tmp_path / "demo.sqlite")
    build_demo(today=date.today())
    settings = Settings()  # emulated card reader: a Vitale (MARTIN family) and a CPS 281234567
    reader = open_card_reader(settings.devices)
    reading = vitale_patients.read_card_patients(reader)
    patient = vitale_patients.create_patient_from_card(
        reading, 0, organism_id=Organism.select().first().id
    )
    day = date.today() - timedelta(days=1)
    while is_sunday_or_holiday(day):
        day -= timedelta(days=1)
    practitioner = find_practitioner(practitioner_am)
    invoice = invoice_service.create_invoice(
        practitioner.id, patient.id, [Act(act_date=day, code="AMI")], user="test"
    )
    return settings, practitioner, invoice, reader


async def _press_v_on_the_invoice(app, pilot, practitioner) -> None:
    await pilot.press("f2", "2")
    await pilot.pause()
    app.screen.query_one("#crit-practitioner").value = practitioner.id
    await pilot.pause()
    app.screen.query_one("#facturer-table").focus()
    await pilot.pause()
    await pilot.press("V")


async def test_another_practitioners_cps_is_refused_before_the_pin_is_asked(tmp_path) -> None:
    """Issue 13 #17: the PIN is not asked (nor a try spent) when the CPS present is not the
    exécutant's; the desk is told why at once."""
    from tuibill.models import Invoice

    settings, brunet, invoice, reader = _card_setup(tmp_path, "281234568")
    tries = reader.pin_tries_left()
    app = TuibillApp(settings=settings, user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await _press_v_on_the_invoice(app, pilot, brunet)
        refusal = []
        for _ in range(50):
            await pilot.pause(0.1)
            assert type(app.screen).__name__ != "PinDialog"
            refusal = [n.message for n in app._notifications if "exécutant" in n.message]
            if refusal:
                break
        assert refusal and "281234567" in refusal[0]
    assert Invoice.get_by_id(invoice.id).state == "SAISIE"
    assert reader.pin_tries_left() == tries


async def test_the_pin_dialog_names_the_invoices_it_signs(tmp_path) -> None:
    settings, gautier, invoice, _ = _card_setup(tmp_path, "281234567")
    app = TuibillApp(settings=settings, user="test")
    async with app.run_test(size=(80, 24)) as pilot:
        await _press_v_on_the_invoice(app, pilot, gautier)
        for _ in range(50):
            await pilot.pause(0.1)
            if type(app.screen).__name__ == "PinDialog":
                break
        assert type(app.screen).__name__ == "PinDialog"
        purpose = app.screen.purpose
        assert "MARTIN" in purpose.upper() and invoice.patient.display_name in purpose
        await pilot.press("escape")
