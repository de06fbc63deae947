"""Issue 9, seed 002: re-sending an FSE with its same number. The simulated concentrator refuses a
duplicate number (« DOUBLON DE FSE ») unless the caisse rejected it or it was recycled; tuibill
refuses « Réactiver Télétrans » within the recycling delay for an FSE neither rejected nor
recycled. Re-sent refused before, accepted after."""

from __future__ import annotations

import pytest
from lots_support import T0, invoice_states

from tuibill.domain.errors import RefusedOperation
from tuibill.models import Invoice, Lot, ReturnRejection
from tuibill.services import lots, receiving, sending
from tuibill.services import rejections as treatment
from tuibill.simulator.scenarios import Answer, LotRule, ScriptScenario


def scenario(first: tuple[str, ...]) -> ScriptScenario:
    return ScriptScenario(
        rules=(LotRule(steps=(tuple(Answer.parse(a) for a in first),), lot_number=1),),
        default=(Answer("positive"), Answer("paiement")),
    )


def run(caisse) -> list[Lot]:
    built = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    receiving.receive(caisse.settings, user="anne", now=T0)
    return [Lot.get_by_id(lot.id) for lot in built]


def test_an_unanswered_fse_is_resent_only_once_recycled_at_the_concentrator(office, start_caisse):
    caisse = start_caisse(scenario(("positive",)))  # lot 001: acknowledged, no return
    (invoice_id,) = office.invoices(1)
    run(caisse)
    number = Invoice.get_by_id(invoice_id).number
    assert invoice_states([invoice_id]) == ["TRANSMISE"]
    days = caisse.settings.recycling_days
    assert days == 90

    # tuibill refuses: sent less than 90 days ago, neither rejected nor recycled.
    with pytest.raises(RefusedOperation, match="moins de 90 jours"):
        treatment.reactivate(invoice_id, user="anne", recycling_days=days, now=T0)

    # Recycled in tuibill, but not on the concentrator's portal: the concentrator refuses it.
    treatment.recycle(invoice_id, user="anne", reason="sans réponse de la caisse")
    recycled = Invoice.get_by_id(invoice_id)
    assert (recycled.state, recycled.recycled_by) == ("RECYCLEE", "anne")
    treatment.reactivate(invoice_id, user="anne", recycling_days=days, now=T0)
    assert invoice_states([invoice_id]) == ["VALIDEE"]
    (second,) = run(caisse)
    assert second.state == "ARL_POSITIF"
    refused = Invoice.get_by_id(invoice_id)
    assert (refused.state, refused.number) == ("REJETEE", number)
    assert ReturnRejection.get(ReturnRejection.invoice == invoice_id).label == "DOUBLON DE FSE"
    view = treatment.rejection_view(invoice_id)
    assert view.motif.value == "doublon" and view.treatment.value == "recycler"
    assert [a.action.value for a in view.actions] == ["recycle", "reactivate"]

    # Recycled on the portal too: the same number is accepted and paid.
    caisse.simulator.recycle(office.nurse.am_number, number)
    treatment.recycle(invoice_id, user="anne")
    treatment.reactivate(invoice_id, user="anne", recycling_days=days, now=T0)
    (third,) = run(caisse)
    assert third.state == "ARL_POSITIF"
    paid = Invoice.get_by_id(invoice_id)
    assert (paid.state, paid.number, paid.lot_id) == ("PAYEE", number, third.id)


def test_a_rejected_fse_is_reactivated_and_accepted_with_its_number(office, start_caisse):
    caisse = start_caisse(scenario(("positive", "rejet:0450")))
    (invoice_id,) = office.invoices(1)
    run(caisse)
    number = Invoice.get_by_id(invoice_id).number
    assert invoice_states([invoice_id]) == ["REJETEE"]
    treatment.reactivate(invoice_id, user="anne", recycling_days=90)  # rejected: no recycling
    (lot,) = run(caisse)
    assert lot.number == 2
    paid = Invoice.get_by_id(invoice_id)
    assert (paid.state, paid.number) == ("PAYEE", number)
    assert not ReturnRejection.select().where(ReturnRejection.code == "DBLF").exists()


def test_the_concentrator_refuses_a_duplicate_whatever_the_scenario(office, start_caisse):
    """A lot re-sent by hand with an FSE already received: the doublon comes back on its own
    return even when the scenario answers only the ARL."""
    from tuibill.simulator.scenarios import FixedScenario

    caisse = start_caisse(FixedScenario((Answer("positive"),)))
    (invoice_id,) = office.invoices(1)
    run(caisse)
    Invoice.update(state="VALIDEE", lot=None, lot_number=None).where(
        Invoice.id == invoice_id
    ).execute()  # as a careless re-sending would
    run(caisse)
    assert invoice_states([invoice_id]) == ["REJETEE"]
    assert ReturnRejection.get(ReturnRejection.invoice == invoice_id).code == "DBLF"
