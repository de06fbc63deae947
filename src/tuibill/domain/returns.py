"""What a caisse's return (NOEMIE PS) means for an invoice: paid, paid in part, rejected, deferred.

Each part the caisse answers (AMO: entity 198, AMC: 199) carries the amount asked, a state (P paid,
R rejected, D deferred, blank untreated) and the amount paid with its sign. Payments add up over
returns (a back-payment, 081 type 04, completes an earlier partial one), so the outcome is computed
on what was paid so far, part by part, against what was asked. :data:`RETURN_MOVES` says which
move of ``domain.invoices`` an outcome makes from each state; an outcome with no move there is
recorded and shown, and changes no state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from tuibill.domain.invoices import InvoiceAction, InvoiceState


class Part(StrEnum):
    AMO = "AMO"
    AMC = "AMC"


class PartState(StrEnum):
    """The caisse's answer on one part (198/199 « état paiement »)."""

    PAID = "P"
    REJECTED = "R"
    DEFERRED = "D"
    UNTREATED = " "

    @property
    def label(self) -> str:
        return PART_STATE_LABELS[self]


PART_STATE_LABELS = {
    PartState.PAID: "Payée",
    PartState.REJECTED: "Rejetée",
    PartState.DEFERRED: "Différée",
    PartState.UNTREATED: "Non traitée",
}


class Outcome(StrEnum):
    """What a return says of an invoice, all its returns so far considered."""

    PAID = "payee"
    PARTIAL = "partielle"
    REJECTED = "rejetee"
    DEFERRED = "differee"
    NONE = "sans_effet"  # nothing asked or answered on any part

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self]


OUTCOME_LABELS = {
    Outcome.PAID: "Payée",
    Outcome.PARTIAL: "Payée partiellement",
    Outcome.REJECTED: "Rejetée",
    Outcome.DEFERRED: "Différée",
    Outcome.NONE: "Sans effet",
}


@dataclass(frozen=True)
class PartAnswer:
    """One part of one invoice, as all the returns read so far answered it."""

    part: Part
    asked_cents: int
    paid_cents: int  # the sum of the signed amounts paid on this part, over every return
    state: PartState  # the latest return's answer on the part

    @property
    def fully_paid(self) -> bool:
        return self.asked_cents > 0 and self.paid_cents >= self.asked_cents


def invoice_outcome(parts: Iterable[PartAnswer]) -> Outcome:
    """The outcome of an invoice from its parts (the rules of formats/noemie-ps.md):

    * every part asked paid in full → Payée;
    * something paid, but less than asked on some part (refused lines, a rejected AMC part) →
      Payée partiellement;
    * nothing paid and the AMO part rejected (or the only part asked rejected) → Rejetée;
    * nothing paid and a part deferred → Différée: the invoice stays as it is, the fact is kept.
    """
    # A part the caisse did not treat (blank state: e.g. an AMC part its mutuelle handles itself)
    # is no part of this answer.
    asked = [p for p in parts if p.state is not PartState.UNTREATED]
    if not asked:
        return Outcome.NONE
    paid = sum(p.paid_cents for p in asked)
    if all(p.fully_paid for p in asked if p.asked_cents > 0) and paid > 0:
        return Outcome.PAID
    if paid > 0:
        return Outcome.PARTIAL
    rejected = {p.part for p in asked if p.state is PartState.REJECTED}
    if Part.AMO in rejected or (rejected and len(asked) == 1):
        return Outcome.REJECTED
    if any(p.state is PartState.DEFERRED for p in asked):
        return Outcome.DEFERRED
    if rejected:
        return Outcome.REJECTED
    return Outcome.NONE


S = InvoiceState
A = InvoiceAction

# (invoice state, outcome) → the move it makes. Anything else is recorded without a move: a
# deferred part leaves the invoice Transmise; a payment on an invoice already Payée is flagged
# by the posting (paid twice?), never moved.
RETURN_MOVES: dict[tuple[InvoiceState, Outcome], InvoiceAction] = {
    (S.TRANSMISE, Outcome.PAID): A.PAY,
    (S.TRANSMISE, Outcome.PARTIAL): A.PAY_PARTIALLY,
    (S.TRANSMISE, Outcome.REJECTED): A.REJECT,
    (S.PAYEE_PARTIELLEMENT, Outcome.PAID): A.PAY,
    (S.REJETEE, Outcome.PAID): A.PAY,
    (S.REJETEE, Outcome.PARTIAL): A.PAY_PARTIALLY,
}

# States in which an invoice may receive a return (others: recorded and flagged for a person).
AWAITING_RETURN = frozenset({S.TRANSMISE, S.PAYEE_PARTIELLEMENT, S.REJETEE})


def move_for(state: InvoiceState, outcome: Outcome) -> InvoiceAction | None:
    return RETURN_MOVES.get((InvoiceState(state), outcome))
