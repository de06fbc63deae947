"""The one place where an invoice or a lot changes state.

:func:`move` looks the action up in the domain's table (``domain.invoices.MOVES``,
``domain.lots.MOVES``), applies the state **and every effect the row names** — number, securing,
lot, portable reader's key, ARL, sending, the moves it implies for the lot's invoices and SCOR
lots, the lot a cancelled invoice leaves — and records each move (who, when, from, to, why), all
in the caller's write transaction. The UPDATE is conditional on the state read: if another desk
moved the entity meanwhile, nothing changes and the operation is refused.

Callers pass the data a row's effects need (the lot to join, the signature, the ARL's reason…)
and nothing else; a missing or unexpected datum is a programming error (``TypeError``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import peewee

from tuibill.domain import invoice_rules
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import (
    MOVES as INVOICE_MOVES,
)
from tuibill.domain.invoices import (
    REASON_PROMPTS,
    UNNUMBERED_ONLY,
    InvoiceAction,
    InvoiceState,
    LotLink,
    Securing,
    TlaKey,
    find_move,
)
from tuibill.domain.lots import (
    BUILD,
    INITIAL_STATE,
    ArlFields,
    LotAction,
    LotState,
    can,
    is_resending,
)
from tuibill.domain.lots import find_move as find_lot_move
from tuibill.models import (
    Invoice,
    InvoiceLine,
    InvoicePiece,
    InvoiceTransition,
    IsolatedAct,
    Lot,
    LotTransition,
    Patient,
    Practitioner,
    Prescription,
    PrescriptionItem,
)
from tuibill.services import audit, numbering

# The securing columns of an invoice, and their values when nothing secures it (mode dégradé).
CLEARED_SECURING: dict[str, object] = {
    "mode": "degrade",
    "secured_with_vitale": False,
    "signature": "",
    "signature_algorithm": "",
    "signer": "",
    "signing_card": "",
    "signer_certificate": "",
    "secured_at": None,
}
SECURING_COLUMNS = frozenset(CLEARED_SECURING)

# The columns securing gives, computed from the number the move allocates (the signature covers
# it): either the columns, or a function of the invoice's number returning them.
SecuringData = Mapping[str, object] | Callable[[int], Mapping[str, object]]

# What an invoice's history says when a lot move carries it along.
_CARRIED_REASONS: dict[LotAction, str] = {
    LotAction.CONFIRM_SENT: "Lot {number} transmis",
    LotAction.RESOLVE_SENT: "Lot {number} transmis",
    LotAction.DELETE: "Suppression du lot {number}",
}


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def current_time(now: datetime | None = None) -> datetime:
    """*now* (an injected clock, in tests) or the real time, to the second."""
    return (now or datetime.now()).replace(microsecond=0)


# --- what the screens and the CLI read --------------------------------------------------------


# --- the life cycle ---------------------------------------------------------------------------


def move(entity: Invoice | Lot, action: InvoiceAction | LotAction, **kwargs: Any) -> Any:
    """Apply *action* to an invoice or a lot (see :func:`move_invoice`, :func:`move_lot`)."""
    if isinstance(entity, Invoice):
        return move_invoice(entity, InvoiceAction(action), **kwargs)
    if isinstance(entity, Lot):
        return move_lot(entity, LotAction(action), **kwargs)
    raise TypeError(f"no life cycle for {type(entity).__name__}")


# --- invoices ---------------------------------------------------------------------------------


def move_invoice(
    invoice: Invoice,
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    securing: SecuringData | None = None,
    lot: Lot | None = None,
    tla_key: str | None = None,
) -> InvoiceState:
    """Apply *action* to *invoice* with every effect of its row; the caller holds the write
    transaction. Returns the new state."""
    at = at or now()
    source = InvoiceState(invoice.state)
    row = find_move(source, action)
    effects = row.effects
    if effects.needs_reason and not reason.strip():
        raise ValidationError(REASON_PROMPTS[action], field="reason")
    changes: dict[str, object] = {"state": row.target.value}

    if effects.unnumbered_only and invoice.number is not None:
        raise RefusedOperation(UNNUMBERED_ONLY)
    if effects.rechecks_rules:
        check_invoice_rules(invoice)
    if effects.allocates_number and invoice.number is None:
        # Kept for the invoice's life: re-validation reuses it (no gap, no duplicate).
        changes["number"] = numbering.allocate(_practitioner(invoice.practitioner_id))

    if effects.securing is Securing.CLEAR:
        changes.update(CLEARED_SECURING)
    elif effects.securing in (Securing.SIGNED, Securing.SIGNED_OR_DEGRADED):
        if securing is None:
            if effects.securing is Securing.SIGNED:
                raise TypeError(f"{action.value}: the securing is required")
            changes.update(CLEARED_SECURING)  # validated in mode dégradé
        else:
            number = changes.get("number", invoice.number)
            given = dict(securing(int(number)) if callable(securing) else securing)
            unknown = set(given) - SECURING_COLUMNS
            if unknown:
                raise TypeError(f"not securing columns: {sorted(unknown)}")
            changes.update(given)
    elif securing is not None:
        raise TypeError(f"{action.value} records no securing")

    left: Lot | None = None
    if effects.lot is LotLink.JOIN:
        if lot is None:
            raise TypeError(f"{action.value}: the lot to join is required")
        changes.update(lot=lot.id, lot_number=lot.number)
    elif effects.lot in (LotLink.LEAVE, LotLink.CANCEL):
        if effects.lot is LotLink.CANCEL and invoice.lot_id is not None:
            left = Lot.get_or_none(Lot.id == invoice.lot_id)
        changes.update(lot=None, lot_number=None)
    elif lot is not None:
        raise TypeError(f"{action.value} joins no lot")

    if effects.tla_key is TlaKey.SET:
        if not tla_key:
            raise TypeError(f"{action.value}: the portable reader's key is required")
        changes["tla_key"] = tla_key
    elif effects.tla_key is TlaKey.CLEAR:
        changes["tla_key"] = None
    elif tla_key is not None:
        raise TypeError(f"{action.value} sets no portable reader key")

    _update_conditionally(
        Invoice,
        invoice,
        source.value,
        changes,
        f"La facture {_invoice_label(invoice)} a été modifiée par un autre poste : rechargez-la.",
    )
    record_invoice(invoice, source.value, row.target.value, action.value, user, reason, at=at)
    if effects.releases_acts:
        release_acts(invoice)
    if left is not None:
        _count_cancelled(left, invoice, user=user, at=at)
    return row.target


def move_invoices(
    invoices: list[Invoice],
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    lot: Lot | None = None,
) -> None:
    """The same move for many invoices at once — a lot built, sent or deleted: one UPDATE and
    one batch of history rows instead of a few statements per invoice.

    Only for rows whose effects are the same for every invoice (no number, securing, reader key
    or acts to give back, no sent lot to leave); others go one by one through
    :func:`move_invoice`. Refused whole when one invoice was moved meanwhile by another desk.
    """
    at = at or now()
    by_state: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        by_state.setdefault(invoice.state, []).append(invoice)
    for state, group in by_state.items():
        row = find_move(InvoiceState(state), action)
        effects = row.effects
        uniform = not (
            effects.needs_reason and not reason.strip()
            or effects.allocates_number
            or effects.rechecks_rules
            or effects.unnumbered_only
            or effects.releases_acts
            or effects.securing not in (Securing.KEEP, Securing.CLEAR)
            or effects.tla_key is TlaKey.SET
            or effects.lot is LotLink.CANCEL
        )
        if not uniform:
            for invoice in group:
                move_invoice(invoice, action, user=user, reason=reason, at=at, lot=lot)
            continue
        changes: dict[str, object] = {"state": row.target.value}
        if effects.securing is Securing.CLEAR:
            changes.update(CLEARED_SECURING)
        if effects.lot is LotLink.JOIN:
            if lot is None:
                raise TypeError(f"{action.value}: the lot to join is required")
            changes.update(lot=lot.id, lot_number=lot.number)
        elif effects.lot is LotLink.LEAVE:
            changes.update(lot=None, lot_number=None)
        if effects.tla_key is TlaKey.CLEAR:
            changes["tla_key"] = None
        ids = [invoice.id for invoice in group]
        for chunk in _chunks(ids):
            updated = (
                Invoice.update(**changes)
                .where(Invoice.id.in_(chunk) & (Invoice.state == state))
                .execute()
            )
            if updated != len(chunk):
                raise RefusedOperation(
                    "Des factures ont été modifiées par un autre poste pendant l'opération : "
                    "rien n'a changé, recommencez."
                )
        history = audit.seal_many(
            InvoiceTransition,
            [
                {"invoice": invoice.id, "at": at, "user": user, "from_state": state,
                 "to_state": row.target.value, "action": action.value, "reason": reason}
                for invoice in group
            ],
        )  # fmt: skip
        _insert_history(InvoiceTransition, history)
        for invoice in group:
            for key, value in changes.items():
                setattr(invoice, key, value)


def _insert_history(model: type[InvoiceTransition] | type[LotTransition], rows: list[dict]) -> None:
    """Many history rows in one prepared statement (peewee builds each row's SQL otherwise)."""
    fields = [model._meta.fields[name] for name in rows[0]]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([model._meta.database.param] * len(fields))
    table = model._meta.table_name
    cursor = model._meta.database.cursor()
    cursor.executemany(
        f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
        [tuple(field.db_value(row[field.name]) for field in fields) for row in rows],
    )


def _chunks(items: list, size: int = 500) -> list[list]:
    # Bounded IN lists and multi-row inserts: SQLite limits the bound parameters of a statement.
    return [items[i : i + size] for i in range(0, len(items), size)]


def record_invoice(
    invoice: Invoice,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> InvoiceTransition:
    """One row of an invoice's history (a move, its creation, or an event such as an edit),
    chained to the whole history (``services.audit``)."""
    return InvoiceTransition.create(
        **audit.seal(
            InvoiceTransition,
            {
                "invoice": invoice.id,
                "at": at or now(),
                "user": user,
                "from_state": from_state,
                "to_state": to_state,
                "action": action,
                "reason": reason,
            },
        )
    )


def record_invoice_event(invoice: Invoice, event: str, user: str, reason: str = "") -> None:
    """Something that happened to an invoice without changing its state."""
    record_invoice(invoice, invoice.state, invoice.state, event, user, reason)


def release_acts(invoice: Invoice) -> None:
    """Give back what an invoice's lines consumed: prescribed acts, isolated acts."""
    for item_id, count in (
        InvoiceLine.select(InvoiceLine.prescription_item, peewee.fn.COUNT(InvoiceLine.id))
        .where((InvoiceLine.invoice == invoice.id) & InvoiceLine.prescription_item.is_null(False))
        .group_by(InvoiceLine.prescription_item)
        .tuples()
    ):
        PrescriptionItem.update(billed=PrescriptionItem.billed - count).where(
            PrescriptionItem.id == item_id
        ).execute()
    IsolatedAct.update(invoice=None).where(IsolatedAct.invoice == invoice.id).execute()


def check_invoice_rules(invoice: Invoice) -> None:
    """Rules that may have changed since the draft (a death date entered meanwhile…)."""
    patient = Patient.get_or_none(Patient.id == invoice.patient_id)
    if patient is None:
        raise ValidationError("Patient inconnu.", field="patient")
    prescription = None
    if invoice.prescription_id is not None:
        prescription = Prescription.get_or_none(Prescription.id == invoice.prescription_id)
        if prescription is None or prescription.prescriber_id is None:
            raise ValidationError(
                "Prescripteur inconnu : complétez la prescription.", field="prescriber"
            )
    dates = [
        day
        for (day,) in InvoiceLine.select(InvoiceLine.act_date)
        .where(InvoiceLine.invoice == invoice.id)
        .tuples()
    ]
    invoice_rules.check_has_acts(len(dates))
    for day in dates:
        invoice_rules.check_act_date(
            day,
            billing_date=invoice.billing_date,
            prescription_date=prescription.date if prescription else None,
            death_date=patient.death_date,
        )


def _practitioner(practitioner_id: int) -> Practitioner:
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None or not practitioner.active:
        raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
    return practitioner


def _invoice_label(invoice: Invoice) -> str:
    return format_invoice_number(invoice.number) or str(invoice.id)


def _count_cancelled(lot: Lot, invoice: Invoice, *, user: str, at: datetime) -> None:
    """An invoice of a sent lot was cancelled: count it there; the last one cancels the lot."""
    count = lot.cancelled_count + 1
    Lot.update(cancelled_count=count).where(Lot.id == lot.id).execute()
    lot.cancelled_count = count
    if count >= lot.invoice_count and can(LotState(lot.state), LotAction.CANCEL):
        move_lot(
            lot,
            LotAction.CANCEL,
            user=user,
            reason=(
                "toutes ses factures annulées (la dernière : "
                f"{format_invoice_number(invoice.number)})"
            ),
            at=at,
        )


# --- lots -------------------------------------------------------------------------------------


def move_lot(
    lot: Lot,
    action: LotAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    message_id: str | None = None,
    recipient: str | None = None,
    sent_at: datetime | None = None,
    error: str | None = None,
    arl_code: str | None = None,
) -> LotState:
    """Apply *action* to *lot* with every effect of its row (its invoices' and SCOR lots'
    moves included); the caller holds the write transaction. Returns the new state.

    The ARL columns take *reason* as the ARL's reason and *arl_code* as its code.
    """
    at = at or now()
    source = LotState(lot.state)
    row = find_lot_move(source, action, send_count=lot.send_count)
    target = row.target_resending if is_resending(source, lot.send_count) else row.target
    effects = row.effects
    changes: dict[str, object] = {"state": target.value}
    if effects.starts_sending:
        if not (message_id and recipient):
            raise TypeError(f"{action.value}: the message id and the recipient are required")
        changes.update(send_started_at=at, message_id=message_id, recipient=recipient)
    elif message_id is not None or recipient is not None:
        raise TypeError(f"{action.value} starts no sending")
    if effects.counts_sending:
        changes.update(send_count=lot.send_count + 1, sent_at=sent_at or at)
    elif sent_at is not None:
        raise TypeError(f"{action.value} counts no sending")
    if effects.clears_error:
        changes.update(last_error="", last_error_at=None)
    if effects.records_error:
        changes.update(last_error=error or reason, last_error_at=at)
    elif error is not None:
        raise TypeError(f"{action.value} records no error")
    if effects.arl is ArlFields.SET:
        changes.update(arl_at=at, arl_code=arl_code or "", arl_reason=reason)
    elif effects.arl is ArlFields.CLEAR:
        changes.update(arl_at=at, arl_code="", arl_reason="")
    elif arl_code is not None:
        raise TypeError(f"{action.value} records no ARL")

    _update_conditionally(
        Lot,
        lot,
        source.value,
        changes,
        f"Le lot {lot.number:03d} a été modifié par un autre poste : rechargez-le.",
    )
    record_lot(lot, source.value, target.value, action.value, user, reason, at=at)

    if effects.invoices is not None:
        why = _CARRIED_REASONS.get(action, "Lot {number} : " + action.label).format(
            number=f"{lot.number:03d}"
        )
        sources = [m.source.value for m in INVOICE_MOVES if m.action is effects.invoices]
        for invoice in Invoice.select().where((Invoice.lot == lot.id) & Invoice.state.in_(sources)):
            move_invoice(invoice, effects.invoices, user=user, reason=why, at=at)
    if effects.children is not None:
        for child in Lot.select().where(Lot.parent == lot.id):
            if can(LotState(child.state), effects.children):
                move_lot(
                    child,
                    effects.children,
                    user=user,
                    reason=f"lot de FSE {lot.number:03d} : {action.label.lower()}",
                    at=at,
                )
    if effects.releases_pieces:
        # A deleted SCOR lot gives its pieces back: they travel in the next SCOR lot.
        InvoicePiece.update(lot=None).where(InvoicePiece.lot == lot.id).execute()
    return target


def record_lot(
    lot: Lot,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> LotTransition:
    return LotTransition.create(
        **audit.seal(
            LotTransition,
            {
                "lot": lot.id,
                "at": at or now(),
                "user": user,
                "from_state": from_state,
                "to_state": to_state,
                "action": action,
                "reason": reason,
            },
        )
    )


def record_lot_built(lot: Lot, user: str, reason: str, *, at: datetime) -> None:
    """A lot's first history row: built, « À transmettre »."""
    record_lot(lot, None, INITIAL_STATE.value, BUILD, user, reason, at=at)


# --- shared -----------------------------------------------------------------------------------


def _update_conditionally(
    model: type[Invoice] | type[Lot],
    entity: Invoice | Lot,
    source: str,
    changes: dict[str, object],
    refusal: str,
) -> None:
    updated = (
        model.update(**changes).where((model.id == entity.id) & (model.state == source)).execute()
    )
    if updated != 1:
        raise RefusedOperation(refusal)
    for key, value in changes.items():
        setattr(entity, key, value)
