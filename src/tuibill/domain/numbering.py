"""Number formats and their rules (allocation itself happens in the services, atomically)."""

from __future__ import annotations

from tuibill.domain.errors import ValidationError

INVOICE_NUMBER_MAX = 999_999_999


def format_invoice_number(number: int | None) -> str:
    """FSE numbers are shown on 9 digits, zero-padded (« 000007433 »)."""
    if number is None:
        return ""
    return f"{number:09d}"


def check_invoice_number_start(value: int) -> int:
    if not 1 <= value <= INVOICE_NUMBER_MAX:
        raise ValidationError(
            "Le premier numéro de facture doit être compris entre 1 et 999999999.",
            field="invoice_number_start",
        )
    return value


def next_lot_number(current: int, *, first: int = 1, last: int = 999) -> int:
    """Lot numbers are 3 digits and wrap from *last* back to *first* (999 → 001 by default)."""
    return first if current >= last else current + 1


def format_lot_number(number: int | None) -> str:
    return "" if number is None else f"{number:03d}"
