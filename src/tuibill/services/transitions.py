"""Moving an invoice through its life cycle, recorded in the same transaction."""

from __future__ import annotations

from datetime import datetime

from tuibill.domain.errors import RefusedOperation
from tuibill.domain.invoice_states import InvoiceAction, InvoiceState, next_state
from tuibill.models import Invoice, InvoiceTransition


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def record(
    invoice: Invoice,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
) -> InvoiceTransition:
    return InvoiceTransition.create(
        invoice=invoice.id,
        at=now(),
        user=user,
        from_state=from_state,
        to_state=to_state,
        action=action,
        reason=reason,
    )


def move(
    invoice: Invoice,
    action: InvoiceAction,
    user: str,
    reason: str = "",
    **changes,
) -> InvoiceState:
    """Apply *action* to *invoice*; the caller holds the write transaction.

    The UPDATE is conditional on the state we read: if another desk moved the invoice in the
    meantime, nothing changes and the operation is refused.
    """
    source = InvoiceState(invoice.state)
    target = next_state(source, action, has_rejection=bool(invoice.rejected))
    updated = (
        Invoice.update(state=target.value, **changes)
        .where((Invoice.id == invoice.id) & (Invoice.state == source.value))
        .execute()
    )
    if updated != 1:
        raise RefusedOperation(
            f"La facture {invoice.id} a été modifiée par un autre poste : rechargez-la."
        )
    invoice.state = target.value
    for key, value in changes.items():
        setattr(invoice, key, value)
    record(invoice, source.value, target.value, action.value, user, reason)
    return target
