"""NGAP pricing in integer cents: letter key × coefficient, majorations, travel, shares.

The tariff values are data (dated rows looked up through a callable), never constants here.
Rules kept deliberately explicit:

* an act costs ``round(value × coefficient)`` (half up, in cents);
* night (20h–23h and 5h–8h: NUIT; 23h–5h: NUITP) and Sunday/public holiday (DIM) majorations are
  added automatically from the act's date and time; night and Sunday are not cumulative (NGAP):
  the night majoration prevails;
* MAU, MCI, MIE and IFD are asked for per act; IK is charged per kilometre;
* the AMO share of each line is ``round(total × rate)``; the rest goes to the AMC when the patient
  has one, otherwise to the patient. Invoice totals are the sums of the lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, time

from tuibill.domain.acts import Act
from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_coefficient
from tuibill.domain.public_holidays import is_sunday_or_holiday
from tuibill.domain.rounding import round_div

ACT = "act"
MAJORATION = "majoration"
TRAVEL = "travel"

NIGHT = "NUIT"
DEEP_NIGHT = "NUITP"
SUNDAY_HOLIDAY = "DIM"
REQUESTED_MAJORATIONS = ("MAU", "MCI", "MIE")
HOME_VISIT = "IFD"
MILEAGE = "IK"

DEFAULT_AMO_RATE = 60
FULL_AMO_RATE = 100


@dataclass(frozen=True)
class TariffEntry:
    code: str
    label: str
    kind: str
    value_cents: int
    coef_min_x100: int = 1
    coef_max_x100: int = 10_000


TariffLookup = Callable[[str, date], "TariffEntry | None"]


@dataclass(frozen=True)
class Coverage:
    amo_rate: int = DEFAULT_AMO_RATE
    has_amc: bool = False


def coverage_of(*, ald: bool, maternity: bool, has_amc: bool) -> Coverage:
    """The AMO rate of a patient: 100 % in ALD or maternité, 60 % otherwise; the rest to the
    AMC when the patient has one, else to the patient."""
    rate = FULL_AMO_RATE if (ald or maternity) else DEFAULT_AMO_RATE
    return Coverage(amo_rate=rate, has_amc=has_amc)


@dataclass(frozen=True)
class PricedLine:
    act_date: date
    code: str
    label: str
    kind: str
    coefficient_x100: int
    quantity: int
    unit_cents: int
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    act_time: time | None = None
    parent: int | None = None  # index of the act line a majoration belongs to


@dataclass
class PricedInvoice:
    lines: list[PricedLine] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.total_cents for line in self.lines)

    @property
    def amo_cents(self) -> int:
        return sum(line.amo_cents for line in self.lines)

    @property
    def amc_cents(self) -> int:
        return sum(line.amc_cents for line in self.lines)

    @property
    def patient_cents(self) -> int:
        return sum(line.patient_cents for line in self.lines)


def line_total_cents(unit_cents: int, coefficient_x100: int, quantity: int) -> int:
    """An act line's total: tariff × coefficient × quantity, rounded half up to the cent.

    The one rounding rule: pricing computes totals with it, the lot file checks them with it.
    """
    return round_div(unit_cents * coefficient_x100 * quantity, 100)


def night_majoration(at: time | None) -> str | None:
    if at is None:
        return None
    if at.hour >= 23 or at.hour < 5:
        return DEEP_NIGHT
    if at.hour >= 20 or at.hour < 8:
        return NIGHT
    return None


def parse_coefficient(text: str) -> int:
    """« 1,5 » or « 1.5 » → 150 (hundredths). Refuses anything else with a French message."""
    cleaned = text.strip().replace(",", ".")
    try:
        whole, _, frac = cleaned.partition(".")
        if not whole.isdigit() or (frac and not frac.isdigit()) or len(frac) > 2:
            raise ValueError
        return int(whole) * 100 + int((frac + "00")[:2])
    except ValueError:
        raise ValidationError(
            f"Coefficient « {text} » invalide : un nombre avec au plus deux décimales est attendu.",
            field="coefficient",
        ) from None


def _share(total: int, coverage: Coverage) -> tuple[int, int, int]:
    amo = round_div(total * coverage.amo_rate, 100)
    rest = total - amo
    return (amo, rest, 0) if coverage.has_amc else (amo, 0, rest)


def _line(
    entry: TariffEntry,
    act: Act,
    coverage: Coverage,
    *,
    coefficient_x100: int = 100,
    quantity: int = 1,
    parent: int | None = None,
) -> PricedLine:
    total = line_total_cents(entry.value_cents, coefficient_x100, quantity)
    amo, amc, patient = _share(total, coverage)
    return PricedLine(
        act_date=act.act_date,
        code=entry.code,
        label=entry.label,
        kind=entry.kind,
        coefficient_x100=coefficient_x100,
        quantity=quantity,
        unit_cents=entry.value_cents,
        total_cents=total,
        amo_cents=amo,
        amc_cents=amc,
        patient_cents=patient,
        act_time=act.act_time,
        parent=parent,
    )


def _require(lookup: TariffLookup, code: str, day: date) -> TariffEntry:
    entry = lookup(code, day)
    if entry is None:
        raise ValidationError(f"Aucun tarif « {code} » en vigueur le {day:%d/%m/%Y}.", field="code")
    return entry


def _visits(acts: list[Act]) -> list[list[int]]:
    """The acts' indexes grouped by visit (passage): same date and same time, in entry order.

    NGAP: majorations de nuit and de dimanche/jour férié (art. 14), the travel allowances
    (art. 13: IFD, IK) and MCI/MIE are due once per visit, not once per act.
    """
    visits: dict[tuple[date, time | None], list[int]] = {}
    for index, act in enumerate(acts):
        visits.setdefault((act.act_date, act.act_time), []).append(index)
    return list(visits.values())


def _years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _check_requested(acts: list[Act], visit: list[int], birth_date: date | None) -> None:
    for index in visit:
        unknown = [c for c in acts[index].majorations if c.upper() not in REQUESTED_MAJORATIONS]
        if unknown:
            raise ValidationError(
                f"Majoration inconnue : {', '.join(unknown)} (possibles : MAU, MCI, MIE).",
                field="majorations",
            )
    asked = {c.upper() for index in visit for c in acts[index].majorations}
    first = acts[visit[0]]
    if "MAU" in asked:
        # NGAP art. 23.1: « acte unique » of AMI 1 or AMI 1,5 during the visit.
        only = acts[visit[0]] if len(visit) == 1 else None
        if only is None or only.code.upper() != "AMI" or only.coefficient_x100 not in (100, 150):
            raise ValidationError(
                f"MAU du {first.act_date:%d/%m/%Y} refusée : la majoration d'acte unique ne "
                "s'applique qu'à un seul acte AMI 1 ou AMI 1,5 au cours du passage.",
                field="majorations",
            )
    if "MIE" in asked and birth_date is not None and _years(birth_date, first.act_date) >= 7:
        raise ValidationError(
            f"MIE du {first.act_date:%d/%m/%Y} refusée : le patient a 7 ans ou plus (majoration "
            "pour un enfant de moins de 7 ans).",
            field="majorations",
        )


def price_acts(
    acts: Iterable[Act],
    lookup: TariffLookup,
    coverage: Coverage,
    *,
    birth_date: date | None = None,
) -> PricedInvoice:
    """Price *acts* at their own dates; raise :class:`ValidationError` on a bad act.

    Each act is a line; what is due once per visit (the automatic night or Sunday/holiday
    majoration, MAU, MCI, MIE, IFD, IK) is one line attached to the visit's first act.
    *birth_date* (the patient's) lets MIE be checked.
    """
    acts = list(acts)
    act_lines: list[PricedLine] = []
    for act in acts:
        entry = _require(lookup, act.code.upper(), act.act_date)
        if entry.kind != ACT:
            raise ValidationError(
                f"« {entry.code} » est une majoration, pas un acte : cochez-la sur l'acte.",
                field="code",
            )
        if not entry.coef_min_x100 <= act.coefficient_x100 <= entry.coef_max_x100:
            raise ValidationError(
                f"Coefficient {format_coefficient(act.coefficient_x100)} hors limites pour "
                f"{entry.code} (de {format_coefficient(entry.coef_min_x100)} à "
                f"{format_coefficient(entry.coef_max_x100)}).",
                field="coefficient",
            )
        if act.mileage_km < 0:
            raise ValidationError("Le nombre de kilomètres ne peut être négatif.", field="ik")
        act_lines.append(_line(entry, act, coverage, coefficient_x100=act.coefficient_x100))
    # What each visit adds, keyed by its first act.
    added: dict[int, list[tuple[TariffEntry, int]]] = {}
    for visit in _visits(acts):
        _check_requested(acts, visit, birth_date)
        first = acts[visit[0]]
        extras: list[tuple[TariffEntry, int]] = []  # (tariff, quantity)
        automatic = night_majoration(first.act_time)
        if automatic is None and is_sunday_or_holiday(first.act_date):
            automatic = SUNDAY_HOLIDAY
        asked = dict.fromkeys(code.upper() for index in visit for code in acts[index].majorations)
        for code in ([automatic] if automatic else []) + list(asked):
            major = lookup(code, first.act_date)
            if major is not None:  # a profession without this majoration simply has none
                extras.append((major, 1))
        if any(acts[index].home_visit for index in visit):
            extras.append((_require(lookup, HOME_VISIT, first.act_date), 1))
        distances = sorted({acts[index].mileage_km for index in visit} - {0})
        if len(distances) > 1:
            raise ValidationError(
                f"Passage du {first.act_date:%d/%m/%Y} : des kilomètres différents sur ses actes "
                f"({', '.join(map(str, distances))}) : les IK se comptent une fois par déplacement.",
                field="ik",
            )
        if distances:
            extras.append((_require(lookup, MILEAGE, first.act_date), distances[0]))
        added[visit[0]] = extras
    # Each act in entry order, followed by what its visit adds when it is the visit's first.
    priced = PricedInvoice()
    for index, line in enumerate(act_lines):
        parent = len(priced.lines)
        priced.lines.append(line)
        for entry, quantity in added.get(index, []):
            priced.lines.append(
                _line(entry, acts[index], coverage, quantity=quantity, parent=parent)
            )
    return priced
