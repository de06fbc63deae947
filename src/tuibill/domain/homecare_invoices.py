"""The life cycle of a home-care client's invoice (seed 004, « Clients › Facturation »).

An invoice is made from a month of interventions (``domain.aid_plans.bill_month``): « Créée »,
not numbered, it may be deleted and made again; « Valider » gives it its number (one sequence,
no gap) and freezes it. An **avoir** corrects a validated invoice: it is itself a numbered
invoice with the opposite amounts, and the invoice becomes « Annulée par avoir »; the
interventions are freed to be billed again, and the financed part of the avoir is deducted from
the payer's next bordereau (``domain.payers.take_deductions``).

Each row of :data:`MOVES` names the effects of the move besides the state;
``services.homecare_lifecycle.move_invoice`` applies it and records the history in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuibill.domain.errors import IllegalTransition


class HomecareInvoiceState(StrEnum):
    CREEE = "CREEE"
    VALIDEE = "VALIDEE"
    ANNULEE = "ANNULEE"
    SUPPRIMEE = "SUPPRIMEE"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[HomecareInvoiceState, str] = {
    HomecareInvoiceState.CREEE: "Créée",
    HomecareInvoiceState.VALIDEE: "Validée",
    HomecareInvoiceState.ANNULEE: "Annulée par avoir",
    HomecareInvoiceState.SUPPRIMEE: "Supprimée",
}


class InvoiceKind(StrEnum):
    FACTURE = "FACTURE"
    AVOIR = "AVOIR"

    @property
    def label(self) -> str:
        return {InvoiceKind.FACTURE: "Facture", InvoiceKind.AVOIR: "Avoir"}[self]


class HomecareInvoiceAction(StrEnum):
    VALIDATE = "validate"
    DELETE = "delete"
    CREDIT = "credit"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[HomecareInvoiceAction, str] = {
    HomecareInvoiceAction.VALIDATE: "Valider",
    HomecareInvoiceAction.DELETE: "Supprimer",
    HomecareInvoiceAction.CREDIT: "Annuler par un avoir",
}

# Recorded without a state change.
CREATE = "create"
EVENT_LABELS = {CREATE: "Création", "credit_note": "Avoir émis"}


def history_label(action: str) -> str:
    try:
        return HomecareInvoiceAction(action).label
    except ValueError:
        return EVENT_LABELS.get(action, action)


@dataclass(frozen=True)
class InvoiceEffects:
    allocates_number: bool = False  # the invoice number, from the one gapless sequence
    frees_interventions: bool = False  # its interventions may be billed again
    needs_reason: bool = False
    makes_credit_note: bool = False  # an avoir with the opposite amounts, numbered


@dataclass(frozen=True)
class InvoiceMove:
    source: HomecareInvoiceState
    action: HomecareInvoiceAction
    target: HomecareInvoiceState
    effects: InvoiceEffects = InvoiceEffects()


S = HomecareInvoiceState
A = HomecareInvoiceAction

MOVES: tuple[InvoiceMove, ...] = (
    InvoiceMove(S.CREEE, A.VALIDATE, S.VALIDEE, InvoiceEffects(allocates_number=True)),
    # Never numbered: deleting it leaves no gap; kept « Supprimée » with its history.
    InvoiceMove(S.CREEE, A.DELETE, S.SUPPRIMEE, InvoiceEffects(frees_interventions=True)),
    InvoiceMove(
        S.VALIDEE,
        A.CREDIT,
        S.ANNULEE,
        InvoiceEffects(frees_interventions=True, needs_reason=True, makes_credit_note=True),
    ),
)
TRANSITIONS = {(move.source, move.action): move for move in MOVES}

# An invoice counts for the client and the payers once validated (an avoir too); one cancelled
# by an avoir still counts: the avoir's opposite amounts cancel it.
COUNTED_STATES = frozenset({S.VALIDEE, S.ANNULEE})


def find_move(state: str, action: str) -> InvoiceMove:
    state, action = HomecareInvoiceState(state), HomecareInvoiceAction(action)
    move = TRANSITIONS.get((state, action))
    if move is None:
        allowed = ", ".join(f"« {m.action.label} »" for m in MOVES if m.source is state)
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur une facture à l'état « {state.label} » "
            f"(actions possibles : {allowed or 'aucune'})."
        )
    return move


def can(state: str, action: str) -> bool:
    return (HomecareInvoiceState(state), HomecareInvoiceAction(action)) in TRANSITIONS


def format_number(number: int | None, kind: str = InvoiceKind.FACTURE) -> str:
    """« F-000042 » / « AV-000043 »: one sequence for invoices and avoirs, no gap."""
    if number is None:
        return ""
    prefix = "AV" if kind == InvoiceKind.AVOIR else "F"
    return f"{prefix}-{number:06d}"
