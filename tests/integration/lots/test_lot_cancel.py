"""« Annuler facture transmise » after a caisse's rejection: when every invoice of a lot is
cancelled, the lot is Annulé, and the invoices, re-validated, go into a new lot number."""

from __future__ import annotations

import pytest
from lots_support import T0, invoice_states, transmission

from tuibill.domain.errors import IllegalTransition, RefusedOperation, ValidationError
from tuibill.domain.lots import LotState
from tuibill.models import Invoice, InvoiceTransition, Lot
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle, lot_views, lots, rejections


def transmitted_lot(office, tmp_path, count: int = 2):
    """A lot of *count* invoices marked Transmis (as after a sending), with its invoices."""
    ids = office.invoices(count)
    settings = transmission(tmp_path)
    (built,) = lots.build_lots(settings, user="anne", now=T0).lots
    with_send_recorded(built.id)
    return settings, built, ids


def with_send_recorded(lot_id: int) -> None:
    from tuibill.domain.lots import LotAction
    from tuibill.models.database import immediate

    with immediate():
        lot = Lot.get_by_id(lot_id)
        lifecycle.move_lot(
            lot, LotAction.START_SENDING, user="anne", at=T0, message_id="<m@t>", recipient="c@t"
        )
        lifecycle.move_lot(lot, LotAction.CONFIRM_SENT, user="anne", reason="test", at=T0)


def test_cancelling_every_invoice_cancels_the_lot_and_relotting_takes_a_new_number(
    office, tmp_path
):
    settings, built, ids = transmitted_lot(office, tmp_path)
    assert invoice_states(ids) == ["TRANSMISE", "TRANSMISE"]

    # Not without a rejection, and not without a reason.
    with pytest.raises(IllegalTransition, match="qu'après un rejet"):
        rejections.cancel_transmitted(ids[0], user="anne", reason="erreur")
    with pytest.raises(ValidationError, match="motif"):
        rejections.record_rejection(ids[0], user="anne", reason=" ")

    rejections.record_rejection(ids[0], user="anne", reason="Prescripteur inconnu (courrier)")
    first = rejections.cancel_transmitted(ids[0], user="anne", reason="rejet du 05/03", now=T0)

    assert not first.lot_cancelled and first.lot.state is LotState.TRANSMIS
    invoice = Invoice.get_by_id(ids[0])
    assert (invoice.state, invoice.lot_id, invoice.lot_number) == ("SAISIE", None, None)
    assert [t.action for t in InvoiceTransition.select().where(InvoiceTransition.invoice == ids[0])][-2:] == [
        "reject", "cancel_transmitted",
    ]  # fmt: skip

    rejections.record_rejection(ids[1], user="anne", reason="Date de prescription erronée")
    last = rejections.cancel_transmitted(ids[1], user="anne", reason="rejet", now=T0)

    assert last.lot_cancelled and last.lot.state is LotState.ANNULE
    assert Lot.get_by_id(built.id).cancelled_count == 2
    # The lot shows what it carried, even once its invoices left it.
    detail = lot_views.lot_detail(built.id)
    assert [(i.number, i.state_label, i.still_in_lot) for i in detail.invoices] == [
        (7401, "Saisie", False),
        (7402, "Saisie", False),
    ]

    for invoice_id in ids:
        invoice_service.validate(invoice_id, user="anne")
    again = lots.build_lots(settings, user="anne", now=T0)
    assert [s.number for s in again.lots] == [2]
    assert {i.lot_number for i in Invoice.select().where(Invoice.id.in_(ids))} == {2}
    # Same FSE numbers: the corrected invoices are sent again under a new lot number.
    assert [i.number for i in lot_views.lot_detail(again.lots[0].id).invoices] == [7401, 7402]


def test_a_lot_with_an_invoice_still_transmitted_is_not_cancelled(office, tmp_path):
    _, built, ids = transmitted_lot(office, tmp_path, count=3)
    for invoice_id in ids[:2]:
        rejections.record_rejection(invoice_id, user="anne", reason="rejet")
        rejections.cancel_transmitted(invoice_id, user="anne", reason="rejet")
    assert Lot.get_by_id(built.id).state == "TRANSMIS"


def test_rejection_rules(office, tmp_path):
    (draft,) = office.invoices(1, validate=False)
    with pytest.raises(RefusedOperation, match="seule une facture transmise"):
        rejections.record_rejection(draft, user="anne", reason="x")
    _, _, ids = transmitted_lot(office, tmp_path, count=1)
    rejections.record_rejection(ids[0], user="anne", reason="x")
    with pytest.raises(RefusedOperation, match="déjà noté"):
        rejections.record_rejection(ids[0], user="anne", reason="x")
    assert Invoice.get_by_id(ids[0]).state == "REJETEE"
    rejections.clear_rejection(ids[0], user="anne", reason="noté par erreur")
    assert Invoice.get_by_id(ids[0]).state == "TRANSMISE"
    with pytest.raises(RefusedOperation, match="Aucun rejet"):
        rejections.clear_rejection(ids[0], user="anne", reason="x")
    with pytest.raises(IllegalTransition):
        rejections.cancel_transmitted(ids[0], user="anne", reason="x")
