"""The reconciliation rules (domain.bank_matching): each condition, the first matching rule
wins, each credit and each receipt once, and properties over random inputs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.domain.bank_matching import (
    DEFAULT_RULES,
    REGLEMENT,
    VIREMENT,
    Credit,
    ExpectedReceipt,
    Receipt,
    Rule,
    found_in,
    normalise,
    propose,
    words,
)
from tuibill.domain.errors import ValidationError

DAY = date(2026, 3, 2)


def virement(id: int, cents: int, *, day: date = DAY, label: str = "", partner: str = "CPAM 281"):
    return Receipt(VIREMENT, id, day, cents, label or f"VIR CPAM 281 LOT {id:03d}", partner)


def credit(id: int, cents: int, text: str, *, day: date = DAY + timedelta(days=2)) -> Credit:
    return Credit(id, day, cents, text)


def pairs(proposals) -> list[tuple[int, str, int, str]]:
    return [(p.credit.id, p.receipt.kind, p.receipt.id, p.rule.name) for p in proposals]


def test_text_is_compared_without_case_accents_or_punctuation() -> None:
    assert normalise("  Vir. SÉPA — cpam d'Eure-et-Loir ") == "VIR SEPA CPAM D EURE ET LOIR"
    bank = words("VIR SEPA CPAM 281 /LOT 012 PS 281234567")
    assert found_in("cpam 281 lot 012", bank)
    assert found_in("PS 281234567 LOT 012", bank)  # the order and place do not matter
    assert not found_in("CPAM 281 LOT 013", bank)
    assert not found_in("", bank)  # an empty label confirms nothing


def test_the_receipt_is_an_expected_receipt() -> None:
    assert isinstance(virement(1, 100), ExpectedReceipt)
    assert virement(1, 100).key == "virement:1"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (Rule(""), "name"),
        (Rule("x", kind="cheque"), "kind"),
        (Rule("x", label_regex="VIR ("), "label_regex"),
        (Rule("x", tolerance_cents=-1), "tolerance_cents"),
        (Rule("x", days_after=400), "days_after"),
        (Rule("x", days_before=True), "days_before"),  # type: ignore[arg-type]
    ],
)
def test_a_wrong_rule_is_refused_naming_its_condition(rule: Rule, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rule.check()
    assert refused.value.field == field
    assert "Règle" in str(refused.value)


def test_the_default_rules_are_valid_strict_first_and_described_in_french() -> None:
    assert [rule.check() for rule in DEFAULT_RULES] == list(DEFAULT_RULES)
    tolerances = [rule.tolerance_cents for rule in DEFAULT_RULES]
    assert tolerances[-1] > 0 and all(t == 0 for t in tolerances[:-1])
    assert "montant égal" in DEFAULT_RULES[0].describe()
    assert "écart de montant ≤ 50,00 €" in DEFAULT_RULES[-1].describe()


def test_an_exact_rule_takes_its_pair_before_a_looser_one_is_tried() -> None:
    # Credit 1 (earlier) is within the tolerance of both receipts, nearer to 11; receipt 11 is
    # exactly credit 2's amount. Tried line by line, credit 1 would take 11 by the loose rule
    # and leave credit 2 with nothing.
    credits = [
        credit(1, 10_000, "VIR CPAM 281", day=DAY + timedelta(days=1)),
        credit(2, 10_050, "VIR CPAM 281", day=DAY + timedelta(days=2)),
    ]
    receipts = [virement(10, 9_900), virement(11, 10_050)]
    rules = [
        Rule("exact", partner=True),
        Rule("tolérance", partner=True, tolerance_cents=100),
    ]
    found = propose(credits, receipts, rules)
    assert pairs(found) == [(2, VIREMENT, 11, "exact"), (1, VIREMENT, 10, "tolérance")]
    assert [p.difference_cents for p in found] == [0, 100]


def test_each_condition_of_a_rule() -> None:
    line = credit(1, 5_000, "VIR SEPA CPAM 281 LOT 012")
    receipt = virement(7, 5_000, label="VIR CPAM 281 LOT 012")

    def matches(rule: Rule, receipts=(receipt,), lines=(line,)) -> bool:
        return bool(propose(list(lines), list(receipts), [rule]))

    assert matches(Rule("r"))
    assert matches(Rule("r", label_contains="sepa cpam"))
    assert not matches(Rule("r", label_contains="MSA"))
    assert matches(Rule("r", label_regex=r"^VIR SEPA (CPAM|MSA) "))
    assert not matches(Rule("r", label_regex=r"^PRLV"))
    assert matches(Rule("r", receipt_label=True))
    assert not matches(Rule("r", receipt_label=True), [virement(7, 5_000, label="LOT 013")])
    assert matches(Rule("r", partner=True))
    assert not matches(Rule("r", partner=True), [virement(7, 5_000, partner="MSA 028")])
    assert not matches(Rule("r", kind=REGLEMENT))
    assert not matches(Rule("r"), [virement(7, 5_001)])  # exact by default
    assert matches(Rule("r", tolerance_cents=1), [virement(7, 5_001)])
    # The window: the bank date from days_before before to days_after after the receipt's.
    assert not matches(Rule("r", days_after=1))
    assert matches(Rule("r", days_after=2))
    assert not matches(Rule("r", days_before=0), [virement(7, 5_000, day=DAY + timedelta(3))])
    assert matches(Rule("r", days_before=1), [virement(7, 5_000, day=DAY + timedelta(3))])
    assert not matches(Rule("r", active=False))


def test_a_credit_never_pays_a_negative_receipt_and_zero_never_matches() -> None:
    rule = Rule("r", tolerance_cents=20_000)
    assert not propose([credit(1, 5_000, "x")], [virement(7, -5_000)], [rule])
    assert not propose([credit(1, 0, "x")], [virement(7, 0)], [rule])
    # A caisse taking money back: a debit matches a negative receipt.
    found = propose([credit(1, -1_200, "x")], [virement(7, -1_200)], [Rule("r")])
    assert pairs(found) == [(1, VIREMENT, 7, "r")]


def test_ties_are_broken_by_difference_then_date_then_age_then_id() -> None:
    line = credit(1, 5_000, "VIR CPAM 281", day=DAY + timedelta(days=3))
    rule = Rule("r", tolerance_cents=500)
    near = virement(5, 5_000, day=DAY + timedelta(days=2))
    far = virement(3, 5_000, day=DAY)
    off = virement(1, 4_990, day=DAY + timedelta(days=3))
    assert pairs(propose([line], [far, off, near], [rule]))[0][2] == 5
    twins = [virement(9, 5_000), virement(4, 5_000)]
    assert pairs(propose([line], twins, [rule]))[0][2] == 4
    assert pairs(propose([line], twins[::-1], [rule]))[0][2] == 4  # whatever the order given


amounts = st.integers(min_value=-50_000, max_value=50_000)
days = st.integers(min_value=0, max_value=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    credit_values=st.lists(st.tuples(amounts, days), max_size=12),
    receipt_values=st.lists(st.tuples(amounts, days, st.sampled_from(["281", "595"])), max_size=12),
    tolerance=st.integers(min_value=0, max_value=2_000),
)
def test_whatever_the_input_each_side_is_used_once_and_every_pair_obeys_its_rule(
    credit_values, receipt_values, tolerance
) -> None:
    credits = [
        credit(i, cents, f"VIR CPAM {'281' if i % 2 else '595'}", day=DAY + timedelta(d))
        for i, (cents, d) in enumerate(credit_values, 1)
    ]
    receipts = [
        virement(i, cents, day=DAY + timedelta(d), partner=f"CPAM {caisse}")
        for i, (cents, d, caisse) in enumerate(receipt_values, 1)
    ]
    rules = [Rule("exact", partner=True), Rule("tolérance", tolerance_cents=tolerance)]
    found = propose(credits, receipts, rules)
    assert len({p.credit.id for p in found}) == len(found)
    assert len({p.receipt.id for p in found}) == len(found)
    for p in found:
        assert p.rule.pair_ok(p.credit, words(p.credit.text), p.receipt)
        assert p.difference_cents == p.credit.amount_cents - p.receipt.amount_cents
    # Running again on what is left adds nothing: the rules were exhausted.
    used_credits = {p.credit.id for p in found}
    used_receipts = {p.receipt.id for p in found}
    again = propose(
        [c for c in credits if c.id not in used_credits],
        [r for r in receipts if r.id not in used_receipts],
        rules,
    )
    assert again == []
