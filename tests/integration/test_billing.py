"""Billing use cases against a real SQLite file: one transaction each, nothing half-saved."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from tuibill.domain.acts import Act
from tuibill.domain.errors import IllegalTransition, RefusedOperation, ValidationError
from tuibill.domain.invoices import InvoiceAction
from tuibill.models import Invoice, InvoiceLine, InvoiceTransition, PrescriptionItem
from tuibill.services import acts as act_service
from tuibill.services import invoices as invoice_service
from tuibill.services import patients, practice, prescriptions
from tuibill.services.prescriptions import PrescribedAct

TODAY = date.today()


@pytest.fixture
def setup(db_url):
    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567", invoice_number_start=7433)
    organism = patients.create_organism("01", "281", "0000", "CPAM CHARTRES")
    prescriber = patients.create_prescriber("591030325", "MARTIN", "Claire")
    first13 = "1500528123456"
    from tuibill.domain.patients import nir_key

    patient = patients.create_patient(
        patients.PatientInput(
            last_name="Dupuis", first_name="Alain", birth_date=date(1950, 5, 1),
            nir=first13 + nir_key(first13), organism_id=organism.id, sector="EST",
        )
    )
    prescription = prescriptions.create_prescription(
        patient.id, prescriber.id, nurse.id, TODAY - timedelta(days=10), [PrescribedAct("AMI", 3, 100)]
    )
    return nurse, patient, prescription


def act(days_ago: int, **kw) -> Act:
    return Act(act_date=TODAY - timedelta(days=days_ago), code="AMI", act_time=time(10), **kw)


def test_invoice_from_prescription_then_life_cycle(setup) -> None:
    nurse, patient, prescription = setup
    acts = act_service.link_to_prescription(prescription.id, [act(3), act(2)])
    invoice = invoice_service.create_invoice(nurse.id, patient.id, acts, user="anne", prescription_id=prescription.id)
    assert invoice.state == "SAISIE" and invoice.number is None
    assert invoice.patient_name == "DUPUIS ALAIN"
    assert PrescriptionItem.get().billed == 2

    invoice_service.validate(invoice.id, user="anne")
    invoice = Invoice.get_by_id(invoice.id)
    assert (invoice.state, invoice.number) == ("VALIDEE", 7433)
    with pytest.raises(RefusedOperation, match="plus modifiable"):
        invoice_service.update_invoice(invoice.id, [act(1)], user="anne")

    invoice_service.unvalidate(invoice.id, user="anne", reason="erreur de date")
    invoice_service.update_invoice(invoice.id, act_service.link_to_prescription(
        prescription.id, [act(1)], replacing_invoice=invoice.id), user="anne")
    assert PrescriptionItem.get().billed == 1  # the edit gave back one prescribed act
    invoice_service.validate(invoice.id, user="anne")
    assert Invoice.get_by_id(invoice.id).number == 7433  # same number: no gap, no duplicate

    history = [(t.from_state, t.to_state, t.action, t.user) for t in
               InvoiceTransition.select().where(InvoiceTransition.invoice == invoice.id).order_by(InvoiceTransition.id)]
    assert history == [
        (None, "SAISIE", "create", "anne"),
        ("SAISIE", "VALIDEE", "validate", "anne"),
        ("VALIDEE", "SAISIE", "unvalidate", "anne"),
        ("SAISIE", "SAISIE", "edit", "anne"),
        ("SAISIE", "VALIDEE", "validate", "anne"),
    ]
    assert InvoiceTransition.get(InvoiceTransition.action == "unvalidate").reason == "erreur de date"


def test_prepare_and_cancel_preparation(setup) -> None:
    nurse, patient, _ = setup
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act(1)], user="u")
    invoice_service.prepare(invoice.id, user="u")
    invoice = Invoice.get_by_id(invoice.id)
    assert invoice.state == "A_CHARGER" and invoice.number == 7433
    invoice_service.cancel_preparation(invoice.id, user="u")
    assert Invoice.get_by_id(invoice.id).state == "SAISIE"
    with pytest.raises(IllegalTransition, match="Annuler préparation"):
        invoice_service.cancel_preparation(invoice.id, user="u")


def test_illegal_action_takes_no_number(setup) -> None:
    nurse, patient, _ = setup
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act(1)], user="u")
    invoice_service.validate(invoice.id, user="u")
    with pytest.raises(IllegalTransition):
        invoice_service.validate(invoice.id, user="u")
    second = invoice_service.create_invoice(nurse.id, patient.id, [act(1)], user="u")
    invoice_service.validate(second.id, user="u")
    assert Invoice.get_by_id(second.id).number == 7434


def test_non_transmissible_needs_a_reason(setup) -> None:
    nurse, patient, _ = setup
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act(1)], user="u")
    with pytest.raises(ValidationError, match="motif"):
        invoice_service.apply_action(invoice.id, InvoiceAction.MAKE_NON_TRANSMISSIBLE, user="u")
    invoice_service.apply_action(invoice.id, InvoiceAction.MAKE_NON_TRANSMISSIBLE, user="u", reason="Transfert de dette")
    assert Invoice.get_by_id(invoice.id).state == "NON_TRANSMISSIBLE"


@pytest.mark.parametrize(
    ("acts_days", "billing_shift", "match"),
    [
        ([-1], 0, "postérieure à la date de facturation"),
        ([20], 0, "antérieure à la date de prescription"),
    ],
)
def test_bad_dates_save_nothing(setup, acts_days, billing_shift, match) -> None:
    nurse, patient, prescription = setup
    before = (Invoice.select().count(), InvoiceLine.select().count(), PrescriptionItem.get().billed)
    acts = act_service.link_to_prescription(prescription.id, [act(d) for d in acts_days])
    with pytest.raises(ValidationError, match=match):
        invoice_service.create_invoice(nurse.id, patient.id, acts, user="u", prescription_id=prescription.id)
    assert (Invoice.select().count(), InvoiceLine.select().count(), PrescriptionItem.get().billed) == before


def test_act_after_death_refused_even_at_validation(setup) -> None:
    nurse, patient, _ = setup
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act(2)], user="u")
    data = patients.patient_input(patient)
    data.death_date = TODAY - timedelta(days=5)
    patients.update_patient(patient.id, data)
    with pytest.raises(ValidationError, match="date de décès"):
        invoice_service.validate(invoice.id, user="u")
    invoice = Invoice.get_by_id(invoice.id)
    assert invoice.state == "SAISIE" and invoice.number is None


def test_practitioner_without_numbering(setup) -> None:
    _, patient, _ = setup
    substitute = practice.create_practitioner("NOEL", "Camille", "281234570", invoice_number_start=None)
    invoice = invoice_service.create_invoice(substitute.id, patient.id, [act(1)], user="u")
    with pytest.raises(ValidationError, match="n'a pas de numérotation de factures"):
        invoice_service.validate(invoice.id, user="u")
    assert Invoice.get_by_id(invoice.id).state == "SAISIE"
    practice.set_numbering(substitute.id, 1)
    invoice_service.validate(invoice.id, user="u")
    assert Invoice.get_by_id(invoice.id).number == 1


def test_unknown_prescriber_and_too_many_acts(setup) -> None:
    nurse, patient, prescription = setup
    with pytest.raises(ValidationError, match="Prescripteur 123456789 inconnu"):
        patients.find_prescriber("123456789")
    with pytest.raises(ValidationError, match="aucun acte de ce code ne reste"):
        act_service.link_to_prescription(prescription.id, [act(1), act(1), act(1), act(1)])


def test_delete_draft_gives_back_and_numbered_cannot_be_deleted(setup) -> None:
    nurse, patient, prescription = setup
    acts = act_service.link_to_prescription(prescription.id, [act(1)])
    invoice = invoice_service.create_invoice(nurse.id, patient.id, acts, user="u", prescription_id=prescription.id)
    invoice_service.delete_draft(invoice.id, user="u")
    assert PrescriptionItem.get().billed == 0
    # Kept « Supprimée » with its history: a history row is never deleted.
    deleted = Invoice.get_by_id(invoice.id)
    assert (deleted.state, deleted.number) == ("SUPPRIMEE", None)
    assert [t.action for t in deleted.transitions] == ["create", "delete_draft"]
    invoice = invoice_service.create_invoice(nurse.id, patient.id, [act(1)], user="u")
    invoice_service.validate(invoice.id, user="u")
    invoice_service.unvalidate(invoice.id, user="u")
    with pytest.raises(RefusedOperation, match="jamais numérotée"):
        invoice_service.delete_draft(invoice.id, user="u")


def test_coefficient_out_of_range_saves_nothing(setup) -> None:
    nurse, patient, _ = setup
    with pytest.raises(ValidationError, match="hors limites") as info:
        invoice_service.create_invoice(nurse.id, patient.id, [act(1, coefficient_x100=9000)], user="u")
    assert info.value.field == "coefficient"
    assert Invoice.select().count() == 0


def test_bad_nir_saves_no_patient(db_url) -> None:
    with pytest.raises(ValidationError, match="Clé du NIR invalide"):
        patients.create_patient(patients.PatientInput("X", "Y", date(1950, 1, 1), "150052812345600"))
    assert patients.search_patients("X") == []


def test_demo_covers_the_pre_transmission_states(demo_url) -> None:
    states = {i.state for i in Invoice.select(Invoice.state)}
    assert {"SAISIE", "VALIDEE", "A_CHARGER", "NON_TRANSMISSIBLE"} <= states
    numbers = [(i.practitioner_id, i.number) for i in Invoice.select() if i.number]
    assert len(numbers) == len(set(numbers))


def test_an_act_beyond_the_prescription_is_refused(setup) -> None:
    """Issue 13 #9: AMI 3 billed against a prescription of AMI 1 is refused with the reason."""
    nurse, patient, prescription = setup
    acts = act_service.link_to_prescription(prescription.id, [act(2)])
    too_much = [replace(acts[0], coefficient_x100=300)]
    with pytest.raises(ValidationError, match="la prescription prévoit AMI 1") as info:
        invoice_service.create_invoice(
            nurse.id, patient.id, too_much, user="anne", prescription_id=prescription.id
        )
    assert info.value.field == "coefficient"
    assert PrescriptionItem.get().billed == 0  # nothing half-saved


def test_the_same_act_at_the_same_time_twice_is_warned(setup) -> None:
    """Issue 13 #9: the same act, same date and time, on two invoices: a warning (doublon ?)."""
    nurse, patient, _ = setup
    first = invoice_service.create_invoice(nurse.id, patient.id, [act(3)], user="anne")
    assert act_service.duplicate_warnings(patient.id, [act(4)]) == []
    warnings = act_service.duplicate_warnings(patient.id, [act(3)])
    assert len(warnings) == 1 and "doublon" in warnings[0]
    assert f"brouillon {first.id}" in warnings[0]
    # The invoice being edited does not warn about itself; twice on one invoice does.
    assert act_service.duplicate_warnings(patient.id, [act(3)], invoice_id=first.id) == []
    assert "deux fois" in act_service.duplicate_warnings(patient.id, [act(5), act(5)])[0]
