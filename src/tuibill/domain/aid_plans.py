"""Plans d'aide of the tiers-payeurs (seed 004): who pays what of a client's month of interventions.

docs/rules/aid-plans.md gives the rules with worked examples. In short:

* units: amounts in integer cents, durations in integer minutes, hourly rates in cents per hour,
  taux de PEC in basis points (80 % = 8000, 33,33 % = 3333);
* an intervention's day kind is Sunday/holiday (a Sunday or a French public holiday — a holiday on
  a Sunday counts once, a holiday on a Saturday is a holiday), Saturday, or weekday;
* interventions are taken in chronological order and consume the plan's hours granted for the
  month; the one that runs past them is split into a financed and an unfinanced line;
* within the hours granted the payer pays ``minutes × plan rate × taux de PEC`` (compani's
  formula); the client's invoice uses the plan's rates (« Tarif de base P.E.C. ») or the contract
  rate (« Tarif de la prestation »), and the client pays the rest. Beyond the hours granted, with
  no plan, or on a Sunday/holiday a cap of 0 excludes, the contract rate applies and the client
  pays everything;
* Sunday/holiday cap: ``None`` finances every day, ``0`` no Sunday/holiday, ``N`` minutes a month
  at the Sunday/holiday taux de PEC and the Sunday/holiday minutes beyond it at the weekday taux;
* each line's amount and payer share are rounded once, half up, from the exact product; the
  client's share is the difference, so payer + client == amount on every line and the totals are
  sums of lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache
from operator import attrgetter

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents, format_rate
from tuibill.domain.public_holidays import is_sunday_or_holiday
from tuibill.domain.rounding import round_div

MINUTES_PER_DAY = 24 * 60
FULL_RATE_BP = 10_000
WEEKDAY_ABBREVIATIONS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")
MONTH_NAMES = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip


class DayKind(StrEnum):
    WEEKDAY = "SEMAINE"
    SATURDAY = "SAMEDI"
    SUNDAY_HOLIDAY = "DIMANCHE_FERIE"

    @property
    def label(self) -> str:
        return _DAY_KIND_LABELS[self]


_DAY_KIND_LABELS = {
    DayKind.WEEKDAY: "semaine",
    DayKind.SATURDAY: "samedi",
    DayKind.SUNDAY_HOLIDAY: "dimanche/jour férié",
}


# A month's billing asks for the same thirty days tens of thousands of times.
@lru_cache(maxsize=1024)
def day_kind(day: date) -> DayKind:
    if is_sunday_or_holiday(day):
        return DayKind.SUNDAY_HOLIDAY
    if day.weekday() == 5:
        return DayKind.SATURDAY
    return DayKind.WEEKDAY


class BillingMode(StrEnum):
    """« Facturation pendant la PEC »."""

    PLAN_RATES = "TARIF_BASE_PEC"
    PRESTATION_RATES = "TARIF_PRESTATION"

    @property
    def label(self) -> str:
        return {
            BillingMode.PLAN_RATES: "Tarif de base P.E.C.",
            BillingMode.PRESTATION_RATES: "Tarif de la prestation",
        }[self]


class PlanState(StrEnum):
    SAISI = "SAISI"
    VALIDE = "VALIDE"
    ANNULE = "ANNULE"

    @property
    def label(self) -> str:
        return {PlanState.SAISI: "Saisi", PlanState.VALIDE: "Validé", PlanState.ANNULE: "Annulé"}[
            self
        ]


def _check_rate_bp(value: int, field: str, what: str) -> None:
    if not 0 <= value <= FULL_RATE_BP:
        raise ValidationError(f"{what} doit être compris entre 0 et 100 %.", field=field)


@dataclass(frozen=True)
class HourlyRates:
    """Hourly rates in cents: base (Monday–Friday), Saturday, Sunday/public holiday."""

    base_cents: int
    saturday_cents: int
    sunday_holiday_cents: int

    def __post_init__(self) -> None:
        for name in ("base_cents", "saturday_cents", "sunday_holiday_cents"):
            if getattr(self, name) < 0:
                raise ValidationError("Un tarif horaire ne peut être négatif.", field=name)

    def for_day(self, kind: DayKind) -> int:
        if kind is DayKind.SUNDAY_HOLIDAY:
            return self.sunday_holiday_cents
        if kind is DayKind.SATURDAY:
            return self.saturday_cents
        return self.base_cents


@dataclass(frozen=True)
class ContractPrestation:
    """A prestation of the client's contract (aide à domicile, ménage…) and its rates."""

    code: str
    label: str
    rates: HourlyRates


@dataclass(frozen=True)
class AidPlan:
    """A plan d'aide: what one payer finances of one prestation for one beneficiary."""

    beneficiary_id: int
    payer_id: int
    payer_name: str
    prestation: str  # ContractPrestation.code
    valid_from: date  # « date de début de validité »: active from that day
    monthly_minutes: int  # hours granted per month, in minutes
    rates: HourlyRates  # tarif de base, tarif majoré samedi, tarif majoré dimanche/JF
    pec_bp: int  # taux de PEC (weekdays and Saturdays)
    billing_mode: BillingMode
    state: PlanState
    valid_until: date | None = None  # last day included; None = open-ended
    sunday_pec_bp: int | None = None  # taux de PEC dimanche/JF; None = the weekday taux
    sunday_cap_minutes: int | None = None  # plafond dimanche/JF; None = every day financed
    plan_id: int | None = None

    def __post_init__(self) -> None:
        if self.monthly_minutes < 0:
            raise ValidationError(
                "Le nombre d'heures accordées ne peut être négatif.", field="monthly_minutes"
            )
        _check_rate_bp(self.pec_bp, "pec_bp", "Le taux de PEC")
        if self.sunday_pec_bp is not None:
            _check_rate_bp(self.sunday_pec_bp, "sunday_pec_bp", "Le taux de PEC dimanche/JF")
        if self.sunday_cap_minutes is not None and self.sunday_cap_minutes < 0:
            raise ValidationError(
                "Le plafond d'heures dimanche/jours fériés ne peut être négatif.",
                field="sunday_cap_minutes",
            )
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValidationError(
                f"La fin de validité ({self.valid_until:%d/%m/%Y}) précède le début "
                f"({self.valid_from:%d/%m/%Y}).",
                field="valid_until",
            )

    @property
    def counts(self) -> bool:
        """Only a plan « Validé » finances anything."""
        return self.state is PlanState.VALIDE

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    @property
    def sunday_rate_bp(self) -> int:
        return self.pec_bp if self.sunday_pec_bp is None else self.sunday_pec_bp

    @property
    def title(self) -> str:
        """« APA Eure-et-Loir (plan du 01/11/2026) » for the explanation lines."""
        return f"{self.payer_name} (plan du {self.valid_from:%d/%m/%Y})"


@dataclass(frozen=True)
class Intervention:
    """One intervention of the client's planning.

    Times are minutes from midnight of ``day``; an intervention that ends after midnight has
    ``end_minute`` above 1440 (22:00–02:00 is 1320–1560): it is billed in two lines, the part after
    midnight with the next day's kind, both in the month of ``day``.
    """

    day: date
    start_minute: int
    end_minute: int
    prestation: str
    intervenant: str = ""
    ref: int | None = None  # the caller's id, carried to the lines

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValidationError(
                f"Intervention du {self.day:%d/%m/%Y} : heure de début invalide.",
                field="start_minute",
            )
        if self.end_minute <= self.start_minute:
            raise ValidationError(
                f"{self._where} : la fin doit suivre le début (une intervention qui finit après "
                "minuit se saisit avec une fin le lendemain).",
                field="end_minute",
            )
        if self.end_minute - self.start_minute > MINUTES_PER_DAY:
            raise ValidationError(f"{self._where} : plus de 24 heures.", field="end_minute")

    @property
    def _where(self) -> str:
        # Written only for an error: a month holds tens of thousands of valid interventions.
        return f"Intervention du {self.day:%d/%m/%Y} à {format_clock(self.start_minute)}"

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


class Funding(StrEnum):
    """Why a line is financed or not."""

    FINANCED = "FINANCE"
    BEYOND_SUNDAY_CAP = "FINANCE_HORS_PLAFOND_DIMANCHE"  # weekday taux de PEC
    NO_PLAN = "SANS_PLAN"
    HOURS_EXHAUSTED = "HEURES_EPUISEES"
    SUNDAY_NOT_FINANCED = "DIMANCHE_NON_FINANCE"  # Sunday/holiday cap 0

    @property
    def financed(self) -> bool:
        return self in _FINANCED


_FINANCED = frozenset((Funding.FINANCED, Funding.BEYOND_SUNDAY_CAP))


@dataclass(frozen=True)
class BilledLine:
    """One intervention, or the part of one, with its price and who pays it."""

    intervention: Intervention
    day: date  # the day of this part (the next day for the part after midnight)
    start_minute: int
    end_minute: int
    day_kind: DayKind
    funding: Funding
    rate_cents: int  # hourly rate on the client's invoice
    amount_cents: int
    payer_cents: int
    client_cents: int
    pec_bp: int  # 0 when not financed
    plan: AidPlan | None  # the plan used (also for the unfinanced part of a plan's prestation)
    explanation: str

    @property
    def minutes(self) -> int:
        return self.end_minute - self.start_minute


_new_object = object.__new__


def _new_line(
    intervention: Intervention, day: date, start_minute: int, end_minute: int, day_kind: DayKind,
    funding: Funding, rate_cents: int, amount_cents: int, payer_cents: int, client_cents: int,
    pec_bp: int, plan: AidPlan | None, explanation: str,
) -> BilledLine:  # fmt: skip
    """``BilledLine(...)`` without a frozen dataclass's ``object.__setattr__`` per field: a month
    makes tens of thousands of lines."""
    line = _new_object(BilledLine)
    line.__dict__.update(
        intervention=intervention, day=day, start_minute=start_minute, end_minute=end_minute,
        day_kind=day_kind, funding=funding, rate_cents=rate_cents, amount_cents=amount_cents,
        payer_cents=payer_cents, client_cents=client_cents, pec_bp=pec_bp, plan=plan,
        explanation=explanation,
    )  # fmt: skip
    return line


@dataclass(frozen=True)
class PlanUsage:
    plan: AidPlan
    financed_minutes: int
    sunday_minutes: int  # financed at the Sunday/holiday taux (counted against the cap)

    @property
    def minutes_left(self) -> int:
        return max(0, self.plan.monthly_minutes - self.financed_minutes)


@dataclass(frozen=True)
class MonthBilling:
    year: int
    month: int
    lines: tuple[BilledLine, ...]
    usage: tuple[PlanUsage, ...]  # the plans that financed something, in first-use order

    @property
    def amount_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def client_cents(self) -> int:
        return sum(line.client_cents for line in self.lines)

    @property
    def payer_cents(self) -> int:
        return sum(line.payer_cents for line in self.lines)

    def payer_totals(self) -> dict[int, int]:
        """payer_id → cents owed by that payer for the month."""
        totals: dict[int, int] = {}
        for line in self.lines:
            if line.plan is not None and line.payer_cents:
                totals[line.plan.payer_id] = totals.get(line.plan.payer_id, 0) + line.payer_cents
        return totals


# --- formulas ----------------------------------------------------------------------------------


def amount_cents(minutes: int, hourly_cents: int) -> int:
    """Price of *minutes* at an hourly rate, half up to the cent."""
    return round_div(minutes * hourly_cents, 60)


def funder_share_cents(minutes: int, plan_hourly_cents: int, pec_bp: int) -> int:
    """compani's hourly funding: duration × the plan's hourly rate × taux de PEC, half up.

    (compani writes the taux as 1 − the client's participation rate.) The caller caps *minutes*
    by the hours granted left in the month.
    """
    return round_div(minutes * plan_hourly_cents * pec_bp, 60 * FULL_RATE_BP)


# The explanations of a month's lines (tens of thousands) spell the same few hours, durations,
# amounts and days over and over: each is written once, then looked up.


@lru_cache(maxsize=4096)
def format_clock(minute: int) -> str:
    """Minutes from midnight → « 09:30 »; the end of a day is « 24:00 »."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


@lru_cache(maxsize=4096)
def format_duration(minutes: int) -> str:
    """150 → « 2 h 30 »."""
    return f"{minutes // 60} h {minutes % 60:02d}"


@lru_cache(maxsize=8192)
def format_euros(cents: int) -> str:
    return f"{format_cents(cents)} €"


_format_rate = lru_cache(maxsize=512)(format_rate)


@lru_cache(maxsize=1024)
def _format_day(day: date) -> str:
    """« lun. 02/11/2026 »."""
    return f"{WEEKDAY_ABBREVIATIONS[day.weekday()]} {day:%d/%m/%Y}"


# --- plan choice -------------------------------------------------------------------------------


def _overlap(a: AidPlan, b: AidPlan) -> bool:
    a_end = a.valid_until or date.max
    b_end = b.valid_until or date.max
    return a.valid_from <= b_end and b.valid_from <= a_end


def check_plan_overlaps(plans: Iterable[AidPlan]) -> None:
    """Refuse two validated plans of one beneficiary for one prestation on a common day.

    As compani does: a renewal closes the previous plan (its end of validity) first.
    """
    valid = [plan for plan in plans if plan.counts]
    for i, first in enumerate(valid):
        for second in valid[i + 1 :]:
            if (
                first.beneficiary_id == second.beneficiary_id
                and first.prestation == second.prestation
                and _overlap(first, second)
            ):
                raise ValidationError(_overlap_message(first, second), field="valid_from")


def _overlap_message(first: AidPlan, second: AidPlan, day: date | None = None) -> str:
    when = f" le {day:%d/%m/%Y}" if day else " sur une même période"
    return (
        f"Deux plans d'aide validés financent « {first.prestation} »{when} : {first.title} et "
        f"{second.title}. Donnez une date de fin de validité à l'un d'eux."
    )


def _plan_for(plans: list[AidPlan], prestation: str, day: date) -> AidPlan | None:
    found = [plan for plan in plans if plan.prestation == prestation and plan.covers(day)]
    if len(found) > 1:
        raise ValidationError(_overlap_message(found[0], found[1], day), field="plan")
    return found[0] if found else None


# --- the month ---------------------------------------------------------------------------------


@dataclass
class _Counter:
    financed: int = 0
    sunday: int = 0


def bill_month(
    *,
    year: int,
    month: int,
    client_id: int,
    interventions: Iterable[Intervention],
    plans: Iterable[AidPlan],
    contract: Iterable[ContractPrestation],
) -> MonthBilling:
    """Price a client's month: one or more lines per intervention, in chronological order.

    *plans* may hold other clients' plans and plans not « Validé »: both are ignored. Refuses
    (:class:`ValidationError`) an intervention outside the month, a prestation missing from the
    contract, and two validated plans for one prestation on one day.
    """
    prestations: dict[str, ContractPrestation] = {}
    for item in contract:
        if item.code in prestations:
            raise ValidationError(
                f"La prestation « {item.code} » figure deux fois au contrat.", field="prestation"
            )
        prestations[item.code] = item
    valid: dict[str, list[AidPlan]] = {}  # by prestation, in the order given
    for plan in plans:
        if plan.counts and plan.beneficiary_id == client_id:
            valid.setdefault(plan.prestation, []).append(plan)
    ordered = sorted(interventions, key=_CHRONOLOGICAL)
    counters: dict[int, _Counter] = {}  # by id() of the plan: equal plans stay distinct
    used: dict[int, AidPlan] = {}
    lines: list[BilledLine] = []
    for item in ordered:
        if (item.day.year, item.day.month) != (year, month):
            raise ValidationError(
                f"L'intervention du {item.day:%d/%m/%Y} n'est pas dans le mois facturé "
                f"({MONTH_NAMES[month - 1]} {year}).",
                field="day",
            )
        prestation = prestations.get(item.prestation)
        if prestation is None:
            raise ValidationError(
                f"Intervention du {item.day:%d/%m/%Y} : la prestation « {item.prestation} » "
                "n'est pas au contrat du client.",
                field="prestation",
            )
        candidates = valid.get(item.prestation)
        for day, start, end in _parts(item):
            plan = _plan_for(candidates, item.prestation, day) if candidates else None
            counter = None
            if plan is not None:
                counter = counters.get(id(plan))
                if counter is None:
                    counter = counters[id(plan)] = _Counter()
                    used[id(plan)] = plan
            lines.extend(_bill_part(item, prestation, plan, counter, day, start, end))
    usage = tuple(
        PlanUsage(plan, counters[key].financed, counters[key].sunday) for key, plan in used.items()
    )
    return MonthBilling(year, month, tuple(lines), usage)


_CHRONOLOGICAL = attrgetter("day", "start_minute", "end_minute")


def _parts(item: Intervention) -> list[tuple[date, int, int]]:
    """Split at midnight: (day, start, end) with times of that day."""
    if item.end_minute <= MINUTES_PER_DAY:
        return [(item.day, item.start_minute, item.end_minute)]
    return [
        (item.day, item.start_minute, MINUTES_PER_DAY),
        (item.day + timedelta(days=1), 0, item.end_minute - MINUTES_PER_DAY),
    ]


def _bill_part(
    item: Intervention,
    prestation: ContractPrestation,
    plan: AidPlan | None,
    counter: _Counter | None,  # the plan's, None without a plan
    day: date,
    start: int,
    end: int,
) -> list[BilledLine]:
    kind = day_kind(day)
    contract_rate = prestation.rates.for_day(kind)

    def line(funding: Funding, a: int, b: int, pec_bp: int = 0) -> BilledLine:
        minutes = b - a
        financed = funding in _FINANCED
        if financed:
            assert plan is not None
            plan_rate = plan.rates.for_day(kind)
            rate = plan_rate if plan.billing_mode is BillingMode.PLAN_RATES else contract_rate
            amount = amount_cents(minutes, rate)
            payer = min(amount, funder_share_cents(minutes, plan_rate, pec_bp))
        else:
            plan_rate, rate, pec_bp = 0, contract_rate, 0
            amount = amount_cents(minutes, rate)
            payer = 0
        text = _explain(
            prestation, plan, funding, day, kind, a, b, rate, amount, payer, plan_rate, pec_bp
        )
        return _new_line(
            item, day, a, b, kind, funding, rate, amount, payer, amount - payer, pec_bp, plan, text
        )

    if plan is None:
        return [line(Funding.NO_PLAN, start, end)]
    assert counter is not None
    sunday = kind is DayKind.SUNDAY_HOLIDAY
    if sunday and plan.sunday_cap_minutes == 0:
        return [line(Funding.SUNDAY_NOT_FINANCED, start, end)]
    left = max(0, plan.monthly_minutes - counter.financed)
    financed_end = start + min(end - start, left)
    out: list[BilledLine] = []
    if sunday:
        cap = plan.sunday_cap_minutes
        sunday_left = financed_end - start if cap is None else max(0, cap - counter.sunday)
        cap_end = start + min(financed_end - start, sunday_left)
        if cap_end > start:
            out.append(line(Funding.FINANCED, start, cap_end, plan.sunday_rate_bp))
        if financed_end > cap_end:
            out.append(line(Funding.BEYOND_SUNDAY_CAP, cap_end, financed_end, plan.pec_bp))
        counter.sunday += cap_end - start
    elif financed_end > start:
        out.append(line(Funding.FINANCED, start, financed_end, plan.pec_bp))
    counter.financed += financed_end - start
    if end > financed_end:
        out.append(line(Funding.HOURS_EXHAUSTED, financed_end, end))
    return out


def _explain(
    prestation: ContractPrestation,
    plan: AidPlan | None,
    funding: Funding,
    day: date,
    kind: DayKind,
    start: int,
    end: int,
    rate: int,
    amount: int,
    payer: int,
    plan_rate: int,
    pec_bp: int,
) -> str:
    """The French line of « Simuler la facturation »."""
    duration = format_duration(end - start)
    financed = funding in _FINANCED
    from_contract = (
        plan is None or not financed or (plan.billing_mode is BillingMode.PRESTATION_RATES)
    )
    head = (
        f"{_format_day(day)} {format_clock(start)}–{format_clock(end)} {prestation.label} "
        f"({_DAY_KIND_LABELS[kind]}) : {duration} × {format_euros(rate)} "
        f"({'tarif de la prestation' if from_contract else 'tarif du plan'}) = "
        f"{format_euros(amount)}"
    )
    client = format_euros(amount - payer)
    if financed:
        assert plan is not None
        share = (
            f"{plan.payer_name} : {duration} × {format_euros(plan_rate)} × "
            f"{_format_rate(pec_bp)} = {format_euros(payer)}"
        )
        if funding is Funding.BEYOND_SUNDAY_CAP:
            share += (
                f" (au-delà du plafond dimanche/JF de "
                f"{format_duration(plan.sunday_cap_minutes or 0)} : taux de PEC des jours ouvrés)"
            )
        return f"{head} ; {share} ; client {client}."
    if plan is None:
        why = "aucun plan d'aide validé pour cette prestation ce jour"
    elif funding is Funding.SUNDAY_NOT_FINANCED:
        why = f"dimanches et jours fériés non financés par {plan.payer_name} (plafond 0)"
    else:
        why = (
            f"au-delà des {format_duration(plan.monthly_minutes)} accordées par "
            f"{plan.payer_name} pour le mois"
        )
    return f"{head} ; {why} : client {client}."
