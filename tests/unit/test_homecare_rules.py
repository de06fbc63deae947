"""The tiers-payeurs' rules (seed 004), table-driven: bordereau and home-care invoice life
cycles, payment spread, avoir deductions, bordereau groups, relances."""

from __future__ import annotations

from datetime import date

import pytest

from tuibill.domain import homecare_invoices as invoices
from tuibill.domain import payers as rules
from tuibill.domain import payments, slips
from tuibill.domain.errors import IllegalTransition, ValidationError

D = date
S = slips.SlipState
A = slips.SlipAction


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [
        (S.CREE, A.VALIDATE, S.VALIDE),
        (S.CREE, A.DELETE, S.SUPPRIME),
        (S.VALIDE, A.SEND, S.ENVOYE),
        (S.VALIDE, A.PRINT, S.ENVOYE),
        (S.ENVOYE, A.PAY, S.PAYE),
        (S.ENVOYE, A.PAY_PARTIALLY, S.PAYE_PARTIELLEMENT),
        (S.PAYE_PARTIELLEMENT, A.PAY, S.PAYE),
        (S.PAYE, A.UNPAY, S.ENVOYE),
    ],
)
def test_slip_moves(state, action, target) -> None:
    assert slips.find_move(state, action).target is target


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.VALIDE, A.DELETE),  # numbered: never deleted (no gap)
        (S.CREE, A.SEND),  # not validated
        (S.ENVOYE, A.VALIDATE),
        (S.SUPPRIME, A.VALIDATE),
        (S.VALIDE, A.PAY),  # followed once sent
    ],
)
def test_slip_refusals(state, action) -> None:
    with pytest.raises(IllegalTransition, match="impossible sur un bordereau"):
        slips.find_move(state, action)


def test_only_validation_numbers_and_only_deletion_releases() -> None:
    numbering = [m for m in slips.MOVES if m.effects.allocates_number]
    releasing = [m for m in slips.MOVES if m.effects.releases_fundings]
    assert [(m.source, m.action) for m in numbering] == [(S.CREE, A.VALIDATE)]
    assert [(m.source, m.action) for m in releasing] == [(S.CREE, A.DELETE)]


@pytest.mark.parametrize(
    ("state", "paid", "due", "action"),
    [
        (S.ENVOYE, 0, 1000, None),
        (S.ENVOYE, 400, 1000, A.PAY_PARTIALLY),
        (S.ENVOYE, 1000, 1000, A.PAY),
        (S.ENVOYE, 1200, 1000, A.PAY),  # overpaid: paid all the same
        (S.PAYE_PARTIELLEMENT, 1000, 1000, A.PAY),
        (S.PAYE_PARTIELLEMENT, 0, 1000, A.UNPAY),
        (S.PAYE, 300, 1000, A.PAY_PARTIALLY),
        (S.PAYE, 0, 1000, A.UNPAY),
        (S.VALIDE, 1000, 1000, None),  # not sent: applied when it goes
        (S.CREE, 1000, 1000, None),
    ],
)
def test_payment_action_follows_the_amounts(state, paid, due, action) -> None:
    assert slips.payment_action(state, paid, due) is action


@pytest.mark.parametrize(
    ("slip_date", "today", "refused"),
    [(D(2026, 12, 3), D(2026, 12, 3), False), (D(2026, 12, 1), D(2026, 12, 3), False),
     (D(2026, 12, 4), D(2026, 12, 3), True)],  # fmt: skip
)
def test_bulk_validation_date(slip_date, today, refused) -> None:
    assert (slips.validation_refusal(slip_date, today) is not None) is refused


@pytest.mark.parametrize(
    ("state", "action", "target", "number", "frees"),
    [
        ("CREEE", "validate", "VALIDEE", True, False),
        ("CREEE", "delete", "SUPPRIMEE", False, True),
        ("VALIDEE", "credit", "ANNULEE", False, True),
    ],
)
def test_homecare_invoice_moves(state, action, target, number, frees) -> None:
    move = invoices.find_move(state, action)
    assert move.target.value == target
    assert (move.effects.allocates_number, move.effects.frees_interventions) == (number, frees)


@pytest.mark.parametrize(("state", "action"), [("VALIDEE", "delete"), ("ANNULEE", "credit"),
                                               ("CREEE", "credit"), ("VALIDEE", "validate")])  # fmt: skip
def test_homecare_invoice_refusals(state, action) -> None:
    with pytest.raises(IllegalTransition):
        invoices.find_move(state, action)


@pytest.mark.parametrize(
    ("number", "kind", "text"),
    [(42, "FACTURE", "F-000042"), (43, "AVOIR", "AV-000043"), (None, "FACTURE", "")],
)
def test_invoice_numbers(number, kind, text) -> None:
    assert invoices.format_number(number, kind) == text


# --- payments ---------------------------------------------------------------------------------


def owed(key: int, day: int, remaining: int, number: int | None = None) -> payments.Owed:
    return payments.Owed(key, D(2026, 11, day), number or key, remaining)


@pytest.mark.parametrize(
    ("left", "lines", "expected"),
    [
        pytest.param(5000, [owed(1, 2, 3520), owed(2, 3, 4000)], [(1, 3520), (2, 1480)],
                     id="oldest-first-last-in-part"),
        pytest.param(4000, [owed(1, 2, 3520), owed(2, 3, 4000)], [(2, 4000)],
                     id="exact-amount-first"),
        pytest.param(4000, [owed(1, 5, 4000), owed(2, 3, 4000)], [(2, 4000)],
                     id="exact-amount-oldest-such"),
        pytest.param(9000, [owed(1, 2, 3520), owed(2, 3, 4000)], [(1, 3520), (2, 4000)],
                     id="more-than-owed-rest-unallocated"),
        pytest.param(100, [owed(1, 2, 0), owed(2, 3, 500)], [(2, 100)], id="paid-lines-skipped"),
        pytest.param(0, [owed(1, 2, 500)], [], id="nothing-left"),
        pytest.param(500, [], [], id="nothing-owed"),
        pytest.param(700, [owed(3, 2, 500, 9), owed(4, 2, 500, 8)], [(4, 500), (3, 200)],
                     id="same-day-by-number"),
    ],
)  # fmt: skip
def test_auto_allocate(left, lines, expected) -> None:
    plan = payments.auto_allocate(left, lines)
    assert plan == expected
    assert sum(cents for _, cents in plan) <= left


@pytest.mark.parametrize(
    ("amount", "allocated", "state"),
    [(1000, 0, "ENREGISTRE"), (1000, 1, "VENTILE_PARTIELLEMENT"), (1000, 1000, "VENTILE")],
)
def test_payment_state(amount, allocated, state) -> None:
    assert payments.state_for(amount, allocated).value == state


def test_payment_moves_follow_the_amounts() -> None:
    assert payments.find_move("ENREGISTRE", "allocate", 1000, 1000).target.value == "VENTILE"
    assert payments.find_move("VENTILE", "undo_allocation", 1000, 0).target.value == "ENREGISTRE"
    with pytest.raises(IllegalTransition):
        payments.find_move("ENREGISTRE", "undo_allocation", 1000, 0)


@pytest.mark.parametrize(
    ("left", "remaining", "amount", "words"),
    [(1000, 500, 0, "positif"), (1000, 5000, 1500, "plus que 10,00"),
     (5000, 500, 600, "ne reste que 5,00")],  # fmt: skip
)
def test_check_allocation(left, remaining, amount, words) -> None:
    with pytest.raises(ValidationError, match=words):
        payments.check_allocation(left, owed(1, 2, remaining), amount)


@pytest.mark.parametrize(
    ("nets", "client_payments", "balance"),
    [([7980, 3600], [5000], 6580), ([13600, -13600, 15800], [], 15800), ([], [1000], -1000)],
)
def test_client_balance(nets, client_payments, balance) -> None:
    assert payments.client_balance(nets, client_payments) == balance


# --- payers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "pending", "taken"),
    [
        pytest.param(4000, [-4000], [-4000], id="to-zero"),
        pytest.param(1200, [-3600], [], id="would-be-negative-waits"),
        pytest.param(5000, [-3000, -3000, -1000], [-3000, -1000], id="each-whole-in-order"),
        pytest.param(0, [], [], id="nothing"),
    ],
)
def test_take_deductions(total, pending, taken) -> None:
    items = [rules.Deduction(i, cents) for i, cents in enumerate(pending)]
    got = rules.take_deductions(total, items)
    assert [d.cents for d in got] == taken
    assert total + sum(d.cents for d in got) >= 0


@pytest.mark.parametrize(
    ("kind", "clients", "groups"),
    [("INDIVIDUELLE", [3, 1, 3], [(1,), (3,)]), ("GLOBALE", [3, 1, 3], [(1, 3)]), ("GLOBALE", [], [])],
)
def test_slip_groups(kind, clients, groups) -> None:
    assert rules.slip_groups(kind, clients) == groups


def test_a_payer_paying_the_client_gets_no_bordereau() -> None:
    rules.check_can_make_slips("APA", rules.PayerSettings("GLOBALE", False))
    with pytest.raises(ValidationError, match="Aide versée directement au client"):
        rules.check_can_make_slips("CAF", rules.PayerSettings("GLOBALE", True))


@pytest.mark.parametrize(
    ("prestation", "defaults", "ok"),
    [("AD", ["AD", "MEN"], True), ("ACC", ["AD"], False), ("AD", [], False)],
)
def test_plan_prestation_must_have_defaults(prestation, defaults, ok) -> None:
    if ok:
        rules.check_plan_prestation("APA", prestation, defaults)
    else:
        with pytest.raises(ValidationError, match="valeurs par défaut"):
            rules.check_plan_prestation("APA", prestation, defaults)


@pytest.mark.parametrize(
    ("siret", "ok"), [("73282932000074", True), ("732 829 320 00074", True), ("", True),
                      ("73282932000075", False), ("123", False)],  # fmt: skip
)
def test_siret(siret, ok) -> None:
    if ok:
        rules.check_siret(siret)
    else:
        with pytest.raises(ValidationError, match="SIRET"):
            rules.check_siret(siret)


LEVEL_1, LEVEL_2, LEVEL_3 = rules.DEFAULT_REMINDER_LEVELS
TODAY = D(2026, 12, 31)


def open_slip(key: int, sent: date, due: int, paid: int = 0) -> rules.OpenSlip:
    return rules.OpenSlip(key, f"B-{key:06d}", sent, due, paid)


@pytest.mark.parametrize(
    ("level", "slips_", "named"),
    [
        pytest.param(LEVEL_1, [open_slip(1, D(2026, 12, 1), 1000)], [1], id="J+30-reached"),
        pytest.param(LEVEL_1, [open_slip(1, D(2026, 12, 2), 1000)], [], id="J+29-not-yet"),
        pytest.param(LEVEL_2, [open_slip(1, D(2026, 11, 16), 1000),
                               open_slip(2, D(2026, 11, 17), 1000)], [1], id="J+45"),
        pytest.param(LEVEL_3, [open_slip(1, D(2026, 10, 1), 1000, 1000)], [], id="paid-not-named"),
        pytest.param(LEVEL_1, [open_slip(2, D(2026, 11, 1), 1000, 400),
                               open_slip(1, D(2026, 10, 1), 500)], [1, 2], id="partly-paid-oldest-first"),
    ],
)  # fmt: skip
def test_reminder_lines(level, slips_, named) -> None:
    assert [s.key for s in rules.reminder_lines(level, slips_, TODAY)] == named


def test_reminder_text_states_what_remains() -> None:
    text = rules.reminder_text(LEVEL_2, "CARSAT", "Aide du Parc", [open_slip(7, D(2026, 11, 1), 7520, 2000)])
    assert "Bordereau B-000007 envoyé le 01/11/2026 : 75,20 €, réglé 20,00 €, reste 55,20 €" in text
    assert "Total restant dû : 55,20 €." in text and LEVEL_2.text in text


@pytest.mark.parametrize(
    ("levels", "ok"),
    [
        (rules.DEFAULT_REMINDER_LEVELS, True),
        ((rules.ReminderLevel(1, 30, "a", "b"), rules.ReminderLevel(2, 30, "c", "d")), False),
        ((rules.ReminderLevel(1, 30, "a", "b"), rules.ReminderLevel(1, 45, "c", "d")), False),
    ],
)
def test_reminder_levels(levels, ok) -> None:
    if ok:
        rules.check_levels(levels)
    else:
        with pytest.raises(ValidationError):
            rules.check_levels(levels)
