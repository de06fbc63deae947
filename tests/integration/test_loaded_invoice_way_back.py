"""« Chargée dans le TLA » has a way back (issue 13 #17), but only through the portable reader:
never a move at the desk alone, which would leave a copy on the device."""

from __future__ import annotations

import pytest

from tuibill.domain.errors import RefusedOperation
from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.models import Invoice
from tuibill.models.database import immediate
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle


def test_cancel_preparation_of_a_loaded_invoice_needs_the_device(demo_url) -> None:
    invoice = Invoice.select().where(Invoice.state == InvoiceState.A_CHARGER.value).first()
    with immediate():
        lifecycle.move_invoice(invoice, InvoiceAction.LOAD_TLA, user="test", tla_key="K-1")
    with pytest.raises(RefusedOperation, match="lecteur portable"):
        invoice_service.apply_action(invoice.id, InvoiceAction.CANCEL_PREPARATION, user="test")
    assert Invoice.get_by_id(invoice.id).state == InvoiceState.CHARGEE_TLA.value
