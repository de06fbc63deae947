"""Issue 9, seed 000: each motif end to end — an invoice sent to the simulated caisse, rejected
in a NOEMIE return, treated as the motif says, then re-sent with its same number (or cancelled by
an avoir and replaced) in a lot that the caisse accepts and pays."""

from __future__ import annotations

import base64
from datetime import date, time, timedelta

import pytest
from lots_support import T0, TODAY, invoice_states

from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.models import (
    CreditNote,
    Invoice,
    InvoiceTransition,
    Lot,
    Patient,
    Prescription,
    PrescriptionItem,
    ReturnRejection,
)
from tuibill.services import invoices as invoice_service
from tuibill.services import lots, patients, prescriptions, receiving, rejection_motifs, sending
from tuibill.services import rejections as treatment
from tuibill.simulator.scenarios import Answer, LotRule, ScriptScenario

ACT_DAY = TODAY - timedelta(days=3)


def rejecting(first: str) -> ScriptScenario:
    """Lot 001 is acknowledged then answered *first*; every later lot is acknowledged and paid."""
    return ScriptScenario(
        rules=(LotRule(steps=((Answer("positive"), Answer.parse(first)),), lot_number=1),),
        default=(Answer("positive"), Answer("paiement")),
    )


def run(caisse) -> list[Lot]:
    """One billing run: lots built, sent, the caisse's answers received and posted."""
    built = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    receiving.receive(caisse.settings, user="anne", now=T0)
    return [Lot.get_by_id(lot.id) for lot in built]


def prescribed_invoice(office, *, prescribed_on: date | None = None) -> tuple[int, int]:
    """An AMI invoice against a prescription, validated in mode dégradé: (invoice, prescriber)."""
    patient = office.patients[office.cpam.id]
    doctor = patients.create_prescriber("591030325", "Martin", "Paul")
    prescription = prescriptions.create_prescription(
        patient.id, doctor.id, office.nurse.id, prescribed_on or ACT_DAY - timedelta(days=5),
        [prescriptions.PrescribedAct("AMI", 5)],
    )  # fmt: skip
    item = PrescriptionItem.get(PrescriptionItem.prescription == prescription.id)
    act = Act(act_date=ACT_DAY, code="AMI", act_time=time(9), prescription_item_id=item.id)
    invoice = invoice_service.create_invoice(
        office.nurse.id, patient.id, [act], user="anne", prescription_id=prescription.id
    )
    invoice_service.validate(invoice.id, user="anne")
    return invoice.id, doctor.id


def sent_and_rejected(office, caisse, invoice_id: int) -> Invoice:
    (lot,) = run(caisse)
    assert lot.number == 1
    invoice = Invoice.get_by_id(invoice_id)
    assert invoice.state == "REJETEE"
    return invoice


def resent_and_paid(caisse, invoice_id: int, number: int) -> None:
    """The next run takes the invoice with its same number; the caisse accepts and pays it."""
    assert Invoice.get_by_id(invoice_id).state == "VALIDEE"
    (lot,) = run(caisse)
    assert lot.state == "ARL_POSITIF" and lot.number == 2
    invoice = Invoice.get_by_id(invoice_id)
    assert (invoice.state, invoice.number, invoice.lot_id) == ("PAYEE", number, lot.id)
    assert not ReturnRejection.select().where(ReturnRejection.code == "DBLF").exists()


def test_prescripteur_inconnu_corrected_then_restarted_with_the_same_number(office, start_caisse):
    caisse = start_caisse(rejecting("rejet:0460"))
    invoice_id, _ = prescribed_invoice(office)
    invoice = sent_and_rejected(office, caisse, invoice_id)
    number = invoice.number

    view = treatment.rejection_view(invoice_id)
    assert view.motif.value == "prescripteur_inconnu" and view.field == "prescripteur"
    assert [a.action.value for a in view.actions] == ["restart", "credit_note"]
    assert "Données › Prescripteurs" in view.what_to_do
    assert view.rejections[0].code == "0460"

    right = patients.create_prescriber("591003900", "Durand", "Claire")
    treatment.restart(
        invoice_id, user="anne", reason="0460 : bon prescripteur",
        corrections=treatment.Corrections(prescriber_id=right.id), validate=True,
    )  # fmt: skip
    prescription = Prescription.get_by_id(Invoice.get_by_id(invoice_id).prescription_id)
    assert prescription.prescriber_id == right.id
    assert Lot.get(Lot.number == 1).cancelled_count == 1  # it left its sent lot
    actions = [t.action for t in InvoiceTransition.select().where(
        InvoiceTransition.invoice == invoice_id).order_by(InvoiceTransition.id)]  # fmt: skip
    assert actions[-3:] == ["restart", "correction", "validate"]
    resent_and_paid(caisse, invoice_id, number)


def test_date_de_prescription_erronee_a_bad_correction_is_refused_at_the_field(
    office, start_caisse
):
    caisse = start_caisse(rejecting("rejet:0470"))
    invoice_id, _ = prescribed_invoice(office)
    number = sent_and_rejected(office, caisse, invoice_id).number
    assert treatment.rejection_view(invoice_id).field == "date_prescription"

    with pytest.raises(ValidationError) as refused:  # the prescription after the act
        treatment.restart(
            invoice_id, user="anne", reason="0470",
            corrections=treatment.Corrections(prescription_date=ACT_DAY + timedelta(days=1)),
            validate=True,
        )  # fmt: skip
    assert refused.value.field == "act_date" and "prescription" in str(refused.value)
    after = Invoice.get_by_id(invoice_id)
    assert after.state == "REJETEE" and after.lot_id is not None  # nothing half-saved
    assert Prescription.get_by_id(after.prescription_id).date == ACT_DAY - timedelta(days=5)

    treatment.restart(
        invoice_id, user="anne", reason="0470 : date corrigée",
        corrections=treatment.Corrections(prescription_date=ACT_DAY - timedelta(days=1)),
        validate=True,
    )  # fmt: skip
    resent_and_paid(caisse, invoice_id, number)


def test_date_de_deces_posterieure_a_practice_rule_then_act_dates_moved(office, start_caisse):
    # No public code for this motif: the practice maps its caisse's code to it.
    rejection_motifs.add_rule("date_deces", ["0812"], "", user="anne")
    caisse = start_caisse(rejecting("rejet:0812"))
    invoice_id, _ = prescribed_invoice(office)
    number = sent_and_rejected(office, caisse, invoice_id).number
    patient = office.patients[office.cpam.id]
    Patient.update(death_date=ACT_DAY - timedelta(days=1)).where(
        Patient.id == patient.id
    ).execute()

    view = treatment.rejection_view(invoice_id)
    assert (view.motif.value, view.field) == ("date_deces", "dates_actes")
    with pytest.raises(ValidationError, match="décès") as refused:
        treatment.restart(invoice_id, user="anne", reason="décès", validate=True)
    assert refused.value.field == "act_date"
    assert Invoice.get_by_id(invoice_id).state == "REJETEE"

    treatment.restart(
        invoice_id, user="anne", reason="actes avant le décès",
        corrections=treatment.Corrections(act_dates={1: ACT_DAY - timedelta(days=2)}),
        validate=True,
    )  # fmt: skip
    assert Invoice.get_by_id(invoice_id).first_act_date == ACT_DAY - timedelta(days=2)
    resent_and_paid(caisse, invoice_id, number)


def test_sesam_vitale_invoice_avoir_then_new_invoice(office, start_caisse):
    caisse = start_caisse(rejecting("rejet:0250"))
    (invoice_id,) = office.invoices(1, mode="sesam_vitale")
    Invoice.update(
        signature=base64.b64encode(bytes(range(64))).decode(),
        signature_algorithm="sha256WithRSAEncryption", signer="GAUTIER Anne 281234567",
        signing_card="CPS 0001",
    ).where(Invoice.id == invoice_id).execute()  # fmt: skip
    old = sent_and_rejected(office, caisse, invoice_id)

    view = treatment.rejection_view(invoice_id)
    assert view.motif.value == "droits" and view.treatment.value == "avoir"
    assert [a.action.value for a in view.actions] == ["credit_note"]
    with pytest.raises(RefusedOperation, match="SESAM-Vitale"):
        treatment.restart(invoice_id, user="anne", reason="x")

    note = treatment.create_credit_note(invoice_id, user="anne", reason="0250 droits")
    assert (note.number, note.total_cents) == (1, old.total_cents)
    assert Invoice.get_by_id(invoice_id).state == "ANNULEE_AVOIR"
    new = treatment.new_invoice_from(invoice_id, user="anne")
    assert (new.state, new.mode, new.replaces) == ("SAISIE", "degrade", invoice_id)
    assert CreditNote.get_by_id(note.id).replacement_id == new.id  # linked both ways
    assert new.total_cents == old.total_cents
    with pytest.raises(RefusedOperation, match="déjà sa nouvelle facture"):
        treatment.new_invoice_from(invoice_id, user="anne")
    again = treatment.rejection_view(invoice_id)
    assert again.credit_note == "AV000001" and again.replacement_id == new.id

    invoice_service.validate(new.id, user="anne")
    (lot,) = run(caisse)
    assert lot.state == "ARL_POSITIF"
    assert invoice_states([new.id, invoice_id]) == ["PAYEE", "ANNULEE_AVOIR"]
    assert Invoice.get_by_id(new.id).number != old.number


def test_facture_deja_payee_is_never_resent_only_marked_treated(office, start_caisse):
    caisse = start_caisse(rejecting("rejet:2900"))
    (invoice_id,) = office.invoices(1)
    sent_and_rejected(office, caisse, invoice_id)

    view = treatment.rejection_view(invoice_id)
    assert view.motif.value == "deja_payee"
    assert [a.action.value for a in view.actions] == ["mark_treated"]
    for refused in (
        lambda: treatment.recycle(invoice_id, user="anne"),
        lambda: treatment.reactivate(invoice_id, user="anne", recycling_days=90),
        lambda: treatment.restart(invoice_id, user="anne", reason="x"),
    ):
        with pytest.raises(RefusedOperation, match="déjà payée"):
            refused()
    treatment.mark_treated(invoice_id, user="anne")
    assert invoice_states([invoice_id]) == ["REJET_TRAITE"]
    assert run(caisse) == []  # nothing goes out


def test_an_amc_rejection_on_paper_or_billed_to_the_patient(office, start_caisse):
    caisse = start_caisse(rejecting("paiement"))
    ids = office.invoices(2)
    run(caisse)
    # The mutuelle's part rejected (part C): what SESAM-Vitale cannot treat.
    for invoice_id in ids:
        Invoice.update(
            state="PAYEE_PARTIELLEMENT", amc_cents=126, amo_cents=Invoice.amo_cents
        ).where(Invoice.id == invoice_id).execute()
        entry = Invoice.get_by_id(invoice_id).return_entries.get()
        entry.amc_state, entry.amc_asked_cents = "R", 126
        entry.save()
        ReturnRejection.create(entry=entry.id, invoice=invoice_id, kind="rejet", code="0250",
                               label="ADHERENT INCONNU", level="F", part="C")  # fmt: skip
    assert [r.invoice_id for r in treatment.list_rejections(amc=True)] == ids
    assert treatment.list_rejections() == []
    view = treatment.rejection_view(ids[0])
    assert view.amc_only and view.treatment.value == "papier_amc"
    assert [a.action.value for a in view.actions] == ["amc_paper", "bill_patient"]
    claim = treatment.paper_claim(ids[0]).text()
    assert "part mutuelle demandée 1,26 €" in claim and "ADHERENT INCONNU" in claim

    treatment.amc_paper(ids[0], user="anne")
    treatment.bill_patient(ids[1], user="anne")
    assert invoice_states(ids) == ["AMC_PAPIER", "AMC_PATIENT"]
    assert Invoice.get_by_id(ids[1]).amc_to_patient_cents == 126
