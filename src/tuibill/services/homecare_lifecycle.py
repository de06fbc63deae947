"""The one place where a home-care invoice, a bordereau or a payment changes state (seed 004).

As ``services.lifecycle`` does for FSE and lots: each move is looked up in its domain table
(``domain.homecare_invoices``, ``domain.slips``, ``domain.payments``), its effects applied, the
state updated on condition of the state read (another desk's change refuses the operation) and
the history row written and sealed in the audit chain — all in the caller's write transaction.
"""

from __future__ import annotations

from datetime import datetime

from tuibill.domain import homecare_invoices as invoice_rules
from tuibill.domain import payments as payment_rules
from tuibill.domain import slips as slip_rules
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.models import (
    Funding,
    HomecareCounter,
    HomecareInvoice,
    HomecareInvoiceTransition,
    Intervention,
    Payment,
    PaymentTransition,
    Slip,
    SlipTransition,
)
from tuibill.models.database import insert_rows
from tuibill.services import audit

INVOICE_COUNTER = "invoice"
SLIP_COUNTER = "slip"


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def allocate_number(kind: str) -> int:
    """The next number of *kind*, in the caller's write transaction (no gap, no double)."""
    rows = list(
        HomecareCounter.update(next_value=HomecareCounter.next_value + 1)
        .where(HomecareCounter.kind == kind)
        .returning(HomecareCounter.next_value)
        .execute()
    )
    if not rows:
        HomecareCounter.insert(kind=kind, next_value=2).on_conflict_ignore().execute()
        return 1
    return int(rows[0].next_value) - 1


def allocate_numbers(kind: str, count: int) -> list[int]:
    """The next *count* numbers of *kind* in one statement: those *count* calls of
    :func:`allocate_number` would give, in the caller's write transaction."""
    if count <= 0:
        return []
    rows = list(
        HomecareCounter.update(next_value=HomecareCounter.next_value + count)
        .where(HomecareCounter.kind == kind)
        .returning(HomecareCounter.next_value)
        .execute()
    )
    if not rows:
        HomecareCounter.insert(kind=kind, next_value=count + 1).on_conflict_ignore().execute()
        return list(range(1, count + 1))
    end = int(rows[0].next_value)
    return list(range(end - count, end))


def _conditional(model, entity, source: str, changes: dict, refusal: str) -> None:
    updated = (
        model.update(**changes).where((model.id == entity.id) & (model.state == source)).execute()
    )
    if updated != 1:
        raise RefusedOperation(refusal)
    for key, value in changes.items():
        setattr(entity, key, value)


def _record(
    model: type,
    key: str,
    owner_id: int,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str,
    at: datetime | None,
) -> None:
    """One row of a history (invoice, bordereau, payment), chained to the whole history."""
    row = {key: owner_id, "at": at or now(), "user": user, "from_state": from_state,
           "to_state": to_state, "action": action, "reason": reason}  # fmt: skip
    model.create(**audit.seal(model, row))


# --- invoices ---------------------------------------------------------------------------------


def record_invoices(rows: list[dict]) -> None:
    """Many invoices' history rows (a month's billing), chained in order, in one statement."""
    insert_rows(HomecareInvoiceTransition, audit.seal_many(HomecareInvoiceTransition, rows))


def record_invoice(
    invoice: HomecareInvoice,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> None:
    _record(HomecareInvoiceTransition, "invoice", invoice.id, from_state, to_state, action, user, reason, at)


def move_invoice(
    invoice: HomecareInvoice,
    action: invoice_rules.HomecareInvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
) -> invoice_rules.HomecareInvoiceState:
    """Apply *action* with its effects; returns the new state. The avoir a « credit » makes is
    created by ``services.homecare_billing.credit_invoice``, which calls this."""
    at = at or now()
    source = invoice.state
    row = invoice_rules.find_move(source, action)
    effects = row.effects
    if effects.needs_reason and not reason.strip():
        raise ValidationError("Indiquez le motif de l'avoir.", field="reason")
    changes: dict[str, object] = {"state": row.target.value}
    if effects.allocates_number and invoice.number is None:
        changes["number"] = allocate_number(INVOICE_COUNTER)
    _conditional(
        HomecareInvoice,
        invoice,
        source,
        changes,
        "La facture a été modifiée par un autre poste : rechargez-la.",
    )
    if effects.frees_interventions:
        Intervention.update(invoice_id=None).where(
            Intervention.invoice_id == invoice.id
        ).execute()
        if row.target is invoice_rules.HomecareInvoiceState.SUPPRIMEE:
            # A deleted draft puts nothing on any bordereau.
            Funding.delete().where(
                (Funding.invoice == invoice.id) & Funding.slip.is_null()
            ).execute()
    record_invoice(invoice, source, row.target.value, action.value, user, reason, at=at)
    return row.target


def move_invoices(
    invoices: list[HomecareInvoice],
    action: invoice_rules.HomecareInvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
) -> None:
    """*action* on many invoices at once (a month validated), as :func:`move_invoice` on each in
    turn would leave them: each invoice's row of the domain's table, the numbers allocated in
    the order given, one prepared UPDATE on condition of the state read and one batch of history
    rows sealed in order. Refused whole when one invoice was moved meanwhile by another desk.

    A move that frees interventions or makes an avoir is not batched: :func:`move_invoice` each.
    """
    at = at or now()
    moves = [(invoice, invoice_rules.find_move(invoice.state, action)) for invoice in invoices]
    if any(row.effects.frees_interventions or row.effects.makes_credit_note for _, row in moves):
        for invoice in invoices:
            move_invoice(invoice, action, user=user, reason=reason, at=at)
        return
    if not reason.strip() and any(row.effects.needs_reason for _, row in moves):
        raise ValidationError("Indiquez le motif de l'avoir.", field="reason")
    needing = [inv for inv, row in moves if row.effects.allocates_number and inv.number is None]
    allocated = allocate_numbers(INVOICE_COUNTER, len(needing))
    numbers = dict(zip((invoice.id for invoice in needing), allocated, strict=True))
    values, history = [], []
    for invoice, row in moves:
        values.append((row.target.value, numbers.get(invoice.id, invoice.number), invoice.id,
                       invoice.state))  # fmt: skip
        history.append(
            {"invoice": invoice.id, "at": at, "user": user, "from_state": invoice.state,
             "to_state": row.target.value, "action": action.value, "reason": reason}
        )  # fmt: skip
    if not values:
        return
    database = HomecareInvoice._meta.database
    param = database.param
    fields = HomecareInvoice._meta.fields
    columns = {name: fields[name].column_name for name in ("state", "number", "id")}
    cursor = database.cursor()
    cursor.executemany(
        f'UPDATE "{HomecareInvoice._meta.table_name}" SET "{columns["state"]}" = {param}, '
        f'"{columns["number"]}" = {param} WHERE "{columns["id"]}" = {param} '
        f'AND "{columns["state"]}" = {param}',
        values,
    )
    if cursor.rowcount != len(values):
        raise RefusedOperation(
            "Des factures ont été modifiées par un autre poste pendant l'opération : rien n'a "
            "changé, recommencez."
        )
    record_invoices(history)
    for invoice, row in moves:
        invoice.state = row.target.value
        invoice.number = numbers.get(invoice.id, invoice.number)


# --- bordereaux -------------------------------------------------------------------------------


def record_slip(
    slip: Slip,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> None:
    _record(SlipTransition, "slip", slip.id, from_state, to_state, action, user, reason, at)


def move_slip(
    slip: Slip,
    action: slip_rules.SlipAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    sent_by: str | None = None,
) -> slip_rules.SlipState:
    at = at or now()
    source = slip.state
    row = slip_rules.find_move(source, action)
    effects = row.effects
    changes: dict[str, object] = {"state": row.target.value}
    if effects.allocates_number and slip.number is None:
        changes["number"] = allocate_number(SLIP_COUNTER)
    if effects.records_sending:
        if not sent_by:
            raise TypeError(f"{action.value}: how it was sent is required")
        changes.update(sent_at=at, sent_by=sent_by)
    elif sent_by is not None:
        raise TypeError(f"{action.value} records no sending")
    _conditional(
        Slip,
        slip,
        source,
        changes,
        "Le bordereau a été modifié par un autre poste : rechargez-le.",
    )
    if effects.releases_fundings:
        Funding.update(slip=None).where(Funding.slip == slip.id).execute()
    record_slip(slip, source, row.target.value, action.value, user, reason, at=at)
    return row.target


def sync_slip_payment(slip: Slip, *, user: str, reason: str, at: datetime | None = None) -> None:
    """Recompute what the payer paid on *slip* and make the move the amounts call for."""
    from peewee import fn

    paid = int(
        Funding.select(fn.COALESCE(fn.SUM(Funding.paid_cents), 0))
        .where(Funding.slip == slip.id)
        .scalar()
        or 0
    )
    if paid != slip.paid_cents:
        Slip.update(paid_cents=paid).where(Slip.id == slip.id).execute()
        slip.paid_cents = paid
    action = slip_rules.payment_action(slip.state, paid, slip.total_cents)
    if action is not None:
        move_slip(slip, action, user=user, reason=reason, at=at)


# --- payments ---------------------------------------------------------------------------------


def record_payment(
    payment: Payment,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> None:
    _record(PaymentTransition, "payment", payment.id, from_state, to_state, action, user, reason, at)


def move_payment(
    payment: Payment,
    action: payment_rules.PaymentAction,
    allocated_after: int,
    *,
    user: str,
    reason: str,
    at: datetime | None = None,
) -> payment_rules.PaymentState:
    """An allocation made or undone: the payment's allocated total and state follow."""
    source = payment.state
    row = payment_rules.find_move(source, action, payment.amount_cents, allocated_after)
    # Conditional on the amount read too: two desks spreading one payment never both succeed.
    updated = (
        Payment.update(state=row.target.value, allocated_cents=allocated_after)
        .where(
            (Payment.id == payment.id)
            & (Payment.state == source)
            & (Payment.allocated_cents == payment.allocated_cents)
        )
        .execute()
    )
    if updated != 1:
        raise RefusedOperation("Le règlement a été modifié par un autre poste : rechargez-le.")
    payment.state, payment.allocated_cents = row.target.value, allocated_after
    record_payment(payment, source, row.target.value, action.value, user, reason, at=at)
    return row.target
