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
from datetime import date
from enum import StrEnum

from tuibill.domain.errors import RefusedOperation
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


# A return entry's outcome when it answers no invoice as an Outcome does: nothing at the desk
# matched it (« non rapprochée », kept with its content), or it repeats one already posted.
NOT_MATCHED = "non_rapprochee"
DOUBLE = "doublon"


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
    (S.RECYCLEE, Outcome.PAID): A.PAY,
    (S.RECYCLEE, Outcome.PARTIAL): A.PAY_PARTIALLY,
}

# States in which an invoice may receive a return (others: recorded and flagged for a person).
AWAITING_RETURN = frozenset({S.TRANSMISE, S.PAYEE_PARTIELLEMENT, S.REJETEE, S.RECYCLEE})


def move_for(state: InvoiceState, outcome: Outcome) -> InvoiceAction | None:
    return RETURN_MOVES.get((InvoiceState(state), outcome))


# --- refused lines: one status each (seed 001) -------------------------------------------------


class LineStatus(StrEnum):
    """What the desk decides for one act line of a paid or partly paid invoice."""

    REFUSED = "refuse"  # re-bill it at the next billing run
    OTHER_DESTINATION = "autre-destination"  # re-bill to the corrected payer, as an original
    CREDIT_NOTE = "note-de-credit"  # a paid line credited, then re-billed with other details
    REGULARISATION = "regularisation"  # a paid line credited, not re-billed
    RIGHTLY_REFUSED = "a-juste-titre"  # the refusal was right: nothing re-billed

    @property
    def label(self) -> str:
        return LINE_STATUS_LABELS[self]


RESTORE = "restaurer"  # undo the choice: the line back to its original state

LINE_STATUS_LABELS = {
    LineStatus.REFUSED: "Refusé",
    LineStatus.OTHER_DESTINATION: "Refusé, pour une autre destination",
    LineStatus.CREDIT_NOTE: "Note de crédit",
    LineStatus.REGULARISATION: "Régularisation",
    LineStatus.RIGHTLY_REFUSED: "Refusé à juste titre, pas de nouvelle soumission",
}


@dataclass(frozen=True)
class LineStatusRule:
    """What a refused or paid line's status does to the act: billed again, credited."""

    paid_line: bool  # True: only for a line the caisse paid; False: only for a refused line
    rebills: bool  # the act goes back to Facturer and is billed again (the positive line)
    credits: bool  # the next invoice carries the negative line (the amount credited)


LINE_STATUS_RULES: dict[LineStatus, LineStatusRule] = {
    LineStatus.REFUSED: LineStatusRule(paid_line=False, rebills=True, credits=True),
    # An original invoice to another payer: nothing to credit to the first one's next invoice.
    LineStatus.OTHER_DESTINATION: LineStatusRule(paid_line=False, rebills=True, credits=False),
    LineStatus.CREDIT_NOTE: LineStatusRule(paid_line=True, rebills=True, credits=True),
    LineStatus.REGULARISATION: LineStatusRule(paid_line=True, rebills=False, credits=True),
    LineStatus.RIGHTLY_REFUSED: LineStatusRule(paid_line=False, rebills=False, credits=False),
}


def check_line_status(
    status: LineStatus, *, refused: bool, current: LineStatus | None, line: str
) -> LineStatusRule:
    """The rule of *status* for a line, or why it is not allowed there (French, naming *line*)."""
    rule = LINE_STATUS_RULES[LineStatus(status)]
    if current is not None:
        raise RefusedOperation(
            f"{line} : statut « {current.label} » déjà choisi ; « Restaurer » d'abord pour en "
            "choisir un autre."
        )
    if rule.paid_line and refused:
        raise RefusedOperation(
            f"{line} : « {status.label} » n'est possible que pour une ligne payée ; cette ligne "
            "a été refusée (non payée) : choisissez « Refusé »."
        )
    if not rule.paid_line and not refused:
        raise RefusedOperation(
            f"{line} : « {status.label} » s'applique à une ligne refusée ; cette ligne a été "
            "payée (« Note de crédit » ou « Régularisation » pour la créditer)."
        )
    return rule


def check_restore(current: LineStatus | None, *, carried: str, line: str) -> None:
    """Restaurer is refused when nothing was chosen, or once the next run carried the choice."""
    if current is None:
        raise RefusedOperation(f"{line} : aucun statut choisi, rien à restaurer.")
    if carried:
        raise RefusedOperation(
            f"{line} : déjà reprise sur la facture {carried} ; défacturez ou supprimez-la "
            "d'abord pour restaurer la ligne."
        )


# --- recycling before re-sending (seed 002) ---------------------------------------------------

DEFAULT_RECYCLING_DAYS = 90  # the seed's figure only: a setting (transmission.recycling_days)
DEFAULT_AWAITING_DAYS = 21  # « FSE en attente de retours »: sent less than 21 days ago


def check_resend(transmitted_on: date | None, today: date, days: int) -> None:
    """An FSE neither rejected nor recycled may be re-sent only *days* after its sending: the
    concentrator refuses it as a duplicate (« DOUBLON DE FSE ») before."""
    if transmitted_on is None:
        return
    if (today - transmitted_on).days < days:
        raise RefusedOperation(
            f"Facture transmise le {transmitted_on:%d/%m/%Y}, il y a moins de {days} jours, ni "
            "rejetée ni recyclée : le concentrateur la refuserait (« DOUBLON DE FSE »). "
            "Recyclez-la d'abord (« Recycler »), puis « Réactiver Télétrans »."
        )
