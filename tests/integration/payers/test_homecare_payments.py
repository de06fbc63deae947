"""Règlements: spread by hand or automatically, each allocation undone alone, the bordereau's
state following; the solde client."""

from __future__ import annotations

from datetime import date

import pytest

from conftest import november_interventions
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.slips import SlipAction
from tuibill.models import Funding, Slip
from tuibill.services import audit, homecare_billing, payments, slips
from tuibill.services import homecare_lifecycle as lifecycle

D = date
TODAY = D(2026, 12, 3)


@pytest.fixture
def sent(office):
    """November billed; every bordereau validated and sent by post."""
    november_interventions(office)
    homecare_billing.create_invoices(2026, 11, user="anne", today=TODAY)
    homecare_billing.validate_invoices(2026, 11, user="anne")
    start, end = homecare_billing.month_bounds(2026, 11)
    ids, _ = slips.create_slips(start, end, user="anne", slip_date=TODAY)
    slips.validate_slips(start, end, user="anne", today=TODAY)
    slips.print_slips(ids, user="anne")
    return office


def _apa_slip(office) -> Slip:
    return Slip.get(Slip.payer == office.apa.id)


def test_auto_allocation_oldest_first_then_undo_one(sent) -> None:
    office = sent
    slip = _apa_slip(office)
    assert (slip.state, slip.total_cents) == ("ENVOYE", 7_520)
    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.apa.id, amount_cents=5_000, day=TODAY,
        mode="VIREMENT", reference="VIR 1", user="anne", today=TODAY,
    )  # fmt: skip
    done = payments.auto_allocate(payment.id, user="anne")
    # Jeanne's invoice (F-000001, 35,20) first, then 14,80 of Paul's (40,00).
    assert [a.cents for a in done] == [3_520, 1_480]
    assert payments.get_payment(payment.id).state == "VENTILE"
    slip = Slip.get_by_id(slip.id)
    assert (slip.state, slip.paid_cents) == ("PAYE_PARTIELLEMENT", 5_000)
    rows = {r.client: r for r in homecare_billing.list_invoices(year=2026, month=11)}
    assert rows["DUPONT Jeanne"].payer_paid_cents == 3_520 + 0  # APA's part; CARSAT's unpaid
    assert rows["MARTIN Paul"].payer_partly_paid
    # The rest: 25,20 exactly, on the second line.
    second = payments.record_payment(
        emitter="PAYEUR", payer_id=office.apa.id, amount_cents=2_520, day=TODAY,
        mode="CHEQUE", reference="CHQ 2", user="anne", today=TODAY,
    )  # fmt: skip
    assert [a.cents for a in payments.auto_allocate(second.id, user="anne")] == [2_520]
    assert Slip.get_by_id(slip.id).state == "PAYE"
    # Undo the first allocation alone: its 35,20 go back to the payment, unallocated.
    payments.undo_allocation(done[0].id, user="anne")
    payment = payments.get_payment(payment.id)
    assert (payment.state, payment.allocated_cents) == ("VENTILE_PARTIELLEMENT", 1_480)
    assert Slip.get_by_id(slip.id).state == "PAYE_PARTIELLEMENT"
    with pytest.raises(RefusedOperation, match="déjà annulée"):
        payments.undo_allocation(done[0].id, user="anne")
    assert [h[2] for h in payments.payment_history(payment.id)] == [
        "Enregistrement", "Association", "Association", "Association annulée",
    ]  # fmt: skip
    assert audit.verify().ok


def test_exact_amount_goes_to_its_line_first(sent) -> None:
    office = sent
    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.apa.id, amount_cents=4_000, day=TODAY,
        mode="VIREMENT", reference="VIR PAUL", user="anne", today=TODAY,
    )  # fmt: skip
    (allocation,) = payments.auto_allocate(payment.id, user="anne")
    paid = Funding.get_by_id(allocation.funding_id)
    assert (paid.invoice.client.last_name, paid.cents, paid.paid_cents) == ("MARTIN", 4_000, 4_000)


def test_a_remainder_is_kept_as_unallocated_credit(sent) -> None:
    office = sent
    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.carsat.id, amount_cents=3_000, day=TODAY,
        mode="VIREMENT", reference="VIR C", user="anne", today=TODAY,
    )  # fmt: skip
    assert [a.cents for a in payments.auto_allocate(payment.id, user="anne")] == [2_100]
    row = next(r for r in payments.list_payments(payer_id=office.carsat.id) if r.id == payment.id)
    assert (row.unallocated_cents, row.state) == (900, "VENTILE_PARTIELLEMENT")
    assert Slip.get(Slip.payer == office.carsat.id).state == "PAYE"


def test_hand_allocation_limits_and_double_recording(sent) -> None:
    office = sent
    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.mutuelle.id, amount_cents=1_000, day=TODAY,
        mode="CHEQUE", reference="CHQ 77", user="anne", today=TODAY,
    )  # fmt: skip
    (line,) = payments.owed_for(payment)
    with pytest.raises(ValidationError, match="plus que 10,00 €"):
        payments.allocate(payment.id, line.target, 1_500, user="anne")
    payments.allocate(payment.id, line.target, 1_000, user="anne")
    assert Slip.get(Slip.payer == office.mutuelle.id).state == "PAYE_PARTIELLEMENT"
    with pytest.raises(RefusedOperation, match="déjà enregistré"):
        payments.record_payment(
            emitter="PAYEUR", payer_id=office.mutuelle.id, amount_cents=1_000, day=TODAY,
            mode="CHEQUE", reference="CHQ 77", user="anne", today=TODAY,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="futur"):
        payments.record_payment(
            emitter="PAYEUR", payer_id=office.mutuelle.id, amount_cents=1, day=D(2027, 1, 1),
            mode="CHEQUE", user="anne", today=TODAY,
        )  # fmt: skip


def test_solde_client_counts_only_the_client_s_payments(sent) -> None:
    office = sent
    balance = homecare_billing.balance_of(office.jeanne.id)
    assert (balance.invoiced_cents, balance.net_to_pay_cents, balance.balance_cents) == (
        13_600, 7_980, 7_980,
    )  # fmt: skip
    # A payer's payment does not change the client's solde.
    apa = payments.record_payment(
        emitter="PAYEUR", payer_id=office.apa.id, amount_cents=3_520, day=TODAY, mode="VIREMENT",
        reference="V", user="anne", today=TODAY,
    )  # fmt: skip
    payments.auto_allocate(apa.id, user="anne")
    assert homecare_billing.balance_of(office.jeanne.id).balance_cents == 7_980
    mine = payments.record_payment(
        emitter="CLIENT", client_id=office.jeanne.id, amount_cents=5_000, day=TODAY,
        mode="CHEQUE", user="anne", today=TODAY,
    )  # fmt: skip
    payments.auto_allocate(mine.id, user="anne")
    balance = homecare_billing.balance_of(office.jeanne.id)
    assert (balance.client_payments_cents, balance.balance_cents) == (5_000, 2_980)
    (row,) = homecare_billing.list_invoices(client_id=office.jeanne.id)
    assert row.client_paid_cents == 5_000


def test_a_payment_before_sending_is_applied_when_the_bordereau_goes(office) -> None:
    november_interventions(office)
    homecare_billing.create_invoices(2026, 11, user="anne", today=TODAY)
    homecare_billing.validate_invoices(2026, 11, user="anne")
    start, end = homecare_billing.month_bounds(2026, 11)
    slips.create_slips(start, end, [office.carsat.id], user="anne", slip_date=TODAY)
    slips.validate_slips(start, end, user="anne", today=TODAY)
    slip = Slip.get(Slip.payer == office.carsat.id)
    payment = payments.record_payment(
        emitter="PAYEUR", payer_id=office.carsat.id, amount_cents=2_100, day=TODAY,
        mode="VIREMENT", reference="V", user="anne", today=TODAY,
    )  # fmt: skip
    payments.auto_allocate(payment.id, user="anne")
    assert Slip.get_by_id(slip.id).state == "VALIDE"  # followed once it went out
    slips.print_slips([slip.id], user="anne")
    assert Slip.get_by_id(slip.id).state == "PAYE"
    with pytest.raises(Exception, match="impossible"):
        lifecycle.move_slip(Slip.get_by_id(slip.id), SlipAction.SEND, user="x", sent_by="courriel")
