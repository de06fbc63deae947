"""Lot numbers: per practitioner, 3 digits, sequential, wrapping from *last* back to *first*.

Like invoice numbers (``services.numbering``), a number is taken with one ``UPDATE … RETURNING``
inside the caller's write transaction: two desks never get the same number, and a rolled-back
lot gives its number back.
"""

from __future__ import annotations

import peewee

from tuibill.domain.errors import ValidationError
from tuibill.models import Counter, Practitioner

LOT = "lot"


def allocate_wrapping(
    practitioner: Practitioner, kind: str = LOT, first: int = 1, last: int = 999
) -> int:
    """Take the next number of *kind* for *practitioner*, wrapping *last* → *first*.

    The counter holds the next number to hand out. One statement computes both the number
    handed out and the following one, so the wrap needs no read-then-write race:

    * counter in [first, last]: hand it out; the next is counter + 1, or *first* after *last*;
    * counter outside (the range was narrowed in the settings): hand out *first*.

    RETURNING gives the new counter, from which the number handed out follows (its predecessor
    in the cycle).
    """
    if not 1 <= first < last <= 999:
        raise ValidationError("Les numéros de lot vont de 1 à 999, le premier avant le dernier.")
    current = Counter.next_value
    handed_out = peewee.Case(None, [((current >= first) & (current <= last), current)], first)
    following = peewee.Case(None, [(handed_out >= last, first)], handed_out + 1)
    where = (Counter.practitioner == practitioner.id) & (Counter.kind == kind)
    rows = list(
        Counter.update(next_value=following).where(where).returning(Counter.next_value).execute()
    )
    if not rows:
        # A practitioner made without a lot counter (older data): lots simply start at *first*.
        Counter.insert(
            practitioner=practitioner.id, kind=kind, next_value=first
        ).on_conflict_ignore().execute()
        rows = list(
            Counter.update(next_value=following)
            .where(where)
            .returning(Counter.next_value)
            .execute()
        )
    new_value = int(rows[0].next_value)
    return last if new_value == first else new_value - 1


def peek_wrapping(
    practitioner: Practitioner, kind: str = LOT, first: int = 1, last: int = 999
) -> int:
    """The number the next lot of *practitioner* will get (for display only)."""
    counter = Counter.get_or_none(practitioner=practitioner.id, kind=kind)
    value = first if counter is None else int(counter.next_value)
    return value if first <= value <= last else first
