"""DRE (seed 003): made with the invoice when its mutuelle is in tiers payant, listed in
Facturer's « DRE non validées », validated, and answered by the NOEMIE returns (type D, part 199).

Every move follows ``domain.dre.DRE_MOVES`` and is recorded in the invoice's history (sealed in
the audit chain), in the caller's transaction. Their own lots to the AMC: ``services.dre_lots``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tuibill.domain.dre import DreAction, DreState, needs_dre, next_dre_state
from tuibill.domain.errors import NotFound, RefusedOperation
from tuibill.domain.formatting import format_invoice_number
from tuibill.models import Dre, Invoice, Mutuelle
from tuibill.models.database import immediate
from tuibill.services import lifecycle


def _move(dre: Dre, invoice: Invoice, action: DreAction, *, user: str, reason: str = "") -> None:
    lifecycle.move_dre(dre, invoice, action, user=user, reason=reason)


def sync(invoice: Invoice, *, user: str) -> Dre | None:
    """Make, update or cancel the DRE of a draft invoice after its lines were written."""
    dre = Dre.get_or_none(Dre.invoice == invoice.id)
    wanted = needs_dre(
        amc_tiers_payant=invoice.amc_tiers_payant, amc_cents=invoice.amc_cents,
        has_mutuelle=invoice.mutuelle_id is not None,
    )  # fmt: skip
    now = lifecycle.now()
    if wanted and dre is None:
        return Dre.create(
            invoice=invoice.id, mutuelle=invoice.mutuelle_id, state=DreState.NON_VALIDEE.value,
            amount_cents=invoice.amc_cents, created_at=now, updated_at=now,
        )  # fmt: skip
    if dre is None:
        return None
    if wanted and dre.state in (DreState.NON_VALIDEE.value, DreState.ANNULEE.value):
        if dre.state == DreState.ANNULEE.value:
            _move(dre, invoice, DreAction.REOPEN, user=user, reason="part mutuelle en tiers payant")
        Dre.update(
            amount_cents=invoice.amc_cents, mutuelle=invoice.mutuelle_id, updated_at=now
        ).where(Dre.id == dre.id).execute()
        dre.amount_cents, dre.mutuelle, dre.updated_at = invoice.amc_cents, invoice.mutuelle_id, now
    elif not wanted and dre.state in (DreState.NON_VALIDEE.value, DreState.VALIDEE.value):
        _move(dre, invoice, DreAction.CANCEL, user=user, reason="plus de part mutuelle en tiers payant")
    return dre


def cancel_with(invoice: Invoice, *, user: str, reason: str) -> None:
    """The invoice was cancelled (avoir, non transmissible, deleted): its DRE with it."""
    dre = Dre.get_or_none(Dre.invoice == invoice.id)
    if dre is not None and dre.state in (
        DreState.NON_VALIDEE.value, DreState.VALIDEE.value, DreState.REJETEE.value
    ):
        _move(dre, invoice, DreAction.CANCEL, user=user, reason=reason)


@dataclass(frozen=True)
class DreRow:
    invoice_id: int
    number: str
    patient: str
    billing_date: date
    mutuelle: str
    amount_cents: int
    paid_cents: int
    state: DreState

    def as_dict(self) -> dict:
        return {
            "facture": self.invoice_id, "numero": self.number, "patient": self.patient,
            "date": self.billing_date, "mutuelle": self.mutuelle,
            "montant_cents": self.amount_cents, "paye_cents": self.paid_cents,
            "etat": self.state.label, "etat_code": self.state.value,
        }  # fmt: skip


def list_dres(
    state: DreState | None = DreState.NON_VALIDEE, *, after: int | None = None, limit: int = 100
) -> list[DreRow]:
    """DREs by invoice id (keyset: *after*), in *state* (None: all)."""
    query = Dre.select(Dre, Invoice).join(Invoice)
    if state is not None:
        query = query.where(Dre.state == state.value)
    if after is not None:
        query = query.where(Dre.invoice > after)
    found = list(query.order_by(Dre.invoice).limit(limit))
    names = dict(
        Mutuelle.select(Mutuelle.id, Mutuelle.name)
        .where(Mutuelle.id.in_([d.mutuelle for d in found if d.mutuelle] or [0]))
        .tuples()
    )
    return [
        DreRow(
            dre.invoice.id, format_invoice_number(dre.invoice.number), dre.invoice.patient_name,
            dre.invoice.billing_date, names.get(dre.mutuelle, ""), dre.amount_cents,
            dre.paid_cents, DreState(dre.state),
        )  # fmt: skip
        for dre in found
    ]


def _dre_of(invoice_id: int) -> tuple[Dre, Invoice]:
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    dre = Dre.get_or_none(Dre.invoice == invoice_id) if invoice else None
    if dre is None or invoice is None:
        raise NotFound(f"Aucune DRE pour la facture {invoice_id} (mutuelle en tiers payant ?).")
    return dre, invoice


def validate(invoice_id: int, *, user: str) -> Dre:
    """« Valider » a DRE: its invoice must be numbered (validated) and its mutuelle known."""
    with immediate():
        dre, invoice = _dre_of(invoice_id)
        if invoice.number is None:
            raise RefusedOperation(
                f"La facture {invoice_id} n'est pas encore validée : validez-la d'abord (la DRE "
                "porte son numéro)."
            )
        mutuelle = Mutuelle.get_or_none(Mutuelle.id == dre.mutuelle)
        if mutuelle is None or not mutuelle.number.strip():
            raise RefusedOperation("La mutuelle de la DRE n'a pas de numéro AMC : complétez-la.")
        _move(dre, invoice, DreAction.VALIDATE, user=user)
        return dre


def unvalidate(invoice_id: int, *, user: str, reason: str = "") -> Dre:
    with immediate():
        dre, invoice = _dre_of(invoice_id)
        _move(dre, invoice, DreAction.UNVALIDATE, user=user, reason=reason)
        return dre


def post_answer(
    invoice: Invoice, *, state: str, paid_cents: int, user: str, reason: str, at: datetime
) -> str:
    """A NOEMIE return of type D (the AMC part, 199) for the invoice's DRE, in the posting's
    transaction: paid or rejected; the invoice's own state is left to its FSE's returns.
    Returns a note for the return's entry."""
    dre = Dre.get_or_none(Dre.invoice == invoice.id)
    if dre is None:
        return "retour de DRE sans DRE au cabinet : noté, rien ne change."
    paid = dre.paid_cents + paid_cents
    Dre.update(paid_cents=paid).where(Dre.id == dre.id).execute()
    dre.paid_cents = paid
    action = DreAction.PAY if state == "P" and paid > 0 else (
        DreAction.REJECT if state == "R" else None
    )
    current = DreState(dre.state)
    if action is None:
        return "retour de DRE sans paiement ni rejet : noté."
    try:
        next_dre_state(current, action)
    except RefusedOperation:
        return f"DRE à l'état « {current.label} » : le retour est noté, son état ne change pas."
    _move(dre, invoice, action, user=user, reason=reason)
    return ""
