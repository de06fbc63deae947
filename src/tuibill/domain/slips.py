"""The life cycle of a bordereau: the statement a tiers-payeur receives (seed 004).

A bordereau is made « Créé » for one payer and a period (Individuelle: one per beneficiary;
Globale: one for all); it may be deleted while « Créé » (its invoices' shares go back to be put
on another). « Valider » numbers it (one gapless sequence) — in bulk, only those dated today or
earlier. It is then sent by e-mail or printed (« Envoyé »), and the payer's payments make it
« Réglé partiellement » then « Réglé »; undoing an allocation moves it back. Which payment move
applies follows the amounts (:func:`payment_action`), never the caller's choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tuibill.domain.errors import IllegalTransition


class SlipState(StrEnum):
    CREE = "CREE"
    VALIDE = "VALIDE"
    ENVOYE = "ENVOYE"
    PAYE_PARTIELLEMENT = "PAYE_PARTIELLEMENT"
    PAYE = "PAYE"
    SUPPRIME = "SUPPRIME"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[SlipState, str] = {
    SlipState.CREE: "Créé",
    SlipState.VALIDE: "Validé",
    SlipState.ENVOYE: "Envoyé",
    SlipState.PAYE_PARTIELLEMENT: "Réglé partiellement",
    SlipState.PAYE: "Réglé",
    SlipState.SUPPRIME: "Supprimé",
}


class SlipKind(StrEnum):
    """The payer's « Type » of bordereau (Paramétrage › Facturation)."""

    INDIVIDUELLE = "INDIVIDUELLE"
    GLOBALE = "GLOBALE"

    @property
    def label(self) -> str:
        return {SlipKind.INDIVIDUELLE: "Individuelle", SlipKind.GLOBALE: "Globale"}[self]


class SlipAction(StrEnum):
    VALIDATE = "validate"
    DELETE = "delete"
    SEND = "send"
    PRINT = "print"
    PAY_PARTIALLY = "pay_partially"
    PAY = "pay"
    UNPAY = "unpay"  # an allocation undone: nothing paid any more

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[SlipAction, str] = {
    SlipAction.VALIDATE: "Valider",
    SlipAction.DELETE: "Supprimer",
    SlipAction.SEND: "Envoi par courriel",
    SlipAction.PRINT: "Édition (envoi postal)",
    SlipAction.PAY_PARTIALLY: "Règlement partiel",
    SlipAction.PAY: "Règlement",
    SlipAction.UNPAY: "Règlement annulé",
}

CREATE = "create"
# A send by e-mail, recorded before the mail leaves and after the server's answer: the last of
# these in a bordereau's history says whether an unconfirmed send waits for a decision.
SEND_STARTED, SEND_UNCONFIRMED, SEND_FAILED = "send_started", "send_unconfirmed", "send_failed"
EVENT_LABELS = {
    CREATE: "Création", "remind": "Relance", "resend": "Nouvel envoi",
    SEND_STARTED: "Envoi commencé", SEND_UNCONFIRMED: "Envoi non confirmé",
    SEND_FAILED: "Envoi refusé",
}  # fmt: skip


def history_label(action: str) -> str:
    try:
        return SlipAction(action).label
    except ValueError:
        return EVENT_LABELS.get(action, action)


@dataclass(frozen=True)
class SlipEffects:
    allocates_number: bool = False
    releases_fundings: bool = False  # its invoices' shares (and avoir deductions) go back
    records_sending: bool = False  # sent_at and how (e-mail or post)


@dataclass(frozen=True)
class SlipMove:
    source: SlipState
    action: SlipAction
    target: SlipState
    effects: SlipEffects = SlipEffects()


S = SlipState
A = SlipAction
_SENT = SlipEffects(records_sending=True)

MOVES: tuple[SlipMove, ...] = (
    SlipMove(S.CREE, A.VALIDATE, S.VALIDE, SlipEffects(allocates_number=True)),
    SlipMove(S.CREE, A.DELETE, S.SUPPRIME, SlipEffects(releases_fundings=True)),
    SlipMove(S.VALIDE, A.SEND, S.ENVOYE, _SENT),
    SlipMove(S.VALIDE, A.PRINT, S.ENVOYE, _SENT),
    # A payer's payment is followed once the bordereau went out; one paid before that is
    # applied when it goes (services.slips syncs the state after sending).
    SlipMove(S.ENVOYE, A.PAY_PARTIALLY, S.PAYE_PARTIELLEMENT),
    SlipMove(S.ENVOYE, A.PAY, S.PAYE),
    SlipMove(S.PAYE_PARTIELLEMENT, A.PAY, S.PAYE),
    SlipMove(S.PAYE_PARTIELLEMENT, A.UNPAY, S.ENVOYE),
    SlipMove(S.PAYE, A.PAY_PARTIALLY, S.PAYE_PARTIELLEMENT),  # an allocation undone
    SlipMove(S.PAYE, A.UNPAY, S.ENVOYE),
)
TRANSITIONS = {(move.source, move.action): move for move in MOVES}

# What the lists of « Relances » and « Règlements » consider still owed.
OPEN_STATES = frozenset({S.ENVOYE, S.PAYE_PARTIELLEMENT})
# Counted in a payer's totals (not a draft, not deleted).
ISSUED_STATES = frozenset({S.VALIDE, S.ENVOYE, S.PAYE_PARTIELLEMENT, S.PAYE})


def find_move(state: str, action: str) -> SlipMove:
    state, action = SlipState(state), SlipAction(action)
    move = TRANSITIONS.get((state, action))
    if move is None:
        allowed = ", ".join(f"« {m.action.label} »" for m in MOVES if m.source is state)
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur un bordereau à l'état « {state.label} » "
            f"(actions possibles : {allowed or 'aucune'})."
        )
    return move


def can(state: str, action: str) -> bool:
    return (SlipState(state), SlipAction(action)) in TRANSITIONS


def payment_action(state: str, paid_cents: int, due_cents: int) -> SlipAction | None:
    """The move the amounts call for, or None (nothing to change, or not followed yet).

    Paid nothing → « Envoyé »; part → « Réglé partiellement »; all (or more) → « Réglé ».
    """
    state = SlipState(state)
    if state not in (S.ENVOYE, S.PAYE_PARTIELLEMENT, S.PAYE):
        return None
    if paid_cents <= 0:
        wanted = S.ENVOYE
    elif paid_cents < due_cents:
        wanted = S.PAYE_PARTIELLEMENT
    else:
        wanted = S.PAYE
    if wanted is state:
        return None
    action = {S.ENVOYE: A.UNPAY, S.PAYE_PARTIELLEMENT: A.PAY_PARTIALLY, S.PAYE: A.PAY}[wanted]
    return action if can(state, action) else None


def validation_refusal(slip_date: date, today: date) -> str | None:
    """Bulk « Validation » takes only bordereaux dated today or earlier (seed 004)."""
    if slip_date > today:
        return (
            f"Bordereau daté du {slip_date:%d/%m/%Y}, après aujourd'hui ({today:%d/%m/%Y}) : "
            "il sera validable à cette date."
        )
    return None


def format_number(number: int | None) -> str:
    """« B-000012 »."""
    return "" if number is None else f"B-{number:06d}"
