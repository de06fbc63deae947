"""Plans d'aide, table-driven. Expected amounts are worked out by hand in the ids and comments.

The month is November 2026: Sun 1 = Toussaint on a Sunday (one Sunday/holiday, counted once),
Sat 7, Sun 8, Wed 11 = Armistice (a weekday holiday), Mon 16, Sat 28, Sun 29, Mon 30.

The client (id 7) has two prestations in the contract (hourly: base / Saturday / Sunday-holiday):
  AD  Aide à domicile  24,00 / 26,00 / 30,00
  MEN Ménage           23,00 / 25,00 / 29,00
and two payers:
  APA Eure-et-Loir (payer 1) finances AD since 01/01/2026: 10 h a month, plan rates
      22,00 / 24,00 / 28,00, PEC 80 %, PEC dimanche/JF 90 %, « Tarif de base P.E.C. »;
  CARSAT Centre (payer 2) finances MEN from Mon 16/11/2026: 4 h a month, plan rate 21,00 every
      day, PEC 50 %, « Tarif de la prestation ».
Payer share = minutes × plan rate × PEC (half up); amount = minutes × invoice rate (half up);
client = amount − payer.
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuibill.domain.aid_plans import (
    AidPlan,
    BilledLine,
    BillingMode,
    ContractPrestation,
    DayKind,
    Funding,
    HourlyRates,
    Intervention,
    PlanState,
    amount_cents,
    bill_month,
    check_plan_overlaps,
    day_kind,
    format_clock,
    funder_share_cents,
)
from tuibill.domain.errors import ValidationError

D = date
CLIENT = 7
AD = ContractPrestation("AD", "Aide à domicile", HourlyRates(2400, 2600, 3000))
MEN = ContractPrestation("MEN", "Ménage", HourlyRates(2300, 2500, 2900))
CONTRACT = (AD, MEN)

F = Funding.FINANCED
CAP = Funding.BEYOND_SUNDAY_CAP
NONE = Funding.NO_PLAN
OUT = Funding.HOURS_EXHAUSTED
SUN0 = Funding.SUNDAY_NOT_FINANCED


def apa(**changes: object) -> AidPlan:
    plan = AidPlan(
        beneficiary_id=CLIENT,
        payer_id=1,
        payer_name="APA Eure-et-Loir",
        prestation="AD",
        valid_from=D(2026, 1, 1),
        monthly_minutes=600,
        rates=HourlyRates(2200, 2400, 2800),
        pec_bp=8000,
        billing_mode=BillingMode.PLAN_RATES,
        state=PlanState.VALIDE,
        sunday_pec_bp=9000,
        plan_id=1,
    )
    return replace(plan, **changes)


def carsat(**changes: object) -> AidPlan:
    plan = AidPlan(
        beneficiary_id=CLIENT,
        payer_id=2,
        payer_name="CARSAT Centre",
        prestation="MEN",
        valid_from=D(2026, 11, 16),
        monthly_minutes=240,
        rates=HourlyRates(2100, 2100, 2100),
        pec_bp=5000,
        billing_mode=BillingMode.PRESTATION_RATES,
        state=PlanState.VALIDE,
        plan_id=2,
    )
    return replace(plan, **changes)


def minutes(text: str) -> int:
    """« 09:30 » → 570; « 02:00+1 » (the next day) → 1560."""
    clock, _, next_day = text.partition("+")
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins) + (1440 if next_day else 0)


def iv(day: int, start: str, end: str, prestation: str = "AD", month: int = 11) -> Intervention:
    return Intervention(D(2026, month, day), minutes(start), minutes(end), prestation, "Léa")


Row = tuple[date, str, str, Funding, int, int, int, int]


def rows(plans: list[AidPlan], interventions: list[Intervention], month: int = 11) -> list[Row]:
    billing = bill_month(
        year=2026,
        month=month,
        client_id=CLIENT,
        interventions=interventions,
        plans=plans,
        contract=CONTRACT,
    )
    for line in billing.lines:
        assert line.payer_cents + line.client_cents == line.amount_cents
    return [
        (
            line.day,
            format_clock(line.start_minute),
            format_clock(line.end_minute),
            line.funding,
            line.rate_cents,
            line.amount_cents,
            line.payer_cents,
            line.client_cents,
        )
        for line in billing.lines
    ]


CASES = [
    pytest.param(
        [apa()],
        [iv(2, "09:00", "11:00")],
        # 2 h × 22 = 44,00; 80 % = 35,20; client 8,80
        [(D(2026, 11, 2), "09:00", "11:00", F, 2200, 4400, 3520, 880)],
        id="weekday-2h×22=44.00-apa80%=35.20-client-8.80",
    ),
    pytest.param(
        [apa()],
        [iv(7, "09:00", "10:30")],
        # 1 h 30 × 24 = 36,00; 80 % = 28,80; client 7,20
        [(D(2026, 11, 7), "09:00", "10:30", F, 2400, 3600, 2880, 720)],
        id="saturday-1h30×24=36.00-apa80%=28.80",
    ),
    pytest.param(
        [apa()],
        [iv(1, "10:00", "12:00")],
        # Toussaint on a Sunday: one Sunday/holiday; 2 h × 28 = 56,00; 90 % = 50,40; client 5,60
        [(D(2026, 11, 1), "10:00", "12:00", F, 2800, 5600, 5040, 560)],
        id="holiday-on-sunday-2h×28=56.00-pec-dim90%=50.40",
    ),
    pytest.param(
        [apa()],
        [iv(11, "09:00", "10:00")],
        # Armistice (Wednesday): 1 h × 28 = 28,00; 90 % = 25,20
        [(D(2026, 11, 11), "09:00", "10:00", F, 2800, 2800, 2520, 280)],
        id="weekday-holiday-1h×28=28.00-pec-dim90%=25.20",
    ),
    pytest.param(
        [apa(sunday_cap_minutes=0)],
        [iv(1, "10:00", "12:00"), iv(2, "09:00", "11:00")],
        # cap 0: Sunday not financed, contract Sunday rate 2 h × 30 = 60,00 all client;
        # Monday still financed (the Sunday consumed no hours): 44,00 / 35,20 / 8,80
        [
            (D(2026, 11, 1), "10:00", "12:00", SUN0, 3000, 6000, 0, 6000),
            (D(2026, 11, 2), "09:00", "11:00", F, 2200, 4400, 3520, 880),
        ],
        id="sunday-cap-0-not-financed-contract-2h×30=60.00",
    ),
    pytest.param(
        [apa(sunday_cap_minutes=60)],
        [iv(1, "10:00", "12:00"), iv(8, "10:00", "11:00")],
        # cap 1 h: first hour at PEC dim 90 % (28,00 → 25,20), beyond at weekday PEC 80 %
        # (28,00 → 22,40), still at the plan's Sunday rate and within the 10 h granted
        [
            (D(2026, 11, 1), "10:00", "11:00", F, 2800, 2800, 2520, 280),
            (D(2026, 11, 1), "11:00", "12:00", CAP, 2800, 2800, 2240, 560),
            (D(2026, 11, 8), "10:00", "11:00", CAP, 2800, 2800, 2240, 560),
        ],
        id="sunday-cap-1h-then-weekday-pec-80%=22.40",
    ),
    pytest.param(
        [apa(sunday_cap_minutes=None, sunday_pec_bp=None)],
        [iv(8, "10:00", "11:00")],
        # no Sunday taux: the weekday one, at the Sunday rate: 28,00 × 80 % = 22,40
        [(D(2026, 11, 8), "10:00", "11:00", F, 2800, 2800, 2240, 560)],
        id="sunday-cap-none-no-sunday-pec-uses-80%",
    ),
    pytest.param(
        [apa()],
        # given out of order: billed chronologically; 10 h granted = 3 + 3 + 3 + 1
        [
            iv(5, "09:00", "12:00"),
            iv(3, "09:00", "12:00"),
            iv(2, "09:00", "12:00"),
            iv(4, "09:00", "12:00"),
        ],
        # 3 h × 22 = 66,00 → 52,80 / 13,20 (×3); Thu 1 h × 22 = 22,00 → 17,60 / 4,40;
        # Thu 2 h beyond the hours at the contract rate 2 × 24 = 48,00 all client
        [
            (D(2026, 11, 2), "09:00", "12:00", F, 2200, 6600, 5280, 1320),
            (D(2026, 11, 3), "09:00", "12:00", F, 2200, 6600, 5280, 1320),
            (D(2026, 11, 4), "09:00", "12:00", F, 2200, 6600, 5280, 1320),
            (D(2026, 11, 5), "09:00", "10:00", F, 2200, 2200, 1760, 440),
            (D(2026, 11, 5), "10:00", "12:00", OUT, 2400, 4800, 0, 4800),
        ],
        id="hours-exhausted-mid-intervention-split-1h-financed-2h×24=48.00-client",
    ),  # fmt: skip
    pytest.param(
        [apa(monthly_minutes=120)],
        [iv(1, "10:00", "13:00")],
        # 2 h granted: 2 h × 28 × 90 % = 50,40; the 3rd hour at the contract Sunday rate 30,00
        [
            (D(2026, 11, 1), "10:00", "12:00", F, 2800, 5600, 5040, 560),
            (D(2026, 11, 1), "12:00", "13:00", OUT, 3000, 3000, 0, 3000),
        ],
        id="hours-exhausted-on-a-sunday-contract-30.00",
    ),
    pytest.param(
        [carsat()],
        [iv(10, "14:00", "16:00", "MEN"), iv(17, "14:00", "16:00", "MEN")],
        # before the start of validity: contract 2 h × 23 = 46,00 all client;
        # Tue 17: « Tarif de la prestation »: invoice 2 h × 23 = 46,00, CARSAT 2 h × 21 × 50 % =
        # 21,00, client 25,00
        [
            (D(2026, 11, 10), "14:00", "16:00", NONE, 2300, 4600, 0, 4600),
            (D(2026, 11, 17), "14:00", "16:00", F, 2300, 4600, 2100, 2500),
        ],
        id="plan-starting-16th-before-not-financed-after-prestation-rate",
    ),
    pytest.param(
        [apa(valid_until=D(2026, 11, 15)), apa(valid_from=D(2026, 11, 16), pec_bp=6000)],
        [iv(13, "09:00", "10:00"), iv(16, "09:00", "10:00")],
        # renewal: the old plan closed on the 15th, the new one (PEC 60 %) from the 16th
        # 22,00 × 80 % = 17,60; 22,00 × 60 % = 13,20
        [
            (D(2026, 11, 13), "09:00", "10:00", F, 2200, 2200, 1760, 440),
            (D(2026, 11, 16), "09:00", "10:00", F, 2200, 2200, 1320, 880),
        ],
        id="renewal-closed-plan-then-new-plan-60%",
    ),
    pytest.param(
        [apa(state=PlanState.SAISI)],
        [iv(2, "09:00", "11:00")],
        # not « Validé »: ignored, contract 2 h × 24 = 48,00 all client
        [(D(2026, 11, 2), "09:00", "11:00", NONE, 2400, 4800, 0, 4800)],
        id="plan-not-validated-ignored",
    ),
    pytest.param(
        [apa(beneficiary_id=99)],
        [iv(2, "09:00", "11:00")],
        [(D(2026, 11, 2), "09:00", "11:00", NONE, 2400, 4800, 0, 4800)],
        id="other-clients-plan-ignored",
    ),
    pytest.param(
        [apa(billing_mode=BillingMode.PRESTATION_RATES)],
        [iv(2, "09:00", "11:00")],
        # invoice at the contract rate 2 h × 24 = 48,00; APA 2 h × 22 × 80 % = 35,20; client 12,80
        [(D(2026, 11, 2), "09:00", "11:00", F, 2400, 4800, 3520, 1280)],
        id="mode-tarif-prestation-48.00-apa-35.20-client-12.80",
    ),
    pytest.param(
        [apa(rates=HourlyRates(2200, 2200, 2200), pec_bp=3333)],
        [iv(2, "09:00", "09:50")],
        # 50 min × 22 = 18,333… → 18,33; APA 18,333… × 33,33 % = 6,1105 → 6,11; client 12,22
        [(D(2026, 11, 2), "09:00", "09:50", F, 2200, 1833, 611, 1222)],
        id="rounding-33.33%-50min×22=18.33-apa-6.11-client-12.22",
    ),
    pytest.param(
        [apa(rates=HourlyRates(1999, 1999, 1999), pec_bp=3333)],
        [iv(2, "09:00", "09:07")],
        # 7 min × 19,99 = 2,3322 → 2,33; × 33,33 % = 0,7773 → 0,78; client 1,55
        [(D(2026, 11, 2), "09:00", "09:07", F, 1999, 233, 78, 155)],
        id="rounding-33.33%-7min×19.99=2.33-apa-0.78-client-1.55",
    ),
    pytest.param(
        [
            apa(
                billing_mode=BillingMode.PRESTATION_RATES,
                rates=HourlyRates(3000, 3000, 3000),
                pec_bp=10_000,
            )
        ],
        [iv(2, "09:00", "10:00")],
        # the plan's 30,00 × 100 % exceeds the invoice (24,00): the payer share is capped at it
        [(D(2026, 11, 2), "09:00", "10:00", F, 2400, 2400, 2400, 0)],
        id="payer-share-capped-at-the-amount",
    ),  # fmt: skip
    pytest.param(
        [apa(sunday_cap_minutes=0)],
        [iv(11, "09:00", "10:00"), iv(1, "10:00", "11:00"), iv(2, "09:00", "10:00")],
        # cap 0 excludes the Toussaint on a Sunday and the Armistice on a Wednesday alike
        # (contract Sunday/holiday rate 30,00, all client); Monday 22,00 → 17,60 / 4,40
        [
            (D(2026, 11, 1), "10:00", "11:00", SUN0, 3000, 3000, 0, 3000),
            (D(2026, 11, 2), "09:00", "10:00", F, 2200, 2200, 1760, 440),
            (D(2026, 11, 11), "09:00", "10:00", SUN0, 3000, 3000, 0, 3000),
        ],
        id="cap-0-holiday-on-sunday-and-weekday-holiday-both-excluded",
    ),
    pytest.param(
        [carsat()],
        [iv(17, "14:00", "16:00", "MEN"), iv(24, "14:00", "16:00", "MEN"),
         iv(26, "14:00", "15:00", "MEN")],
        # the plan starts on the 16th with 4 h: the 17th and the 24th use them (46,00 → 21,00 /
        # 25,00 each), the 26th is beyond: contract 23,00 all client
        [
            (D(2026, 11, 17), "14:00", "16:00", F, 2300, 4600, 2100, 2500),
            (D(2026, 11, 24), "14:00", "16:00", F, 2300, 4600, 2100, 2500),
            (D(2026, 11, 26), "14:00", "15:00", OUT, 2300, 2300, 0, 2300),
        ],
        id="plan-from-the-16th-hours-exhausted-on-the-26th",
    ),  # fmt: skip
    pytest.param(
        [apa(monthly_minutes=60), carsat()],
        [iv(2, "09:00", "11:00"), iv(17, "14:00", "16:00", "MEN")],
        # two payers, each its own hours: the APA's hour runs out at 10:00 (then contract 24,00),
        # the CARSAT still finances the 17th
        [
            (D(2026, 11, 2), "09:00", "10:00", F, 2200, 2200, 1760, 440),
            (D(2026, 11, 2), "10:00", "11:00", OUT, 2400, 2400, 0, 2400),
            (D(2026, 11, 17), "14:00", "16:00", F, 2300, 4600, 2100, 2500),
        ],
        id="two-payers-on-one-client-hours-counted-apart",
    ),
    pytest.param(
        [apa()],
        [iv(28, "22:00", "02:00+1")],
        # crosses midnight: Sat 28 22:00–24:00 at the Saturday rate 2 × 24 = 48,00 → 38,40;
        # Sun 29 00:00–02:00 at the Sunday rate 2 × 28 = 56,00 → 90 % = 50,40
        [
            (D(2026, 11, 28), "22:00", "24:00", F, 2400, 4800, 3840, 960),
            (D(2026, 11, 29), "00:00", "02:00", F, 2800, 5600, 5040, 560),
        ],
        id="night-saturday-to-sunday-split-at-midnight",
    ),
]


@pytest.mark.parametrize(("plans", "interventions", "expected"), CASES)
def test_bill_month(plans: list[AidPlan], interventions: list[Intervention], expected) -> None:
    assert rows(plans, interventions) == expected


def test_night_into_new_year_is_a_holiday_and_stays_in_december() -> None:
    # Thu 31/12/2026 22:00 – Fri 01/01/2027 02:00: the part after midnight is a public holiday
    # (Sunday/holiday rate 28,00, PEC 90 %), billed with December.
    assert rows([apa()], [iv(31, "22:00", "02:00+1", month=12)], month=12) == [
        (D(2026, 12, 31), "22:00", "24:00", F, 2200, 4400, 3520, 880),
        (D(2027, 1, 1), "00:00", "02:00", F, 2800, 5600, 5040, 560),
    ]


def test_two_payers_on_one_client() -> None:
    billing = bill_month(
        year=2026,
        month=11,
        client_id=CLIENT,
        interventions=[
            iv(2, "09:00", "11:00"),  # AD: 44,00 → APA 35,20, client 8,80
            iv(10, "14:00", "16:00", "MEN"),  # MEN before the CARSAT plan: client 46,00
            iv(17, "14:00", "16:00", "MEN"),  # MEN: 46,00 → CARSAT 21,00, client 25,00
        ],
        plans=[apa(), carsat()],
        contract=CONTRACT,
    )
    assert billing.payer_totals() == {1: 3520, 2: 2100}
    assert billing.amount_cents == 4400 + 4600 + 4600 == 13_600
    assert billing.payer_cents == 5620
    assert billing.client_cents == 880 + 4600 + 2500 == 7980
    assert [line.plan.payer_name if line.plan else None for line in billing.lines] == [
        "APA Eure-et-Loir",
        None,
        "CARSAT Centre",
    ]
    usage = {u.plan.payer_id: (u.financed_minutes, u.minutes_left) for u in billing.usage}
    assert usage == {1: (120, 480), 2: (120, 120)}


def test_holiday_on_a_sunday_counts_once_against_the_cap() -> None:
    assert day_kind(D(2026, 11, 1)) is DayKind.SUNDAY_HOLIDAY
    billing = bill_month(
        year=2026,
        month=11,
        client_id=CLIENT,
        interventions=[iv(1, "10:00", "12:00")],
        plans=[apa(sunday_cap_minutes=180)],
        contract=CONTRACT,
    )
    (usage,) = billing.usage
    assert (usage.financed_minutes, usage.sunday_minutes) == (120, 120)


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (D(2026, 11, 2), DayKind.WEEKDAY),
        (D(2026, 11, 7), DayKind.SATURDAY),
        (D(2026, 11, 8), DayKind.SUNDAY_HOLIDAY),
        (D(2026, 11, 11), DayKind.SUNDAY_HOLIDAY),  # Armistice, a Wednesday
        (D(2027, 5, 8), DayKind.SUNDAY_HOLIDAY),  # Victoire 1945 on a Saturday: a holiday
        (D(2026, 5, 25), DayKind.SUNDAY_HOLIDAY),  # Pentecost Monday
    ],
)
def test_day_kind(day: date, kind: DayKind) -> None:
    assert day_kind(day) is kind


def test_explanation_lines() -> None:
    billing = bill_month(
        year=2026,
        month=11,
        client_id=CLIENT,
        interventions=[iv(1, "10:00", "12:00"), iv(5, "09:00", "10:00")],
        plans=[apa(sunday_cap_minutes=60, monthly_minutes=90)],
        contract=CONTRACT,
    )
    assert [line.explanation for line in billing.lines] == [
        "dim. 01/11/2026 10:00–11:00 Aide à domicile (dimanche/jour férié) : 1 h 00 × 28,00 € "
        "(tarif du plan) = 28,00 € ; APA Eure-et-Loir : 1 h 00 × 28,00 € × 90 % = 25,20 € ; "
        "client 2,80 €.",
        "dim. 01/11/2026 11:00–11:30 Aide à domicile (dimanche/jour férié) : 0 h 30 × 28,00 € "
        "(tarif du plan) = 14,00 € ; APA Eure-et-Loir : 0 h 30 × 28,00 € × 80 % = 11,20 € "
        "(au-delà du plafond dimanche/JF de 1 h 00 : taux de PEC des jours ouvrés) ; "
        "client 2,80 €.",
        "dim. 01/11/2026 11:30–12:00 Aide à domicile (dimanche/jour férié) : 0 h 30 × 30,00 € "
        "(tarif de la prestation) = 15,00 € ; au-delà des 1 h 30 accordées par APA Eure-et-Loir "
        "pour le mois : client 15,00 €.",
        "jeu. 05/11/2026 09:00–10:00 Aide à domicile (semaine) : 1 h 00 × 24,00 € (tarif de la "
        "prestation) = 24,00 € ; au-delà des 1 h 30 accordées par APA Eure-et-Loir pour le "
        "mois : client 24,00 €.",
    ]


def test_billed_lines_are_the_frozen_dataclass() -> None:
    """Lines are made without the dataclass's constructor (a month has tens of thousands): they
    are still equal to one made with it, and still frozen."""
    billing = bill_month(
        year=2026, month=11, client_id=CLIENT, interventions=[iv(1, "10:00", "12:00")],
        plans=[apa(sunday_cap_minutes=60, monthly_minutes=90)], contract=CONTRACT,
    )  # fmt: skip
    for line in billing.lines:
        assert type(line) is BilledLine
        assert line == BilledLine(**{f.name: getattr(line, f.name) for f in fields(BilledLine)})
        with pytest.raises(FrozenInstanceError):
            line.amount_cents = 0  # type: ignore[misc]
    assert len({hash(line) for line in billing.lines}) == 3


def test_explanation_no_plan_and_sunday_cap_zero() -> None:
    billing = bill_month(
        year=2026,
        month=11,
        client_id=CLIENT,
        interventions=[iv(8, "10:00", "11:00"), iv(9, "14:00", "15:00", "MEN")],
        plans=[apa(sunday_cap_minutes=0)],
        contract=CONTRACT,
    )
    assert billing.lines[0].explanation.endswith(
        "; dimanches et jours fériés non financés par APA Eure-et-Loir (plafond 0) : "
        "client 30,00 €."
    )
    assert billing.lines[1].explanation == (
        "lun. 09/11/2026 14:00–15:00 Ménage (semaine) : 1 h 00 × 23,00 € (tarif de la "
        "prestation) = 23,00 € ; aucun plan d'aide validé pour cette prestation ce jour : "
        "client 23,00 €."
    )


# --- refusals ----------------------------------------------------------------------------------


def test_two_validated_plans_for_one_prestation_on_one_day_are_refused() -> None:
    other = apa(payer_id=3, payer_name="Mutuelle Santé", valid_from=D(2026, 11, 10), plan_id=3)
    with pytest.raises(ValidationError) as caught:
        bill_month(
            year=2026,
            month=11,
            client_id=CLIENT,
            interventions=[iv(9, "09:00", "10:00"), iv(12, "09:00", "10:00")],
            plans=[apa(), other],
            contract=CONTRACT,
        )
    message = str(caught.value)
    assert "le 12/11/2026" in message  # the 9th is covered by the APA plan alone
    assert "APA Eure-et-Loir" in message and "Mutuelle Santé" in message
    assert caught.value.field == "plan"


@pytest.mark.parametrize(
    ("plans", "refused"),
    [
        pytest.param([apa(), apa(valid_from=D(2026, 11, 16))], True, id="open-plan-and-renewal"),
        pytest.param(
            [apa(valid_until=D(2026, 11, 15)), apa(valid_from=D(2026, 11, 16))],
            False,
            id="closed-the-day-before",
        ),
        pytest.param(
            [apa(valid_until=D(2026, 11, 16)), apa(valid_from=D(2026, 11, 16))],
            True,
            id="one-common-day",
        ),
        pytest.param([apa(), apa(prestation="MEN")], False, id="different-prestations"),
        pytest.param([apa(), apa(beneficiary_id=8)], False, id="different-beneficiaries"),
        pytest.param([apa(), apa(state=PlanState.SAISI)], False, id="one-not-validated"),
    ],
)
def test_check_plan_overlaps(plans: list[AidPlan], refused: bool) -> None:
    if refused:
        with pytest.raises(ValidationError, match="Deux plans d'aide validés"):
            check_plan_overlaps(plans)
    else:
        check_plan_overlaps(plans)


@pytest.mark.parametrize(
    ("interventions", "field", "words"),
    [
        pytest.param([iv(2, "09:00", "10:00", month=10)], "day", "pas dans le mois", id="month"),
        pytest.param([iv(2, "09:00", "10:00", "JARDIN")], "prestation", "contrat", id="prestation"),
    ],
)
def test_bill_month_refuses(interventions: list[Intervention], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        rows([apa()], interventions)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_duplicate_contract_prestation_is_refused() -> None:
    with pytest.raises(ValidationError, match="deux fois"):
        bill_month(
            year=2026, month=11, client_id=CLIENT, interventions=[], plans=[], contract=[AD, AD]
        )


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        pytest.param("10:00", "09:00", "end_minute", id="end-before-start"),
        pytest.param("10:00", "10:00", "end_minute", id="zero-length"),
        pytest.param("10:00", "10:01+1", "end_minute", id="over-24h"),
        pytest.param("24:00", "25:00", "start_minute", id="start-past-midnight"),
    ],
)
def test_intervention_refuses(start: str, end: str, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Intervention(D(2026, 11, 2), minutes(start), minutes(end), "AD")
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        pytest.param({"pec_bp": 10_001}, "pec_bp", id="pec-over-100%"),
        pytest.param({"sunday_pec_bp": -1}, "sunday_pec_bp", id="negative-sunday-pec"),
        pytest.param({"monthly_minutes": -60}, "monthly_minutes", id="negative-hours"),
        pytest.param({"sunday_cap_minutes": -1}, "sunday_cap_minutes", id="negative-cap"),
        pytest.param({"valid_until": D(2025, 12, 31)}, "valid_until", id="ends-before-start"),
    ],
)
def test_plan_refuses(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        apa(**changes)
    assert caught.value.field == field


def test_negative_rate_is_refused() -> None:
    with pytest.raises(ValidationError):
        HourlyRates(2200, -1, 2800)


# --- formulas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mins", "rate", "pec", "expected"),
    [
        pytest.param(60, 2200, 8000, 1760, id="1h×22×80%=17.60"),
        pytest.param(90, 2350, 7000, 2468, id="1h30×23.50×70%=24.675-half-up-24.68"),
        pytest.param(50, 2200, 3333, 611, id="50min×22×33.33%=6.1105→6.11"),
        pytest.param(1, 2200, 10_000, 37, id="1min×22=0.3667→0.37"),
        pytest.param(600, 2200, 0, 0, id="pec-0"),
    ],
)
def test_funder_share(mins: int, rate: int, pec: int, expected: int) -> None:
    assert funder_share_cents(mins, rate, pec) == expected


@given(
    plan_rate=st.integers(min_value=0, max_value=10_000),
    contract_rate=st.integers(min_value=0, max_value=10_000),
    pec=st.integers(min_value=0, max_value=10_000),
    start=st.integers(min_value=0, max_value=1439),
    length=st.integers(min_value=1, max_value=1440),
    granted=st.integers(min_value=0, max_value=3000),
    mode=st.sampled_from(list(BillingMode)),
    day=st.integers(min_value=1, max_value=30),
)
def test_shares_always_add_up(
    plan_rate: int,
    contract_rate: int,
    pec: int,
    start: int,
    length: int,
    granted: int,
    mode: BillingMode,
    day: int,
) -> None:
    plan = apa(
        rates=HourlyRates(plan_rate, plan_rate, plan_rate),
        pec_bp=pec,
        sunday_pec_bp=None,
        monthly_minutes=granted,
        billing_mode=mode,
    )
    contract = [
        ContractPrestation("AD", "Aide", HourlyRates(contract_rate, contract_rate, contract_rate))
    ]
    item = Intervention(D(2026, 11, day), start, start + length, "AD")
    billing = bill_month(
        year=2026, month=11, client_id=CLIENT, interventions=[item], plans=[plan], contract=contract
    )
    assert sum(line.minutes for line in billing.lines) == length
    financed = sum(line.minutes for line in billing.lines if line.funding.financed)
    assert financed == min(length, granted)
    for line in billing.lines:
        assert 0 <= line.payer_cents <= line.amount_cents
        assert line.payer_cents + line.client_cents == line.amount_cents
        assert line.amount_cents == amount_cents(line.minutes, line.rate_cents)
    assert billing.payer_cents + billing.client_cents == billing.amount_cents
