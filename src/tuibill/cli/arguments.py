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


# --- tiers-payeurs (seed 004) ------------------------------------------------------------------


def euros(text: str) -> int:
    """An amount in euros (« 12,50 », « 12.5 », « 12 ») → cents; never negative."""
    value = text.strip().replace(" ", "").replace("€", "")
    match = re.fullmatch(r"([0-9]{1,9})(?:[,.]([0-9]{1,2}))?", value)
    if not match:
        raise argparse.ArgumentTypeError(f"« {text} » : montant attendu en euros (12,50)")
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def percent(text: str) -> int:
    """A rate in percent (« 80 », « 33,33 ») → basis points, 0 to 100 %."""
    value = text.strip().replace("%", "").strip()
    match = re.fullmatch(r"([0-9]{1,3})(?:[,.]([0-9]{1,2}))?", value)
    if not match:
        raise argparse.ArgumentTypeError(f"« {text} » : taux attendu en % (80 ou 33,33)")
    bp = int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))
    if bp > 10_000:
        raise argparse.ArgumentTypeError(f"« {text} » : un taux va de 0 à 100 %")
    return bp


def hours(text: str) -> int:
    """A duration in hours (« 10 », « 10:30 », « 10h30 ») → minutes."""
    value = text.strip().lower().replace("h", ":")
    match = re.fullmatch(r"([0-9]{1,4})(?::([0-5][0-9]))?:?", value)
    if not match:
        raise argparse.ArgumentTypeError(f"« {text} » : durée attendue en heures (10 ou 10:30)")
    return int(match.group(1)) * 60 + int(match.group(2) or 0)


def clock(text: str) -> int:
    """A time of day (« 09:00 », « 9h », « 24:00 ») → minutes from midnight."""
    value = text.strip().lower().replace("h", ":")
    match = re.fullmatch(r"([0-9]{1,2})(?::([0-5][0-9])?)?", value)
    if not match or not (int(match.group(1)) < 24 or value in ("24:00", "24:", "24")):
        raise argparse.ArgumentTypeError(f"« {text} » : heure attendue (HH:MM)")
    return int(match.group(1)) * 60 + int(match.group(2) or 0)


def period(text: str) -> tuple[int, int]:
    """A month (« 2026-11 » or « 11/2026 ») → (year, month)."""
    value = text.strip()
    match = re.fullmatch(r"([0-9]{4})-([0-9]{1,2})", value) or re.fullmatch(
        r"([0-9]{1,2})/([0-9]{4})", value
    )
    if not match:
        raise argparse.ArgumentTypeError(f"« {text} » : période attendue AAAA-MM")
    first, second = match.groups()
    year, month = (int(first), int(second)) if len(first) == 4 else (int(second), int(first))
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        raise argparse.ArgumentTypeError(f"« {text} » : période invalide (AAAA-MM)")
    return year, month
