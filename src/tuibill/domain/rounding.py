"""Integer arithmetic on amounts in cents."""

from __future__ import annotations


def round_div(numerator: int, denominator: int) -> int:
    """Integer division rounded half up (amounts are never negative here)."""
    return (2 * numerator + denominator) // (2 * denominator)
