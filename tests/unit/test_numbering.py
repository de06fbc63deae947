"""Number rules of the domain: lot numbers wrap, a narrowed range restarts at its first number."""

from __future__ import annotations

import pytest

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_invoice_number, format_lot_number
from tuibill.domain.numbering import check_lot_range, lot_number_to_hand_out, next_lot_number


@pytest.mark.parametrize(
    ("counter", "first", "last", "expected"),
    [
        (1, 1, 999, (1, 2)),
        (998, 1, 999, (998, 999)),
        (999, 1, 999, (999, 1)),  # the wrap: 999 → 001
        (7, 5, 7, (7, 5)),
        (12, 1, 3, (1, 2)),  # range narrowed below the counter: restart at its first number
        (0, 5, 7, (5, 6)),
    ],
    ids=lambda v: str(v),
)
def test_lot_number_handed_out_and_next(counter, first, last, expected) -> None:
    assert lot_number_to_hand_out(counter, first=first, last=last) == expected


def test_next_lot_number_wraps() -> None:
    assert [next_lot_number(n) for n in (1, 998, 999)] == [2, 999, 1]


@pytest.mark.parametrize(("first", "last"), [(0, 999), (5, 5), (9, 3), (1, 1000)])
def test_a_lot_range_must_make_sense(first, last) -> None:
    with pytest.raises(ValidationError, match="1 à 999"):
        check_lot_range(first, last)


def test_numbers_are_spelled_with_their_digits() -> None:
    assert (format_invoice_number(7433), format_lot_number(7)) == ("000007433", "007")
    assert (format_invoice_number(None), format_lot_number(None)) == ("", "")
