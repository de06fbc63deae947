"""Small counts for the main menu and the device screen, read through the (state, date) index."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING

import peewee

from tuibill.config import ReturnSettings
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.returns import NOT_MATCHED
from tuibill.models import Invoice, ReturnEntry

if TYPE_CHECKING:
    from tuibill.models import AuditCheck

COUNTS_DAYS = 61  # the menu's « Factures, 2 derniers mois »

# The outcome of a return entry no invoice matched (services.returns' NOT_MATCHED): counted here
# without importing the returns' views, whose import the menu's worker would pay (issue 12).


def counts_since(today: date) -> date:
    """The first billing day the menu's counts take in."""
    return today - timedelta(days=COUNTS_DAYS)


def state_counts(since: date) -> list[tuple[str, int]]:
    query = (
        Invoice.select(Invoice.state, peewee.fn.COUNT(peewee.SQL("*")))
        .where(Invoice.billing_date >= since)
        .group_by(Invoice.state)
        .tuples()
    )
    found = dict(query)
    # Short labels: the menu shows them beside its list at 80 columns.
    return [(state.short_label, found.get(state.value, 0)) for state in InvoiceState]


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


def unmatched_count() -> int:
    """Return entries that no invoice matched (F7's « non rapprochées »)."""
    query = ReturnEntry.select(peewee.fn.COUNT(peewee.SQL("*"))).where(
        ReturnEntry.outcome == NOT_MATCHED
    )
    return query.scalar() or 0


def return_alerts(settings: ReturnSettings, today: date) -> list[str]:
    """What the returns and the legal delays ask of the desk today (French lines, for the menu:
    short, two side by side at 80 columns); empty when nothing does."""
    from tuibill.services.legal_delays import count_late_payments, count_late_to_send

    lines = []
    waiting = counts_in([InvoiceState.REJETEE, InvoiceState.PAYEE_PARTIELLEMENT])
    if waiting[InvoiceState.REJETEE]:
        lines.append(f"{waiting[InvoiceState.REJETEE]} rejetée(s) à traiter (F7)")
    if waiting[InvoiceState.PAYEE_PARTIELLEMENT]:
        lines.append(f"{waiting[InvoiceState.PAYEE_PARTIELLEMENT]} payée(s) partiellement (F7)")
    unmatched = unmatched_count()
    if unmatched:
        lines.append(f"{unmatched} non rapprochée(s) (F7, 5)")
    # Counted, not listed (the list of F7 r): over a million invoices, thousands of rows made
    # only to be counted held ~13 MB of the worker's peak, and the desk's memory after it.
    to_send = count_late_to_send(today)
    if to_send:
        lines.append(f"{to_send} FSE en retard d'envoi (R161-47)")
    unpaid = count_late_payments(today, settings)
    if unpaid:
        lines.append(f"{unpaid} paiement(s) en retard (F7 r)")
    return lines


class MenuFacts:
    """What the main menu shows — the history's last check, the two months' counts, the alerts —
    read on a thread of its own from the moment the database is open. The desk's start then
    imports Textual (~0.1 s of Python) while SQLite, which lets go of the interpreter when it
    reads, counts on the other core: the menu's first frame holds them, with no later frame for
    the alerts (issue 12, start-up). Whatever is not read in time, the menu reads itself."""

    def __init__(self, returns: ReturnSettings, today: date) -> None:
        self.today = today
        self.check: AuditCheck | None = None
        self.check_read = False
        self.counts: list[tuple[str, int]] | None = None
        self.alerts: list[str] | None = None
        self._returns = returns
        self._thread = threading.Thread(target=self._read, name="menu-facts", daemon=True)

    def start(self) -> MenuFacts:
        # The modules the reads need, imported here: imported on the thread, they would hold
        # the interpreter against the start's own imports; the thread then only waits on SQL.
        import tuibill.services.audit  # noqa: F401
        import tuibill.services.legal_delays  # noqa: F401

        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _read(self) -> None:
        from tuibill.services.audit import last_check
        from tuibill.services.database import close_thread_connection

        try:
            self.check = last_check()
            self.check_read = True
            self.counts = state_counts(counts_since(self.today))
            self.alerts = return_alerts(self._returns, self.today)
        except Exception:  # noqa: BLE001 — what failed here, the menu reads again and says so
            pass
        finally:
            close_thread_connection()
