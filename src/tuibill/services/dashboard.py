"""Small counts for the main menu, bounded by a date window (indexed by state, date)."""

from __future__ import annotations

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
