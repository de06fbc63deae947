"""The invoice (FSE) life cycle of DOMAIN.md (seed 003): states, actions and the only legal moves.

Every state change of an invoice goes through :func:`next_state`; the services record each
move (who, when, from, to, why) in the same transaction as the change itself.
"""

from __future__ import annotations

from enum import StrEnum

from tuibill.domain.errors import IllegalTransition


class InvoiceState(StrEnum):
    SAISIE = "SAISIE"
    VALIDEE = "VALIDEE"
    A_CHARGER = "A_CHARGER"
    CHARGEE_TLA = "CHARGEE_TLA"
    A_SECURISER = "A_SECURISER"
    A_TRANSMETTRE = "A_TRANSMETTRE"
    TRANSMISE = "TRANSMISE"
    NON_TRANSMISSIBLE = "NON_TRANSMISSIBLE"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS: dict[InvoiceState, str] = {
    InvoiceState.SAISIE: "Saisie",
    InvoiceState.VALIDEE: "Validée",
    InvoiceState.A_CHARGER: "À charger",
    InvoiceState.CHARGEE_TLA: "Chargée dans le TLA",
    InvoiceState.A_SECURISER: "À sécuriser",
    InvoiceState.A_TRANSMETTRE: "À transmettre",
    InvoiceState.TRANSMISE: "Transmise",
    InvoiceState.NON_TRANSMISSIBLE: "Non transmissible",
}


class InvoiceAction(StrEnum):
    VALIDATE = "validate"
    SEMI_SECURE = "semi_secure"
    UNVALIDATE = "unvalidate"
    PREPARE = "prepare"
    CANCEL_PREPARATION = "cancel_preparation"
    LOAD_TLA = "load_tla"
    UNLOAD_SECURED = "unload_secured"
    UNLOAD_SEMI_SECURED = "unload_semi_secured"
    SECURE = "secure"
    PUT_IN_LOT = "put_in_lot"
    REMOVE_FROM_LOT = "remove_from_lot"
    TRANSMIT = "transmit"
    CANCEL_TRANSMITTED = "cancel_transmitted"
    MAKE_NON_TRANSMISSIBLE = "make_non_transmissible"

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS: dict[InvoiceAction, str] = {
    InvoiceAction.VALIDATE: "Valider",
    InvoiceAction.SEMI_SECURE: "Valider avec une CPE (semi-sécurisée)",
    InvoiceAction.UNVALIDATE: "Défacturer",
    InvoiceAction.PREPARE: "Choisir les factures à charger",
    InvoiceAction.CANCEL_PREPARATION: "Annuler préparation",
    InvoiceAction.LOAD_TLA: "Charger dans lecteur",
    InvoiceAction.UNLOAD_SECURED: "Décharger (sécurisée)",
    InvoiceAction.UNLOAD_SEMI_SECURED: "Décharger (semi-sécurisée)",
    InvoiceAction.SECURE: "Sécuriser avec la CPS",
    InvoiceAction.PUT_IN_LOT: "Mettre en lot",
    InvoiceAction.REMOVE_FROM_LOT: "Suppression du lot",
    InvoiceAction.TRANSMIT: "Transmettre",
    InvoiceAction.CANCEL_TRANSMITTED: "Annuler facture transmise",
    InvoiceAction.MAKE_NON_TRANSMISSIBLE: "Rendre non transmissible",
}

S = InvoiceState
A = InvoiceAction

# The table of DOMAIN.md, and nothing else. "Any unpaid" for Non transmissible means every state
# where the invoice is at the desk: not inside the portable reader (unload it first) nor inside a
# lot (delete the lot first), so that a device or a lot never holds a cancelled invoice.
# Seed 003: « À sécuriser » is an invoice « semi sécurisée ou faite avec une carte CPE »: at the
# desk too, validating with the Vitale and a staff CPE leaves it for the exécutant's CPS.
TRANSITIONS: dict[tuple[InvoiceState, InvoiceAction], InvoiceState] = {
    (S.SAISIE, A.VALIDATE): S.VALIDEE,
    (S.SAISIE, A.SEMI_SECURE): S.A_SECURISER,
    (S.VALIDEE, A.UNVALIDATE): S.SAISIE,
    (S.SAISIE, A.PREPARE): S.A_CHARGER,
    (S.VALIDEE, A.PREPARE): S.A_CHARGER,
    (S.A_CHARGER, A.CANCEL_PREPARATION): S.SAISIE,
    (S.A_CHARGER, A.LOAD_TLA): S.CHARGEE_TLA,
    (S.CHARGEE_TLA, A.UNLOAD_SECURED): S.VALIDEE,
    (S.CHARGEE_TLA, A.UNLOAD_SEMI_SECURED): S.A_SECURISER,
    (S.A_SECURISER, A.SECURE): S.VALIDEE,
    (S.VALIDEE, A.PUT_IN_LOT): S.A_TRANSMETTRE,
    (S.A_TRANSMETTRE, A.REMOVE_FROM_LOT): S.VALIDEE,
    (S.A_TRANSMETTRE, A.TRANSMIT): S.TRANSMISE,
    (S.TRANSMISE, A.CANCEL_TRANSMITTED): S.SAISIE,
    (S.SAISIE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.VALIDEE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.A_CHARGER, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.A_SECURISER, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.TRANSMISE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
}

# States in which an invoice may still be changed: only Saisie. Everything else is frozen and
# moves only through the table above.
EDITABLE_STATES = frozenset({S.SAISIE})

# States that carry an FSE number: allocated on the first move out of Saisie towards billing,
# kept for the invoice's whole life (re-validation reuses it: no gap, no duplicate).
NUMBERING_ACTIONS = frozenset({A.VALIDATE, A.SEMI_SECURE, A.PREPARE})


def next_state(
    state: InvoiceState, action: InvoiceAction, *, has_rejection: bool = False
) -> InvoiceState:
    """Return the state *action* leads to from *state*, or raise :class:`IllegalTransition`."""
    state = InvoiceState(state)
    action = InvoiceAction(action)
    target = TRANSITIONS.get((state, action))
    if target is None:
        allowed = ", ".join(f"« {a.label} »" for a in allowed_actions(state)) or "aucune"
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur une facture à l'état « {state.label} » "
            f"(actions possibles : {allowed})."
        )
    if action is A.CANCEL_TRANSMITTED and not has_rejection:
        raise IllegalTransition(
            "« Annuler facture transmise » n'est permis qu'après un rejet de la caisse."
        )
    return target


def allowed_actions(state: InvoiceState) -> list[InvoiceAction]:
    """The actions the table allows from *state*, in table order."""
    return [action for (source, action) in TRANSITIONS if source == state]


def is_editable(state: InvoiceState) -> bool:
    return InvoiceState(state) in EDITABLE_STATES
