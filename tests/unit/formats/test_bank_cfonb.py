"""CFONB 120 statements: files built here field by field, every refusal, fuzzing, round trip."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.formats import bank, cfonb
from tuibill.formats.bank import BankLine, BankStatement
from tuibill.formats.errors import FormatError

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- records built by hand, position by position (not by the writer) ---------------------------


def head(
    code: str,
    day: str,
    *,
    bank_code: str = "30006",
    internal: str = "    ",
    branch: str = "00001",
    currency: str = "EUR",
    decimals: str = "2",
    account: str = "12345678901",
    interbank: str = "  ",
) -> str:
    """Positions 1 to 40."""
    text = code + bank_code + internal + branch + currency + decimals + " " + account + interbank
    return text + day


def balance(code: str, day: str, amount: str, **account: str) -> str:
    return head(code, day, **account) + " " * 50 + amount + " " * 16


def operation(
    day: str,
    amount: str,
    label: str,
    *,
    value: str | None = None,
    entry: str = "",
    reference: str = "",
    interbank: str = "05",
    **account: str,
) -> str:
    middle = "  " + (day if value is None else value) + label.ljust(31) + "  " + entry.ljust(7)
    return (
        head("04", day, interbank=interbank, **account)
        + middle
        + "  "
        + amount
        + reference.ljust(16)
    )


def complement(day: str, qualifier: str, text: str, **account: str) -> str:
    return head("05", day, interbank="05", **account) + " " * 5 + qualifier + text.ljust(70) + "  "


def crlf(*records: str) -> bytes:
    for record in records:
        assert len(record) == 120, (len(record), record)
    return "".join(record + "\r\n" for record in records).encode("latin-1")


OPENING = balance("01", "010124", "0000000010000{")  # +1 000,00
CREDIT = operation(
    "050124", "0000000001234E", "VIR SEPA CPAM DU RHONE", entry="A12", reference="NOEMIE0042"
)  # +123,45
PAYER = complement("050124", "NPY", "CPAM DU RHONE")
EXTRA = complement("050124", "LIB", "PAIEMENT DU 03/01/2024 LOT 123")
DEBIT = operation("060124", "0000000000099}", " F FRAIS TENUE DE COMPTE", value="080124")  # -9,90
CLOSING = balance("07", "310124", "0000000011135E")  # +1 113,55
SAMPLE = crlf(OPENING, CREDIT, PAYER, EXTRA, DEBIT, CLOSING)


def test_reads_a_statement_with_a_complement_and_a_negative_amount():
    (statement,) = cfonb.read_cfonb(SAMPLE)
    assert statement.format == bank.FORMAT_CFONB
    assert (statement.bank_code, statement.branch_code, statement.account_number) == (
        "30006",
        "00001",
        "12345678901",
    )
    assert statement.account_iban == "FR7630006000011234567890189"
    assert statement.currency == "EUR"
    assert (statement.opening_date, statement.opening_balance_cents) == (date(2024, 1, 1), 100000)
    assert (statement.closing_date, statement.closing_balance_cents) == (date(2024, 1, 31), 111355)
    credit, debit = statement.lines
    assert credit.amount_cents == 12345
    assert credit.booking_date == credit.value_date == date(2024, 1, 5)
    assert credit.label == "VIR SEPA CPAM DU RHONE"
    assert credit.reference == "NOEMIE0042"
    assert credit.bank_ref == "A12"
    assert credit.operation_code == "05"
    assert credit.counterparty == "CPAM DU RHONE"
    assert credit.details == (
        ("NPY", "CPAM DU RHONE"),
        ("LIB", "PAIEMENT DU 03/01/2024 LOT 123"),
    )
    assert debit.amount_cents == -990
    assert debit.label == "F FRAIS TENUE DE COMPTE"  # the bank's leading space dropped
    assert debit.value_date == date(2024, 1, 8)
    assert debit.details == () and debit.counterparty is None and debit.reference is None


@pytest.mark.parametrize("separator", [b"\r\n", b"\n", b""], ids=["crlf", "lf", "none"])
def test_records_may_end_with_crlf_lf_or_nothing(separator):
    records = [OPENING, CREDIT, PAYER, EXTRA, DEBIT, CLOSING]
    data = separator.join(record.encode("latin-1") for record in records)
    assert cfonb.read_cfonb(data) == cfonb.read_cfonb(SAMPLE)
    assert cfonb.read_cfonb(data + separator) == cfonb.read_cfonb(SAMPLE)


SIGNS = [(char, digit) for digit, char in enumerate("{ABCDEFGHI")] + [
    (char, -digit) for digit, char in enumerate("}JKLMNOPQR")
]


@pytest.mark.parametrize(("sign", "digit"), SIGNS, ids=[s for s, _ in SIGNS])
def test_every_sign_character(sign, digit):
    amount = "000000000001" + "2" + sign  # 12x cents, x the sign's digit
    expected = 120 + abs(digit) if sign in "{ABCDEFGHI" else -(120 + abs(digit))
    data = crlf(
        balance("01", "010124", "0000000000000{"),
        operation("020124", amount, "OP"),
        balance("07", "020124", amount),
    )
    (statement,) = cfonb.read_cfonb(data)
    assert statement.lines[0].amount_cents == expected
    assert statement.closing_balance_cents == expected


def test_negative_balances():
    data = crlf(
        balance("01", "010124", "0000000005000}"),  # -500,00
        operation("020124", "0000000000100J", "PRLV"),  # -10,01
        balance("07", "020124", "0000000005100J"),  # -510,01
    )
    (statement,) = cfonb.read_cfonb(data)
    assert statement.opening_balance_cents == -50000
    assert statement.lines[0].amount_cents == -1001
    assert statement.closing_balance_cents == -51001


@pytest.mark.parametrize(
    ("decimals", "amount", "cents"),
    [("0", "0000000000012C", 12300), ("2", "0000000000012C", 123), ("3", "0000000000012{", 12)],
)
def test_the_number_of_decimals_comes_from_each_record(decimals, amount, cents):
    data = crlf(
        balance("01", "010124", "0000000000000{"),
        operation("020124", amount, "OP", decimals=decimals),
        balance("07", "020124", _amount(cents)),
    )
    (statement,) = cfonb.read_cfonb(data)
    assert statement.lines[0].amount_cents == cents


def _amount(cents: int) -> str:
    return cfonb.SignedAmount().encode(cents, 14)


def test_several_accounts_and_statements_in_one_file():
    other = {"bank_code": "20041", "branch_code": "01005", "account": "0500013M026"}
    other_head = {"bank_code": other["bank_code"], "branch": other["branch_code"]}
    data = crlf(
        OPENING,
        CREDIT,
        DEBIT,
        CLOSING,
        balance("01", "010124", "0000000000000{", **other_head, account=other["account"]),
        operation(
            "150124", "0000000000500{", "REMISE CHEQUES", **other_head, account=other["account"]
        ),
        complement("150124", "NPY", "MUTUELLE X", **other_head, account=other["account"]),
        balance("07", "310124", "0000000000500{", **other_head, account=other["account"]),
        balance("01", "010224", "0000000011135E"),
        balance("07", "290224", "0000000011135E"),
    )
    first, second, third = cfonb.read_cfonb(data)
    assert first.account_number == third.account_number == "12345678901"
    assert second.account_number == "0500013M026"
    assert second.account_iban == "FR1420041010050500013M02606"
    assert second.lines[0].amount_cents == 5000
    assert second.lines[0].counterparty == "MUTUELLE X"
    assert third.lines == ()


def test_keys_are_stable_and_distinct_for_identical_lines():
    same = operation("050124", "0000000001000{", "VIR CPAM")
    data = crlf(
        balance("01", "010124", "0000000000000{"),
        same,
        same,
        balance("07", "310124", "0000000002000{"),
    )
    (first,) = cfonb.read_cfonb(data)
    (again,) = cfonb.read_cfonb(data)
    keys = [line.unique_key for line in first.lines]
    assert keys == [line.unique_key for line in again.lines]
    assert len(set(keys)) == 2
    # The same two lines in a statement that covers more days keep their keys.
    wider = crlf(
        balance("01", "010124", "0000000000000{"),
        same,
        same,
        operation("060124", "0000000000500{", "AUTRE"),
        balance("07", "310124", "0000000002500{"),
    )
    (overlap,) = cfonb.read_cfonb(wider)
    assert [line.unique_key for line in overlap.lines[:2]] == keys


# -- refusals: one per path, each naming the line and the field -------------------------------


def refused(data: bytes) -> FormatError:
    with pytest.raises(FormatError) as caught:
        cfonb.read_cfonb(data)
    return caught.value


def test_refuses_an_empty_file():
    assert "fichier vide" in str(refused(b""))


def test_refuses_an_unknown_record_code():
    error = refused(crlf(OPENING, "03" + CREDIT[2:], CLOSING))
    assert "ligne 2" in str(error) and "« 03 » inconnu" in str(error)
    assert error.record_number == 2 and error.field == "type"


def test_refuses_a_record_of_the_wrong_length():
    data = SAMPLE.replace(CREDIT.encode() + b"\r\n", CREDIT[:-1].encode() + b"\r\n")
    error = refused(data)
    assert "ligne 2" in str(error) and "119 caractères au lieu de 120" in str(error)


def test_refuses_an_empty_line_between_records():
    error = refused(SAMPLE.replace(b"\r\n", b"\r\n\r\n", 1))
    assert "ligne 2" in str(error) and "ligne vide" in str(error)


def test_refuses_records_run_together_that_do_not_divide_by_120():
    data = (OPENING + CLOSING).encode() + b"0"
    error = refused(data)
    assert "ligne 3" in str(error) and "incomplet" in str(error)


def test_refuses_a_bad_sign_character():
    error = refused(crlf(OPENING, CREDIT[:103] + "S" + CREDIT[104:], PAYER, EXTRA, DEBIT, CLOSING))
    message = str(error)
    assert "ligne 2" in message and "« montant de l'opération »" in message
    assert "positions 91 à 104" in message and "caractère de signe « S »" in message
    assert error.field == "amount" and error.record_type == "04"


def test_refuses_a_non_digit_in_an_amount():
    bad = CLOSING[:95] + "X" + CLOSING[96:]
    error = refused(crlf(OPENING, CREDIT, PAYER, EXTRA, DEBIT, bad))
    assert "ligne 6" in str(error) and "« montant du solde »" in str(error)


def test_refuses_a_non_digit_in_the_bank_code():
    error = refused(crlf(OPENING[:3] + "O" + OPENING[4:], CLOSING))
    assert (
        "ligne 1" in str(error) and "« code banque »" in str(error) and error.field == "bank_code"
    )


def test_refuses_an_impossible_date():
    error = refused(crlf(OPENING, operation("310224", "0000000000000{", "X"), CLOSING))
    assert "ligne 2" in str(error) and "« date de comptabilisation »" in str(error)
    assert "310224" in str(error)


def test_refuses_a_control_character_in_a_label():
    error = refused(crlf(OPENING, CREDIT[:50] + "\x07" + CREDIT[51:], CLOSING))
    assert "ligne 2" in str(error) and "« libellé »" in str(error) and "\\x07" in str(error)


def test_refuses_an_operation_before_its_old_balance():
    error = refused(crlf(CREDIT, CLOSING))
    assert "ligne 1" in str(error) and "aucun ancien solde (01)" in str(error)


def test_refuses_a_complement_without_its_operation():
    error = refused(crlf(OPENING, PAYER, CLOSING))
    assert "ligne 2" in str(error) and "sans opération (04)" in str(error)


def test_refuses_a_new_balance_that_does_not_match_the_operations():
    wrong = balance("07", "310124", "0000000011136E")
    error = refused(crlf(OPENING, CREDIT, PAYER, EXTRA, DEBIT, wrong))
    message = str(error)
    assert "ligne 6" in message and "« montant du solde »" in message
    assert "ne s'équilibre pas" in message
    assert "1113,55 €" in message and "1113,65 €" in message and "écart 0,10 €" in message


def test_refuses_an_operation_of_another_account():
    other = operation("050124", "0000000001234E", "X", account="99999999999")
    error = refused(crlf(OPENING, other, CLOSING))
    assert "ligne 2" in str(error) and "« numéro de compte »" in str(error)
    assert "commencé ligne 1" in str(error)


def test_refuses_an_old_balance_while_a_statement_is_open():
    error = refused(crlf(OPENING, OPENING, CLOSING))
    assert "ligne 2" in str(error) and "n'a pas de nouveau solde (07)" in str(error)


def test_refuses_a_file_ending_without_its_new_balance():
    error = refused(crlf(OPENING, CREDIT))
    assert "ligne 2" in str(error) and "fin du fichier" in str(error)


def test_refuses_an_amount_finer_than_a_cent():
    data = crlf(
        balance("01", "010124", "0000000000000{"),
        operation("020124", "0000000000012A", "OP", decimals="3"),
        balance("07", "020124", "0000000000000{"),
    )
    error = refused(data)
    assert "ligne 2" in str(error) and "centime" in str(error)


# -- writer ---------------------------------------------------------------------------------


def test_the_writer_refuses_an_unbalanced_statement():
    (statement,) = cfonb.read_cfonb(SAMPLE)
    with pytest.raises(FormatError, match="ne s'équilibre pas"):
        cfonb.write_cfonb([replace(statement, closing_balance_cents=0)])


def test_the_writer_refuses_a_label_too_long_for_the_record():
    (statement,) = cfonb.read_cfonb(SAMPLE)
    line = replace(statement.lines[0], label="X" * 32)
    with pytest.raises(FormatError, match="« libellé »"):
        cfonb.write_cfonb([replace(statement, lines=(line, statement.lines[1]))])


def test_the_writer_takes_the_rib_from_a_french_iban():
    (statement,) = cfonb.read_cfonb(SAMPLE)
    bare = replace(statement, bank_code=None, branch_code=None, account_number=None)
    assert cfonb.read_cfonb(cfonb.write_cfonb([bare])) == (statement,)


# -- fuzzing and round trip -----------------------------------------------------------------


def strict_read(data: bytes) -> None:
    try:
        cfonb.read_cfonb(data)
    except FormatError:
        pass


@FUZZ
@given(st.binary(max_size=800))
def test_any_bytes_are_read_or_refused_with_a_format_error(data):
    strict_read(data)


_NOISE = "0123456789 {}AJRSZaz-+.\x00\r\n\x7f\xe9"


@FUZZ
@given(st.data())
def test_mutated_files_are_read_or_refused_with_a_format_error(data):
    text = bytearray(SAMPLE)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(text) - 1))
        noise = data.draw(st.text(alphabet=_NOISE, min_size=1, max_size=6)).encode("latin-1")
        if data.draw(st.booleans()):
            text[where : where + len(noise)] = noise
        else:
            del text[where : where + data.draw(st.integers(1, 130))]
    strict_read(bytes(text))


_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=31
).filter(lambda text: text == text.strip(" ") and text != "")
_CODE = st.from_regex(r"[0-9A-Z]{2}", fullmatch=True)
_DAY = st.dates(date(2000, 1, 1), date(2099, 12, 31))


@st.composite
def lines(draw: st.DrawFn) -> tuple[BankLine, tuple[tuple[str, str], ...]]:
    """A line to write, and the details the reader must return for it."""
    details = tuple(
        draw(
            st.lists(
                st.tuples(
                    st.from_regex(r"[0-9A-Z]{3}", fullmatch=True).filter(
                        lambda q: q not in ("NPY", "NBE")
                    ),
                    _TEXT,
                ),
                max_size=3,
            )
        )
    )
    amount = draw(st.integers(-(10**9), 10**9))
    party = draw(st.none() | _TEXT)
    line = BankLine(
        booking_date=draw(_DAY),
        value_date=draw(st.none() | _DAY),
        amount_cents=amount,
        label=draw(st.just("") | _TEXT),
        reference=draw(st.none() | _TEXT.filter(lambda t: len(t) <= 16)),
        counterparty=party,
        details=details,
        bank_ref=draw(st.none() | st.from_regex(r"[0-9A-Z]{1,7}", fullmatch=True)),
        operation_code=draw(st.none() | _CODE),
    )
    read_back = details + (((("NPY" if amount >= 0 else "NBE"), party),) if party else ())
    return line, read_back


@st.composite
def statements(draw: st.DrawFn) -> tuple[BankStatement, BankStatement]:
    """A statement to write, and the statement the reader must return (keys aside)."""
    pairs = draw(st.lists(lines(), max_size=5))
    opening = draw(st.integers(-(10**10), 10**10))
    bank_code = draw(st.from_regex(r"[0-9]{5}", fullmatch=True))
    branch = draw(st.from_regex(r"[0-9]{5}", fullmatch=True))
    account = draw(st.from_regex(r"[0-9A-Z]{11}", fullmatch=True))
    written = BankStatement(
        format=bank.FORMAT_CFONB,
        currency=draw(st.sampled_from(["EUR", "CHF", "USD"])),
        lines=tuple(line for line, _ in pairs),
        bank_code=bank_code,
        branch_code=branch,
        account_number=account,
        opening_date=draw(_DAY),
        opening_balance_cents=opening,
        closing_date=draw(_DAY),
        closing_balance_cents=opening + sum(line.amount_cents for line, _ in pairs),
    )
    expected = replace(
        written,
        account_iban=bank.french_iban(bank_code, branch, account),
        lines=tuple(replace(line, details=details) for line, details in pairs),
    )
    return written, expected


def _without_keys(statement: BankStatement) -> BankStatement:
    return replace(statement, lines=tuple(replace(line, unique_key="") for line in statement.lines))


@FUZZ
@given(st.lists(statements(), min_size=1, max_size=3))
def test_write_then_read_gives_the_statements_back(pairs):
    data = cfonb.write_cfonb([written for written, _ in pairs])
    read = cfonb.read_cfonb(data)
    assert tuple(_without_keys(statement) for statement in read) == tuple(
        expected for _, expected in pairs
    )
    assert all(line.unique_key for statement in read for line in statement.lines)
    assert cfonb.read_cfonb(data) == read  # keys stable across reads
