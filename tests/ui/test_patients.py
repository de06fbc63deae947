"""Patients (F9), the patient file and « Données › Prescripteurs », driven by keys at 80×24."""

from __future__ import annotations

import sys
import types

import pytest
from textual.screen import Screen
from textual.widgets import Checkbox, DataTable, Input, Static, TabbedContent

from tuibill.app import TuibillApp
from tuibill.dialogs.prescriber import PrescriberDialog
from tuibill.dialogs.prescription import PrescriptionDialog
from tuibill.domain.patients import nir_key
from tuibill.models import Patient, Prescriber, Prescription, database, schema
from tuibill.screens.patient_file import PatientFileScreen
from tuibill.screens.patients import PatientsScreen
from tuibill.screens.prescribers import PrescribersScreen
from tuibill.services import patients as patient_services

SIZE = (80, 24)


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> str:
    """One demo practice for the module (tests add their own, uniquely named, records)."""
    from tuibill.services import demo, tariffs

    path = str(tmp_path_factory.mktemp("patients_ui") / "demo.sqlite")
    database.bind(path)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    demo.build_demo(story=False)
    return path


@pytest.fixture(autouse=True)
def bound(demo_db):
    # Other test modules bind their own databases: point the models back at this one.
    database.bind(demo_db)
    yield demo_db


def table_column(table: DataTable, index: int) -> list[str]:
    return [str(table.get_row_at(row)[index]) for row in range(table.row_count)]


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[("space" if ch == " " else ch) for ch in text])


async def open_patients(pilot) -> PatientsScreen:
    await pilot.press("f9")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PatientsScreen)
    return screen


async def open_patient_file(pilot, search: str) -> PatientFileScreen:
    await open_patients(pilot)
    await type_text(pilot, search)
    await pilot.press("enter", "enter")  # to the list, then open the file
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, PatientFileScreen)
    return screen


async def test_search_by_name_prefix_then_by_nir_prefix(bound):
    expected = [p.display_name for p in patient_services.search_patients("dup")]
    target = Patient.select().order_by(Patient.id).first()
    prefix = target.nir[:7]
    by_nir = sorted(p.nir for p in Patient.select().where(Patient.nir.startswith(prefix)))
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patients(pilot)
        await type_text(pilot, "dup")
        await pilot.pause()
        table = screen.query_one("#patients", DataTable)
        names = table_column(table, 0)
        assert names == expected
        assert len(names) == 3 and all(name.startswith("DUPUIS ") for name in names)
        await type_text(pilot, "uis m")
        await pilot.pause()
        assert table_column(table, 0) == ["DUPUIS Martine"]
        # On the list, typing starts a new search: a NIR prefix this time.
        await pilot.press("down")
        assert pilot.app.focused is table
        await type_text(pilot, prefix)
        await pilot.pause()
        assert screen.query_one("#search", Input).value == prefix
        assert table_column(table, 2) == by_nir
        assert target.nir in by_nir and len(by_nir) < Patient.select().count()


async def test_list_is_paged_by_key(bound, monkeypatch):
    monkeypatch.setattr(PatientsScreen, "PAGE_SIZE", 10)
    total = Patient.select().count()
    assert total > 20
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patients(pilot)
        table = screen.query_one("#patients", DataTable)
        assert table.row_count == 10  # one page, never the whole table
        await pilot.press("down")  # from the search to the list
        for _ in range(6):
            await pilot.press("pagedown")
        await pilot.pause()
        assert table.row_count == total
        names = table_column(table, 0)
        assert len(set(names)) == len(names) or len(names) == total  # no page loaded twice
        keys = [table.coordinate_to_cell_key((row, 0))[0].value for row in range(total)]
        assert len(set(keys)) == total


async def test_factures_tab_matches_patient_invoices_and_opens_an_invoice(bound, monkeypatch):
    alain = patient_services.search_patients("dupuis a")[0]
    rows = patient_services.patient_invoices(alain.id)
    assert rows, "the demo bills every patient"
    opened: list[int] = []

    class FakeInvoiceDetail(Screen):
        def __init__(self, invoice_id: int) -> None:
            super().__init__()
            opened.append(invoice_id)

    # The real invoice screen belongs to another module: only the wiring is under test here.
    module = types.ModuleType("tuibill.screens.invoice_detail")
    module.InvoiceDetailScreen = FakeInvoiceDetail
    monkeypatch.setitem(sys.modules, "tuibill.screens.invoice_detail", module)

    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patient_file(pilot, "dupuis a")
        assert screen.patient_id == alain.id
        for _ in range(4):
            await pilot.press("ctrl+t")
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "tab-factures"
        table = screen.query_one("#invoices", DataTable)
        assert table_column(table, 0) == [r.number_text for r in rows]
        assert table_column(table, 2) == [r.state_label for r in rows]
        assert table_column(table, 10) == [r.practitioner for r in rows]
        assert pilot.app.focused is table
        await pilot.press("enter")
        await pilot.pause()
        assert opened == [rows[0].id]
        assert isinstance(pilot.app.screen, FakeInvoiceDetail)


async def fill_new_patient(pilot, last: str, first: str, birth: str, nir: str) -> None:
    await pilot.press("ctrl+n")
    await pilot.pause()
    assert isinstance(pilot.app.screen, PatientFileScreen)
    await pilot.press("ctrl+u")  # the search text may have been carried over as the name
    for text in (last, first, birth, nir):
        await type_text(pilot, text)
        await pilot.press("enter")  # next field


async def test_wrong_nir_key_is_refused_at_its_field_then_the_patient_is_created(bound):
    first13 = "1800228123456"
    good = nir_key(first13)
    wrong = f"{(int(good) + 1) % 97:02d}"
    before = Patient.select().count()
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_patients(pilot)
        await fill_new_patient(pilot, "Testeur", "Jean", "28/02/1980", first13 + wrong)
        await pilot.press("ctrl+s")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, PatientFileScreen)
        message = screen.query_one("#err-nir", Static)
        assert message.has_class("-shown") and message.display
        assert "Clé du NIR invalide" in str(message.render())
        assert f"la clé attendue est {good}" in str(message.render())
        nir = screen.query_one("#nir", Input)
        assert pilot.app.focused is nir and nir.has_class("-invalid")
        assert not screen.query("#err-last_name.-shown")  # only the NIR is in error
        assert Patient.select().count() == before  # nothing saved
        assert screen.patient_id is None
        # The NIR field has the focus (its text selected): correct the key and save.
        await pilot.press("end", "backspace", "backspace", *good)
        assert not nir.has_class("-invalid")  # the error goes as the value changes
        await pilot.press("ctrl+s")
        await pilot.pause()
        created = Patient.get_or_none(Patient.nir == first13 + good)
        assert created is not None
        assert (created.last_name, created.first_name) == ("TESTEUR", "Jean")
        assert created.birth_date.isoformat() == "1980-02-28"
        assert Patient.select().count() == before + 1
        assert screen.patient_id == created.id
        assert "TESTEUR" in screen.title and not screen.has_unsaved_changes()
        # Saved: Échap leaves at once, and the list shows the new patient.
        await pilot.press("escape")
        await pilot.pause()
        patients = pilot.app.screen
        assert isinstance(patients, PatientsScreen)
        await type_text(pilot, "testeur")
        await pilot.pause()
        assert table_column(patients.query_one("#patients", DataTable), 0) == ["TESTEUR Jean"]


async def test_edit_coverage_ald_and_save(bound):
    target = (
        Patient.select()
        .where(~Patient.ald & Patient.death_date.is_null())
        .order_by(Patient.search_name)
        .first()
    )
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patient_file(pilot, f"{target.last_name} {target.first_name}")
        assert screen.patient_id == target.id
        await pilot.press("ctrl+t")  # Couverture
        await pilot.pause()
        assert screen.query_one(TabbedContent).active == "tab-couverture"
        ald = screen.query_one("#ald", Checkbox)
        for _ in range(8):
            if pilot.app.focused is ald:
                break
            await pilot.press("tab")
        assert pilot.app.focused is ald
        await pilot.press("space")
        await pilot.pause()
        assert ald.value and screen.has_unsaved_changes()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert Patient.get_by_id(target.id).ald is True
        assert not screen.has_unsaved_changes()
        assert str(ald.label) == "oui"


async def test_attach_to_an_assure_needs_a_dependant_quality(bound):
    simon = patient_services.search_patients("simon")[0]
    alain = patient_services.search_patients("dupuis a")[0]
    assert simon.insured_id is None and simon.quality == "00"
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patient_file(pilot, "simon")
        insured = screen.query_one("#insured")
        for _ in range(8):
            if pilot.app.focused is insured:
                break
            await pilot.press("tab")
        assert pilot.app.focused is insured
        await pilot.press("enter")  # choose the assuré in the patient list
        await pilot.pause()
        assert isinstance(pilot.app.screen, PatientsScreen) and pilot.app.screen.pick
        await type_text(pilot, "dupuis a")
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert pilot.app.screen is screen
        assert insured.value == alain.id and screen.has_unsaved_changes()
        await pilot.press("ctrl+s")  # still « 00 Assuré »: refused at the qualité field
        await pilot.pause()
        message = screen.query_one("#err-quality", Static)
        assert "qualité « Assuré »" in str(message.render())
        assert pilot.app.focused is screen.query_one("#quality")
        assert Patient.get_by_id(simon.id).insured_id is None
        # Unsaved changes: Échap asks first; « N » stays on the form, « O » leaves it.
        await pilot.press("escape")
        await pilot.pause()
        assert type(pilot.app.screen).__name__ == "LeaveDialog"
        await pilot.press("n")
        await pilot.pause()
        assert pilot.app.screen is screen
        await pilot.press("escape", "o")
        await pilot.pause()
        assert isinstance(pilot.app.screen, PatientsScreen)
        assert Patient.get_by_id(simon.id).insured_id is None


async def test_create_prescriber_from_the_prescribers_screen(bound):
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        await open_patients(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, PrescribersScreen)
        table = screen.query_one("#prescribers", DataTable)
        assert "591030325" in table_column(table, 0)  # the demo's Dr MARTIN
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, PrescriberDialog)
        # A number of the wrong length: refused at its field.
        await type_text(pilot, "12345")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert dialog.query_one("#err-number", Static).has_class("-shown")
        assert "9 chiffres" in str(dialog.query_one("#err-number", Static).render())
        assert Prescriber.get_or_none(Prescriber.number == "12345") is None
        await pilot.press("ctrl+u")
        await type_text(pilot, "591777001")
        await pilot.press("enter")
        await type_text(pilot, "Dubreuil")
        await pilot.press("enter")
        await type_text(pilot, "Anne")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen
        saved = Prescriber.get_or_none(Prescriber.number == "591777001")
        assert saved is not None and saved.last_name == "DUBREUIL" and saved.first_name == "Anne"
        assert "591777001" in table_column(table, 0)


async def test_create_prescription_for_a_patient(bound):
    target = patient_services.search_patients("simon")[0]
    martin = Prescriber.get(Prescriber.number == "591030325")
    before = Prescription.select().where(Prescription.patient == target.id).count()
    async with TuibillApp(user="test").run_test(size=SIZE) as pilot:
        screen = await open_patient_file(pilot, "simon")
        await pilot.press("ctrl+n")
        await pilot.pause()
        dialog = pilot.app.screen
        assert isinstance(dialog, PrescriptionDialog)
        # Enter on the prescripteur field: choose it in « Données › Prescripteurs ».
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, PrescribersScreen)
        await type_text(pilot, "martin")
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert pilot.app.screen is dialog
        assert dialog.query_one("#prescriber").value == martin.id
        # Exécutant (Select), date (today), then the acts.
        await pilot.press("tab", "tab")
        assert pilot.app.focused is dialog.query_one("#acts", Input)
        await type_text(pilot, "XYZ:3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is dialog
        assert "XYZ" in str(dialog.query_one("#err-acts", Static).render())
        assert Prescription.select().where(Prescription.patient == target.id).count() == before
        await pilot.press("ctrl+u")
        await type_text(pilot, "AMI:10 AIS:12:3")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert pilot.app.screen is screen
        prescriptions = list(
            Prescription.select()
            .where(Prescription.patient == target.id)
            .order_by(Prescription.id.desc())
        )
        assert len(prescriptions) == before + 1
        items = [(i.code, i.count, i.coefficient_x100) for i in prescriptions[0].items]
        assert sorted(items) == [("AIS", 12, 300), ("AMI", 10, 100)]
        assert prescriptions[0].prescriber_id == martin.id
        assert screen.query_one(TabbedContent).active == "tab-ordonnances"
        table = screen.query_one("#prescriptions", DataTable)
        assert "AIS 3" in table_column(table, 3) and "12" in table_column(table, 4)
