"""OFX statements (1.x SGML and 2.x XML) written here, and the refusals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.formats import bank, ofx
from tuibill.formats.errors import FormatError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SGML_HEADER = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

"""

TRANSACTIONS = b"""<STMTTRN>
<TRNTYPE>CREDIT
<DTPOSTED>20240115000000.000[+1:CET]
<DTAVAIL>20240116
<TRNAMT>123.45
<FITID>2024011500001
<NAME>VIR CPAM DU RHONE
<MEMO>PAIEMENT LOT 123 \xe9t\xe9
</STMTTRN>
<STMTTRN>
<TRNTYPE>DEBIT
<DTPOSTED>20240116
<TRNAMT>-9,90
<FITID>2024011600001
<NAME>FRAIS TENUE DE COMPTE
</STMTTRN>
<STMTTRN>
<TRNTYPE>CHECK
<DTPOSTED>20240116
<TRNAMT>-50.00
<FITID>2024011600002
<CHECKNUM>1234567
<NAME>CHEQUE 1234567
</STMTTRN>
"""


def sgml(transactions: bytes = TRANSACTIONS, balance: bytes = b"63.55") -> bytes:
    return (
        SGML_HEADER
        + b"""<OFX>
<SIGNONMSGSRSV1>
<SONRS>
<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<DTSERVER>20240201060000
<LANGUAGE>FRA
</SONRS>
</SIGNONMSGSRSV1>
<BANKMSGSRSV1>
<STMTTRNRS>
<TRNUID>1
<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS>
<CURDEF>EUR
<BANKACCTFROM>
<BANKID>30006
<BRANCHID>00001
<ACCTID>12345678901
<ACCTTYPE>CHECKING
</BANKACCTFROM>
<BANKTRANLIST>
<DTSTART>20240101
<DTEND>20240131
"""
        + transactions
        + b"""</BANKTRANLIST>
<LEDGERBAL>
<BALAMT>"""
        + balance
        + b"""
<DTASOF>20240131235959[+1:CET]
</LEDGERBAL>
</STMTRS>
</STMTTRNRS>
</BANKMSGSRSV1>
</OFX>
"""
    )


XML = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" NEWFILEUID="NONE"?>
<OFX>
  <SIGNONMSGSRSV1>
    <SONRS>
      <STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
      <DTSERVER>20240201060000</DTSERVER>
      <LANGUAGE>FRA</LANGUAGE>
    </SONRS>
  </SIGNONMSGSRSV1>
  <BANKMSGSRSV1>
    <STMTTRNRS>
      <TRNUID>1</TRNUID>
      <STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
      <STMTRS>
        <CURDEF>EUR</CURDEF>
        <BANKACCTFROM>
          <BANKID>DEUTDEFF</BANKID>
          <ACCTID>0532013000</ACCTID>
          <ACCTTYPE>CHECKING</ACCTTYPE>
        </BANKACCTFROM>
        <BANKTRANLIST>
          <DTSTART>20240101</DTSTART>
          <DTEND>20240131</DTEND>
          <STMTTRN>
            <TRNTYPE>CREDIT</TRNTYPE>
            <DTPOSTED>20240120</DTPOSTED>
            <TRNAMT>45.00</TRNAMT>
            <FITID>X-1</FITID>
            <PAYEE><NAME>MUTUELLE &amp; CIE</NAME><ADDR1>1 RUE</ADDR1><CITY>LYON</CITY>
              <STATE>69</STATE><POSTALCODE>69001</POSTALCODE><PHONE>0400000000</PHONE></PAYEE>
            <MEMO>REMBOURSEMENT</MEMO>
          </STMTTRN>
        </BANKTRANLIST>
        <LEDGERBAL><BALAMT>-12.50</BALAMT><DTASOF>20240131</DTASOF></LEDGERBAL>
      </STMTRS>
    </STMTTRNRS>
  </BANKMSGSRSV1>
</OFX>
"""


def test_reads_an_ofx_1_sgml_statement():
    (statement,) = ofx.read_ofx(sgml())
    assert statement.format == bank.FORMAT_OFX
    assert (statement.bank_code, statement.branch_code, statement.account_number) == (
        "30006",
        "00001",
        "12345678901",
    )
    assert statement.account_iban == "FR7630006000011234567890189"
    assert statement.currency == "EUR"
    assert statement.opening_balance_cents is None  # OFX gives none: no balance check
    assert (statement.closing_date, statement.closing_balance_cents) == (date(2024, 1, 31), 6355)
    credit, debit, cheque = statement.lines
    # 20240115000000[+1:CET] is the 15th where the bank is, whatever UTC says.
    assert credit.booking_date == date(2024, 1, 15)
    assert credit.value_date == date(2024, 1, 16)
    assert credit.amount_cents == 12345
    assert credit.label == "VIR CPAM DU RHONE"
    assert credit.details == (("MEMO", "PAIEMENT LOT 123 été"),)  # CHARSET:1252
    assert credit.bank_ref == "2024011500001"
    assert credit.operation_code == "CREDIT"
    assert debit.amount_cents == -990  # a French decimal comma is read
    assert cheque.reference == "1234567" and cheque.amount_cents == -5000


def test_reads_an_ofx_2_xml_statement():
    (statement,) = ofx.read_ofx(XML)
    assert statement.account_iban is None
    assert statement.account_key == "DEUTDEFF//0532013000"
    assert statement.closing_balance_cents == -1250
    (line,) = statement.lines
    assert line.counterparty == "MUTUELLE & CIE" and line.label == "MUTUELLE & CIE"
    assert line.details == (("MEMO", "REMBOURSEMENT"),)
    assert line.value_date is None


def test_keys_come_from_fitid_and_are_stable():
    (first,) = ofx.read_ofx(sgml())
    (again,) = ofx.read_ofx(sgml())
    keys = [line.unique_key for line in first.lines]
    assert keys == [line.unique_key for line in again.lines]
    assert len(set(keys)) == 3 and all(key.startswith("ref-") for key in keys)


def refused(data: bytes) -> FormatError:
    with pytest.raises(FormatError) as caught:
        ofx.read_ofx(data)
    return caught.value


def test_refuses_an_empty_file():
    assert "fichier vide" in str(refused(b"\n"))


def test_refuses_what_is_not_ofx():
    assert "fichier illisible ou non conforme à OFX" in str(refused(b"Date;Montant\n01/01;12\n"))


def test_refuses_a_truncated_file():
    assert "non conforme à OFX" in str(refused(sgml()[:700]))


def test_refuses_a_transaction_without_fitid():
    error = refused(sgml().replace(b"<FITID>2024011600001\n", b""))
    assert "fitid" in str(error).lower()


def test_refuses_an_unreadable_amount():
    assert "nombre illisible" in str(refused(sgml().replace(b"<TRNAMT>123.45", b"<TRNAMT>12x")))


@pytest.mark.parametrize("amount", [b"Infinity", b"NaN", b"sNaN"])
def test_refuses_an_amount_that_is_no_number(amount):
    error = refused(sgml().replace(b"<TRNAMT>123.45", b"<TRNAMT>" + amount))
    assert "n'est pas un montant" in str(error) or "nombre illisible" in str(error)


def test_refuses_an_amount_finer_than_a_cent():
    error = refused(sgml().replace(b"<TRNAMT>123.45", b"<TRNAMT>123.455"))
    assert "opération 1 (FITID 2024011500001)" in str(error)
    assert "plus précis que le centime" in str(error)


def test_refuses_an_impossible_date():
    assert "non conforme à OFX" in str(
        refused(sgml().replace(b"<DTAVAIL>20240116", b"<DTAVAIL>20240231"))
    )


def test_refuses_a_file_without_bank_statement():
    card = (
        sgml()
        .replace(b"BANKMSGSRSV1", b"CREDITCARDMSGSRSV1")
        .replace(b"<STMTTRNRS>", b"<CCSTMTTRNRS>")
        .replace(b"</STMTTRNRS>", b"</CCSTMTTRNRS>")
        .replace(b"STMTRS>", b"CCSTMTRS>")
        .replace(b"<BANKACCTFROM>\n<BANKID>30006\n<BRANCHID>00001\n", b"<CCACCTFROM>\n")
        .replace(b"<ACCTTYPE>CHECKING\n</BANKACCTFROM>", b"</CCACCTFROM>")
    )
    assert "aucun relevé de compte bancaire (STMTRS)" in str(refused(card))


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_with_a_format_error(data):
    try:
        ofx.read_ofx(data)
    except FormatError:
        pass


@FUZZ
@given(st.data())
def test_mutated_files_are_read_or_refused_with_a_format_error(data):
    text = bytearray(sgml())
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(text) - 1))
        if data.draw(st.booleans()):
            text[where : where + 3] = data.draw(st.binary(min_size=1, max_size=3))
        else:
            del text[where : where + data.draw(st.integers(1, 40))]
    try:
        ofx.read_ofx(bytes(text))
    except FormatError:
        pass
