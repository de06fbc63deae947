"""The lot life cycle table (seed 003, « Les états des lots »), checked exhaustively."""

from __future__ import annotations

import itertools

import pytest

from tuibill.domain.errors import IllegalTransition
from tuibill.domain.lots import (
    FINAL_STATES,
    SENDABLE_STATES,
    TRANSITIONS,
    LotAction,
    LotState,
    allowed_actions,
    is_resending,
    next_state,
)

S, A = LotState, LotAction

# Written out again on purpose: a change of the table must change this test.
# (state, action) → (after the first sending, after the re-sending)
EXPECTED = {
    (S.A_TRANSMETTRE, A.DELETE): (S.SUPPRIME, S.SUPPRIME),
    (S.A_TRANSMETTRE, A.START_SENDING): (S.EN_COURS, S.EN_COURS),
    (S.ARL_NEGATIF, A.START_SENDING): (S.EN_COURS, S.EN_COURS),
    (S.EN_COURS, A.CONFIRM_SENT): (S.TRANSMIS, S.TRANSMIS),
    (S.EN_COURS, A.SEND_FAILED): (S.A_TRANSMETTRE, S.ARL_NEGATIF),
    (S.EN_COURS, A.RESOLVE_SENT): (S.TRANSMIS, S.TRANSMIS),
    (S.EN_COURS, A.RESOLVE_NOT_SENT): (S.A_TRANSMETTRE, S.ARL_NEGATIF),
    (S.TRANSMIS, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRANSMIS, A.ARL_NEGATIVE): (S.ARL_NEGATIF, S.TRAITEMENT_MANUEL),
    (S.TRANSMIS, A.TIMEOUT): (S.ARL_NEGATIF, S.TRAITEMENT_MANUEL),
    (S.ARL_NEGATIF, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRAITEMENT_MANUEL, A.ARL_POSITIVE): (S.ARL_POSITIF, S.ARL_POSITIF),
    (S.TRANSMIS, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.ARL_POSITIF, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.ARL_NEGATIF, A.CANCEL): (S.ANNULE, S.ANNULE),
    (S.TRAITEMENT_MANUEL, A.CANCEL): (S.ANNULE, S.ANNULE),
}

# Confirmed sendings before the move, for the first sending and for the re-sending.
FIRST = {S.EN_COURS: 0}
RESENT = {S.EN_COURS: 1}


def count(state: LotState, resent: bool) -> int:
    if state is S.A_TRANSMETTRE:
        return 0
    if resent:
        return RESENT.get(state, 2)
    return FIRST.get(state, 1)


def test_table_is_exactly_the_seed_table():
    assert {k: (m.target, m.target_resending) for k, m in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(("state", "action"), list(itertools.product(LotState, LotAction)), ids=str)
def test_every_pair(state: LotState, action: LotAction):
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(IllegalTransition) as info:
            next_state(state, action, send_count=count(state, False))
        message = str(info.value)
        assert action.label in message and state.label in message
        assert "actions possibles" in message
        return
    first, resent = expected
    assert next_state(state, action, send_count=count(state, False)) is first
    if state is not S.A_TRANSMETTRE and not (state is S.ARL_NEGATIF and action is A.START_SENDING):
        assert next_state(state, action, send_count=count(state, True)) is resent


def test_the_identical_lot_is_resent_once_only():
    assert next_state(S.ARL_NEGATIF, A.START_SENDING, send_count=1) is S.EN_COURS
    with pytest.raises(IllegalTransition, match="déjà été renvoyé une fois"):
        next_state(S.ARL_NEGATIF, A.START_SENDING, send_count=2)


def test_resending_is_counted_from_the_sending_concerned():
    assert not is_resending(S.EN_COURS, 0) and is_resending(S.EN_COURS, 1)
    assert not is_resending(S.TRANSMIS, 1) and is_resending(S.TRANSMIS, 2)


def test_labels_are_the_seed_words():
    assert [s.label for s in LotState] == [
        "À transmettre", "En cours", "Transmis", "ARL positif", "ARL négatif",
        "Traitement manuel", "Annulé", "Supprimé",
    ]  # fmt: skip
    assert all(action.label for action in LotAction)


def test_state_sets():
    assert SENDABLE_STATES == {S.A_TRANSMETTRE, S.ARL_NEGATIF}
    assert FINAL_STATES == {S.ARL_POSITIF, S.ANNULE, S.SUPPRIME}
    for state in FINAL_STATES - {S.ARL_POSITIF}:
        assert allowed_actions(state) == []
    assert allowed_actions(S.ARL_POSITIF) == [A.CANCEL]
    assert set(allowed_actions(S.EN_COURS)) == {
        A.CONFIRM_SENT, A.SEND_FAILED, A.RESOLVE_SENT, A.RESOLVE_NOT_SENT,
    }  # fmt: skip
