"""A caisse's rejection of a transmitted invoice, and « Annuler facture transmise ».

A rejection can arrive on paper (or, later, in the NOEMIE returns): recording it marks the
invoice ``rejected`` — it stays « Transmise » — which is what allows « Annuler facture
transmise » (Transmise → Saisie). The cancelled invoice leaves its lot; when every invoice of a
lot was cancelled that way, the lot is « Annulé », and the invoices, once corrected and
re-validated, go into a new lot with a new number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.invoice_states import InvoiceAction, InvoiceState
from tuibill.domain.lot_states import TRANSITIONS, LotAction, LotState
from tuibill.domain.numbering import format_invoice_number
from tuibill.models import Invoice, Lot
from tuibill.models.database import immediate
from tuibill.services import transitions
from tuibill.services.billing import CLEARED_SECURING, get_invoice
from tuibill.services.lots import LotSummary, current_time, move_lot, summarize

REJECT = "reject"
CLEAR_REJECTION = "clear_rejection"


def _reason(reason: str) -> str:
    if not reason.strip():
        raise ValidationError(
            "Indiquez le motif (celui du rejet de la caisse, ou pourquoi).", field="reason"
        )
    return reason.strip()


def _transmitted(invoice: Invoice) -> None:
    if invoice.state != InvoiceState.TRANSMISE.value:
        raise RefusedOperation(
            f"La facture {format_invoice_number(invoice.number) or invoice.id} est à l'état "
            f"« {InvoiceState(invoice.state).label} » : seule une facture transmise peut être "
            "rejetée par la caisse."
        )


def record_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Record the caisse's rejection of a « Transmise » invoice (e.g. received on paper)."""
    why = _reason(reason)
    with immediate():
        invoice = get_invoice(invoice_id)
        _transmitted(invoice)
        if invoice.rejected:
            raise RefusedOperation(
                f"Le rejet de la facture {format_invoice_number(invoice.number)} est déjà noté."
            )
        Invoice.update(rejected=True).where(Invoice.id == invoice.id).execute()
        invoice.rejected = True
        transitions.record(invoice, invoice.state, invoice.state, REJECT, user, why)
    return invoice


def clear_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Undo a rejection recorded by mistake (the invoice is still « Transmise »)."""
    why = _reason(reason)
    with immediate():
        invoice = get_invoice(invoice_id)
        _transmitted(invoice)
        if not invoice.rejected:
            raise RefusedOperation(
                f"Aucun rejet noté sur la facture {format_invoice_number(invoice.number)}."
            )
        Invoice.update(rejected=False).where(Invoice.id == invoice.id).execute()
        invoice.rejected = False
        transitions.record(invoice, invoice.state, invoice.state, CLEAR_REJECTION, user, why)
    return invoice


@dataclass(frozen=True)
class CancelResult:
    invoice: Invoice  # now « Saisie », out of its lot
    lot: LotSummary | None  # the lot it was in, as it is now
    lot_cancelled: bool  # the last of its invoices: the lot became « Annulé »


def cancel_transmitted(
    invoice_id: int, *, user: str, reason: str, now: datetime | None = None
) -> CancelResult:
    """« Annuler facture transmise » (after a rejection): Transmise → Saisie, out of its lot.

    One transaction: the invoice's move, its lot's count of cancelled invoices and, for the
    last one, the lot's move to « Annulé ».
    """
    why = _reason(reason)
    at = current_time(now)
    with immediate():
        invoice = get_invoice(invoice_id)
        lot = Lot.get_or_none(Lot.id == invoice.lot_id) if invoice.lot_id else None
        # Leaves the lot: re-validated, it goes into a new lot with a new number.
        transitions.move(
            invoice,
            InvoiceAction.CANCEL_TRANSMITTED,
            user,
            why,
            rejected=False,
            lot=None,
            lot_number=None,
            **CLEARED_SECURING,  # a draft again: re-validated, it is secured anew
        )
        if lot is None:
            return CancelResult(invoice, None, False)
        count = lot.cancelled_count + 1
        Lot.update(cancelled_count=count).where(Lot.id == lot.id).execute()
        lot.cancelled_count = count
        cancelled = False
        can_cancel = (LotState(lot.state), LotAction.CANCEL) in TRANSITIONS
        if count >= lot.invoice_count and can_cancel:
            move_lot(
                lot,
                LotAction.CANCEL,
                user,
                f"toutes ses factures annulées (la dernière : {format_invoice_number(invoice.number)})",
                at=at,
            )
            cancelled = True
        return CancelResult(invoice, summarize(lot), cancelled)
