"""Issue 9, seed 001: refused act lines — one status each (allowed or refused with the reason,
« Restaurer »), and the next billing run that carries, for the same day, the negative line
(the refused amount) and the positive line (billed again), in a lot the caisse accepts."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from lots_support import T0, TODAY, invoice_states

from tuibill.domain.acts import Act
from tuibill.domain.errors import RefusedOperation
from tuibill.domain.public_holidays import is_sunday_or_holiday
from tuibill.models import Invoice, InvoiceLine, InvoiceTransition, IsolatedAct, Lot, Patient
from tuibill.services import invoices as invoice_service
from tuibill.services import line_statuses, lots, receiving, sending, worklists
from tuibill.simulator.scenarios import Answer, LotRule, ScriptScenario


def _without_majoration(day, *, until):
    """*day*, or the day before it, and so on, that is neither a Sunday nor a holiday: the
    acts carry no automatic DIM line (the test ran on a Monday with a Sunday among its days)."""
    while is_sunday_or_holiday(day) or is_sunday_or_holiday(day + timedelta(days=until)):
        day -= timedelta(days=1)
    return day


DAY1 = _without_majoration(TODAY - timedelta(days=6), until=1)
DAY2 = DAY1 + timedelta(days=1)
DAY3 = _without_majoration(TODAY - timedelta(days=1), until=0)
FIRST_LOT_REFUSES_A_LINE = ScriptScenario(
    rules=(LotRule(steps=((Answer("positive"), Answer("refus-ligne")),), lot_number=1),),
    default=(Answer("positive"), Answer("paiement")),
)


def run(caisse) -> list[Lot]:
    built = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    receiving.receive(caisse.settings, user="anne", now=T0)
    return [Lot.get_by_id(lot.id) for lot in built]


def two_day_invoice(office, patient=None) -> int:
    patient = patient or office.patients[office.cpam.id]
    acts = [Act(act_date=day, code="AMI", act_time=time(9)) for day in (DAY1, DAY2)]
    invoice = invoice_service.create_invoice(office.nurse.id, patient.id, acts, user="anne")
    invoice_service.validate(invoice.id, user="anne")
    return invoice.id


@pytest.fixture
def partly_paid(office, start_caisse):
    """An invoice of two AMI whose second line the caisse refused: Payée partiellement."""
    caisse = start_caisse(FIRST_LOT_REFUSES_A_LINE)
    invoice_id = two_day_invoice(office)
    run(caisse)
    assert invoice_states([invoice_id]) == ["PAYEE_PARTIELLEMENT"]
    return caisse, invoice_id


def test_the_statuses_allowed_per_line_and_restaurer(partly_paid):
    _, invoice_id = partly_paid
    paid, refused = line_statuses.lines_of(invoice_id)
    assert (paid.refused, refused.refused) == (False, True)
    assert refused.refunded_cents == 0 and paid.refunded_cents == paid.amo_cents > 0
    assert refused.rejection.startswith("0460")

    def refuse(rank: int, status: str, match: str) -> None:
        with pytest.raises(RefusedOperation, match=match):
            line_statuses.set_status(invoice_id, rank, status, user="anne")

    refuse(2, "note-de-credit", "n'est possible que pour une ligne payée")
    refuse(2, "regularisation", "n'est possible que pour une ligne payée")
    refuse(1, "refuse", "s'applique à une ligne refusée")
    refuse(1, "autre-destination", "s'applique à une ligne refusée")
    refuse(1, "a-juste-titre", "s'applique à une ligne refusée")
    refuse(2, "restaurer", "rien à restaurer")
    refuse(3, "refuse", "Ligne 3 inconnue")
    refuse(2, "n-importe", "inconnu")

    row = line_statuses.set_status(invoice_id, 2, "refuse", user="anne")
    assert row.status.value == "refuse" and row.status_label == "Refusé"
    act = IsolatedAct.get(IsolatedAct.rebills_line == row.line_id)  # back in « Actes isolés »
    assert (act.act_date, act.code, act.invoice_id) == (DAY2, "AMI", None)
    assert any(r.id == act.id for r in worklists.isolated_acts(worklists.Criteria()))
    refuse(2, "a-juste-titre", "Restaurer")  # one status at a time

    restored = line_statuses.set_status(invoice_id, 2, "restaurer", user="anne")
    assert restored.status is None and IsolatedAct.get_or_none(IsolatedAct.id == act.id) is None
    line_statuses.set_status(invoice_id, 2, "a-juste-titre", user="anne")
    line_statuses.set_status(invoice_id, 1, "note-de-credit", user="anne")
    line_statuses.set_status(invoice_id, 1, "restaurer", user="anne")
    line_statuses.set_status(invoice_id, 1, "regularisation", user="anne")
    reasons = [
        t.reason
        for t in InvoiceTransition.select()
        .where((InvoiceTransition.invoice == invoice_id) & (InvoiceTransition.action == "line_status"))
        .order_by(InvoiceTransition.id)
    ]
    assert reasons == [
        "ligne 2 : Refusé",
        "ligne 2 : restaurée (Refusé)",
        "ligne 2 : Refusé à juste titre, pas de nouvelle soumission",
        "ligne 1 : Note de crédit",
        "ligne 1 : restaurée (Note de crédit)",
        "ligne 1 : Régularisation",
    ]


def test_a_status_on_an_unpaid_invoice_is_refused(office, db_url):
    (invoice_id,) = office.invoices(1)
    with pytest.raises(RefusedOperation, match="suivent un paiement"):
        line_statuses.set_status(invoice_id, 1, "refuse", user="anne")


def test_the_next_run_carries_the_negative_and_the_positive_line(partly_paid, office):
    caisse, first_id = partly_paid
    first = Invoice.get_by_id(first_id)
    refused_line = line_statuses.lines_of(first_id)[1]
    line_statuses.set_status(first_id, 2, "refuse", user="anne", reason="NIR corrigé")

    # The next invoice of that patient and payer, for another act.
    patient = office.patients[office.cpam.id]
    act = Act(act_date=DAY3, code="AMI", act_time=time(10))
    nxt = invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == nxt.id).order_by(InvoiceLine.position))
    carried = [(line.act_date, line.code, line.total_cents) for line in lines]
    amount = refused_line.total_cents
    assert sorted(carried) == sorted(
        [(DAY3, "AMI", amount), (DAY2, "AMI", amount), (DAY2, "AMI", -amount)]
    )
    negative = next(line for line in lines if line.total_cents < 0)
    positive = next(line for line in lines if line.rebill_of is not None)
    assert negative.credit_of == positive.rebill_of == refused_line.line_id
    assert negative.amo_cents == -refused_line.amo_cents
    assert nxt.total_cents == amount  # the two runs reconcile: +refused −refused +new
    assert line_statuses.lines_of(first_id)[1].carried == f"(brouillon {nxt.id})"
    with pytest.raises(RefusedOperation, match="déjà reprise"):
        line_statuses.set_status(first_id, 2, "restaurer", user="anne")

    # Edited as a draft, it carries them again, once.
    invoice_service.update_invoice(nxt.id, [act], user="anne")
    assert InvoiceLine.select().where(InvoiceLine.invoice == nxt.id).count() == 3

    invoice_service.validate(nxt.id, user="anne")
    (lot,) = run(caisse)
    assert lot.state == "ARL_POSITIF" and lot.number == 2
    assert invoice_states([nxt.id]) == ["PAYEE"]
    paid = Invoice.get_by_id(nxt.id)
    assert paid.amo_paid_cents == paid.amo_cents  # the negative line's refund counted negative
    number = f"{paid.number:09d}"
    assert line_statuses.lines_of(first_id)[1].carried == number
    # Both runs together: the first's paid part plus the second's equals what is due.
    assert first.amo_cents + paid.amo_cents - refused_line.amo_cents == (
        Invoice.get_by_id(first_id).amo_paid_cents + paid.amo_paid_cents
    )
    # Nothing left to carry: the following invoice is plain.
    later = invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")
    assert InvoiceLine.select().where(InvoiceLine.invoice == later.id).count() == 1


def test_autre_destination_goes_to_the_corrected_payer_as_an_original(partly_paid, office):
    caisse, first_id = partly_paid
    patient = office.patients[office.cpam.id]
    line_statuses.set_status(first_id, 2, "autre-destination", user="anne")
    Patient.update(organism=office.lille.id).where(Patient.id == patient.id).execute()

    act = Act(act_date=DAY3, code="AMI", act_time=time(10))
    nxt = invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")
    lines = list(InvoiceLine.select().where(InvoiceLine.invoice == nxt.id))
    assert nxt.organism_id == office.lille.id
    assert sorted((line.act_date, line.total_cents > 0) for line in lines) == [
        (DAY2, True), (DAY3, True),
    ]  # fmt: skip — no negative line: an original invoice
    invoice_service.validate(nxt.id, user="anne")
    (lot,) = run(caisse)
    assert (lot.destination, lot.state) == ("01595", "ARL_POSITIF")
    assert invoice_states([nxt.id]) == ["PAYEE"]


def test_regularisation_and_a_juste_titre_bill_nothing_again(partly_paid, office):
    _, first_id = partly_paid
    line_statuses.set_status(first_id, 2, "a-juste-titre", user="anne")
    line_statuses.set_status(first_id, 1, "regularisation", user="anne")
    assert not IsolatedAct.select().where(IsolatedAct.rebills_line.is_null(False)).exists()
    patient = office.patients[office.cpam.id]
    act = Act(act_date=DAY3, code="AMI", act_time=time(10))
    nxt = invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")
    totals = sorted(
        line.total_cents for line in InvoiceLine.select().where(InvoiceLine.invoice == nxt.id)
    )
    paid_line = line_statuses.lines_of(first_id)[0]
    assert totals == [-paid_line.total_cents, paid_line.total_cents]  # credited, not re-billed
    assert nxt.total_cents == 0


def test_a_draft_carrying_a_regularisation_is_edited_and_replaced_without_doubling(
    partly_paid, office
):
    """The negative line is no act: editing the draft, or its avoir's new invoice, never bills
    it as a positive one."""
    from tuibill.services.acts import lines_as_acts

    _, first_id = partly_paid
    line_statuses.set_status(first_id, 2, "refuse", user="anne")
    patient = office.patients[office.cpam.id]
    act = Act(act_date=DAY3, code="AMI", act_time=time(10))
    nxt = invoice_service.create_invoice(office.nurse.id, patient.id, [act], user="anne")
    acts = lines_as_acts(nxt)
    assert sorted(a.act_date for a in acts) == [DAY2, DAY3]  # the re-billed act, the new one
    invoice_service.update_invoice(nxt.id, acts, user="anne")
    totals = sorted(
        line.total_cents for line in InvoiceLine.select().where(InvoiceLine.invoice == nxt.id)
    )
    amount = Invoice.get_by_id(nxt.id).total_cents
    assert len(totals) == 3 and totals[0] < 0 and sum(totals) == amount


def test_a_partly_paid_invoice_is_treated_line_by_line(partly_paid):
    """The treatment of a partial payment is the refused lines' statuses (seed 001), not
    « Recommencer la FSE » of the whole invoice (seed 000), whatever the line's motif."""
    from tuibill.services.rejections import rejection_view

    _, invoice_id = partly_paid
    view = rejection_view(invoice_id)
    assert view.treatment.value == "lignes_refusees"
    assert view.actions == ()
    assert "ligne refusée" in view.what_to_do and "Recommencer" not in view.what_to_do
