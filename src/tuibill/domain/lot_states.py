"""The lot life cycle of DOMAIN.md (seed 003, « Les états des lots »): states, actions, legal moves.

A lot is built « À transmettre », goes « En cours » the moment its mail starts out (recorded and
committed *before* the SMTP server is asked), « Transmis » once the server accepted it, then
« ARL positif » or « ARL négatif ». A negative ARL or no ARL within the time-out makes the
software re-send the **identical** lot once; a second failure sends it to « Traitement manuel »
(paper). When every invoice of a lot is cancelled (« Annuler facture transmise »), the lot is
« Annulé ». A lot deleted before it was sent is kept as « Supprimé », with its history.

Some moves lead to different states on the first sending and on the re-sending: the table gives
both, and :func:`next_state` picks with the lot's count of confirmed sendings. Every state change
goes through :func:`next_state`; the services record each move (who, when, from, to, why) in the
same transaction.
"""

from __future__ import annotations

from enum import StrEnum

from tuibill.domain.errors import IllegalTransition


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

# The action that creates a lot, recorded from no state (like an invoice's creation).
BUILD = "build"
INITIAL_STATE = LotState.A_TRANSMETTRE

S = LotState
A = LotAction

# (state, action) → (target on the first sending, target on the re-sending). Nothing else is
# legal. "Re-sending" means: the sending in progress (En cours) or the last one (Transmis) is the
# second, see :func:`is_resending`.
TRANSITIONS: dict[tuple[LotState, LotAction], tuple[LotState, LotState]] = {
    (S.A_TRANSMETTRE, A.DELETE): (S.SUPPRIME, S.SUPPRIME),
    (S.A_TRANSMETTRE, A.START_SENDING): (S.EN_COURS, S.EN_COURS),
    # The identical lot goes out again once, after a negative ARL or a time-out.
    (S.ARL_NEGATIF, A.START_SENDING): (S.EN_COURS, S.EN_COURS),
    (S.EN_COURS, A.CONFIRM_SENT): (S.TRANSMIS, S.TRANSMIS),
    # The server refused the mail (certain): back to where the sending started from.
    (S.EN_COURS, A.SEND_FAILED): (S.A_TRANSMETTRE, S.ARL_NEGATIF),
    # A crash left the outcome unknown: a person decides, never the software alone.
    (S.EN_COURS, A.RESOLVE_SENT): (S.TRANSMIS, S.TRANSMIS),
    (S.EN_COURS, A.RESOLVE_NOT_SENT): (S.A_TRANSMETTRE, S.ARL_NEGATIF),
    (S.TRANSMIS, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRANSMIS, A.ARL_NEGATIVE): (S.ARL_NEGATIF, S.TRAITEMENT_MANUEL),
    (S.TRANSMIS, A.TIMEOUT): (S.ARL_NEGATIF, S.TRAITEMENT_MANUEL),
    # A late positive ARL still says the caisse has the lot: better known than treated twice.
    (S.ARL_NEGATIF, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRAITEMENT_MANUEL, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRANSMIS, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.ARL_POSITIF, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.ARL_NEGATIF, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.TRAITEMENT_MANUEL, A.CANCEL): (S.ANNULE, S.ANNULE),
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


def next_state(state: LotState, action: LotAction, *, send_count: int = 0) -> LotState:
    """The state *action* leads to from *state*, or :class:`IllegalTransition` (French)."""
    state = LotState(state)
    action = LotAction(action)
    targets = TRANSITIONS.get((state, action))
    if targets is None:
        allowed = ", ".join(f"« {a.label} »" for a in allowed_actions(state)) or "aucune"
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur un lot à l'état « {state.label} » "
            f"(actions possibles : {allowed})."
        )
    if action is A.START_SENDING and state is S.ARL_NEGATIF and send_count >= MAX_SENDINGS:
        raise IllegalTransition(
            "Ce lot a déjà été renvoyé une fois à l'identique : il relève du traitement manuel."
        )
    first, resending = targets
    return resending if is_resending(state, send_count) else first


def allowed_actions(state: LotState) -> list[LotAction]:
    """The actions the table allows from *state*, in table order."""
    return [action for (source, action) in TRANSITIONS if source == state]
