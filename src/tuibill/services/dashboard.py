"""Small counts for the main menu and the device screen, read through the (state, date) index."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import peewee

from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice


def state_counts(since: date) -> list[tuple[str, int]]:
    query = (
        Invoice.select(Invoice.state, peewee.fn.COUNT(peewee.SQL("*")))
        .where(Invoice.billing_date >= since)
        .group_by(Invoice.state)
        .tuples()
    )
    found = dict(query)
    return [(state.label, found.get(state.value, 0)) for state in InvoiceState]


def counts_in(states: Sequence[InvoiceState]) -> dict[InvoiceState, int]:
    """How many invoices are in each of *states*, over the whole history (indexed by state):
    states invoices only pass through, such as « À charger » or « À sécuriser »."""
    query = (
        Invoice.select(Invoice.state, peewee.fn.COUNT(peewee.SQL("*")))
        .where(Invoice.state.in_([state.value for state in states]))
        .group_by(Invoice.state)
        .tuples()
    )
    found = dict(query)
    return {state: found.get(state.value, 0) for state in states}
