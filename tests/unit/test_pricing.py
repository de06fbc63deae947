from __future__ import annotations

from datetime import date, time

import pytest

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.domain.pricing import (
    Act,
    Coverage,
    TariffEntry,
    parse_coefficient,
    price_acts,
)
from tuibill.domain.public_holidays import is_sunday_or_holiday

TARIFFS = {
    "AMI": TariffEntry("AMI", "Acte médico-infirmier", "act", 315, 50, 3000),
    "AIS": TariffEntry("AIS", "Acte infirmier de soins", "act", 265, 50, 3000),
    "NUIT": TariffEntry("NUIT", "Nuit", "majoration", 915),
    "NUITP": TariffEntry("NUITP", "Nuit profonde", "majoration", 1830),
    "DIM": TariffEntry("DIM", "Dimanche/férié", "majoration", 850),
    "MAU": TariffEntry("MAU", "Acte unique", "majoration", 135),
    "MCI": TariffEntry("MCI", "Coordination", "majoration", 500),
    "MIE": TariffEntry("MIE", "Jeune enfant", "majoration", 315),
    "IFD": TariffEntry("IFD", "Déplacement", "travel", 275),
    "IK": TariffEntry("IK", "Kilomètre", "travel", 35),
}


def lookup(code: str, day: date):
    return TARIFFS.get(code)


WEDNESDAY = date(2026, 11, 18)
SUNDAY = date(2026, 11, 22)
ARMISTICE = date(2026, 11, 11)  # a Wednesday, public holiday


def codes(priced):
    return [line.code for line in priced.lines]


def test_weekday_act_with_coefficient() -> None:
    priced = price_acts([Act(WEDNESDAY, "AMI", 150, time(10, 0))], lookup, Coverage())
    assert codes(priced) == ["AMI"]
    assert priced.total_cents == 473  # 3,15 × 1,5 = 4,725 → 4,73 (half up)
    assert priced.amo_cents == 284  # 60 % of 4,73 = 2,838
    assert priced.patient_cents == 189 and priced.amc_cents == 0


def test_sunday_adds_the_majoration() -> None:
    priced = price_acts([Act(SUNDAY, "AMI", 100, time(10, 0))], lookup, Coverage())
    assert codes(priced) == ["AMI", "DIM"]
    assert priced.total_cents == 315 + 850


def test_public_holiday_from_the_holidays_package() -> None:
    assert is_sunday_or_holiday(ARMISTICE)
    assert is_sunday_or_holiday(date(2026, 7, 14))
    assert not is_sunday_or_holiday(WEDNESDAY)
    priced = price_acts([Act(ARMISTICE, "AIS", 300)], lookup, Coverage())
    assert codes(priced) == ["AIS", "DIM"]
    assert priced.total_cents == 795 + 850


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (time(7, 59), "NUIT"),
        (time(8, 0), None),
        (time(19, 59), None),
        (time(20, 0), "NUIT"),
        (time(22, 59), "NUIT"),
        (time(23, 0), "NUITP"),
        (time(4, 59), "NUITP"),
        (time(5, 0), "NUIT"),
    ],
)
def test_night_bands(at: time, expected: str | None) -> None:
    priced = price_acts([Act(WEDNESDAY, "AMI", 100, at)], lookup, Coverage())
    assert codes(priced) == ["AMI"] + ([expected] if expected else [])


def test_night_on_sunday_is_not_cumulative() -> None:
    priced = price_acts([Act(SUNDAY, "AMI", 100, time(21, 0))], lookup, Coverage())
    assert codes(priced) == ["AMI", "NUIT"]


def test_requested_majorations_travel_and_mileage() -> None:
    act = Act(WEDNESDAY, "AMI", 100, time(9, 0), ("MAU", "MCI"), True, 12)
    priced = price_acts([act], lookup, Coverage(amo_rate=100))
    assert codes(priced) == ["AMI", "MAU", "MCI", "IFD", "IK"]
    assert priced.lines[-1].quantity == 12 and priced.lines[-1].total_cents == 420
    assert priced.total_cents == 315 + 135 + 500 + 275 + 420
    assert priced.amo_cents == priced.total_cents  # ALD: 100 %
    assert all(line.parent == 0 for line in priced.lines[1:])


def test_rest_goes_to_the_amc_when_there_is_one() -> None:
    priced = price_acts([Act(WEDNESDAY, "AIS", 300)], lookup, Coverage(60, has_amc=True))
    assert (priced.total_cents, priced.amo_cents, priced.amc_cents, priced.patient_cents) == (
        795, 477, 318, 0
    )


def test_refusals_in_french() -> None:
    with pytest.raises(ValidationError, match="hors limites") as info:
        price_acts([Act(WEDNESDAY, "AMI", 5000)], lookup, Coverage())
    assert info.value.field == "coefficient"
    with pytest.raises(ValidationError, match="Aucun tarif « ZZZ »"):
        price_acts([Act(WEDNESDAY, "ZZZ")], lookup, Coverage())
    with pytest.raises(ValidationError, match="majoration, pas un acte"):
        price_acts([Act(WEDNESDAY, "MAU")], lookup, Coverage())
    with pytest.raises(ValidationError, match="Majoration inconnue"):
        price_acts([Act(WEDNESDAY, "AMI", majorations=("XYZ",))], lookup, Coverage())


def test_coefficients_and_money_text() -> None:
    assert parse_coefficient("1,5") == 150
    assert parse_coefficient("2") == 200
    assert parse_coefficient("0.25") == 25
    for bad in ("abc", "1,234", "-1", ""):
        with pytest.raises(ValidationError):
            parse_coefficient(bad)
    assert format_cents(32895) == "328,95"
    assert format_cents(-5) == "-0,05"


# --- once per visit (NGAP dispositions générales, art. 13, 14, 23.1): issue 13 #10 ----------


def test_sunday_majoration_once_for_two_acts_of_one_visit() -> None:
    acts = [Act(SUNDAY, "AMI", 100, time(10, 0)), Act(SUNDAY, "AIS", 300, time(10, 0))]
    priced = price_acts(acts, lookup, Coverage())
    assert codes(priced) == ["AMI", "DIM", "AIS"]
    assert priced.total_cents == 315 + 850 + 795


def test_two_visits_on_a_sunday_each_have_their_majoration() -> None:
    acts = [Act(SUNDAY, "AMI", 100, time(8, 30)), Act(SUNDAY, "AMI", 100, time(18, 0))]
    assert codes(price_acts(acts, lookup, Coverage())) == ["AMI", "DIM", "AMI", "DIM"]


def test_night_majoration_once_per_night_visit() -> None:
    acts = [Act(WEDNESDAY, "AMI", 200, time(21, 0)), Act(WEDNESDAY, "AIS", 100, time(21, 0))]
    assert codes(price_acts(acts, lookup, Coverage())) == ["AMI", "NUIT", "AIS"]


def test_travel_is_paid_once_per_visit() -> None:
    acts = [
        Act(WEDNESDAY, "AMI", 100, time(9, 0), home_visit=True, mileage_km=12),
        Act(WEDNESDAY, "AIS", 300, time(9, 0), home_visit=True, mileage_km=12),
    ]
    priced = price_acts(acts, lookup, Coverage())
    assert codes(priced) == ["AMI", "IFD", "IK", "AIS"]
    assert priced.lines[2].quantity == 12
    with pytest.raises(ValidationError, match="une fois par déplacement"):
        price_acts(
            [Act(WEDNESDAY, "AMI", 100, time(9, 0), mileage_km=12),
             Act(WEDNESDAY, "AIS", 300, time(9, 0), mileage_km=8)],
            lookup, Coverage(),
        )  # fmt: skip


def test_coordination_majoration_once_per_visit() -> None:
    acts = [
        Act(WEDNESDAY, "AMI", 400, time(9, 0), ("MCI",)),
        Act(WEDNESDAY, "AMI", 100, time(9, 0), ("MCI",)),
    ]
    assert codes(price_acts(acts, lookup, Coverage())) == ["AMI", "MCI", "AMI"]


@pytest.mark.parametrize(
    "acts",
    [
        pytest.param([Act(WEDNESDAY, "AMI", 100, time(9), ("MAU",)), Act(WEDNESDAY, "AMI", 100, time(9))], id="two-acts"),
        pytest.param([Act(WEDNESDAY, "AMI", 200, time(9), ("MAU",))], id="AMI-2"),
        pytest.param([Act(WEDNESDAY, "AIS", 100, time(9), ("MAU",))], id="AIS"),
    ],
)  # fmt: skip
def test_mau_only_for_a_single_ami_1_or_1_5(acts) -> None:
    with pytest.raises(ValidationError, match="acte unique") as info:
        price_acts(acts, lookup, Coverage())
    assert info.value.field == "majorations"


def test_mau_at_each_visit_of_a_series() -> None:
    """NGAP (décision UNCAM 20/12/11): an injection AMI 1 twice a day gets the MAU at each
    visit where it is the only act."""
    acts = [
        Act(WEDNESDAY, "AMI", 100, time(8, 30), ("MAU",)),
        Act(WEDNESDAY, "AMI", 150, time(18, 30), ("MAU",)),
    ]
    assert codes(price_acts(acts, lookup, Coverage())) == ["AMI", "MAU", "AMI", "MAU"]


def test_mie_for_a_child_under_seven_only() -> None:
    act = Act(WEDNESDAY, "AMI", 100, time(9), ("MIE",))
    assert codes(price_acts([act], lookup, Coverage(), birth_date=date(2021, 1, 5))) == ["AMI", "MIE"]
    with pytest.raises(ValidationError, match="moins de 7 ans"):
        price_acts([act], lookup, Coverage(), birth_date=date(2019, 11, 18))  # 7 that day
