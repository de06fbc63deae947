"""The life cycle table of DOMAIN.md, checked exhaustively: every (state, action) pair."""

from __future__ import annotations

import itertools

import pytest

from tuibill.domain.errors import IllegalTransition
from tuibill.domain.invoices import (
    MOVES,
    REFUSALS,
    TRANSITIONS,
    InvoiceAction,
    InvoiceState,
    allowed_actions,
    is_editable,
    next_state,
)

S, A = InvoiceState, InvoiceAction

# Written out again from DOMAIN.md on purpose: a change of the table must change this test.
EXPECTED = {
    (S.SAISIE, A.VALIDATE): S.VALIDEE,
    (S.SAISIE, A.SEMI_SECURE): S.A_SECURISER,  # seed 003: « faite avec une carte CPE »
    (S.VALIDEE, A.UNVALIDATE): S.SAISIE,
    (S.SAISIE, A.PREPARE): S.A_CHARGER,
    (S.VALIDEE, A.PREPARE): S.A_CHARGER,
    (S.A_CHARGER, A.CANCEL_PREPARATION): S.SAISIE,
    (S.A_CHARGER, A.LOAD_TLA): S.CHARGEE_TLA,
    (S.CHARGEE_TLA, A.UNLOAD_SECURED): S.VALIDEE,
    (S.CHARGEE_TLA, A.CANCEL_PREPARATION): S.SAISIE,  # not secured: erased from the device first
    (S.CHARGEE_TLA, A.UNLOAD_SEMI_SECURED): S.A_SECURISER,
    (S.A_SECURISER, A.SECURE): S.VALIDEE,
    (S.VALIDEE, A.PUT_IN_LOT): S.A_TRANSMETTRE,
    (S.A_TRANSMETTRE, A.REMOVE_FROM_LOT): S.VALIDEE,
    (S.A_TRANSMETTRE, A.TRANSMIT): S.TRANSMISE,
    (S.TRANSMISE, A.PAY): S.PAYEE,  # the NOEMIE returns
    (S.TRANSMISE, A.PAY_PARTIALLY): S.PAYEE_PARTIELLEMENT,
    (S.PAYEE_PARTIELLEMENT, A.PAY): S.PAYEE,  # a back-payment completes it
    (S.REJETEE, A.PAY): S.PAYEE,
    (S.REJETEE, A.PAY_PARTIALLY): S.PAYEE_PARTIELLEMENT,
    (S.TRANSMISE, A.REJECT): S.REJETEE,  # a caisse's rejection (paper, or the returns)
    (S.REJETEE, A.CLEAR_REJECTION): S.TRANSMISE,  # recorded by mistake
    (S.REJETEE, A.CANCEL_TRANSMITTED): S.SAISIE,
    (S.SAISIE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.VALIDEE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.A_CHARGER, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.A_SECURISER, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.TRANSMISE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.REJETEE, A.MAKE_NON_TRANSMISSIBLE): S.NON_TRANSMISSIBLE,
    (S.SAISIE, A.DELETE_DRAFT): S.SUPPRIMEE,  # kept with its history, never numbered
    # Issue 9: treating a rejection (seed 000), recycling (seed 002).
    (S.RECYCLEE, A.PAY): S.PAYEE,  # the first sending paid after all
    (S.RECYCLEE, A.PAY_PARTIALLY): S.PAYEE_PARTIELLEMENT,
    (S.REJETEE, A.RESTART): S.SAISIE,  # « Recommencer la FSE », same number
    (S.RECYCLEE, A.RESTART): S.SAISIE,
    (S.REJETEE, A.CREDIT_NOTE): S.ANNULEE_AVOIR,
    (S.REJETEE, A.MARK_TREATED): S.REJET_TRAITE,  # « facture déjà payée »: never re-sent
    (S.PAYEE, A.AMC_PAPER): S.AMC_PAPIER,  # a DRE rejected, the FSE paid
    (S.PAYEE, A.BILL_PATIENT): S.AMC_PATIENT,
    (S.PAYEE_PARTIELLEMENT, A.AMC_PAPER): S.AMC_PAPIER,
    (S.REJETEE, A.AMC_PAPER): S.AMC_PAPIER,
    (S.PAYEE_PARTIELLEMENT, A.BILL_PATIENT): S.AMC_PATIENT,
    (S.REJETEE, A.BILL_PATIENT): S.AMC_PATIENT,
    (S.TRANSMISE, A.RECYCLE): S.RECYCLEE,
    (S.REJETEE, A.RECYCLE): S.RECYCLEE,
    (S.RECYCLEE, A.REACTIVATE): S.VALIDEE,  # « Réactiver Télétrans », same number
    (S.REJETEE, A.REACTIVATE): S.VALIDEE,
    (S.TRANSMISE, A.REACTIVATE): S.VALIDEE,  # only past the recycling delay
}

ALL_PAIRS = list(itertools.product(InvoiceState, InvoiceAction))


def test_table_is_exactly_the_domain_table() -> None:
    assert {pair: move.target for pair, move in TRANSITIONS.items()} == EXPECTED
    assert len(MOVES) == len(TRANSITIONS)  # no pair written twice


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=lambda v: str(v))
def test_every_pair(state: InvoiceState, action: InvoiceAction) -> None:
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            next_state(state, action)
        message = str(info.value)
        special = REFUSALS.get((state, action)) or REFUSALS.get((None, action))
        if special:  # a refusal that says what to do instead
            assert message == special.format(state=state.label)
        else:
            assert action.label in message and state.label in message
    else:
        assert next_state(state, action) is expected


def test_cancel_transmitted_needs_a_rejection() -> None:
    with pytest.raises(IllegalTransition, match="après un rejet"):
        next_state(S.TRANSMISE, A.CANCEL_TRANSMITTED)
    assert next_state(S.REJETEE, A.CANCEL_TRANSMITTED) is S.SAISIE


def test_only_saisie_is_editable() -> None:
    assert [s for s in InvoiceState if is_editable(s)] == [S.SAISIE]


def test_allowed_actions_lists_the_table() -> None:
    assert allowed_actions(S.NON_TRANSMISSIBLE) == []
    assert set(allowed_actions(S.VALIDEE)) == {
        A.UNVALIDATE,
        A.PREPARE,
        A.PUT_IN_LOT,
        A.MAKE_NON_TRANSMISSIBLE,
    }
    assert set(allowed_actions(S.SAISIE)) == {
        A.VALIDATE,
        A.SEMI_SECURE,
        A.PREPARE,
        A.MAKE_NON_TRANSMISSIBLE,
        A.DELETE_DRAFT,
    }
    assert set(allowed_actions(S.A_SECURISER)) == {A.SECURE, A.MAKE_NON_TRANSMISSIBLE}


def test_the_moves_out_of_saisie_towards_billing_take_a_number() -> None:
    assert {m.action for m in MOVES if m.effects.allocates_number} == {
        A.VALIDATE,
        A.SEMI_SECURE,
        A.PREPARE,
    }
    assert A.SEMI_SECURE.label == "Valider avec une CPE (semi-sécurisée)"


def test_labels_are_the_seed_words() -> None:
    assert [s.label for s in InvoiceState] == [
        "Saisie",
        "Validée",
        "À charger",
        "Chargée dans le TLA",
        "À sécuriser",
        "À transmettre",
        "Transmise",
        "Payée",
        "Payée partiellement",
        "Rejetée",
        "Non transmissible",
        "Supprimée",
        "Recyclée",
        "Annulée par avoir",
        "Rejet traité",
        "Part AMC sur papier",
        "Part AMC due par le patient",
    ]


def test_treating_a_rejection_keeps_the_number_and_names_its_effects() -> None:
    from tuibill.domain.invoices import LotLink, Securing, find_move

    restart = find_move(S.REJETEE, A.RESTART).effects
    assert restart.degraded_only and restart.securing is Securing.CLEAR
    assert restart.lot is LotLink.CANCEL and not restart.allocates_number
    avoir = find_move(S.REJETEE, A.CREDIT_NOTE).effects
    assert avoir.credit_note and avoir.releases_acts and avoir.needs_reason
    assert find_move(S.TRANSMISE, A.RECYCLE).effects.marks_recycled
    assert find_move(S.TRANSMISE, A.REACTIVATE).effects.resend_guard
    assert not find_move(S.RECYCLEE, A.REACTIVATE).effects.resend_guard
    assert find_move(S.REJETEE, A.BILL_PATIENT).effects.amc_to_patient
    assert [s for s in InvoiceState if is_editable(s)] == [S.SAISIE]
    with pytest.raises(IllegalTransition, match="recyclée ou rejetée"):
        next_state(S.PAYEE, A.REACTIVATE)


def test_every_state_has_a_short_label_for_80_column_lists() -> None:
    """Facturer's state column and the menu's counts are 13 characters wide."""
    for state in InvoiceState:
        assert 0 < len(state.short_label) <= 13, state
