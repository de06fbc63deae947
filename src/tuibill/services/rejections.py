"""A caisse's rejection of a transmitted invoice, and « Annuler facture transmise ».

A rejection can arrive on paper (or in the NOEMIE returns): recording it makes the invoice
« Rejetée » (a move of the domain's table, with its reason), which is what allows « Annuler
facture transmise » (Rejetée → Saisie). The cancelled invoice leaves its lot, counted there as
cancelled; when every invoice of a lot was cancelled that way, the lot is « Annulé », and the
invoices, once corrected and re-validated, go into a new lot with a new number. All of that is
the table's (``domain.invoices.MOVES``), applied by ``services.lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tuibill.domain.invoices import InvoiceAction
from tuibill.domain.lots import LotState
from tuibill.models import Invoice
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.invoices import get_invoice
from tuibill.services.lifecycle import current_time
from tuibill.services.lot_views import LotSummary, get_lot, summarize


def _move(invoice_id: int, action: InvoiceAction, user: str, reason: str, at: datetime) -> Invoice:
    with immediate():
        invoice = get_invoice(invoice_id)
        lifecycle.move_invoice(invoice, action, user=user, reason=reason.strip(), at=at)
    return invoice


def record_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Record the caisse's rejection of a « Transmise » invoice (e.g. received on paper)."""
    return _move(invoice_id, InvoiceAction.REJECT, user, reason, lifecycle.now())


def clear_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Undo a rejection recorded by mistake: « Rejetée » → « Transmise »."""
    return _move(invoice_id, InvoiceAction.CLEAR_REJECTION, user, reason, lifecycle.now())


@dataclass(frozen=True)
class CancelResult:
    invoice: Invoice  # now « Saisie », out of its lot
    lot: LotSummary | None  # the lot it was in, as it is now
    lot_cancelled: bool  # the last of its invoices: the lot became « Annulé »


def cancel_transmitted(
    invoice_id: int, *, user: str, reason: str, now: datetime | None = None
) -> CancelResult:
    """« Annuler facture transmise » (after a rejection): Rejetée → Saisie, out of its lot; the
    last cancelled invoice of a lot makes it « Annulé »."""
    before = get_invoice(invoice_id)
    invoice = _move(
        invoice_id, InvoiceAction.CANCEL_TRANSMITTED, user, reason, current_time(now)
    )
    if before.lot_id is None:
        return CancelResult(invoice, None, False)
    lot = summarize(get_lot(before.lot_id))
    return CancelResult(invoice, lot, lot.state is LotState.ANNULE)
