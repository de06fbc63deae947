"""Correcting a prescription from the screens (issue 13 #11, seed 000): the invoice form changes
its prescripteur and its date, saved with the invoice; Entrée on a prescription in the patient
file opens it to correct them."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import make_db
from tuibill.app import TuibillApp
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Prescriber, Prescription, database


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    from tuibill.services.demo import build_demo

    path = tmp_path_factory.mktemp("prescriptions") / "demo.sqlite"
    db = database.bind(str(make_db(path)))
    build_demo(today=date.today())
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


@pytest.fixture
def app(template, tmp_path):
    path = tmp_path / "demo.sqlite"
    shutil.copy(template, path)
    database.bind(str(path))
    return TuibillApp(user="test")


def frozen_invoices(prescription_id: int) -> bool:
    """Whether an invoice of the prescription is past « Saisie » (its content on its way)."""
    return Invoice.select().where(
        (Invoice.prescription == prescription_id)
        & Invoice.state.not_in([InvoiceState.SAISIE.value, InvoiceState.SUPPRIMEE.value])
    ).exists()


async def test_the_invoice_form_corrects_the_prescripteur_and_the_date(app) -> None:
    from tuibill.screens.invoice_form import InvoiceFormScreen
    from tuibill.screens.prescribers import PrescribersScreen

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        keys = list(app.screen.rows)
        index = next(
            i for i, key in enumerate(keys)
            if not frozen_invoices(app.screen.rows[key].id)
        )
        await pilot.press(*["down"] * index)
        prescription_id = app.screen.current_row().id
        before = Prescription.get_by_id(prescription_id)
        await pilot.press("enter")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, InvoiceFormScreen)
        # The prescripteur: Entrée on the field opens the list, Entrée chooses.
        form.set_focus(form.query_one("#form-prescriber"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PrescribersScreen)
        await pilot.press("enter")  # from the search field to the list
        table = app.screen.table
        wanted = next(
            index for index in range(table.row_count)
            if int(table.coordinate_to_cell_key((index, 0)).row_key.value) != before.prescriber_id
        )
        await pilot.press(*["down"] * wanted, "enter")
        await pilot.pause()
        assert app.screen is form
        chosen = form.query_one("#form-prescriber").value
        assert chosen != before.prescriber_id
        # The date: one day earlier, typed over the field.
        earlier = before.date - timedelta(days=1)
        assert form.focused is form.query_one("#prescription-date")
        await pilot.press("end", "ctrl+u", *f"{earlier:%d/%m/%Y}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        errors = [str(w.render()) for w in form.query(".field-error") if w.display]
        assert app.screen is not form, (errors, [n.message for n in app._notifications])
        after = Prescription.get_by_id(prescription_id)
        assert (after.prescriber_id, after.date) == (chosen, earlier)
        assert Invoice.select().where(Invoice.prescription == prescription_id).exists()


async def test_enter_on_a_prescription_opens_it_to_correct_it(app) -> None:
    from tuibill.dialogs.prescription import PrescriptionDialog

    free = next(
        p for p in Prescription.select().order_by(Prescription.id) if not frozen_invoices(p.id)
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_patient_file(free.patient_id)
        await pilot.pause()
        await pilot.press("ctrl+t", "ctrl+t", "ctrl+t")  # Assuré → … → Ordonnances
        await pilot.pause()
        prescriptions = app.screen.query_one("#prescriptions")
        assert app.screen.focused is prescriptions
        row = next(
            index for index in range(prescriptions.row_count)
            if prescriptions.coordinate_to_cell_key((index, 0)).row_key.value.startswith(
                f"{free.id}-"
            )
        )
        await pilot.press(*["down"] * row, "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, PrescriptionDialog) and dialog.prescription_id == free.id
        assert dialog.query_one("#acts").disabled  # what was billed stays as it is
        date_field = dialog.query_one("#date")
        dialog.set_focus(date_field)
        earlier = free.date - timedelta(days=2)
        await pilot.press("end", "ctrl+u", *f"{earlier:%d/%m/%Y}", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, PrescriptionDialog)
        assert Prescription.get_by_id(free.id).date == earlier
        assert Prescription.get_by_id(free.id).prescriber_id == free.prescriber_id


async def test_a_prescription_under_a_validated_invoice_says_why_it_is_not_changed(app) -> None:
    from tuibill.dialogs.prescription import PrescriptionDialog

    held = Invoice.select().where(
        (Invoice.state == InvoiceState.VALIDEE.value) & Invoice.prescription.is_null(False)
    ).first()
    prescription = Prescription.get_by_id(held.prescription_id)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(PrescriptionDialog(prescription.patient_id, prescription.id))
        await pilot.pause()
        dialog = app.screen
        dialog.set_focus(dialog.query_one("#date"))
        await pilot.press("end", "ctrl+u", *f"{prescription.date - timedelta(days=1):%d/%m/%Y}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is dialog
        assert any("Défacturer" in n.message for n in app._notifications)
        assert Prescription.get_by_id(prescription.id).date == prescription.date
        assert Prescriber.get_by_id(prescription.prescriber_id)
