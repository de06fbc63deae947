"""The lot life cycle of DOMAIN.md (seed 003, « Les états des lots »): states, actions, legal moves.

A lot is built « À transmettre », goes « En cours » the moment its mail starts out (recorded and
committed *before* the SMTP server is asked), « Transmis » once the server accepted it, then
« ARL positif » or « ARL négatif ». A negative ARL or no ARL within the time-out makes the
software re-send the **identical** lot once; a second failure sends it to « Traitement manuel »
(paper). When every invoice of a lot is cancelled (« Annuler facture transmise »), the lot is
« Annulé ». A lot deleted before it was sent is kept as « Supprimé », with its history.

Some moves lead to different states on the first sending and on the re-sending: the table gives
both, and :func:`next_state` picks with the lot's count of confirmed sendings. Each row also says
what the move implies besides the state (:class:`LotEffects`), including the move it applies to
the lot's invoices and to its SCOR lots; ``services.lifecycle.move`` applies a row and records
it (who, when, from, to, why) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from tuibill.domain.errors import IllegalTransition
from tuibill.domain.invoices import InvoiceAction


class LotState(StrEnum):
    A_TRANSMETTRE = "A_TRANSMETTRE"
    EN_COURS = "EN_COURS"
    TRANSMIS = "TRANSMIS"
    ARL_POSITIF = "ARL_POSITIF"
    ARL_NEGATIF = "ARL_NEGATIF"
    TRAITEMENT_MANUEL = "TRAITEMENT_MANUEL"
    ANNULE = "ANNULE"
    SUPPRIME = "SUPPRIME"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[LotState, str] = {
    LotState.A_TRANSMETTRE: "À transmettre",
    LotState.EN_COURS: "En cours",
    LotState.TRANSMIS: "Transmis",
    LotState.ARL_POSITIF: "ARL positif",
    LotState.ARL_NEGATIF: "ARL négatif",
    LotState.TRAITEMENT_MANUEL: "Traitement manuel",
    LotState.ANNULE: "Annulé",
    LotState.SUPPRIME: "Supprimé",
}


def history_label(action: str) -> str:
    """The French label of a lot history row's action."""
    if action == BUILD:
        return "Préparation du lot"
    try:
        return LotAction(action).label
    except ValueError:
        return action


class LotAction(StrEnum):
    DELETE = "delete"
    START_SENDING = "start_sending"
    CONFIRM_SENT = "confirm_sent"
    SEND_FAILED = "send_failed"
    RESOLVE_SENT = "resolve_sent"
    RESOLVE_NOT_SENT = "resolve_not_sent"
    ARL_POSITIVE = "arl_positive"
    ARL_NEGATIVE = "arl_negative"
    TIMEOUT = "timeout"
    CANCEL = "cancel"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[LotAction, str] = {
    LotAction.DELETE: "Suppression du lot",
    LotAction.START_SENDING: "Début de l'envoi",
    LotAction.CONFIRM_SENT: "Envoi accepté par le serveur",
    LotAction.SEND_FAILED: "Envoi refusé",
    LotAction.RESOLVE_SENT: "Décision : lot envoyé",
    LotAction.RESOLVE_NOT_SENT: "Décision : lot non envoyé",
    LotAction.ARL_POSITIVE: "ARL positif reçu",
    LotAction.ARL_NEGATIVE: "ARL négatif reçu",
    LotAction.TIMEOUT: "Pas d'ARL dans le délai",
    LotAction.CANCEL: "Annulation (toutes les factures annulées)",
}

# What a lot carries: FSE (invoices), or the SCOR pieces of an FSE lot's mode-dégradé invoices.
FSE = "FSE"
SCOR = "SCOR"

# The action that creates a lot, recorded from no state (like an invoice's creation).
BUILD = "build"
INITIAL_STATE = LotState.A_TRANSMETTRE

S = LotState
A = LotAction


class ArlFields(Enum):
    """What a move does to the lot's ARL columns (when, code, reason)."""

    KEEP = "keep"
    SET = "set"  # the ARL's (or the time-out's) date, code and reason, given with the move
    CLEAR = "clear"  # a positive ARL: the date, no code, no reason


@dataclass(frozen=True)
class LotEffects:
    """Everything a lot move implies besides the state."""

    starts_sending: bool = False  # send_started_at, message id and recipient given with the move
    counts_sending: bool = False  # one more confirmed sending, at the given sent_at
    clears_error: bool = False  # the last sending error no longer stands
    records_error: bool = False  # the error given with the move becomes the last error
    arl: ArlFields = ArlFields.KEEP
    # The same move, applied in the same transaction, to what the lot carries:
    invoices: InvoiceAction | None = None  # each invoice of the lot still « À transmettre »
    children: LotAction | None = None  # each SCOR lot travelling with it, where legal
    releases_pieces: bool = False  # a SCOR lot's pieces go back to the next SCOR lot


@dataclass(frozen=True)
class LotMove:
    source: LotState
    action: LotAction
    target: LotState  # on the first sending
    target_resending: LotState  # on the re-sending (see :func:`is_resending`)
    effects: LotEffects = LotEffects()


_SENT = LotEffects(counts_sending=True, clears_error=True, invoices=InvoiceAction.TRANSMIT)
_ARL_SET = LotEffects(arl=ArlFields.SET)

# Nothing else is legal. "Re-sending" means: the sending in progress (En cours) or the last one
# (Transmis) is the second, see :func:`is_resending`.
MOVES: tuple[LotMove, ...] = (
    LotMove(
        S.A_TRANSMETTRE,
        A.DELETE,
        S.SUPPRIME,
        S.SUPPRIME,
        LotEffects(invoices=InvoiceAction.REMOVE_FROM_LOT, children=A.DELETE, releases_pieces=True),
    ),
    LotMove(
        S.A_TRANSMETTRE, A.START_SENDING, S.EN_COURS, S.EN_COURS, LotEffects(starts_sending=True)
    ),
    # The identical lot goes out again once, after a negative ARL or a time-out.
    LotMove(
        S.ARL_NEGATIF, A.START_SENDING, S.EN_COURS, S.EN_COURS, LotEffects(starts_sending=True)
    ),
    LotMove(S.EN_COURS, A.CONFIRM_SENT, S.TRANSMIS, S.TRANSMIS, _SENT),
    # The server refused the mail (certain): back to where the sending started from.
    LotMove(
        S.EN_COURS, A.SEND_FAILED, S.A_TRANSMETTRE, S.ARL_NEGATIF, LotEffects(records_error=True)
    ),
    # A crash left the outcome unknown: a person decides, never the software alone.
    LotMove(S.EN_COURS, A.RESOLVE_SENT, S.TRANSMIS, S.TRANSMIS, _SENT),
    LotMove(
        S.EN_COURS,
        A.RESOLVE_NOT_SENT,
        S.A_TRANSMETTRE,
        S.ARL_NEGATIF,
        LotEffects(clears_error=True),
    ),
    LotMove(
        S.TRANSMIS, A.ARL_POSITIVE, S.ARL_POSITIF, S.ARL_POSITIF, LotEffects(arl=ArlFields.CLEAR)
    ),
    LotMove(S.TRANSMIS, A.ARL_NEGATIVE, S.ARL_NEGATIF, S.TRAITEMENT_MANUEL, _ARL_SET),
    LotMove(S.TRANSMIS, A.TIMEOUT, S.ARL_NEGATIF, S.TRAITEMENT_MANUEL, _ARL_SET),
    # A late positive ARL still says the caisse has the lot: better known than treated twice.
    LotMove(
        S.ARL_NEGATIF, A.ARL_POSITIVE, S.ARL_POSITIF, S.ARL_POSITIF, LotEffects(arl=ArlFields.CLEAR)
    ),
    LotMove(
        S.TRAITEMENT_MANUEL,
        A.ARL_POSITIVE,
        S.ARL_POSITIF,
        S.ARL_POSITIF,
        LotEffects(arl=ArlFields.CLEAR),
    ),
    LotMove(S.TRANSMIS, A.CANCEL, S.ANNULE, S.ANNULE),
    LotMove(S.ARL_POSITIF, A.CANCEL, S.ANNULE, S.ANNULE),
    LotMove(S.ARL_NEGATIF, A.CANCEL, S.ANNULE, S.ANNULE),
    LotMove(S.TRAITEMENT_MANUEL, A.CANCEL, S.ANNULE, S.ANNULE),
)

TRANSITIONS: dict[tuple[LotState, LotAction], LotMove] = {
    (move.source, move.action): move for move in MOVES
}

# States from which the sending service sends (a new lot, or the one re-sending).
SENDABLE_STATES = frozenset({S.A_TRANSMETTRE, S.ARL_NEGATIF})
# A lot waiting for its ARL: the time-out runs from its last sending.
AWAITING_ARL_STATES = frozenset({S.TRANSMIS})
# Nothing more will happen to these by itself.
FINAL_STATES = frozenset({S.ARL_POSITIF, S.ANNULE, S.SUPPRIME})
# How many times the identical lot is sent at most: the first sending and one re-sending.
MAX_SENDINGS = 2


def is_resending(state: LotState, send_count: int) -> bool:
    """Whether the sending concerned by a move from *state* is the re-sending.

    *send_count* counts the confirmed sendings. In « En cours » the sending in progress is not
    counted yet; after it (« Transmis »…) it is.
    """
    if LotState(state) is S.EN_COURS:
        return send_count >= 1
    return send_count >= MAX_SENDINGS


def find_move(state: LotState, action: LotAction, *, send_count: int = 0) -> LotMove:
    """The row of the table for *action* from *state*, or :class:`IllegalTransition` (French)."""
    state = LotState(state)
    action = LotAction(action)
    move = TRANSITIONS.get((state, action))
    if move is None:
        allowed = ", ".join(f"« {a.label} »" for a in allowed_actions(state)) or "aucune"
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur un lot à l'état « {state.label} » "
            f"(actions possibles : {allowed})."
        )
    if action is A.START_SENDING and state is S.ARL_NEGATIF and send_count >= MAX_SENDINGS:
        raise IllegalTransition(
            "Ce lot a déjà été renvoyé une fois à l'identique : il relève du traitement manuel."
        )
    return move


def next_state(state: LotState, action: LotAction, *, send_count: int = 0) -> LotState:
    """The state *action* leads to from *state*, or :class:`IllegalTransition` (French)."""
    move = find_move(state, action, send_count=send_count)
    return move.target_resending if is_resending(state, send_count) else move.target


def can(state: LotState, action: LotAction) -> bool:
    return (LotState(state), LotAction(action)) in TRANSITIONS


def allowed_actions(state: LotState) -> list[LotAction]:
    """The actions the table allows from *state*, in table order."""
    state = LotState(state)
    return [move.action for move in MOVES if move.source is state]
