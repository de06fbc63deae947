"""The demo's home-care service: three payers, bordereaux in every state, payments, a relance."""

from __future__ import annotations

from tuibill.domain.slips import SlipState
from tuibill.models import PayerDocument, Payment, Slip, SlipTransition
from tuibill.services import audit, homecare_billing, payers, slips


def test_the_demo_has_every_bordereau_state_payments_and_a_relance(story_url) -> None:
    names = [row.name for row in payers.list_payers()]
    assert any("APA" in n for n in names) and any("CARSAT" in n for n in names)
    assert any("Harmonie" in n for n in names)
    assert {s.state for s in Slip.select()} == {state.value for state in SlipState}
    assert Payment.select().where(Payment.emitter == "PAYEUR").count() >= 2
    assert Payment.select().where(Payment.emitter == "CLIENT").count() >= 1
    reminded = SlipTransition.select().where(SlipTransition.action == "remind")
    assert reminded.count() >= 1
    assert PayerDocument.select().where(PayerDocument.kind == "RELANCE").exists()
    assert PayerDocument.select().where(PayerDocument.kind == "FACTURX").exists()
    kinds = {row.kind for row in homecare_billing.list_invoices()}
    assert kinds == {"FACTURE", "AVOIR"}
    for slip in Slip.select().where(Slip.state != "SUPPRIME"):
        assert slip.total_cents == sum(f.cents for f in slip.fundings)
        assert slip.paid_cents == sum(f.paid_cents for f in slip.fundings)
    assert any(row.partly_paid for row in slips.list_slips())
    assert audit.verify().ok
