"""Number formats and their rules (allocation itself happens in the services, atomically)."""

from __future__ import annotations

from tuibill.domain.errors import ValidationError

INVOICE_NUMBER_MAX = 999_999_999


def check_invoice_number_start(value: int) -> int:
    if not 1 <= value <= INVOICE_NUMBER_MAX:
        raise ValidationError(
            "Le premier numéro de facture doit être compris entre 1 et 999999999.",
            field="invoice_number_start",
        )
    return value


LOT_NUMBER_MIN, LOT_NUMBER_MAX = 1, 999


def check_lot_range(first: int, last: int) -> None:
    if not LOT_NUMBER_MIN <= first < last <= LOT_NUMBER_MAX:
        raise ValidationError("Les numéros de lot vont de 1 à 999, le premier avant le dernier.")


def next_lot_number(current: int, *, first: int = 1, last: int = 999) -> int:
    """Lot numbers are 3 digits and wrap from *last* back to *first* (999 → 001 by default)."""
    return first if current >= last else current + 1


def lot_number_to_hand_out(counter: int, *, first: int = 1, last: int = 999) -> tuple[int, int]:
    """(the number handed out, the counter's next value) for a counter holding the next number.

    A counter outside [first, last] (the range was narrowed in the settings) hands out *first*.
    """
    number = counter if first <= counter <= last else first
    return number, next_lot_number(number, first=first, last=last)

