"""The bank statement model's shared rules: IBAN, RIB, line identity, balance."""

from __future__ import annotations

from datetime import date

import pytest

from tuibill.domain.errors import ValidationError
from tuibill.formats import bank
from tuibill.formats.bank import BankLine, BankStatement

IBAN = "FR7630006000011234567890189"


def test_check_iban_returns_the_compact_form():
    assert bank.check_iban("fr76 3000 6000 0112 3456 7890 189") == IBAN
    assert bank.check_iban("DE89370400440532013000") == "DE89370400440532013000"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("FR7630006000011234567890188", "clé de contrôle fausse"),
        ("FR76300060000112345678901", "IBAN"),  # too short: stdnum sees the checksum or length
        ("FR76 3000 6000 0112 3456 7890 18#", "IBAN"),
        ("   ", "IBAN absent"),
    ],
)
def test_check_iban_refuses_in_french(text, reason):
    with pytest.raises(ValidationError) as caught:
        bank.check_iban(text)
    assert reason in str(caught.value)
    assert caught.value.field == "iban"


def test_rib_key_and_french_iban_agree_with_a_published_iban():
    assert bank.rib_key("30006", "00001", "12345678901") == "89"
    assert bank.french_iban("30006", "00001", "12345678901") == IBAN
    assert bank.rib_parts(IBAN) == ("30006", "00001", "12345678901")
    assert bank.rib_parts("DE89370400440532013000") is None


def test_french_iban_handles_letters_in_the_account_number():
    # The textbook La Banque Postale example: RIB 20041 01005 0500013M026 06.
    assert bank.rib_key("20041", "01005", "0500013M026") == "06"
    assert bank.french_iban("20041", "01005", "0500013M026") == "FR1420041010050500013M02606"
    assert bank.french_iban("2004", "01005", "0500013M026") is None


def _statement(*lines: BankLine, fmt: str = bank.FORMAT_CFONB) -> BankStatement:
    return BankStatement(format=fmt, currency="EUR", lines=lines, account_iban=IBAN)


def _line(amount: int = 1000, label: str = "VIR CPAM", ref: str | None = None) -> BankLine:
    return BankLine(date(2024, 1, 5), date(2024, 1, 5), amount, label, bank_ref=ref)


def test_identical_lines_get_distinct_keys_that_another_read_repeats():
    first = bank.with_keys(_statement(_line(), _line(), _line(-50, "FRAIS")))
    again = bank.with_keys(_statement(_line(), _line(), _line(-50, "FRAIS")))
    keys = [line.unique_key for line in first.lines]
    assert len(set(keys)) == 3
    assert keys == [line.unique_key for line in again.lines]


def test_an_overlapping_statement_repeats_the_keys_of_the_shared_lines():
    january = bank.with_keys(_statement(_line(100, "A"), _line(200, "B")))
    overlap = bank.with_keys(_statement(_line(200, "B"), _line(300, "C")))
    assert january.lines[1].unique_key == overlap.lines[0].unique_key
    assert january.lines[0].unique_key != overlap.lines[1].unique_key


def test_the_bank_reference_keys_a_line_where_the_format_makes_it_unique():
    camt = bank.with_keys(
        _statement(_line(ref="R1"), _line(999, "OTHER LABEL", ref="R2"), fmt=bank.FORMAT_CAMT)
    )
    relabelled = bank.with_keys(_statement(_line(1, "CHANGED", ref="R1"), fmt=bank.FORMAT_CAMT))
    assert camt.lines[0].unique_key == relabelled.lines[0].unique_key
    assert camt.lines[0].unique_key.startswith("ref-")
    # CFONB's numéro d'écriture is not unique: the line's content keys it.
    cfonb = bank.with_keys(_statement(_line(ref="R1"), _line(ref="R1")))
    assert cfonb.lines[0].unique_key != cfonb.lines[1].unique_key


def test_keys_depend_on_the_account():
    one = bank.with_keys(_statement(_line()))
    other = bank.with_keys(
        BankStatement(
            format=bank.FORMAT_CFONB,
            currency="EUR",
            lines=(_line(),),
            account_iban="DE89370400440532013000",
        )
    )
    assert one.lines[0].unique_key != other.lines[0].unique_key


def test_balance_problem_gives_the_figures():
    assert bank.balance_problem(1000, [250, -50], 1200) is None
    assert bank.balance_problem(None, [250], 1200) is None
    problem = bank.balance_problem(1000, [250, -50], 1300)
    assert problem is not None
    assert "ne s'équilibre pas" in problem
    assert "10,00 €" in problem and "2,00 €" in problem and "13,00 €" in problem
    assert "écart 1,00 €" in problem
