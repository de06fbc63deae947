"""The DRE (demande de remboursement électronique, seed 003): the AMC part of an invoice when the
mutuelle is in tiers payant, which travels beside the FSE, to the mutuelle (or its concentrator).

A DRE is made with its invoice and lives its own life, in one table like the invoice's: « Non
validée » while the desk has not validated it (Facturer › « DRE non validées »), « Validée »,
« Transmise » once in a lot sent to the AMC, then « Payée » or « Rejetée » by the NOEMIE returns
(part 199, invoice type D). An AMC rejection is treated as seed 000 says (paper with the
mutuelle, or the patient pays). ``services.dre`` applies the table and records each move in the
invoice's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tuibill.domain.errors import IllegalTransition


class DreState(StrEnum):
    NON_VALIDEE = "NON_VALIDEE"
    VALIDEE = "VALIDEE"
    TRANSMISE = "TRANSMISE"
    PAYEE = "PAYEE"
    REJETEE = "REJETEE"
    ANNULEE = "ANNULEE"

    @property
    def label(self) -> str:
        return DRE_STATE_LABELS[self]


DRE_STATE_LABELS = {
    DreState.NON_VALIDEE: "Non validée",
    DreState.VALIDEE: "Validée",
    DreState.TRANSMISE: "Transmise",
    DreState.PAYEE: "Payée",
    DreState.REJETEE: "Rejetée",
    DreState.ANNULEE: "Annulée",
}


class DreAction(StrEnum):
    VALIDATE = "dre_validate"
    UNVALIDATE = "dre_unvalidate"
    TRANSMIT = "dre_transmit"
    PAY = "dre_pay"
    REJECT = "dre_reject"
    CANCEL = "dre_cancel"
    REOPEN = "dre_reopen"

    @property
    def label(self) -> str:
        return DRE_ACTION_LABELS[self]


DRE_ACTION_LABELS = {
    DreAction.VALIDATE: "Valider la DRE",
    DreAction.UNVALIDATE: "Dévalider la DRE",
    DreAction.TRANSMIT: "Transmettre la DRE",
    DreAction.PAY: "Paiement de la mutuelle (DRE)",
    DreAction.REJECT: "Rejet de la mutuelle (DRE)",
    DreAction.CANCEL: "Annuler la DRE",
    DreAction.REOPEN: "Rétablir la DRE",
}


@dataclass(frozen=True)
class DreMove:
    """One row of the DRE's life cycle table: from *source*, *action* leads to *target*."""

    source: DreState
    action: DreAction
    target: DreState


D, X = DreState, DreAction
DRE_MOVES: tuple[DreMove, ...] = (
    DreMove(D.NON_VALIDEE, X.VALIDATE, D.VALIDEE),
    DreMove(D.VALIDEE, X.UNVALIDATE, D.NON_VALIDEE),
    DreMove(D.VALIDEE, X.TRANSMIT, D.TRANSMISE),
    DreMove(D.TRANSMISE, X.PAY, D.PAYEE),
    DreMove(D.TRANSMISE, X.REJECT, D.REJETEE),
    DreMove(D.REJETEE, X.PAY, D.PAYEE),  # paid after all (a later return)
    # The invoice cancelled (avoir, non transmissible, deleted draft): its DRE with it.
    DreMove(D.NON_VALIDEE, X.CANCEL, D.ANNULEE),
    DreMove(D.VALIDEE, X.CANCEL, D.ANNULEE),
    DreMove(D.REJETEE, X.CANCEL, D.ANNULEE),
    # A draft corrected back to a mutuelle in tiers payant: the DRE it had lost comes back.
    DreMove(D.ANNULEE, X.REOPEN, D.NON_VALIDEE),
)
DRE_TRANSITIONS = {(m.source, m.action): m for m in DRE_MOVES}


def next_dre_state(state: DreState, action: DreAction) -> DreState:
    move = DRE_TRANSITIONS.get((DreState(state), DreAction(action)))
    if move is None:
        raise IllegalTransition(
            f"Action « {DreAction(action).label} » impossible sur une DRE à l'état "
            f"« {DreState(state).label} »."
        )
    return move.target


def can_cancel(state: DreState) -> bool:
    return (DreState(state), DreAction.CANCEL) in DRE_TRANSITIONS


def needs_dre(*, amc_tiers_payant: bool, amc_cents: int, has_mutuelle: bool) -> bool:
    """An invoice has a DRE when its mutuelle is in tiers payant and has a share to pay."""
    return amc_tiers_payant and has_mutuelle and amc_cents > 0
