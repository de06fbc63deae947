"""The FEC of the demo year (cash basis and accrual): balanced entries, in order, numbered
without gaps, named after the SIREN and the closing date; its check; a financeur's own account;
the CSV journal of receipts; the settings refused with their key."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

import pytest

from tuibill import config
from tuibill.config import AccountingSettings
from tuibill.domain.errors import ConfigError, ValidationError
from tuibill.formats.fec import CASH_BASIS_FIELDS, FEC_FIELDS, check_fec
from tuibill.models import BankMatch, BankOperation, Invoice
from tuibill.services import accounting, bank_matching, bank_sources

SIREN = "732829320"
YEAR = 2026  # the demo is fixed on 2026-11-23


def rows(path) -> list[dict[str, str]]:
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:] if line]


def entries_of(table: list[dict[str, str]]) -> dict[int, list[dict[str, str]]]:
    grouped: dict[int, list[dict[str, str]]] = {}
    for row in table:
        grouped.setdefault(int(row["EcritureNum"]), []).append(row)
    return grouped


def cents(text: str) -> int:
    euros, _, rest = text.partition(",")
    return int(euros) * 100 + int(rest or 0)


def test_the_cash_basis_fec_of_the_demo_year(story_url, tmp_path) -> None:
    report = accounting.export_fec(
        AccountingSettings(), year=YEAR, siren=SIREN, directory=tmp_path
    )

    assert report.path.name == f"{SIREN}FEC{YEAR}1231.txt"
    checked = check_fec(report.path.read_bytes())
    assert checked.ok, checked.problems
    assert checked.cash_basis and checked.entry_count == report.entries
    table = rows(report.path)
    assert tuple(table[0]) == FEC_FIELDS + CASH_BASIS_FIELDS
    grouped = entries_of(table)
    assert sorted(grouped) == list(range(1, len(grouped) + 1))  # numbered without gaps
    numbers_in_file = list(dict.fromkeys(int(row["EcritureNum"]) for row in table))
    assert numbers_in_file == sorted(numbers_in_file)  # in the file's order
    valid = [row["ValidDate"] for row in table]
    assert valid == sorted(valid)  # chronological
    for lines in grouped.values():
        assert sum(cents(r["Debit"]) for r in lines) == sum(cents(r["Credit"]) for r in lines)
        assert {r["JournalCode"] for r in lines} == {"BQ"}
        assert {r["ModeRglt"] for r in lines} <= {"Virement", ""}
    # One entry per bank credit of the year; the unmatched debits (fees) are not the desk's.
    credits = BankOperation.select().where(BankOperation.amount_cents > 0).count()
    assert report.entries == credits > 1
    natures = [lines[0]["NatOp"] for lines in grouped.values()]
    virements = BankMatch.select().where(BankMatch.kind == "virement").count()
    reglements = BankMatch.select().where(BankMatch.kind == "reglement").count()
    assert natures.count("Honoraires tiers payant AMO") == virements > 0
    assert natures.count("Règlement tiers-payeur") == reglements > 0  # the F8 demo's payers
    assert virements + reglements == BankMatch.select().count() == credits - 1
    assert natures.count("Recette à identifier") == 1
    suspense = [r for r in table if r["CompteNum"] == "471000"]
    assert [cents(r["Credit"]) for r in suspense] == [45_00]  # the stranger


def test_the_accrual_fec_splits_each_invoice_between_its_payers(story_url, tmp_path) -> None:
    settings = AccountingSettings(cash_basis=False)
    report = accounting.export_fec(settings, year=YEAR, siren=SIREN, directory=tmp_path)

    assert check_fec(report.path.read_bytes()).ok
    table = rows(report.path)
    assert tuple(table[0]) == FEC_FIELDS and "DateRglt" not in table[0]
    grouped = entries_of(table)
    sales = [lines for lines in grouped.values() if lines[0]["JournalCode"] == "VT"]
    invoices = Invoice.select().where(
        Invoice.number.is_null(False)
        & Invoice.state.in_([s.value for s in accounting.SALE_STATES])
        & (Invoice.billing_date.year == YEAR)
        & (Invoice.total_cents != 0)
    )
    assert len(sales) == invoices.count() > 0
    revenue = sum(cents(r["Credit"]) for lines in sales for r in lines
                  if r["CompteNum"] == "706000")  # fmt: skip
    assert revenue == sum(invoice.total_cents for invoice in invoices)
    for lines in sales:
        accounts = {r["CompteNum"]: r for r in lines}
        assert set(accounts) <= {"411100", "411200", "411300", "706000"}
        if "411100" in accounts:
            assert re.fullmatch(r"C[0-9]{9}", accounts["411100"]["CompAuxNum"])
    # Sales before the bank on the same day; dates never go back.
    days = [(lines[0]["EcritureDate"], lines[0]["JournalCode"]) for lines in grouped.values()]
    assert days == sorted(days, key=lambda item: (item[0], item[1] == "BQ"))


def test_a_closing_date_sets_the_twelve_months(story_url, tmp_path) -> None:
    report = accounting.export_fec(
        AccountingSettings(), year=YEAR, siren=SIREN, closing=date(YEAR, 6, 30), directory=tmp_path
    )
    assert (report.start, report.end) == (date(YEAR - 1, 7, 1), date(YEAR, 6, 30))
    assert report.path.name == f"{SIREN}FEC{YEAR}0630.txt" and report.entries == 0
    with pytest.raises(ValidationError, match="hors de l'exercice"):
        accounting.financial_year(YEAR, date(YEAR + 1, 6, 30))
    assert accounting.financial_year(2025, date(2025, 2, 28)) == (
        date(2024, 2, 29), date(2025, 2, 28),
    )  # fmt: skip
    assert accounting.financial_year(2028, date(2028, 2, 29))[0] == date(2027, 3, 1)


def test_without_a_siren_or_with_a_wrong_one_nothing_is_written(story_url, tmp_path) -> None:
    tmp_path = tmp_path / "fec"
    tmp_path.mkdir()
    with pytest.raises(ValidationError, match="SIREN absent"):
        accounting.export_fec(AccountingSettings(), year=YEAR, directory=tmp_path)
    with pytest.raises(ValidationError, match="clé de contrôle"):
        accounting.export_fec(AccountingSettings(), year=YEAR, siren="732829321",
                              directory=tmp_path)  # fmt: skip
    settings = AccountingSettings(siren=SIREN)
    credits = BankOperation.select().where(BankOperation.amount_cents > 0).count()
    assert accounting.export_fec(settings, year=YEAR, directory=tmp_path).entries == credits
    assert [p.name for p in tmp_path.iterdir()] == [f"{SIREN}FEC{YEAR}1231.txt"]


def test_the_check_names_an_unbalanced_entry_and_a_gap(story_url, tmp_path) -> None:
    report = accounting.export_fec(AccountingSettings(), year=YEAR, siren=SIREN,
                                   directory=tmp_path)  # fmt: skip
    lines = report.path.read_bytes().decode("utf-8").split("\r\n")
    fields = lines[1].split("\t")
    fields[11] = "999,99"  # line 2: a debit changed by hand
    lines[1] = "\t".join(fields)
    lines = [line.replace("\t3\t", "\t4\t", 1) if line.split("\t")[2:3] == ["3"] else line
             for line in lines]  # fmt: skip
    report.path.write_bytes("\r\n".join(lines).encode("utf-8"))

    checked = accounting.check_file(report.path)

    assert not checked.ok
    messages = [str(problem) for problem in checked.problems]
    assert any(m.startswith("ligne 2 : écriture 1 déséquilibrée") for m in messages)
    assert any("4 après l'écriture 2 : 3 attendue" in m for m in messages)


@pytest.fixture
def financed(story_url, monkeypatch):
    """A règlement from a financeur, plugged in as the tiers-payeurs will, and matched by hand
    to the stranger of the demo statement."""
    from test_bank_matching import Reglement, ReglementSource

    stranger = BankOperation.get(BankOperation.amount_cents == 45_00)
    source = ReglementSource()
    # Its own id (the demo's real règlements are matched already).
    source.items = [Reglement(9_999, stranger.booking_date, 45_00, "APA", "CD 28")]
    monkeypatch.setitem(bank_sources._SOURCES, "reglement", source)
    bank_matching.link(stranger.id, "reglement", 9_999, user="anne")
    return stranger


@pytest.mark.parametrize("cash_basis", [True, False])
def test_a_financeur_with_its_own_account(financed, tmp_path, cash_basis) -> None:
    settings = AccountingSettings(cash_basis=cash_basis, payer_accounts={"CD 28": "411428"})
    report = accounting.export_fec(settings, year=YEAR, siren=SIREN, directory=tmp_path)
    assert check_fec(report.path.read_bytes()).ok
    table = rows(report.path)
    own = [r for r in table if r["CompteNum"] == "411428"]
    assert [(cents(r["Credit"]), r["CompteLib"]) for r in own] == [(45_00, "CD 28")]
    assert not [r for r in table if r["CompteNum"] == "471000"]  # no stranger any more
    other = AccountingSettings(cash_basis=cash_basis)
    table = rows(accounting.export_fec(other, year=YEAR, siren=SIREN, directory=tmp_path).path)
    expected = "706000" if cash_basis else "411400"
    assert [r["CompteNum"] for r in table if cents(r["Credit"]) == 45_00] == [expected]


def test_the_csv_journal_of_receipts(story_url) -> None:
    found = accounting.receipts(date(YEAR, 1, 1), date(YEAR, 12, 31))
    text = accounting.receipts_csv(found)

    table = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert tuple(table[0]) == accounting.RECEIPT_COLUMNS
    credits = BankOperation.select().where(BankOperation.amount_cents > 0).count()
    assert len(table) - 1 == len(found) == credits
    matched = [row for row in table[1:] if row[-1]]
    assert len(matched) == BankMatch.select().count() == credits - 1
    (short,) = [row for row in table[1:] if row[9] not in ("", "0,00")]
    assert short[9] == "-1,50" and short[4] == "Virement NOEMIE"
    (unknown,) = [row for row in table[1:] if not row[-1]]
    assert (unknown[1], unknown[4]) == ("45,00", "non identifiée")
    assert all(row[0].count("/") == 2 for row in table[1:])  # JJ/MM/AAAA


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[accounting]\nbank_account = "A12"\n', "accounting.bank_account"),
        ('[accounting]\nsiren = "123456789"\n', "accounting.siren"),
        ('[accounting]\nbank_journal = "BANQUE 1"\n', "accounting.bank_journal"),
        ('[accounting.payer_accounts]\n"CD 28" = "CD"\n', "accounting.payer_accounts.CD 28"),
        ("[accounting]\ncash_basis = 1\n", "accounting.cash_basis"),
        ("[accounting]\njournal = 1\n", "accounting.journal"),
    ],
)
def test_wrong_accounting_settings_are_refused_with_their_key(text, key) -> None:
    with pytest.raises(ConfigError) as refused:
        config.parse(text, "c.toml")
    assert f"clé « {key} »" in str(refused.value)
    assert replace(config.parse("[accounting]\ncash_basis = false\n").accounting).cash_basis is False
