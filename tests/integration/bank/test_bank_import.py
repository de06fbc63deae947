"""Bank statements in: each format from files written here, archived first, each line once
(the same file twice, overlapping statements), malformed files refused whole and kept aside,
the schema refusal, a dry run, a crash taken up again."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from bank_support import ACCOUNT, BANK, BRANCH, IBAN, for_camt, line, statement
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.formats.camt import write_camt
from tuibill.formats.cfonb import write_cfonb
from tuibill.models import AccountStatement, BankAccount, BankOperation, ReceivedFile
from tuibill.services import bank
from tuibill.services import file_intake as intake

NOW = datetime(2026, 4, 1, 9, 30)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def amounts() -> list[int]:
    return [row.amount_cents for row in BankOperation.select().order_by(BankOperation.id)]


MARCH = [
    line(date(2026, 3, 4), 12_345, "VIR CPAM 281 LOT 012", "PS 281234567"),
    line(date(2026, 3, 5), -850, "FRAIS TENUE DE COMPTE"),
    line(date(2026, 3, 9), -1, "AGIOS"),
    line(date(2026, 3, 9), 10, "REMISE"),
]


def test_a_cfonb_statement_with_debits_and_every_sign_character(tmp_path, transmission) -> None:
    data = write_cfonb([statement(MARCH)])
    # The amounts' last characters carry the sign: E = +5, } = -0, J = -1, { = +0.
    records = data.decode("latin-1").split("\r\n")
    assert [record[90:104][-1] for record in records if record.startswith("04")] == [
        "E", "}", "J", "{",
    ]  # fmt: skip
    path = write(tmp_path, "releve.cfonb", data)

    (report,) = bank.import_files([path], transmission, user="anne", now=NOW)

    assert (report.status, report.format, report.new_lines) == ("importé", "cfonb120", 4)
    assert "CFONB 120, 1 relevé(s), 4 ligne(s) nouvelle(s)" in report.summary()
    assert amounts() == [12_345, -850, -1, 10]
    account = BankAccount.get()
    assert (account.iban, account.bank_code, account.branch_code) == (IBAN, BANK, BRANCH)
    assert account.account_number == ACCOUNT
    stored = AccountStatement.get()
    assert (stored.opening_balance_cents, stored.closing_balance_cents) == (100_000, 111_504)
    first = BankOperation.get(BankOperation.amount_cents == 12_345)
    assert bank.operation_text(first) == "VIR CPAM 281 LOT 012 PS 281234567"
    row = ReceivedFile.get(ReceivedFile.kind == "releve")
    assert row.status == "applique" and Path(row.archive_path).read_bytes() == data


def test_a_camt_statement_and_an_ofx_statement(tmp_path, transmission) -> None:
    camt = write_camt(
        [statement(for_camt(MARCH[:2]), format="camt.053", statement_id="REL-2026-03")],
        message_id="MSG-1",
        created_at=datetime(2026, 4, 1, 6),
    )
    ofx = OFX.replace(b"{AMOUNT}", b"-12.50")
    reports = bank.import_files(
        [write(tmp_path, "releve.xml", camt), write(tmp_path, "releve.ofx", ofx)],
        transmission,
        user="anne",
        now=NOW,
    )
    assert [(r.status, r.format, r.new_lines) for r in reports] == [
        ("importé", "camt.053", 2),
        ("importé", "ofx", 2),
    ]
    assert sorted(amounts()) == sorted([12_345, -850, 4_500, -1_250])
    # Two accounts: the CAMT one by its IBAN, the OFX one by its French RIB numbers.
    assert BankAccount.select().count() == 2
    assert AccountStatement.get(AccountStatement.format == "camt.053").statement_ref == (
        "REL-2026-03"
    )


def test_the_same_days_of_an_account_in_another_format_are_refused(tmp_path, transmission) -> None:
    """CFONB lines have no entry reference, CAMT ones do: the same operations read from both
    would get two keys each. A statement of days the account already has in another format is
    refused whole and kept aside; another month in the other format is taken."""
    bank.import_files(
        [write(tmp_path, "mars.cfonb", write_cfonb([statement(MARCH)]))],
        transmission, user="anne", now=NOW,
    )  # fmt: skip
    camt = write_camt(
        [statement(for_camt(MARCH), format="camt.053", statement_id="REL-2026-03")],
        message_id="MSG-1", created_at=datetime(2026, 4, 1, 6),
    )  # fmt: skip
    path = write(tmp_path, "mars.xml", camt)
    (dry,) = bank.import_files([path], transmission, user="anne", dry_run=True, now=NOW)
    (report,) = bank.import_files([path], transmission, user="anne", now=NOW)

    for refused in (dry, report):
        assert refused.status == "refusé" and "CFONB 120" in refused.reason
        assert "deux fois" in refused.reason
    assert BankOperation.select().count() == 4
    assert ReceivedFile.get(ReceivedFile.file_name == "mars.xml").status == "refuse"

    april = [line(date(2026, 4, 2), 2_000, "VIR CPAM AVRIL")]
    later = write_camt(
        [statement(for_camt(april), format="camt.053", start=date(2026, 4, 1),
                   end=date(2026, 4, 30), statement_id="REL-2026-04")],
        message_id="MSG-2", created_at=datetime(2026, 5, 1, 6),
    )  # fmt: skip
    (taken,) = bank.import_files(
        [write(tmp_path, "avril.xml", later)], transmission, user="anne", now=NOW
    )
    assert taken.status == "importé" and BankOperation.select().count() == 5


def test_the_same_file_twice_changes_nothing(tmp_path, transmission) -> None:
    path = write(tmp_path, "releve.cfonb", write_cfonb([statement(MARCH)]))
    bank.import_files([path], transmission, user="anne", now=NOW)

    (again,) = bank.import_files([path], transmission, user="anne", now=NOW)

    assert again.status == "déjà importé" and "rien n'a changé" in again.reason
    assert BankOperation.select().count() == 4
    assert AccountStatement.select().count() == 1
    assert ReceivedFile.select().where(ReceivedFile.kind == "releve").count() == 1


def test_overlapping_statements_add_each_bank_line_once(tmp_path, transmission) -> None:
    first_half = [
        line(date(2026, 3, 2), 5_000, "VIR CPAM 281 LOT 010"),
        line(date(2026, 3, 9), 2_000, "REMISE CHEQUE"),
        line(date(2026, 3, 9), 2_000, "REMISE CHEQUE"),  # twice the same day: two lines
    ]
    second_half = [
        *first_half[1:],
        line(date(2026, 3, 20), 7_000, "VIR CPAM 281 LOT 011"),
    ]
    early = statement(first_half, end=date(2026, 3, 9))
    monthly = statement(second_half, start=date(2026, 3, 9), opening=105_000)
    paths = [
        write(tmp_path, "quinzaine.cfonb", write_cfonb([early])),
        write(tmp_path, "mois.cfonb", write_cfonb([monthly])),
    ]

    reports = bank.import_files(paths, transmission, user="anne", now=NOW)

    assert [(r.lines, r.new_lines) for r in reports] == [(3, 3), (3, 1)]
    assert "1 ligne(s) nouvelle(s), 2 déjà connue(s)" in reports[1].summary()
    assert sorted(amounts()) == [2_000, 2_000, 5_000, 7_000]
    assert [s.new_lines for s in bank.statements()] == [1, 3]


def test_a_malformed_file_is_refused_whole_and_kept_aside(tmp_path, transmission) -> None:
    good = write_cfonb([statement(MARCH)]).decode("latin-1").split("\r\n")
    assert good[3].startswith("04")  # the second operation (01, 04, 05, 04…)
    broken = [record[:103] + "X" + record[104:] if index == 3 else record
              for index, record in enumerate(good)]  # fmt: skip
    data = "\r\n".join(broken).encode("latin-1")
    path = write(tmp_path, "abime.cfonb", data)

    (report,) = bank.import_files([path], transmission, user="anne", now=NOW)

    assert report.status == "refusé"
    assert "ligne 4" in report.reason and "signe" in report.reason
    assert BankOperation.select().count() == 0 and AccountStatement.select().count() == 0
    (refused,) = bank.refused_files()
    assert refused.file_name == "abime.cfonb" and "mis de côté" in refused.reason
    assert Path(refused.archive_path).read_bytes() == data  # archived before it was read
    (again,) = bank.import_files([path], transmission, user="anne", now=NOW)
    assert again.status == "refusé" and again.reason.startswith("déjà refusé le 01/04/2026")
    assert len(bank.refused_files()) == 1


def test_a_camt_file_the_schema_refuses_is_refused(tmp_path, transmission) -> None:
    camt = write_camt(
        [statement(for_camt(MARCH[:1]), format="camt.053")], message_id="M", created_at=NOW
    ).replace(b"<CdtDbtInd>CRDT</CdtDbtInd>", b"<CdtDbtInd>PLUS</CdtDbtInd>", 1)
    (report,) = bank.import_files(
        [write(tmp_path, "camt.xml", camt)], transmission, user="anne", now=NOW
    )
    assert report.status == "refusé" and "non conforme au schéma camt.053" in report.reason
    assert BankOperation.select().count() == 0


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"bonjour, ceci n'est pas un releve\n", "Format de relevé non reconnu"),
        (None, "seuls les comptes en euros"),
        (b"IBAN", "IBAN"),
    ],
)
def test_what_tuibill_cannot_keep_is_refused(tmp_path, transmission, data, reason) -> None:
    if data is None:
        data = write_cfonb([statement(MARCH, currency="CHF")])
    elif data == b"IBAN":  # a key the schema's pattern lets through, the check digits do not
        data = write_camt(
            [statement(for_camt(MARCH[:1]), format="camt.053")], message_id="M", created_at=NOW
        ).replace(IBAN.encode(), b"FR7730004008230001234567819")
    (report,) = bank.import_files(
        [write(tmp_path, "x.dat", data)], transmission, user="anne", now=NOW
    )
    assert report.status == "refusé" and reason in report.reason
    assert BankOperation.select().count() == 0


def test_a_dry_run_writes_and_archives_nothing(tmp_path, transmission) -> None:
    path = write(tmp_path, "releve.cfonb", write_cfonb([statement(MARCH)]))

    (report,) = bank.import_files([path], transmission, user="anne", dry_run=True, now=NOW)

    assert (report.status, report.new_lines, report.dry_run) == ("importé", 4, True)
    assert "simulation" in report.summary()
    assert BankOperation.select().count() == 0 and ReceivedFile.select().count() == 0
    assert not (tmp_path / "archive").exists()


def test_a_file_recorded_by_a_run_that_crashed_is_taken_up_again(tmp_path, transmission) -> None:
    data = write_cfonb([statement(MARCH)])
    row = intake.record_file(bank.STATEMENT_FILE, data, "releve.cfonb", transmission, NOW, "manuel")
    assert row.status == "recu" and BankOperation.select().count() == 0

    (report,) = bank.import_files(
        [write(tmp_path, "releve.cfonb", data)], transmission, user="anne", now=NOW
    )

    assert report.status == "importé" and report.received_file_id == row.id
    assert BankOperation.select().count() == 4
    assert ReceivedFile.get_by_id(row.id).status == "applique"


def test_an_unreadable_path_is_refused_and_the_others_imported(tmp_path, transmission) -> None:
    good = write(tmp_path, "releve.cfonb", write_cfonb([statement(MARCH)]))
    reports = bank.import_files([tmp_path / "absent.cfonb", good], transmission, user="anne")
    assert [r.status for r in reports] == ["refusé", "importé"]
    assert "fichier illisible" in reports[0].reason


OFX = b"""OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS>
<DTSERVER>20260401060000<LANGUAGE>FRA</SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<STMTRS><CURDEF>EUR
<BANKACCTFROM><BANKID>30006<BRANCHID>00001<ACCTID>12345678901<ACCTTYPE>CHECKING</BANKACCTFROM>
<BANKTRANLIST><DTSTART>20260301<DTEND>20260331
<STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260310<TRNAMT>45.00<FITID>A-1<NAME>VIR M DUPUIS</STMTTRN>
<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260311<TRNAMT>{AMOUNT}<FITID>A-2<NAME>FRAIS</STMTTRN>
</BANKTRANLIST>
<LEDGERBAL><BALAMT>32.50<DTASOF>20260331</LEDGERBAL>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    head=st.sampled_from([b"01", b"<?xml version='1.0'?><Document xmlns='urn:iso:std:iso:20022:"
                          b"tech:xsd:camt.053.001.02'>", b"OFXHEADER:100\n", b""]),
    body=st.binary(max_size=400),
)  # fmt: skip
def test_any_bytes_are_imported_or_refused_in_french(transmission, head, body) -> None:
    report = bank.import_data(head + body, "x", transmission, user="anne", dry_run=True)
    assert report.status in ("importé", "refusé")
    if report.status == "refusé":
        assert report.reason and "Traceback" not in report.reason
