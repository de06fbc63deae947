"""Atomic number allocation: call inside the write transaction that uses the number.

Invoice numbers are taken with one ``UPDATE … RETURNING``; lot numbers (3 digits, wrapping) read
the counter under the write lock (SQLite's ``BEGIN IMMEDIATE``, PostgreSQL's row lock) and apply
the domain's wrap rule. Either way, two desks never get the same number and a rolled-back
transaction gives its number back.
"""

from __future__ import annotations

import peewee

from tuibill.domain.errors import ValidationError
from tuibill.domain.numbering import (
    INVOICE_NUMBER_MAX,
    check_invoice_number_start,
    check_lot_range,
    lot_number_to_hand_out,
)
from tuibill.models import Counter, Practitioner

INVOICE = "invoice"
LOT = "lot"
CREDIT_NOTE = "avoir"  # the avoirs' own number series


def allocate(practitioner: Practitioner, kind: str = INVOICE) -> int:
    """Take the next number of *kind* for *practitioner*.

    ``UPDATE … RETURNING`` is one statement: under SQLite's write lock (``BEGIN IMMEDIATE``) or
    PostgreSQL's row lock, two desks never read the same value, and a rolled-back transaction
    gives its number back, so numbers have no gap.
    """
    return allocate_many(practitioner, 1, kind)[0]


def allocate_many(practitioner: Practitioner, count: int, kind: str = INVOICE) -> list[int]:
    """Take the next *count* numbers of *kind* for *practitioner*, in order, in the one
    ``UPDATE … RETURNING`` of :func:`allocate` (a batch validation: no gap, no duplicate)."""
    if count < 1:
        return []
    rows = list(
        Counter.update(next_value=Counter.next_value + count)
        .where((Counter.practitioner == practitioner.id) & (Counter.kind == kind))
        .returning(Counter.next_value)
        .execute()
    )
    if not rows:
        what = "de factures" if kind == INVOICE else "de lots"
        raise ValidationError(
            f"Le praticien {practitioner.display_name} n'a pas de numérotation {what} : "
            "indiquez son prochain numéro dans « Données › Praticiens » (menu principal, "
            "ou « tuibill practitioner numbering »).",
            field="practitioner",
        )
    last = rows[0].next_value - 1
    if kind == INVOICE and last > INVOICE_NUMBER_MAX:
        raise ValidationError(
            f"Les numéros de facture du praticien {practitioner.display_name} sont épuisés."
        )
    return list(range(last - count + 1, last + 1))


def set_start(practitioner: Practitioner, start: int, kind: str = INVOICE) -> None:
    """Set up (or move forward) a practitioner's numbering; never backwards onto used numbers."""
    if kind == INVOICE:
        check_invoice_number_start(start)
    counter = Counter.get_or_none(practitioner=practitioner.id, kind=kind)
    if counter is None:
        Counter.create(practitioner=practitioner.id, kind=kind, next_value=start)
        return
    if start < counter.next_value:
        raise ValidationError(
            f"Le prochain numéro est déjà {counter.next_value} : impossible de revenir en arrière "
            "(numéros déjà attribués).",
            field="invoice_number_start",
        )
    counter.next_value = start
    counter.save()


def peek(practitioner: Practitioner, kind: str = INVOICE) -> int | None:
    counter = Counter.get_or_none(practitioner=practitioner.id, kind=kind)
    return None if counter is None else counter.next_value


def allocate_lot_number(practitioner: Practitioner, *, first: int = 1, last: int = 999) -> int:
    """Take the next lot number of *practitioner*, wrapping *last* → *first* (``domain.numbering``).

    The caller holds the write transaction: on SQLite it is ``BEGIN IMMEDIATE`` (no other writer
    until it ends); on PostgreSQL the counter row is locked ``FOR UPDATE``.
    """
    check_lot_range(first, last)
    # In plain SQL: a build takes a number for each lot (peewee built the same two statements
    # each time, ~0.3 ms each).
    database = Counter._meta.database
    table, mark = Counter._meta.table_name, database.param
    sql = (
        f'SELECT "id", "next_value" FROM "{table}" '
        f'WHERE "{Counter.practitioner.column_name}" = {mark} AND "kind" = {mark}'
    )
    if not isinstance(database.obj, peewee.SqliteDatabase):
        sql += " FOR UPDATE"
    row = database.execute_sql(sql, (practitioner.id, LOT)).fetchone()
    if row is None:
        # A practitioner made without a lot counter (older data): lots simply start at *first*.
        made = Counter.create(practitioner=practitioner.id, kind=LOT, next_value=first)
        row = (made.id, made.next_value)
    number, following = lot_number_to_hand_out(int(row[1]), first=first, last=last)
    database.execute_sql(
        f'UPDATE "{table}" SET "next_value" = {mark} WHERE "id" = {mark}', (following, row[0])
    )
    return number
