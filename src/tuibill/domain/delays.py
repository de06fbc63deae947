"""Working days and the legal delays of an FSE: sending (R161-47) and AMO payment (D161-13-3/4).

docs/rules/delays.md quotes the texts and says where they are silent. The rules kept here:

* a **working day** (jour ouvré) is Monday to Friday, except French public holidays (metropole,
  the days of the ``holidays`` package, through :func:`tuibill.domain.public_holidays.is_sunday_or_holiday`);
* a delay of *n* working days from a date *start* ends on the *n*-th working day **after** *start*
  (the day of the event itself is not counted: ``add_working_days(start, n)``);
* an event on date *d* happens on working day number ``working_day_number(start, d)``: the number
  of working days after *start* up to and including *d*, an event on a day off counting as on the
  next working day (an FSE sent on Saturday reaches the caisse's working week on Monday);
* rates are in basis points (1 % = 100), amounts in integer cents, rounded half up.

No clock here: the caller passes ``today``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents, format_rate
from tuibill.domain.public_holidays import is_sunday_or_holiday
from tuibill.domain.rounding import round_div

# R161-47 1° of the Code de la sécurité sociale, in working days.
SEND_DELAY_DIRECT = 3  # a) the patient paid
SEND_DELAY_TIERS_PAYANT = 8  # b) dispense d'avance de frais

ONE_DAY = timedelta(days=1)


# Pure functions of dates, asked for the same few hundred days over and over (the menu's legal
# delays assess thousands of FSE): each answer is kept.
@lru_cache(maxsize=8192)
def is_working_day(day: date) -> bool:
    """Monday–Friday and not a French public holiday."""
    return day.weekday() < 5 and not is_sunday_or_holiday(day)


@lru_cache(maxsize=8192)
def add_working_days(start: date, n: int) -> date:
    """The *n*-th working day after *start* (before it when *n* < 0); *start* itself when n = 0."""
    step = ONE_DAY if n >= 0 else -ONE_DAY
    day = start
    for _ in range(abs(n)):
        day += step
        while not is_working_day(day):
            day += step
    return day


@lru_cache(maxsize=8192)
def working_days_between(start: date, end: date) -> int:
    """Working days after *start* up to and including *end*; negative when *end* is before *start*.

    For a working day *end*: ``add_working_days(start, working_days_between(start, end)) == end``.
    """
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start + ONE_DAY
    while day <= end:
        if is_working_day(day):
            count += 1
        day += ONE_DAY
    return count


def next_working_day(day: date) -> date:
    """*day* itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += ONE_DAY
    return day


def working_day_number(start: date, day: date) -> int:
    """The working day, counted from *start* (day 0), on which an event of *day* falls."""
    return working_days_between(start, next_working_day(day))


# --- sending: R161-47 --------------------------------------------------------------------------


def send_delay(tiers_payant: bool) -> int:
    return SEND_DELAY_TIERS_PAYANT if tiers_payant else SEND_DELAY_DIRECT


def send_deadline(start: date, tiers_payant: bool) -> date:
    """Last day to transmit an FSE whose delay starts on *start*.

    *start* is the date of R161-42 10°: the day the patient paid, or, for a series of acts of one
    treatment, the day of the last act of the series (the practitioner's choice).
    """
    return add_working_days(start, send_delay(tiers_payant))


def send_lateness(start: date, tiers_payant: bool, sent_on: date) -> int:
    """Working days late on *sent_on* (pass today for an FSE not sent yet); 0 when on time."""
    return max(0, working_day_number(send_deadline(start, tiers_payant), sent_on))


@dataclass(frozen=True)
class LateSending:
    """Where an FSE stands against its sending delay, for the menus and reports."""

    start: date
    tiers_payant: bool
    deadline: date
    sent_on: date | None  # None: not sent yet, counted on ``as_of``
    as_of: date
    days_late: int

    @property
    def late(self) -> bool:
        return self.days_late > 0

    @property
    def label(self) -> str:
        delay = f"{send_delay(self.tiers_payant)} jours ouvrés"
        if not self.late:
            return f"À transmettre avant le {self.deadline:%d/%m/%Y} inclus ({delay})."
        verb = "transmise" if self.sent_on is not None else "non transmise"
        return (
            f"FSE {verb} avec {self.days_late} jour(s) ouvré(s) de retard : à transmettre au plus "
            f"tard le {self.deadline:%d/%m/%Y} ({delay}, art. R161-47 CSS)."
        )


def assess_sending(
    start: date, tiers_payant: bool, *, sent_on: date | None, today: date
) -> LateSending:
    as_of = sent_on if sent_on is not None else today
    return LateSending(
        start=start,
        tiers_payant=tiers_payant,
        deadline=send_deadline(start, tiers_payant),
        sent_on=sent_on,
        as_of=as_of,
        days_late=send_lateness(start, tiers_payant, as_of),
    )


# --- payment under tiers payant: décret 2016-1069 (D161-13-3 and D161-13-4) ---------------------


class PenaltyKind(StrEnum):
    NONE = "aucune"
    FLAT = "forfait"
    SHARE = "part_amo"


@dataclass(frozen=True)
class PaymentDelayRule:
    """The payment delay and its penalties; the defaults are D161-13-3 and D161-13-4.

    The decree does not say from which date the 7 working days run: the caller passes that date
    (see docs/rules/delays.md). A caisse may lengthen the delay for a practitioner sanctioned for
    fraud (up to 30 working days); the texts found do not say how the penalties move then, so both
    limits are parameters.
    """

    max_days: int = 7  # paid on working day 1..7: on time
    last_flat_day: int = 9  # paid on day 8..9: flat penalty
    flat_penalty_cents: int = 100  # 1 € per invoice
    share_rate_bp: int = 1000  # from day 10: 10 % of the AMO share

    def __post_init__(self) -> None:
        if self.max_days < 1 or self.last_flat_day < self.max_days:
            raise ValidationError(
                "Délai de paiement invalide : le dernier jour du forfait doit suivre le délai.",
                field="max_days",
            )
        if self.flat_penalty_cents < 0 or not 0 <= self.share_rate_bp <= 10_000:
            raise ValidationError("Pénalité de retard invalide.", field="share_rate_bp")


DECREE_2016_1069 = PaymentDelayRule()


def payment_due(start: date, rule: PaymentDelayRule = DECREE_2016_1069) -> date:
    """Last day on which the AMO pays on time."""
    return add_working_days(start, rule.max_days)


def payment_penalty(
    start: date, paid_on: date, amo_cents: int, rule: PaymentDelayRule = DECREE_2016_1069
) -> tuple[PenaltyKind, int]:
    """The penalty kind and amount for an invoice paid on *paid_on* (or still unpaid on that day)."""
    if amo_cents < 0:
        raise ValidationError("La part AMO ne peut être négative.", field="amo_cents")
    day = working_day_number(start, paid_on)
    if day <= rule.max_days:
        return PenaltyKind.NONE, 0
    if day <= rule.last_flat_day:
        return PenaltyKind.FLAT, rule.flat_penalty_cents
    return PenaltyKind.SHARE, round_div(amo_cents * rule.share_rate_bp, 10_000)


def payment_penalty_cents(
    start: date, paid_on: date, amo_cents: int, rule: PaymentDelayRule = DECREE_2016_1069
) -> int:
    return payment_penalty(start, paid_on, amo_cents, rule)[1]


@dataclass(frozen=True)
class LatePayment:
    """Where a tiers-payant invoice stands against the AMO payment delay, for reports."""

    start: date
    due: date
    paid_on: date | None  # None: unpaid, counted on ``as_of`` (the penalty if paid that day)
    as_of: date
    day_number: int  # working day of the payment (or of as_of) counted from start
    days_late: int
    amo_cents: int
    penalty_kind: PenaltyKind
    penalty_cents: int
    rule: PaymentDelayRule = DECREE_2016_1069

    @property
    def late(self) -> bool:
        return self.days_late > 0

    @property
    def rule_label(self) -> str:
        """The rule applied, in French, for the reports."""
        r = self.rule
        if self.penalty_kind is PenaltyKind.NONE:
            return f"dans le délai de {r.max_days} jours ouvrés"
        if self.penalty_kind is PenaltyKind.FLAT:
            return (
                f"forfait de {format_cents(r.flat_penalty_cents)} € (payée du {r.max_days + 1}e "
                f"au {r.last_flat_day}e jour ouvré)"
            )
        return (
            f"{format_rate(r.share_rate_bp)} de la part AMO (payée à partir du "
            f"{r.last_flat_day + 1}e jour ouvré)"
        )


def assess_payment(
    start: date,
    amo_cents: int,
    *,
    paid_on: date | None,
    today: date,
    rule: PaymentDelayRule = DECREE_2016_1069,
) -> LatePayment:
    as_of = paid_on if paid_on is not None else today
    day = working_day_number(start, as_of)
    kind, cents = payment_penalty(start, as_of, amo_cents, rule)
    return LatePayment(
        start=start,
        due=payment_due(start, rule),
        paid_on=paid_on,
        as_of=as_of,
        day_number=day,
        days_late=max(0, day - rule.max_days),
        amo_cents=amo_cents,
        penalty_kind=kind,
        penalty_cents=cents,
        rule=rule,
    )
