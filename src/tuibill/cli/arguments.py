"""Every number, date and reference the command line reads, parsed in one place.

Each function is an argparse ``type``: a bad value stops the command with a French message and
exit status 2 (usage), before anything is opened — never a traceback (a value beyond what the
database stores, 2^63, included).
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass
from datetime import date

MAX_ID = 2**63 - 1  # what SQLite and PostgreSQL store in a BIGINT


def _integer(text: str, what: str, low: int, high: int) -> int:
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,19}", value) or not low <= int(value) <= high:
        raise argparse.ArgumentTypeError(
            f"« {text} » : {what} attendu, nombre entier de {low} à {high}"
        )
    return int(value)


def identifier(text: str) -> int:
    """A record's identifier (the Id column): 1 to 2^63 − 1."""
    return _integer(text, "identifiant", 1, MAX_ID)


def bounded(low: int, high: int, what: str = "nombre"):
    """An argparse type for an integer between *low* and *high*."""

    def parse(text: str) -> int:
        return _integer(text, what, low, high)

    parse.__name__ = what
    return parse


count = bounded(1, 10_000_000, "nombre")
lot_number = bounded(1, 999, "numéro de lot")
invoice_number = bounded(1, 999_999_999, "numéro de facture")


@dataclass(frozen=True)
class InvoiceReference:
    """An invoice named on the command line: its id, or its 9-digit FSE number."""

    id: int | None = None
    number: int | None = None

    def __str__(self) -> str:
        return f"n° {self.number:09d}" if self.number is not None else str(self.id)


def invoice_reference(text: str) -> InvoiceReference:
    """« 42 » is the Id column; « 000007433 » (9 digits, as printed) is the FSE number."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{9}", value):
        return InvoiceReference(number=int(value))
    return InvoiceReference(id=identifier(value))


def day(text: str) -> date:
    """A date as the French write it (JJ/MM/AAAA) or ISO (AAAA-MM-JJ)."""
    from tuibill.domain.act_notation import parse_date
    from tuibill.domain.errors import ValidationError

    try:
        return parse_date(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def invoice_state(text: str) -> str:
    """An invoice state by its code (« VALIDEE ») or its label (« Validée »)."""
    from tuibill.domain.invoices import STATE_LABELS, InvoiceState

    wanted = text.strip()
    by_label = {label.lower(): state.value for state, label in STATE_LABELS.items()}
    state = by_label.get(wanted.lower())
    if state is None and wanted.upper() in InvoiceState.__members__:
        state = wanted.upper()
    if state is None:
        known = ", ".join(s.value for s in InvoiceState)
        raise argparse.ArgumentTypeError(f"état « {text} » inconnu (possibles : {known})")
    return state
