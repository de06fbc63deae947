"""Issue 9 §5, seed 003: the DRE — made with the invoice when the mutuelle is in tiers payant,
listed in Facturer's « DRE non validées », validated, answered by a NOEMIE return of type D
(part 199) without moving the invoice by the AMO's rules; an AMC rejection treated as §1; an
avoir cancels it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest
from lots_support import T0, TODAY, invoice_states, make_nir

from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.formats.noemie import AmcPart, Rejection, write_return
from tuibill.models import Dre, Invoice, Lot
from tuibill.services import dre, lots, patients, receiving, returns, sending, worklists
from tuibill.services import invoices as invoice_service
from tuibill.services import rejections as treatment
from tuibill.simulator.returns import build_return
from tuibill.simulator.scenarios import Answer, FixedScenario


@pytest.fixture
def mutualist(office):
    """A patient whose mutuelle is in tiers payant."""
    mutuelle = patients.create_mutuelle("75000001", "HARMONIE MUTUELLE")
    return patients.create_patient(patients.PatientInput(
        last_name="Simon", first_name="Pascale", birth_date=date(1948, 2, 3),
        nir=make_nir(2, date(1948, 2, 3), "28", 77), organism_id=office.cpam.id,
        mutuelle_id=mutuelle.id, amc_member_number="A123", amc_tiers_payant=True,
    ))  # fmt: skip


def invoice_for(office, patient) -> Invoice:
    act = Act(act_date=TODAY - timedelta(days=2), code="AMI", act_time=time(9))
    return invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")


def dre_return(lot: Lot, invoice_id: int, state: str, file_id: str) -> bytes:
    """The mutuelle's answer to the DRE of *invoice_id* (type D: only the AMC part, 199)."""
    content = build_return(TuibillLotCodec().read(bytes(lot.file_bytes)), "paiement",
                           received=T0.date(), file_id=file_id)  # fmt: skip
    invoice = Invoice.get_by_id(invoice_id)
    (item,) = [i for i in content.items if int(i.number) == invoice.number]
    people = item.entities[0]
    amc = AmcPart(asked_cents=invoice.amc_cents, state=state, amc_number="0075000001",
                  paid_cents=invoice.amc_cents if state == "P" else None)  # fmt: skip
    extra = (Rejection(code="0250", label="ADHERENT INCONNU", level="F", part="C"),)
    entities = (people, amc, *(extra if state == "R" else ()))
    return write_return(replace(content, items=(replace(item, invoice_type="D", entities=entities),)))


def test_a_dre_from_creation_to_the_mutuelles_answer(office, start_caisse, mutualist):
    caisse = start_caisse(FixedScenario((Answer("positive"), Answer("paiement"))))
    invoice = invoice_for(office, mutualist)
    assert invoice.amc_tiers_payant and invoice.amc_cents > 0
    record = Dre.get(Dre.invoice == invoice.id)
    assert (record.state, record.amount_cents) == ("NON_VALIDEE", invoice.amc_cents)
    dre_list = worklists.rows_for(worklists.DRE_UNVALIDATED, worklists.Criteria())
    assert [row.id for row in dre_list] == [invoice.id]
    plain = invoice_for(office, office.patients[office.cpam.id])  # no mutuelle: no DRE
    assert Dre.get_or_none(Dre.invoice == plain.id) is None

    with pytest.raises(RefusedOperation, match="validez-la d'abord"):
        dre.validate(invoice.id, user="anne")
    invoice_service.validate(invoice.id, user="anne")
    assert [r.id for r in worklists.rows_for(worklists.DRE_UNVALIDATED, worklists.Criteria())] == [
        invoice.id
    ]  # still to validate, whatever its invoice's state
    dre.validate(invoice.id, user="anne")
    assert worklists.rows_for(worklists.DRE_UNVALIDATED, worklists.Criteria()) == []
    assert [r.state.value for r in dre.list_dres(None)] == ["VALIDEE"]

    invoice_service.validate(plain.id, user="anne")
    lots.build_lots(caisse.settings, user="anne", now=T0)
    sending.send_lots(caisse.settings, user="anne", now=T0)
    receiving.receive(caisse.settings, user="anne", now=T0)
    assert invoice_states([invoice.id]) == ["PAYEE"]  # the AMO paid its FSE
    lot = Lot.get(Lot.kind == "FSE")
    Dre.update(state="TRANSMISE").where(Dre.invoice == invoice.id).execute()  # (DRE lots: to do)

    report = returns.import_data(dre_return(lot, invoice.id, "P", "D00001"), "dre.noe",
                                 caisse.settings, user="anne")  # fmt: skip
    assert report.status == "importé"
    paid = Dre.get(Dre.invoice == invoice.id)
    assert (paid.state, paid.paid_cents) == ("PAYEE", invoice.amc_cents)
    after = Invoice.get_by_id(invoice.id)
    assert (after.state, after.amc_paid_cents) == ("PAYEE", invoice.amc_cents)


def test_a_rejected_dre_is_treated_as_an_amc_rejection(office, start_caisse, mutualist):
    caisse = start_caisse(FixedScenario((Answer("positive"), Answer("paiement"))))
    invoice = invoice_for(office, mutualist)
    invoice_service.validate(invoice.id, user="anne")
    dre.validate(invoice.id, user="anne")
    lots.build_lots(caisse.settings, user="anne", now=T0)
    sending.send_lots(caisse.settings, user="anne", now=T0)
    receiving.receive(caisse.settings, user="anne", now=T0)
    Dre.update(state="TRANSMISE").where(Dre.invoice == invoice.id).execute()

    returns.import_data(dre_return(Lot.get(), invoice.id, "R", "D00002"), "dre.noe",
                        caisse.settings, user="anne")  # fmt: skip
    assert Dre.get(Dre.invoice == invoice.id).state == "REJETEE"
    view = treatment.rejection_view(invoice.id)
    assert view.amc_only and view.treatment.value == "papier_amc"
    assert [a.action.value for a in view.actions] == ["amc_paper", "bill_patient"]
    billed = treatment.bill_patient(invoice.id, user="anne")
    assert (billed.state, billed.amc_to_patient_cents) == ("AMC_PATIENT", invoice.amc_cents)


def test_an_avoir_cancels_the_dre(office, mutualist):
    invoice = invoice_for(office, mutualist)
    invoice_service.validate(invoice.id, user="anne")
    Invoice.update(state="REJETEE").where(Invoice.id == invoice.id).execute()
    treatment.create_credit_note(invoice.id, user="anne", reason="avoir")
    assert Dre.get(Dre.invoice == invoice.id).state == "ANNULEE"
    draft = invoice_for(office, mutualist)
    invoice_service.delete_draft(draft.id, user="anne")
    assert Dre.get(Dre.invoice == draft.id).state == "ANNULEE"


def test_dre_lots_sent_to_the_concentrator_and_answered(office, start_caisse, mutualist):
    """The whole way: DREs validated, their own lot (header « D ») sent after the FSE lot,
    acknowledged, answered by the mutuelles (type D: one paid, one rejected)."""
    from tuibill.services.dre_lots import build_dre_lots

    caisse = start_caisse(FixedScenario((Answer("positive"), Answer("paiement"))))
    ids = [invoice_for(office, mutualist).id for _ in range(2)]
    for invoice_id in ids:
        invoice_service.validate(invoice_id, user="anne")
        dre.validate(invoice_id, user="anne")
    assert build_dre_lots(caisse.settings, user="anne", now=T0).lots == []  # FSE first
    (fse_lot,) = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    report = build_dre_lots(caisse.settings, user="anne", now=T0)
    (dre_lot,) = report.lots
    assert (dre_lot.count, dre_lot.number) == (2, fse_lot.number + 1)
    assert TuibillLotCodec().read(bytes(Lot.get_by_id(dre_lot.id).file_bytes)).header.kind == "DRE"
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    assert [d.state for d in Dre.select().order_by(Dre.id)] == ["TRANSMISE", "TRANSMISE"]
    receiving.receive(caisse.settings, user="anne", now=T0)

    assert Lot.get_by_id(dre_lot.id).state == "ARL_POSITIF"
    assert invoice_states(ids) == ["PAYEE", "PAYEE"]  # the FSE, by the AMO
    for record in Dre.select():
        assert (record.state, record.paid_cents) == ("PAYEE", record.amount_cents)
    for invoice_id in ids:
        invoice = Invoice.get_by_id(invoice_id)
        assert invoice.amc_paid_cents == invoice.amc_cents  # counted once, from the DRE


def test_a_draft_corrected_back_to_tiers_payant_gets_its_dre_again_through_the_table(
    office, mutualist
):
    """The DRE a draft lost (its mutuelle no longer in tiers payant) comes back with the
    correction — a move of ``DRE_MOVES`` (« Rétablir la DRE »), recorded in the history."""
    from tuibill.models import InvoiceTransition, Patient

    invoice = invoice_for(office, mutualist)
    acts = [Act(act_date=TODAY - timedelta(days=2), code="AMI", act_time=time(9))]
    Patient.update(amc_tiers_payant=False).where(Patient.id == mutualist.id).execute()
    invoice_service.update_invoice(invoice.id, acts, user="anne")
    assert Dre.get(Dre.invoice == invoice.id).state == "ANNULEE"
    Patient.update(amc_tiers_payant=True).where(Patient.id == mutualist.id).execute()
    invoice_service.update_invoice(invoice.id, acts, user="anne")
    again = Dre.get(Dre.invoice == invoice.id)
    assert (again.state, again.amount_cents) == ("NON_VALIDEE", Invoice.get_by_id(invoice.id).amc_cents)
    actions = [
        t.action
        for t in InvoiceTransition.select().where(InvoiceTransition.invoice == invoice.id)
        .order_by(InvoiceTransition.id)
        if t.action.startswith("dre_")
    ]
    assert actions == ["dre_cancel", "dre_reopen"]
