"""Where a glance beats a table: what the caisses owe by age, and how long each takes to pay,
month by month. The data comes from the database in a few grouped queries; the drawing is
plain text (block characters, or ASCII on the Linux console) that the F7 screen shows and the
PDF draws again with rectangles."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

import peewee

from tuibill.domain.formatting import format_cents
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, Organism, ReturnEntry, Virement
from tuibill.models.base import unindexed

# The ages of what is owed, in days since the FSE (seed 002's 21 days among them).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0–7 j", 0, 7),
    ("8–21 j", 8, 21),
    ("22–60 j", 22, 60),
    ("> 60 j", 61, None),
)
OWED_STATES = (
    InvoiceState.TRANSMISE, InvoiceState.PAYEE_PARTIELLEMENT, InvoiceState.REJETEE,
    InvoiceState.RECYCLEE,
)  # fmt: skip
BLOCKS = "█▓▒░"  # one per age bucket, stacked
ASCII_BLOCKS = "#=+."
LEVELS = " ▁▂▃▄▅▆▇█"
ASCII_LEVELS = " .:-=+*#%@"


@dataclass(frozen=True)
class OwedRow:
    caisse: str
    buckets: tuple[int, ...]  # cents owed per AGE_BUCKETS

    @property
    def total(self) -> int:
        return sum(self.buckets)


def owed_by_caisse(today: date) -> list[OwedRow]:
    """The AMO share not paid yet of tiers-payant FSE, per caisse and age: summed in the
    database per caisse and day, bucketed here. The rows come from the state index (a tenth
    of the history is still owed); grouped on the (organism, billing_date) index, SQLite would
    read every invoice to skip the sort (1M: 0.57 s → 0.17 s)."""
    query = (
        Invoice.select(
            Invoice.organism, Invoice.billing_date,
            peewee.fn.SUM(Invoice.amo_cents - Invoice.amo_paid_cents),
        )
        .where(Invoice.state.in_([s.value for s in OWED_STATES]) & Invoice.amo_tiers_payant)
        .group_by(unindexed(Invoice.organism), Invoice.billing_date)
    )  # fmt: skip
    sums: dict[int, list[int]] = defaultdict(lambda: [0] * len(AGE_BUCKETS))
    for organism, day, owed in query.tuples():
        if organism is None or not owed:
            continue
        age = (today - _day(day)).days
        for index, (_, low, high) in enumerate(AGE_BUCKETS):
            if age >= low and (high is None or age <= high):
                sums[organism][index] += int(owed)
                break
    names = dict(Organism.select(Organism.id, Organism.name).tuples())
    rows = [OwedRow(names.get(oid, "?"), tuple(values)) for oid, values in sums.items()]
    return sorted((row for row in rows if row.total > 0), key=lambda row: row.caisse)


@dataclass(frozen=True)
class DelayRow:
    caisse: str
    months: dict[str, float]  # « 2026-03 » → mean days from the lot's sending to the transfer


def payment_delays(since: date, until: date) -> tuple[list[str], list[DelayRow]]:
    """Mean days between a lot's sending and the transfer that paid its invoices, per caisse
    and month of the transfer (grouped in the database by caisse and pair of days)."""
    sent_day = peewee.fn.DATE(Lot.sent_at)
    query = (
        ReturnEntry.select(
            Organism.name, Virement.accounting_date, sent_day, peewee.fn.COUNT(ReturnEntry.id)
        )
        .join(Virement, on=ReturnEntry.virement == Virement.id)
        .switch(ReturnEntry)
        .join(Invoice, on=ReturnEntry.invoice == Invoice.id)
        .join(Lot, on=Invoice.lot == Lot.id)
        .switch(Invoice)
        .join(Organism, on=Invoice.organism == Organism.id)
        .where(
            (ReturnEntry.amo_paid_cents > 0)
            & (Virement.accounting_date >= since)
            & (Virement.accounting_date <= until)
        )
        .group_by(Organism.name, Virement.accounting_date, sent_day)
    )
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for caisse, paid, sent, count in query.tuples():
        paid, sent = _day(paid), _day(sent)
        cell = totals[(caisse, f"{paid:%Y-%m}")]
        cell[0] += max((paid - sent).days, 0) * count
        cell[1] += count
    months = sorted({month for _, month in totals})
    by_caisse: dict[str, dict[str, float]] = defaultdict(dict)
    for (caisse, month), (days, count) in totals.items():
        by_caisse[caisse][month] = days / count
    return months, [DelayRow(c, by_caisse[c]) for c in sorted(by_caisse)]


def _day(value: object) -> date:
    """A day as the database gives it back (a date, a datetime, or text on SQLite)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def draw_owed(rows: list[OwedRow], width: int = 40, *, ascii: bool = False) -> list[str]:
    """One stacked bar per caisse, its amount, and the legend of the ages."""
    blocks = ASCII_BLOCKS if ascii else BLOCKS
    if not rows:
        return ["Rien n'est dû par les caisses."]
    name_width = min(max(len(r.caisse) for r in rows), 14)
    top = max(row.total for row in rows)
    lines = []
    for row in rows:
        bar = ""
        for glyph, cents in zip(blocks, row.buckets, strict=True):
            bar += glyph * round(cents * width / top) if top else ""
        lines.append(
            f"{row.caisse[:name_width]:<{name_width}} {bar:<{width}} "
            f"{format_cents(row.total):>9} €"
        )
    legend = "  ".join(
        f"{glyph} {label}" for glyph, (label, _, _) in zip(blocks, AGE_BUCKETS, strict=True)
    )
    return [*lines, legend if not ascii else _ascii(legend)]


def draw_delays(
    months: list[str], rows: list[DelayRow], *, ascii: bool = False, scale: float = 30.0
) -> list[str]:
    """Per caisse, one column per month: the higher the block, the longer the wait (full block:
    *scale* days or more), then the mean over the period."""
    levels = ASCII_LEVELS if ascii else LEVELS
    if not rows:
        return ["Aucun paiement sur la période."]
    name_width = min(max(len(r.caisse) for r in rows), 14)
    header = " " * (name_width + 1) + "".join(m[5:7][-1] for m in months)
    lines = [header.rstrip()]
    for row in rows:
        cells = ""
        for month in months:
            days = row.months.get(month)
            if days is None:
                cells += " "
            else:
                index = min(len(levels) - 1, max(1, round(days / scale * (len(levels) - 1))))
                cells += levels[index]
        mean = sum(row.months.values()) / len(row.months)
        lines.append(f"{row.caisse[:name_width]:<{name_width}} {cells}  moy. {mean:.0f} j")
    lines.append(f"{months[0]} → {months[-1]}, un caractère par mois ; plein : {scale:.0f} j et plus")
    return [_ascii(line) for line in lines] if ascii else lines


def _ascii(text: str) -> str:
    return text.replace("–", "-").replace("→", "->")
