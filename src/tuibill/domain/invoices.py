"""The invoice (FSE) life cycle of DOMAIN.md (seed 003): states, actions, and one table of moves.

Each row of :data:`MOVES` says, for one action from one state, the state it leads to **and
everything the move implies besides the state** (:class:`Effects`): a number to allocate, the
securing to clear or to record, the lot to join or to leave, the portable reader's key, a reason
the user must give. ``services.lifecycle.move`` applies a row and records the transition (who,
when, from, to, why) in the same transaction; no caller decides an effect on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from tuibill.domain.dre import DreAction
from tuibill.domain.errors import IllegalTransition


class InvoiceState(StrEnum):
    SAISIE = "SAISIE"
    VALIDEE = "VALIDEE"
    A_CHARGER = "A_CHARGER"
    CHARGEE_TLA = "CHARGEE_TLA"
    A_SECURISER = "A_SECURISER"
    A_TRANSMETTRE = "A_TRANSMETTRE"
    TRANSMISE = "TRANSMISE"
    PAYEE = "PAYEE"
    PAYEE_PARTIELLEMENT = "PAYEE_PARTIELLEMENT"
    REJETEE = "REJETEE"
    NON_TRANSMISSIBLE = "NON_TRANSMISSIBLE"
    SUPPRIMEE = "SUPPRIMEE"
    # After a rejection or before re-sending (seeds 000 and 002, issue 9).
    RECYCLEE = "RECYCLEE"
    ANNULEE_AVOIR = "ANNULEE_AVOIR"
    REJET_TRAITE = "REJET_TRAITE"
    AMC_PAPIER = "AMC_PAPIER"
    AMC_PATIENT = "AMC_PATIENT"

    @property
    def label(self) -> str:
        return STATE_LABELS[self]

    @property
    def short_label(self) -> str:
        """The label in 13 characters at most: the lists' « État » column at 80 columns."""
        return SHORT_STATE_LABELS.get(self, STATE_LABELS[self])


STATE_LABELS: dict[InvoiceState, str] = {
    InvoiceState.SAISIE: "Saisie",
    InvoiceState.VALIDEE: "Validée",
    InvoiceState.A_CHARGER: "À charger",
    InvoiceState.CHARGEE_TLA: "Chargée dans le TLA",
    InvoiceState.A_SECURISER: "À sécuriser",
    InvoiceState.A_TRANSMETTRE: "À transmettre",
    InvoiceState.TRANSMISE: "Transmise",
    InvoiceState.PAYEE: "Payée",
    InvoiceState.PAYEE_PARTIELLEMENT: "Payée partiellement",
    InvoiceState.REJETEE: "Rejetée",
    InvoiceState.NON_TRANSMISSIBLE: "Non transmissible",
    InvoiceState.SUPPRIMEE: "Supprimée",
    InvoiceState.RECYCLEE: "Recyclée",
    InvoiceState.ANNULEE_AVOIR: "Annulée par avoir",
    InvoiceState.REJET_TRAITE: "Rejet traité",
    InvoiceState.AMC_PAPIER: "Part AMC sur papier",
    InvoiceState.AMC_PATIENT: "Part AMC due par le patient",
}


# The long labels, cut where they are read without loss (« TLA » is the seeds' own word).
SHORT_STATE_LABELS: dict[InvoiceState, str] = {
    InvoiceState.CHARGEE_TLA: "Chargée TLA",
    InvoiceState.PAYEE_PARTIELLEMENT: "Payée en part",
    InvoiceState.NON_TRANSMISSIBLE: "Non transmis.",
    InvoiceState.ANNULEE_AVOIR: "Annulée/avoir",
    InvoiceState.AMC_PAPIER: "AMC papier",
    InvoiceState.AMC_PATIENT: "AMC patient",
}


# How an invoice was secured (``Invoice.mode``): the code for scripts (--json), the word for
# people (screens, CSV and text exports).
MODE_LABELS: dict[str, str] = {"degrade": "Dégradé", "sesam_vitale": "SESAM-Vitale"}


def mode_label(mode: str) -> str:
    return MODE_LABELS.get(mode, mode)


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
    PAY = "pay"
    PAY_PARTIALLY = "pay_partially"
    REJECT = "reject"
    CLEAR_REJECTION = "clear_rejection"
    CANCEL_TRANSMITTED = "cancel_transmitted"
    MAKE_NON_TRANSMISSIBLE = "make_non_transmissible"
    DELETE_DRAFT = "delete_draft"
    RESTART = "restart"
    CREDIT_NOTE = "credit_note"
    RECYCLE = "recycle"
    REACTIVATE = "reactivate"
    MARK_TREATED = "mark_treated"
    AMC_PAPER = "amc_paper"
    BILL_PATIENT = "bill_patient"

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
    InvoiceAction.PAY: "Paiement de la caisse",
    InvoiceAction.PAY_PARTIALLY: "Paiement partiel de la caisse",
    InvoiceAction.REJECT: "Rejet de la caisse",
    InvoiceAction.CLEAR_REJECTION: "Annuler le rejet noté",
    InvoiceAction.CANCEL_TRANSMITTED: "Annuler facture transmise",
    InvoiceAction.MAKE_NON_TRANSMISSIBLE: "Rendre non transmissible",
    InvoiceAction.DELETE_DRAFT: "Supprimer le brouillon",
    InvoiceAction.RESTART: "Recommencer la FSE",
    InvoiceAction.CREDIT_NOTE: "Créer un avoir",
    InvoiceAction.RECYCLE: "Recycler",
    InvoiceAction.REACTIVATE: "Réactiver Télétrans",
    InvoiceAction.MARK_TREATED: "Marquer le rejet traité",
    InvoiceAction.AMC_PAPER: "Traiter sur papier avec la mutuelle",
    InvoiceAction.BILL_PATIENT: "Facturer au patient",
}

# Recorded in the history without a state change (creation, edits of a draft, pieces…).
CREATE = "create"
EDIT = "edit"
EVENT_LABELS: dict[str, str] = {
    CREATE: "Création",
    EDIT: "Modification",
    "attach_piece": "Pièce SCOR jointe",
    "remove_piece": "Pièce SCOR retirée",
    "import": "Import",  # invoices loaded in bulk (``tuibill seed``)
    "line_status": "Statut de ligne refusée",
    "new_invoice": "Nouvelle facture (remplace)",
    "correction": "Correction après rejet",
    "regularisation": "Régularisation de lignes",
    **{action.value: action.label for action in DreAction},  # the DRE's moves (seed 003)
}


def history_label(action: str) -> str:
    """The French label of a history row's action (a move or an event); unknown ones as is."""
    try:
        return InvoiceAction(action).label
    except ValueError:
        return EVENT_LABELS.get(action, action)


class LotLink(Enum):
    """What a move does to the invoice's lot."""

    KEEP = "keep"
    JOIN = "join"  # into the lot given with the move
    LEAVE = "leave"  # the lot is being deleted before sending: simply detached
    CANCEL = "cancel"  # leaves a sent lot: counted as cancelled there (all cancelled → Annulé)


class Securing(Enum):
    """What a move does to the securing columns (Vitale, signature, signer, time)."""

    KEEP = "keep"
    CLEAR = "clear"  # a draft again: whatever secured it no longer holds
    SIGNED = "signed"  # the move carries the securing (cards at the desk, or the TLA)
    SIGNED_OR_DEGRADED = "signed_or_degraded"  # with the cards' securing, or in mode dégradé


class TlaKey(Enum):
    KEEP = "keep"
    SET = "set"  # the key under which the portable reader holds the invoice
    CLEAR = "clear"


@dataclass(frozen=True)
class Effects:
    """Everything a move implies besides the state."""

    allocates_number: bool = False  # the FSE number, kept for the invoice's life once taken
    rechecks_rules: bool = False  # act dates against prescription and death, before numbering
    needs_reason: bool = False  # the user must say why (recorded with the move)
    securing: Securing = Securing.KEEP
    lot: LotLink = LotLink.KEEP
    tla_key: TlaKey = TlaKey.KEEP
    unnumbered_only: bool = False  # refused once a number was taken (it would leave a gap)
    releases_acts: bool = False  # what its lines consumed goes back (prescribed acts, isolated)
    degraded_only: bool = False  # only an invoice made in mode dégradé (seed 000)
    credit_note: bool = False  # an avoir is made, numbered in its own series, linked both ways
    marks_recycled: bool = False  # the date and the clerk of the recycling are kept
    resend_guard: bool = False  # refused within the concentrator's recycling delay (seed 002)
    amc_to_patient: bool = False  # the AMC share left unpaid becomes the patient's to pay


@dataclass(frozen=True)
class Move:
    """One row of the invoice's life cycle table: from *source*, *action* leads to *target*,
    with what it implies (*effects*)."""

    source: InvoiceState
    action: InvoiceAction
    target: InvoiceState
    effects: Effects = Effects()


S = InvoiceState
A = InvoiceAction
_NUMBERING = Effects(allocates_number=True, rechecks_rules=True)
_VALIDATING = Effects(
    allocates_number=True, rechecks_rules=True, securing=Securing.SIGNED_OR_DEGRADED
)
_TO_DRAFT = Effects(securing=Securing.CLEAR)
_SECURED = Effects(securing=Securing.SIGNED)
_UNLOADED = Effects(securing=Securing.SIGNED, tla_key=TlaKey.SET)
_REASON = Effects(needs_reason=True)
_REASON_CANCELLING = Effects(needs_reason=True, lot=LotLink.CANCEL)
_RESTARTING = Effects(
    needs_reason=True, securing=Securing.CLEAR, lot=LotLink.CANCEL, degraded_only=True
)
_TO_PATIENT = Effects(needs_reason=True, amc_to_patient=True)
_RECYCLING = Effects(marks_recycled=True)
_REACTIVATING = Effects(needs_reason=True, lot=LotLink.CANCEL)

# The table of DOMAIN.md, and nothing else, with each move's effects. « Any unpaid » for Non
# transmissible means every state where the invoice is at the desk or with the caisse: not inside
# the portable reader (unload it first) nor inside a lot not sent yet (delete the lot first), so
# that a device or an unsent lot never holds a cancelled invoice; from a sent lot it is counted
# as cancelled there. Seed 003: « À sécuriser » is an invoice « semi sécurisée ou faite avec une
# carte CPE »: at the desk too, validating with the Vitale and a staff CPE leaves it for the
# exécutant's CPS. A caisse's rejection (on paper, or in the returns) makes it « Rejetée », the
# only state from which « Annuler facture transmise » is allowed.
MOVES: tuple[Move, ...] = (
    Move(S.SAISIE, A.VALIDATE, S.VALIDEE, _VALIDATING),
    Move(
        S.SAISIE,
        A.SEMI_SECURE,
        S.A_SECURISER,
        Effects(allocates_number=True, rechecks_rules=True, securing=Securing.SIGNED),
    ),
    Move(S.VALIDEE, A.UNVALIDATE, S.SAISIE, _TO_DRAFT),
    Move(S.SAISIE, A.PREPARE, S.A_CHARGER, _NUMBERING),
    Move(S.VALIDEE, A.PREPARE, S.A_CHARGER, _NUMBERING),
    Move(
        S.A_CHARGER,
        A.CANCEL_PREPARATION,
        S.SAISIE,
        Effects(securing=Securing.CLEAR, tla_key=TlaKey.CLEAR),
    ),
    Move(S.A_CHARGER, A.LOAD_TLA, S.CHARGEE_TLA, Effects(tla_key=TlaKey.SET)),
    # The way back when the visit will not happen: the portable reader still holds the invoice
    # unsecured. The service erases it from the device first (``tla_transfer``); never without
    # the device, or it would keep a copy the desk no longer knows.
    Move(
        S.CHARGEE_TLA,
        A.CANCEL_PREPARATION,
        S.SAISIE,
        Effects(securing=Securing.CLEAR, tla_key=TlaKey.CLEAR),
    ),
    Move(S.CHARGEE_TLA, A.UNLOAD_SECURED, S.VALIDEE, _UNLOADED),
    Move(S.CHARGEE_TLA, A.UNLOAD_SEMI_SECURED, S.A_SECURISER, _UNLOADED),
    Move(S.A_SECURISER, A.SECURE, S.VALIDEE, _SECURED),
    Move(S.VALIDEE, A.PUT_IN_LOT, S.A_TRANSMETTRE, Effects(lot=LotLink.JOIN)),
    Move(S.A_TRANSMETTRE, A.REMOVE_FROM_LOT, S.VALIDEE, Effects(lot=LotLink.LEAVE)),
    Move(S.A_TRANSMETTRE, A.TRANSMIT, S.TRANSMISE),
    # The caisse's returns (NOEMIE): paid, paid in part (refused lines), rejected. A later return
    # can move a rejected or partly paid invoice again (back-payments).
    Move(S.TRANSMISE, A.PAY, S.PAYEE),
    Move(S.TRANSMISE, A.PAY_PARTIALLY, S.PAYEE_PARTIELLEMENT),
    Move(S.PAYEE_PARTIELLEMENT, A.PAY, S.PAYEE),
    Move(S.REJETEE, A.PAY, S.PAYEE),
    Move(S.REJETEE, A.PAY_PARTIALLY, S.PAYEE_PARTIELLEMENT),
    # The first sending of a recycled FSE paid after all (it was only late).
    Move(S.RECYCLEE, A.PAY, S.PAYEE),
    Move(S.RECYCLEE, A.PAY_PARTIALLY, S.PAYEE_PARTIELLEMENT),
    Move(S.TRANSMISE, A.REJECT, S.REJETEE, _REASON),
    Move(S.REJETEE, A.CLEAR_REJECTION, S.TRANSMISE, _REASON),
    Move(
        S.REJETEE,
        A.CANCEL_TRANSMITTED,
        S.SAISIE,
        Effects(needs_reason=True, securing=Securing.CLEAR, lot=LotLink.CANCEL),
    ),
    Move(S.SAISIE, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON),
    Move(S.VALIDEE, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON),
    Move(S.A_CHARGER, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON),
    Move(S.A_SECURISER, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON),
    Move(S.TRANSMISE, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON_CANCELLING),
    Move(S.REJETEE, A.MAKE_NON_TRANSMISSIBLE, S.NON_TRANSMISSIBLE, _REASON_CANCELLING),
    # A draft never numbered can be deleted: it is kept, « Supprimée », with its history (a
    # history row is never deleted), and gives back what it consumed.
    Move(S.SAISIE, A.DELETE_DRAFT, S.SUPPRIMEE, Effects(unnumbered_only=True, releases_acts=True)),
    # Treating a rejection (seed 000). « Recommencer la FSE »: a degraded-mode invoice is a draft
    # again with its same number, out of its sent lot; corrected, re-validated, it goes into the
    # next lot. A SESAM-Vitale invoice cannot: « Créer un avoir » cancels it (the avoir has its
    # own number series), then a new invoice in mode dégradé replaces it.
    Move(S.REJETEE, A.RESTART, S.SAISIE, _RESTARTING),
    Move(S.RECYCLEE, A.RESTART, S.SAISIE, _RESTARTING),
    Move(
        S.REJETEE,
        A.CREDIT_NOTE,
        S.ANNULEE_AVOIR,
        Effects(needs_reason=True, credit_note=True, releases_acts=True),
    ),
    # « Facture déjà payée » (2900): nothing is re-sent, the rejection is marked treated.
    Move(S.REJETEE, A.MARK_TREATED, S.REJET_TRAITE, _REASON),
    # An AMC rejection (the AMO paid, or only the AMC was asked): SESAM-Vitale cannot treat it.
    # (A DRE rejected while the FSE was paid in full: the invoice is Payée.)
    Move(S.PAYEE, A.AMC_PAPER, S.AMC_PAPIER, _REASON),
    Move(S.PAYEE, A.BILL_PATIENT, S.AMC_PATIENT, _TO_PATIENT),
    Move(S.PAYEE_PARTIELLEMENT, A.AMC_PAPER, S.AMC_PAPIER, _REASON),
    Move(S.REJETEE, A.AMC_PAPER, S.AMC_PAPIER, _REASON),
    Move(S.PAYEE_PARTIELLEMENT, A.BILL_PATIENT, S.AMC_PATIENT, _TO_PATIENT),
    Move(S.REJETEE, A.BILL_PATIENT, S.AMC_PATIENT, _TO_PATIENT),
    # Recycling at the concentrator (seed 002): an FSE sent and unpaid, or rejected, is marked
    # recycled; « Réactiver Télétrans » puts it back among those to transmit, same number. An FSE
    # neither rejected nor recycled is re-sent only past the recycling delay (the setting).
    Move(S.TRANSMISE, A.RECYCLE, S.RECYCLEE, _RECYCLING),
    Move(S.REJETEE, A.RECYCLE, S.RECYCLEE, _RECYCLING),
    Move(S.RECYCLEE, A.REACTIVATE, S.VALIDEE, _REACTIVATING),
    Move(S.REJETEE, A.REACTIVATE, S.VALIDEE, _REACTIVATING),
    Move(
        S.TRANSMISE,
        A.REACTIVATE,
        S.VALIDEE,
        Effects(needs_reason=True, lot=LotLink.CANCEL, resend_guard=True),
    ),
)

TRANSITIONS: dict[tuple[InvoiceState, InvoiceAction], Move] = {
    (move.source, move.action): move for move in MOVES
}

# Only a draft may be changed; everything else is frozen and moves only through the table.
EDITABLE_STATES = frozenset({S.SAISIE})

# What the reason dialog asks for, per action that needs one.
REASON_PROMPTS: dict[InvoiceAction, str] = {
    A.REJECT: "Indiquez le motif du rejet de la caisse.",
    A.CLEAR_REJECTION: "Indiquez le motif : pourquoi le rejet noté est annulé.",
    A.CANCEL_TRANSMITTED: "Indiquez le motif (celui du rejet de la caisse, ou pourquoi).",
    A.MAKE_NON_TRANSMISSIBLE: "Indiquez le motif (annulation de part, transfert de dette…).",
    A.RESTART: "Indiquez le motif du rejet corrigé (ce qui a été corrigé).",
    A.CREDIT_NOTE: "Indiquez le motif de l'avoir (celui du rejet).",
    A.MARK_TREATED: "Indiquez le motif : pourquoi le rejet est traité sans renvoi.",
    A.AMC_PAPER: "Indiquez le motif (référence de la demande papier à la mutuelle…).",
    A.BILL_PATIENT: "Indiquez le motif : pourquoi la part de la mutuelle est demandée au patient.",
    A.REACTIVATE: "Indiquez le motif : pourquoi la facture est renvoyée.",
}


# Where the generic refusal would not tell the user what to do: (state or None for any, action).
REFUSALS: dict[tuple[InvoiceState | None, InvoiceAction], str] = {
    (S.TRANSMISE, A.CANCEL_TRANSMITTED): (
        "« Annuler facture transmise » n'est permis qu'après un rejet de la caisse."
    ),
    (S.REJETEE, A.REJECT): "Le rejet de cette facture est déjà noté.",
    (S.TRANSMISE, A.CLEAR_REJECTION): "Aucun rejet n'est noté sur cette facture.",
    (None, A.REJECT): (
        "La facture est à l'état « {state} » : seule une facture transmise peut être rejetée "
        "par la caisse."
    ),
    (None, A.RESTART): (
        "La facture est à l'état « {state} » : « Recommencer la FSE » n'est possible qu'après "
        "un rejet (ou un recyclage)."
    ),
    (None, A.CREDIT_NOTE): (
        "La facture est à l'état « {state} » : un avoir ne se crée ici que pour une facture "
        "rejetée."
    ),
    (None, A.RECYCLE): (
        "La facture est à l'état « {state} » : seule une facture transmise non payée, ou "
        "rejetée, peut être recyclée."
    ),
    (None, A.REACTIVATE): (
        "La facture est à l'état « {state} » : « Réactiver Télétrans » s'applique à une "
        "facture recyclée ou rejetée."
    ),
    (None, A.MARK_TREATED): (
        "La facture est à l'état « {state} » : seul un rejet peut être marqué traité."
    ),
    (None, A.AMC_PAPER): (
        "La facture est à l'état « {state} » : aucune part de mutuelle rejetée à traiter."
    ),
    (None, A.BILL_PATIENT): (
        "La facture est à l'état « {state} » : aucune part de mutuelle rejetée à demander au "
        "patient."
    ),
}


def find_move(state: InvoiceState, action: InvoiceAction) -> Move:
    """The row of the table for *action* from *state*, or :class:`IllegalTransition` (French)."""
    state = InvoiceState(state)
    action = InvoiceAction(action)
    move = TRANSITIONS.get((state, action))
    if move is None:
        refusal = REFUSALS.get((state, action)) or REFUSALS.get((None, action))
        if refusal:
            raise IllegalTransition(refusal.format(state=state.label))
        allowed = ", ".join(f"« {a.label} »" for a in allowed_actions(state)) or "aucune"
        raise IllegalTransition(
            f"Action « {action.label} » impossible sur une facture à l'état « {state.label} » "
            f"(actions possibles : {allowed})."
        )
    return move


UNNUMBERED_ONLY = (
    "Seule une facture en saisie jamais numérotée peut être supprimée ; une facture "
    "numérotée se rend « Non transmissible »."
)


def refusal(state: InvoiceState, action: InvoiceAction, *, numbered: bool = False) -> str | None:
    """Why *action* is refused on an invoice in *state* (numbered or not), in French, or None.

    The rules that need nothing but the invoice's state and number: a screen checks them before
    asking to confirm, so that it never asks, then refuses. The move itself checks them again.
    """
    try:
        move = find_move(state, action)
    except IllegalTransition as error:
        return str(error)
    if move.effects.unnumbered_only and numbered:
        return UNNUMBERED_ONLY
    return None


def back_to_draft(state: InvoiceState) -> list[InvoiceAction]:
    """The actions that bring an invoice in *state* back to « Saisie » (to correct it)."""
    return [move.action for move in MOVES if move.source is InvoiceState(state)
            and move.target is S.SAISIE]


def not_editable(state: InvoiceState) -> str:
    """Why an invoice in *state* cannot be changed, and what takes it back to « Saisie »."""
    state = InvoiceState(state)
    ways = " ou ".join(f"« {action.label} »" for action in back_to_draft(state))
    return f"La facture est à l'état « {state.label} » : elle n'est plus modifiable" + (
        f" (« Saisie » d'abord : {ways})." if ways else "."
    )


def next_state(state: InvoiceState, action: InvoiceAction) -> InvoiceState:
    """The state *action* leads to from *state*, or :class:`IllegalTransition`."""
    return find_move(state, action).target


def allowed_actions(state: InvoiceState) -> list[InvoiceAction]:
    """The actions the table allows from *state*, in table order."""
    state = InvoiceState(state)
    return [move.action for move in MOVES if move.source is state]


def can(state: InvoiceState, action: InvoiceAction) -> bool:
    return (InvoiceState(state), InvoiceAction(action)) in TRANSITIONS


def is_editable(state: InvoiceState) -> bool:
    return InvoiceState(state) in EDITABLE_STATES
