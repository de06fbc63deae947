"""Atomic number allocation: call inside the write transaction that uses the number."""

from __future__ import annotations

from tuibill.domain.errors import ValidationError
from tuibill.domain.numbering import INVOICE_NUMBER_MAX, check_invoice_number_start
from tuibill.models import Counter, Practitioner

INVOICE = "invoice"
LOT = "lot"


def allocate(practitioner: Practitioner, kind: str = INVOICE) -> int:
    """Take the next number of *kind* for *practitioner*.

    ``UPDATE … RETURNING`` is one statement: under SQLite's write lock (``BEGIN IMMEDIATE``) or
    PostgreSQL's row lock, two desks never read the same value, and a rolled-back transaction
    gives its number back, so numbers have no gap.
    """
    rows = list(
        Counter.update(next_value=Counter.next_value + 1)
        .where((Counter.practitioner == practitioner.id) & (Counter.kind == kind))
        .returning(Counter.next_value)
        .execute()
    )
    if not rows:
        what = "de factures" if kind == INVOICE else "de lots"
        raise ValidationError(
            f"Le praticien {practitioner.display_name} n'a pas de numérotation {what} : "
            "indiquez son premier numéro dans sa fiche (ou « tuibill practitioner numbering »).",
            field="practitioner",
        )
    number = rows[0].next_value - 1
    if kind == INVOICE and number > INVOICE_NUMBER_MAX:
        raise ValidationError(
            f"Les numéros de facture du praticien {practitioner.display_name} sont épuisés."
        )
    return number


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
