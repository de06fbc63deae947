"""Working days and legal delays, table-driven. Calendars of the cases (metropole holidays):

* Dec 2025: Thu 25 Christmas; Jan 2026: Thu 1 New Year's Day.
* Apr–May 2026: Mon 6 Apr Easter Monday; Fri 1 May; Fri 8 May; Thu 14 May Ascension;
  Mon 25 May Pentecost Monday (long weekend Sat 23 – Mon 25).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tuibill.domain.delays import (
    DECREE_2016_1069,
    PaymentDelayRule,
    PenaltyKind,
    add_working_days,
    assess_payment,
    assess_sending,
    format_rate,
    is_working_day,
    next_working_day,
    payment_due,
    payment_penalty,
    payment_penalty_cents,
    send_deadline,
    send_lateness,
    working_day_number,
    working_days_between,
)
from tuibill.domain.errors import ValidationError

D = date


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(D(2025, 12, 24), True, id="wed-24-dec-christmas-eve-works"),
        pytest.param(D(2025, 12, 25), False, id="thu-25-dec-christmas"),
        pytest.param(D(2025, 12, 26), True, id="fri-26-dec-no-boxing-day-in-metropole"),
        pytest.param(D(2026, 1, 1), False, id="thu-1-jan-new-year"),
        pytest.param(D(2026, 5, 1), False, id="fri-1-may"),
        pytest.param(D(2026, 5, 14), False, id="thu-14-may-ascension"),
        pytest.param(D(2026, 5, 25), False, id="mon-25-may-pentecost-monday"),
        pytest.param(D(2026, 5, 16), False, id="saturday"),
        pytest.param(D(2026, 5, 17), False, id="sunday"),
        pytest.param(D(2026, 5, 13), True, id="ordinary-wednesday"),
        pytest.param(D(2026, 11, 1), False, id="sun-1-nov-toussaint-on-a-sunday"),
    ],
)
def test_is_working_day(day: date, expected: bool) -> None:
    assert is_working_day(day) is expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param(D(2026, 5, 13), 0, D(2026, 5, 13), id="zero-is-the-day-itself"),
        pytest.param(D(2026, 5, 11), 1, D(2026, 5, 12), id="mon+1=tue"),
        pytest.param(D(2026, 5, 15), 1, D(2026, 5, 18), id="fri+1=mon-over-weekend"),
        pytest.param(D(2025, 12, 24), 1, D(2025, 12, 26), id="wed-24-dec+1=fri-26-skips-christmas"),
        pytest.param(D(2025, 12, 22), 3, D(2025, 12, 26), id="mon-22-dec+3=23,24,26"),
        pytest.param(D(2026, 4, 30), 1, D(2026, 5, 4), id="thu-30-apr+1=mon-4-may-skips-1-may"),
        pytest.param(D(2026, 5, 13), 1, D(2026, 5, 15), id="wed-13-may+1=fri-15-skips-ascension"),
        pytest.param(D(2026, 5, 22), 1, D(2026, 5, 26), id="fri-22-may+1=tue-26-long-weekend"),
        pytest.param(D(2025, 12, 31), 1, D(2026, 1, 2), id="wed-31-dec+1=fri-2-jan-year-boundary"),
        pytest.param(D(2025, 12, 29), 3, D(2026, 1, 2), id="mon-29-dec+3=30,31,2-jan"),
        pytest.param(D(2026, 5, 16), 1, D(2026, 5, 18), id="from-a-saturday+1=monday"),
        pytest.param(D(2026, 1, 2), -1, D(2025, 12, 31), id="fri-2-jan-1=wed-31-dec-backwards"),
        pytest.param(D(2026, 5, 26), -1, D(2026, 5, 22), id="tue-26-may-1=fri-22-backwards"),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    assert add_working_days(start, n) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(D(2026, 5, 13), D(2026, 5, 13), 0, id="same-day-0"),
        pytest.param(D(2026, 6, 1), D(2026, 6, 5), 4, id="mon-1-to-fri-5-jun-4-tue..fri"),
        pytest.param(D(2026, 5, 11), D(2026, 5, 17), 3, id="mon-11-to-sun-17-3-ascension-off"),
        pytest.param(D(2025, 12, 22), D(2026, 1, 2), 7, id="mon-22-dec-to-fri-2-jan-7"),
        pytest.param(D(2026, 4, 30), D(2026, 5, 8), 4, id="thu-30-apr-to-fri-8-may-4-mon..thu"),
        pytest.param(D(2026, 5, 22), D(2026, 5, 25), 0, id="fri-to-pentecost-monday-0"),
        pytest.param(D(2026, 5, 16), D(2026, 5, 17), 0, id="weekend-only-0"),
        pytest.param(D(2026, 1, 2), D(2025, 12, 31), -1, id="reversed-is-negative"),
    ],
)
def test_working_days_between(start: date, end: date, expected: int) -> None:
    assert working_days_between(start, end) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(D(2026, 5, 13), D(2026, 5, 13), id="working-day-itself"),
        pytest.param(D(2026, 5, 16), D(2026, 5, 18), id="saturday-to-monday"),
        pytest.param(D(2026, 5, 23), D(2026, 5, 26), id="sat-23-may-to-tue-26-pentecost"),
        pytest.param(D(2025, 12, 25), D(2025, 12, 26), id="christmas-to-26"),
    ],
)
def test_next_working_day(day: date, expected: date) -> None:
    assert next_working_day(day) == expected


@given(
    start=st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)),
    n=st.integers(min_value=0, max_value=60),
)
def test_add_then_count_round_trip(start: date, n: int) -> None:
    end = add_working_days(start, n)
    assert working_days_between(start, end) == n
    assert n == 0 or is_working_day(end)
    assert end - start <= timedelta(days=3 * n + 7)  # never wildly far


# --- R161-47 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "tiers_payant", "expected"),
    [
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 7), id="paid-mon-4-may-3wd=thu-7"),
        pytest.param(
            D(2026, 5, 4), True, D(2026, 5, 18), id="tp-mon-4-may-8wd=5,6,7,11,12,13,15,18"
        ),
        pytest.param(D(2025, 12, 22), False, D(2025, 12, 26), id="paid-mon-22-dec-3wd=fri-26"),
        pytest.param(D(2025, 12, 22), True, D(2026, 1, 5), id="tp-mon-22-dec-8wd=mon-5-jan"),
        pytest.param(D(2026, 5, 20), False, D(2026, 5, 26), id="paid-wed-20-may-3wd=21,22,26"),
        pytest.param(D(2026, 5, 16), False, D(2026, 5, 20), id="care-on-saturday-3wd=18,19,20"),
    ],
)
def test_send_deadline(start: date, tiers_payant: bool, expected: date) -> None:
    assert send_deadline(start, tiers_payant) == expected


@pytest.mark.parametrize(
    ("start", "tiers_payant", "sent_on", "expected"),
    [
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 4), 0, id="sent-same-day"),
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 7), 0, id="sent-on-deadline-thu-7"),
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 11), 1, id="sent-mon-11-1-late-fri-8-off"),
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 9), 1, id="sent-sat-9-counts-as-mon-11-1"),
        pytest.param(D(2026, 5, 4), False, D(2026, 5, 15), 4, id="sent-fri-15-4-late-11,12,13,15"),
        pytest.param(D(2026, 5, 4), True, D(2026, 5, 15), 0, id="tp-same-date-on-time"),
        pytest.param(D(2026, 5, 4), True, D(2026, 5, 19), 1, id="tp-tue-19-1-late"),
        pytest.param(D(2025, 12, 22), True, D(2026, 1, 6), 1, id="tp-christmas-tue-6-jan-1-late"),
    ],
)
def test_send_lateness(start: date, tiers_payant: bool, sent_on: date, expected: int) -> None:
    assert send_lateness(start, tiers_payant, sent_on) == expected


def test_assess_sending_not_sent_counts_on_today() -> None:
    state = assess_sending(D(2026, 5, 4), False, sent_on=None, today=D(2026, 5, 12))
    assert (state.deadline, state.as_of, state.days_late, state.late) == (
        D(2026, 5, 7),
        D(2026, 5, 12),
        2,  # Mon 11, Tue 12
        True,
    )
    assert "non transmise avec 2 jour(s)" in state.label
    assert "07/05/2026" in state.label


def test_assess_sending_on_time_label() -> None:
    state = assess_sending(D(2026, 5, 4), True, sent_on=D(2026, 5, 5), today=D(2026, 6, 1))
    assert not state.late
    assert state.as_of == D(2026, 5, 5)
    assert state.label == "À transmettre avant le 18/05/2026 inclus (8 jours ouvrés)."


# --- décret 2016-1069 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(D(2026, 5, 4), D(2026, 5, 15), id="mon-4-may+7=5,6,7,11,12,13,15"),
        pytest.param(D(2025, 12, 22), D(2026, 1, 2), id="mon-22-dec+7=fri-2-jan"),
        pytest.param(D(2026, 5, 20), D(2026, 6, 1), id="wed-20-may+7=21,22,26,27,28,29,1-jun"),
    ],
)
def test_payment_due(start: date, expected: date) -> None:
    assert payment_due(start) == expected


# Start Mon 4 May 2026: day 7 = Fri 15, day 8 = Mon 18, day 9 = Tue 19, day 10 = Wed 20.
@pytest.mark.parametrize(
    ("paid_on", "amo_cents", "kind", "penalty"),
    [
        pytest.param(D(2026, 5, 4), 1234, PenaltyKind.NONE, 0, id="paid-day-0"),
        pytest.param(D(2026, 5, 15), 1234, PenaltyKind.NONE, 0, id="paid-day-7-on-time"),
        pytest.param(D(2026, 5, 18), 1234, PenaltyKind.FLAT, 100, id="paid-day-8-1eur"),
        pytest.param(D(2026, 5, 19), 1234, PenaltyKind.FLAT, 100, id="paid-day-9-1eur"),
        pytest.param(D(2026, 5, 16), 1234, PenaltyKind.FLAT, 100, id="paid-sat-16-counts-as-day-8"),
        pytest.param(D(2026, 5, 20), 1234, PenaltyKind.SHARE, 123, id="day-10-10pc-of-12.34=1.234"),
        pytest.param(D(2026, 5, 20), 1235, PenaltyKind.SHARE, 124, id="day-10-12.35-half-up-124"),
        pytest.param(D(2026, 6, 30), 4500, PenaltyKind.SHARE, 450, id="weeks-late-10pc-of-45=4.50"),
        pytest.param(D(2026, 5, 20), 5, PenaltyKind.SHARE, 1, id="day-10-tiny-share-0.5c-up-1"),
        pytest.param(D(2026, 5, 20), 0, PenaltyKind.SHARE, 0, id="day-10-no-amo-share-0"),
    ],
)
def test_payment_penalty(paid_on: date, amo_cents: int, kind: PenaltyKind, penalty: int) -> None:
    assert payment_penalty(D(2026, 5, 4), paid_on, amo_cents) == (kind, penalty)
    assert payment_penalty_cents(D(2026, 5, 4), paid_on, amo_cents) == penalty


def test_payment_penalty_refuses_negative_share() -> None:
    with pytest.raises(ValidationError) as caught:
        payment_penalty(D(2026, 5, 4), D(2026, 5, 20), -1)
    assert caught.value.field == "amo_cents"


@pytest.mark.parametrize(
    ("paid_on", "today", "day", "late", "kind", "penalty", "label"),
    [
        pytest.param(
            D(2026, 5, 15), D(2026, 6, 30), 7, 0, PenaltyKind.NONE, 0,
            "dans le délai de 7 jours ouvrés", id="paid-day-7",
        ),
        pytest.param(
            D(2026, 5, 19), D(2026, 6, 30), 9, 2, PenaltyKind.FLAT, 100,
            "forfait de 1,00 € (payée du 8e au 9e jour ouvré)", id="paid-day-9",
        ),
        pytest.param(
            None, D(2026, 5, 21), 11, 4, PenaltyKind.SHARE, 200,
            "10 % de la part AMO (payée à partir du 10e jour ouvré)", id="unpaid-thu-21-day-11",
        ),
    ],
)  # fmt: skip
def test_assess_payment(
    paid_on: date | None,
    today: date,
    day: int,
    late: int,
    kind: PenaltyKind,
    penalty: int,
    label: str,
) -> None:
    state = assess_payment(D(2026, 5, 4), 2000, paid_on=paid_on, today=today)
    assert state.due == D(2026, 5, 15)
    assert (state.day_number, state.days_late, state.penalty_kind) == (day, late, kind)
    assert state.penalty_cents == penalty
    assert state.late is (late > 0)
    assert state.rule_label == label
    assert state.as_of == (paid_on or today)


def test_payment_rule_is_a_parameter() -> None:
    # A caisse's derogation for a sanctioned practitioner: 30 working days (what the penalties
    # become then is not in the texts found: both limits are parameters).
    rule = PaymentDelayRule(max_days=30, last_flat_day=32)
    start = D(2026, 5, 4)
    assert payment_due(start, rule) == add_working_days(start, 30)
    assert payment_penalty_cents(start, add_working_days(start, 10), 5000, rule) == 0
    assert payment_penalty_cents(start, add_working_days(start, 31), 5000, rule) == 100  # 1 €
    assert payment_penalty_cents(start, add_working_days(start, 33), 5000, rule) == 500  # 10 %
    assert DECREE_2016_1069 == PaymentDelayRule(7, 9, 100, 1000)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"max_days": 0}, id="no-delay"),
        pytest.param({"max_days": 7, "last_flat_day": 6}, id="flat-before-delay"),
        pytest.param({"share_rate_bp": 10_001}, id="rate-over-100pc"),
        pytest.param({"flat_penalty_cents": -1}, id="negative-flat"),
    ],
)
def test_payment_rule_refuses_nonsense(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        PaymentDelayRule(**kwargs)


@pytest.mark.parametrize(
    ("bp", "text"),
    [(1000, "10 %"), (3333, "33,33 %"), (1250, "12,5 %"), (0, "0 %"), (10_000, "100 %")],
)
def test_format_rate(bp: int, text: str) -> None:
    assert format_rate(bp) == text


@given(
    start=st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)),
    offset=st.integers(min_value=0, max_value=40),
)
def test_working_day_number_is_monotonic(start: date, offset: int) -> None:
    day = start + timedelta(days=offset)
    assert working_day_number(start, day) <= working_day_number(start, day + timedelta(days=1))
