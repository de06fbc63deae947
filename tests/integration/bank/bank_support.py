"""Helpers of the bank tests: virements as the returns post them, statements in each format."""

from __future__ import annotations

from datetime import date, datetime

from tuibill.formats.bank import BankLine, BankStatement
from tuibill.models import ReceivedFile, Virement

BANK, BRANCH, ACCOUNT = "30004", "00823", "00012345678"
IBAN = "FR7630004008230001234567819"
DAY = date(2026, 3, 2)


def virement(
    cents: int,
    *,
    day: date = DAY,
    label: str = "VIR CPAM 281 LOT 012 PS 281234567",
    body: str = "CPAM 281",
    count: int = 1,
) -> Virement:
    """A virement as ``services.returns`` records it (under a return file of its own)."""
    row = ReceivedFile.get_or_none(ReceivedFile.file_name == "RET_TEST.noe") or ReceivedFile.create(
        kind="retour", source="test", file_name="RET_TEST.noe", sha256="1" * 64,
        archive_path="", received_at=datetime(2026, 3, 1, 8), status="applique",
    )  # fmt: skip
    return Virement.create(
        received_file=row.id,
        payee_number="281234567",
        accounting_date=day,
        label=label,
        paying_body=body,
        total_cents=cents,
        invoice_count=count,
    )


def line(day: date, cents: int, label: str, *details: str, **more) -> BankLine:
    return BankLine(
        booking_date=day,
        value_date=more.pop("value_date", day),
        amount_cents=cents,
        label=label,
        details=tuple(("LIB", text) for text in details),
        **more,
    )


def statement(
    lines: list[BankLine],
    *,
    format: str = "cfonb120",
    opening: int = 100_000,
    start: date = date(2026, 3, 1),
    end: date = date(2026, 3, 31),
    **more,
) -> BankStatement:
    return BankStatement(
        format=format,
        currency=more.pop("currency", "EUR"),
        lines=tuple(lines),
        bank_code=BANK,
        branch_code=BRANCH,
        account_number=ACCOUNT,
        account_iban=more.pop("account_iban", IBAN),
        opening_date=start,
        opening_balance_cents=opening,
        closing_date=end,
        closing_balance_cents=opening + sum(item.amount_cents for item in lines),
        **more,
    )


def for_camt(lines: list[BankLine]) -> list[BankLine]:
    """The same lines with their details as CAMT carries them (RmtInf/Ustrd)."""
    from dataclasses import replace

    return [replace(item, details=tuple(("Ustrd", text) for _, text in item.details))
            for item in lines]  # fmt: skip
