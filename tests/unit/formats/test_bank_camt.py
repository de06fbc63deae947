"""CAMT.053 statements: files written here in 001.02 and 001.08, the schema refusals, the writer."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.formats import bank, camt
from tuibill.formats.errors import FormatError, UnsupportedVersionError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

IBAN = "FR7630006000011234567890189"


def document(version: str, statements: str) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version}">
  <BkToCstmrStmt>
    <GrpHdr>
      <MsgId>RELEVE-2024-01</MsgId>
      <CreDtTm>2024-02-01T06:00:00</CreDtTm>
    </GrpHdr>
{statements}
  </BkToCstmrStmt>
</Document>
""".encode()


def balance_xml(code: str, amount: str, indicator: str, day: str) -> str:
    return f"""      <Bal>
        <Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        <Dt><Dt>{day}</Dt></Dt>
      </Bal>"""


def statement_xml(
    entries: str,
    *,
    opening: tuple[str, str] = ("1000.00", "CRDT"),
    closing: tuple[str, str] = ("1113.55", "CRDT"),
    account: str = f"<IBAN>{IBAN}</IBAN>",
) -> str:
    return f"""    <Stmt>
      <Id>STMT-001</Id>
      <CreDtTm>2024-02-01T06:00:00</CreDtTm>
      <Acct><Id>{account}</Id><Ccy>EUR</Ccy></Acct>
{balance_xml("OPBD", *opening, "2024-01-01")}
{balance_xml("CLBD", *closing, "2024-01-31")}
{entries}
    </Stmt>"""


def status(version: str, code: str = "BOOK") -> str:
    return f"<Sts>{code}</Sts>" if version == "02" else f"<Sts><Cd>{code}</Cd></Sts>"


def party(version: str, role: str, name: str) -> str:
    inner = f"<Nm>{name}</Nm>" if version == "02" else f"<Pty><Nm>{name}</Nm></Pty>"
    return f"<{role}>{inner}</{role}>"


def credit_xml(version: str, *, ref: str = "ACSV-0001", amount: str = "123.45") -> str:
    return f"""      <Ntry>
        <NtryRef>N1</NtryRef>
        <Amt Ccy="EUR">{amount}</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        {status(version)}
        <BookgDt><Dt>2024-01-05</Dt></BookgDt>
        <ValDt><DtTm>2024-01-05T23:30:00+01:00</DtTm></ValDt>
        <AcctSvcrRef>{ref}</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOEMIE-0042</EndToEndId></Refs>
          <RltdPties>{party(version, "Dbtr", "CPAM DU RHONE")}</RltdPties>
          <RmtInf><Ustrd>PAIEMENT LOT 123</Ustrd><Ustrd>DU 03/01/2024</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
        <AddtlNtryInf>VIR SEPA RECU CPAM DU RHONE</AddtlNtryInf>
      </Ntry>"""


def debit_xml(version: str) -> str:
    return f"""      <Ntry>
        <Amt Ccy="EUR">9.90</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        {status(version)}
        <BookgDt><Dt>2024-01-06</Dt></BookgDt>
        <BkTxCd><Prtry><Cd>FRAIS</Cd></Prtry></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties>{party(version, "Cdtr", "MA BANQUE")}</RltdPties>
        </TxDtls></NtryDtls>
      </Ntry>"""


def pending_xml(version: str) -> str:
    return f"""      <Ntry>
        <Amt Ccy="EUR">500.00</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd>
        {status(version, "PDNG")}
        <BookgDt><Dt>2024-01-31</Dt></BookgDt>
        <BkTxCd/>
      </Ntry>"""


def sample(version: str) -> bytes:
    entries = credit_xml(version) + "\n" + debit_xml(version) + "\n" + pending_xml(version)
    return document(version, statement_xml(entries))


@pytest.mark.parametrize("version", ["02", "08"])
def test_reads_a_statement(version):
    (statement,) = camt.read_camt(sample(version))
    assert statement.format == bank.FORMAT_CAMT
    assert statement.account_iban == IBAN
    assert (statement.bank_code, statement.branch_code, statement.account_number) == (
        "30006",
        "00001",
        "12345678901",
    )
    assert statement.statement_id == "STMT-001"
    assert statement.currency == "EUR"
    assert (statement.opening_date, statement.opening_balance_cents) == (date(2024, 1, 1), 100000)
    assert (statement.closing_date, statement.closing_balance_cents) == (date(2024, 1, 31), 111355)
    credit, debit = statement.lines  # the pending entry is not money on the account
    assert credit.amount_cents == 12345
    assert credit.booking_date == date(2024, 1, 5)
    assert credit.value_date == date(2024, 1, 5)  # the bank's own day, not moved to UTC
    assert credit.label == "VIR SEPA RECU CPAM DU RHONE"
    assert credit.reference == "NOEMIE-0042"
    assert credit.counterparty == "CPAM DU RHONE"
    assert credit.details == (("Ustrd", "PAIEMENT LOT 123"), ("Ustrd", "DU 03/01/2024"))
    assert credit.bank_ref == "ACSV-0001"
    assert credit.operation_code == "PMNT/RCDT/ESCT"
    assert debit.amount_cents == -990
    assert debit.reference is None  # NOTPROVIDED is no reference
    assert debit.counterparty == "MA BANQUE"
    assert debit.operation_code == "FRAIS"
    assert debit.label == "" and debit.value_date is None and debit.bank_ref is None


def test_negative_balances_and_an_account_without_iban():
    entries = debit_xml("02")
    data = document(
        "02",
        statement_xml(
            entries,
            opening=("10.00", "DBIT"),
            closing=("19.90", "DBIT"),
            account="<Othr><Id>ACC-42</Id></Othr>",
        ),
    )
    (statement,) = camt.read_camt(data)
    assert statement.opening_balance_cents == -1000
    assert statement.closing_balance_cents == -1990
    assert statement.account_iban is None and statement.account_number == "ACC-42"


def test_several_statements_in_one_message():
    second = statement_xml("", opening=("5.00", "CRDT"), closing=("5.00", "CRDT"))
    data = document("02", statement_xml(credit_xml("02") + debit_xml("02")) + "\n" + second)
    first, other = camt.read_camt(data)
    assert len(first.lines) == 2 and other.lines == ()
    assert other.opening_balance_cents == 500


def test_keys_come_from_the_bank_reference_and_are_stable():
    (first,) = camt.read_camt(sample("02"))
    (again,) = camt.read_camt(sample("08"))
    assert [line.unique_key for line in first.lines] == [line.unique_key for line in again.lines]
    twice = statement_xml(
        credit_xml("02", ref="R1") + credit_xml("02", ref="R2") + debit_xml("02"),
        closing=("1237.00", "CRDT"),
    )
    (statement,) = camt.read_camt(document("02", twice))
    keys = {line.unique_key for line in statement.lines}
    assert len(keys) == 3


# -- refusals -----------------------------------------------------------------------------


def line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


def refused(data: bytes) -> FormatError:
    with pytest.raises(FormatError) as caught:
        camt.read_camt(data)
    return caught.value


def test_refuses_a_file_missing_a_mandatory_element():
    data = sample("02").replace(b"<CdtDbtInd>CRDT</CdtDbtInd>\n        <Sts>", b"<Sts>", 1)
    error = refused(data)
    message = str(error)
    assert "non conforme au schéma camt.053.001.02" in message
    assert "CdtDbtInd" in message and "Sts" in message
    assert f"ligne {line_of(data, b'<Sts>')}" in message
    assert "urn:iso" not in message  # the namespace noise is removed


def test_refuses_a_bad_amount():
    data = sample("08").replace(b">123.45<", b">123,45<")
    error = refused(data)
    assert "non conforme au schéma camt.053.001.08" in str(error)
    assert "'123,45'" in str(error) and f"ligne {line_of(data, b'123,45')}" in str(error)
    assert error.record_number == line_of(data, b"123,45")


def test_refuses_an_amount_finer_than_a_cent():
    data = sample("02").replace(b">123.45<", b">123.451<").replace(b">1113.55<", b">1113.551<")
    assert "plus précis que le centime" in str(refused(data))


def test_refuses_a_statement_that_does_not_balance():
    error = refused(sample("02").replace(b">1113.55<", b">1113.56<"))
    assert "ne s'équilibre pas" in str(error) and "écart 0,01 €" in str(error)


def test_refuses_a_date_the_schema_allows_but_no_calendar_has():
    data = sample("02").replace(b"<BookgDt><Dt>2024-01-05", b"<BookgDt><Dt>12024-01-05")
    error = refused(data)
    assert "date « 12024-01-05 »" in str(error)
    assert f"ligne {line_of(data, b'12024')}" in str(error)


def test_refuses_an_entry_in_another_currency():
    error = refused(sample("02").replace(b'<Amt Ccy="EUR">9.90', b'<Amt Ccy="USD">9.90'))
    assert "montant en USD dans un relevé en EUR" in str(error)


def test_refuses_malformed_xml():
    error = refused(sample("02").replace(b"</GrpHdr>", b"</GrpHeader>"))
    assert "XML mal formé" in str(error) and "ligne" in str(error)


def test_refuses_a_doctype_and_expands_no_entity():
    data = sample("02").replace(
        b"<Document",
        b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<Document',
        1,
    )
    assert "DOCTYPE refusée" in str(refused(data))


def test_refuses_another_message_and_another_version():
    other = sample("02").replace(b"camt.053.001.02", b"camt.054.001.02")
    assert "pas un Document camt.053" in str(refused(other))
    with pytest.raises(UnsupportedVersionError, match="camt.053.001.04 non prise en charge"):
        camt.read_camt(sample("02").replace(b"camt.053.001.02", b"camt.053.001.04"))


def test_refuses_an_empty_file():
    assert "fichier vide" in str(refused(b"  \n"))


@FUZZ
@given(st.binary(max_size=400))
def test_any_bytes_are_read_or_refused_with_a_format_error(data):
    try:
        camt.read_camt(data)
    except FormatError:
        pass


_NOISE = b"0123456789-.,<>/ CRDTDBITBOOKPDNGNtryAmtBal\xc3\xa9&;"


@FUZZ
@given(st.data())
def test_mutated_statements_are_read_or_refused_with_a_format_error(data):
    text = bytearray(sample(data.draw(st.sampled_from(["02", "08"]))))
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.integers(0, len(text) - 1))
        if data.draw(st.booleans()):
            noise = bytes(data.draw(st.lists(st.sampled_from(_NOISE), min_size=1, max_size=5)))
            text[where : where + len(noise)] = noise
        else:
            del text[where : where + data.draw(st.integers(1, 30))]
    try:
        camt.read_camt(bytes(text))
    except FormatError:
        pass


# -- writer -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", camt.SUPPORTED_VERSIONS)
def test_write_then_read_gives_the_statement_back(version):
    (statement,) = camt.read_camt(sample("02"))
    data = camt.write_camt(
        [statement, replace(statement, statement_id="STMT-002")],
        message_id="TUIBILL-DEMO",
        created_at=datetime(2024, 2, 1, 6, 0),
        version=version,
    )
    assert f"camt.053.{version}".encode() in data
    first, second = camt.read_camt(data)  # the writer's output passes the schema
    assert first == statement
    assert second.lines == statement.lines


def test_the_writer_refuses_what_the_schema_refuses():
    (statement,) = camt.read_camt(sample("02"))
    long_ref = replace(statement.lines[0], reference="X" * 36)  # EndToEndId: 35 at most
    with pytest.raises(FormatError, match="Écriture du relevé CAMT.053 impossible.*EndToEndId"):
        camt.write_camt(
            [replace(statement, lines=(long_ref, statement.lines[1]))],
            message_id="M",
            created_at=datetime(2024, 2, 1),
        )


def test_the_writer_refuses_an_unbalanced_statement():
    (statement,) = camt.read_camt(sample("02"))
    with pytest.raises(FormatError, match="ne s'équilibre pas"):
        camt.write_camt(
            [replace(statement, closing_balance_cents=1)],
            message_id="M",
            created_at=datetime(2024, 2, 1),
        )


def test_the_writer_refuses_details_camt_cannot_hold():
    (statement,) = camt.read_camt(sample("02"))
    odd = replace(statement.lines[0], details=(("NPY", "X"),))
    with pytest.raises(FormatError, match="« NPY » sans équivalent CAMT"):
        camt.write_camt(
            [replace(statement, lines=(odd, statement.lines[1]))],
            message_id="M",
            created_at=datetime(2024, 2, 1),
        )
