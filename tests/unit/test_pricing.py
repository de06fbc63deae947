from __future__ import annotations

from datetime import date, time

import pytest

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.domain.pricing import (
    Act,
    Coverage,
    TariffEntry,
    is_sunday_or_holiday,
    parse_coefficient,
    price_acts,
)

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
