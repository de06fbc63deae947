"""Règlements (seed 004): a payment, its spread over invoices, and its life cycle.

A payment comes from a tiers-payeur or from the client (its « émetteur »). It is spread over
what is owed — a payer's payment over the financed shares of its beneficiaries' invoices, a
client's over the client's part — by hand or by « Automatiser association »
(:func:`auto_allocate`). What is not spread stays on the payment as unallocated credit, never
lost; each allocation can be undone alone. The payment's state follows the amounts
(:func:`state_for`), each change recorded through :data:`MOVES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tuibill.domain.errors import IllegalTransition, ValidationError
from tuibill.domain.formatting import format_cents


class PaymentState(StrEnum):
    ENREGISTRE = "ENREGISTRE"
    VENTILE_PARTIELLEMENT = "VENTILE_PARTIELLEMENT"
    VENTILE = "VENTILE"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    PaymentState.ENREGISTRE: "Enregistré (non ventilé)",
    PaymentState.VENTILE_PARTIELLEMENT: "Ventilé en partie",
    PaymentState.VENTILE: "Ventilé",
}


class Emitter(StrEnum):
    PAYER = "PAYEUR"
    CLIENT = "CLIENT"

    @property
    def label(self) -> str:
        return {Emitter.PAYER: "Tiers-payeur", Emitter.CLIENT: "Client"}[self]


class PaymentMode(StrEnum):
    VIREMENT = "VIREMENT"
    CHEQUE = "CHEQUE"
    ESPECES = "ESPECES"
    PRELEVEMENT = "PRELEVEMENT"
    CESU = "CESU"

    @property
    def label(self) -> str:
        return {
            PaymentMode.VIREMENT: "Virement",
            PaymentMode.CHEQUE: "Chèque",
            PaymentMode.ESPECES: "Espèces",
            PaymentMode.PRELEVEMENT: "Prélèvement",
            PaymentMode.CESU: "CESU",
        }[self]


class PaymentAction(StrEnum):
    ALLOCATE = "allocate"
    UNDO = "undo_allocation"

    @property
    def label(self) -> str:
        return {PaymentAction.ALLOCATE: "Association", PaymentAction.UNDO: "Association annulée"}[
            self
        ]


CREATE = "create"


def history_label(action: str) -> str:
    if action == CREATE:
        return "Enregistrement"
    try:
        return PaymentAction(action).label
    except ValueError:
        return action


@dataclass(frozen=True)
class PaymentMove:
    source: PaymentState
    action: PaymentAction
    target: PaymentState


S = PaymentState
A = PaymentAction
# An allocation may leave the state as it is (a second partial one): recorded all the same.
MOVES: tuple[PaymentMove, ...] = (
    PaymentMove(S.ENREGISTRE, A.ALLOCATE, S.VENTILE_PARTIELLEMENT),
    PaymentMove(S.ENREGISTRE, A.ALLOCATE, S.VENTILE),
    PaymentMove(S.VENTILE_PARTIELLEMENT, A.ALLOCATE, S.VENTILE_PARTIELLEMENT),
    PaymentMove(S.VENTILE_PARTIELLEMENT, A.ALLOCATE, S.VENTILE),
    PaymentMove(S.VENTILE, A.UNDO, S.VENTILE_PARTIELLEMENT),
    PaymentMove(S.VENTILE, A.UNDO, S.ENREGISTRE),
    PaymentMove(S.VENTILE_PARTIELLEMENT, A.UNDO, S.VENTILE_PARTIELLEMENT),
    PaymentMove(S.VENTILE_PARTIELLEMENT, A.UNDO, S.ENREGISTRE),
)
_ALLOWED = {(m.source, m.action, m.target) for m in MOVES}


def state_for(amount_cents: int, allocated_cents: int) -> PaymentState:
    if allocated_cents <= 0:
        return S.ENREGISTRE
    if allocated_cents < amount_cents:
        return S.VENTILE_PARTIELLEMENT
    return S.VENTILE


def find_move(state: str, action: str, amount_cents: int, allocated_after: int) -> PaymentMove:
    """The row for *action* from *state* that leads where the amounts say."""
    source, act = PaymentState(state), PaymentAction(action)
    target = state_for(amount_cents, allocated_after)
    if (source, act, target) not in _ALLOWED:
        raise IllegalTransition(
            f"« {act.label} » impossible sur un règlement « {source.label} » "
            f"(il serait « {target.label} »)."
        )
    return PaymentMove(source, act, target)


@dataclass(frozen=True)
class Owed:
    """Something a payment can go to: a financed share, or a client's part of an invoice."""

    key: int  # the caller's id (a funding, an invoice)
    issued_on: date
    number: int  # invoice number: the tie-break after the date
    remaining_cents: int


def check_allocation(left_cents: int, owed: Owed, amount_cents: int) -> None:
    """A hand allocation: positive, within what the payment has left and what is owed."""
    if amount_cents <= 0:
        raise ValidationError("Le montant associé doit être positif.", field="amount")
    if amount_cents > left_cents:
        raise ValidationError(
            f"Le règlement n'a plus que {format_cents(left_cents)} € à associer.",
            field="amount",
        )
    if amount_cents > owed.remaining_cents:
        raise ValidationError(
            f"Il ne reste que {format_cents(owed.remaining_cents)} € à régler sur cette ligne.",
            field="amount",
        )


def auto_allocate(left_cents: int, owed: Sequence[Owed]) -> list[tuple[int, int]]:
    """« Automatiser association »: (key, cents) to allocate, in order.

    Exact amounts first: a payment (or what is left of it) equal to one line's remaining
    amount goes to that line (the oldest such). Otherwise the oldest lines first, each paid
    in full while the money lasts, the last one in part. What is left stays unallocated.
    """
    open_lines = sorted(
        (item for item in owed if item.remaining_cents > 0),
        key=lambda item: (item.issued_on, item.number, item.key),
    )
    if left_cents <= 0 or not open_lines:
        return []
    exact = next((item for item in open_lines if item.remaining_cents == left_cents), None)
    if exact is not None:
        return [(exact.key, left_cents)]
    taken: list[tuple[int, int]] = []
    for item in open_lines:
        if left_cents <= 0:
            break
        amount = min(left_cents, item.remaining_cents)
        taken.append((item.key, amount))
        left_cents -= amount
    return taken


def client_balance(net_to_pay_cents: Sequence[int], client_payments_cents: Sequence[int]) -> int:
    """Solde client = total of the client's net à payer − total of payments whose émetteur is
    « Client » (seed 004). An avoir's net à payer is negative."""
    return sum(net_to_pay_cents) - sum(client_payments_cents)


def check_payment(amount_cents: int, day: date, today: date) -> None:
    if amount_cents <= 0:
        raise ValidationError("Le montant du règlement doit être positif.", field="amount")
    if day > today:
        raise ValidationError(
            f"Date de règlement dans le futur ({day:%d/%m/%Y}).", field="date"
        )
