"""The legal delays as the menu counts them and F7 lists them."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tuibill.config import ReturnSettings
from tuibill.domain.delays import assess_sending, next_working_day
from tuibill.services.dashboard import return_alerts
from tuibill.services.legal_delays import (
    count_late_payments,
    count_late_to_send,
    late_payments,
    late_to_send,
    sent_late,
)


def test_the_menu_counts_the_fse_the_list_shows(demo_url) -> None:
    # The demo's drafts, seen on several days: none late yet, some, then all past the delay.
    counts = []
    for today in (date(2026, 11, 23) + timedelta(days=n) for n in (-60, -20, -8, -4, 0, 40, 400)):
        listed = late_to_send(today)
        assert count_late_to_send(today) == len(listed), today
        counts.append(len(listed))
        alerts = return_alerts(ReturnSettings(), today)
        sending = [line for line in alerts if "retard d'envoi" in line]
        assert sending == ([f"{len(listed)} FSE en retard d'envoi (R161-47)"] if listed else [])
    assert len(set(counts)) >= 3 and max(counts) > 0, counts  # drafts become late, then too old


def test_the_menu_counts_the_payments_the_list_shows(story_url) -> None:
    # The demo's story has lots sent and answered: unpaid ones become late as days pass.
    counts = []
    for payment_start in ("arl", "envoi"):
        settings = ReturnSettings(payment_start=payment_start)
        for today in (date(2026, 11, 23) + timedelta(days=n) for n in (-30, 0, 10, 30, 90)):
            unpaid, _ = late_payments(today, settings)
            assert count_late_payments(today, settings) == len(unpaid), (payment_start, today)
            alerts = return_alerts(settings, today)
            paying = [line for line in alerts if "paiement(s) en retard" in line]
            expected = f"{len(unpaid)} paiement(s) en retard (F7 r)"
            assert paying == ([expected] if unpaid else [])
            counts.append(len(unpaid))
    assert len(set(counts)) >= 2 and max(counts) > 0, counts


def test_the_menu_counts_each_day_as_the_lists_do(story_url) -> None:
    # Day by day: the menu counts from the last late day, found once per count (last_late_day);
    # a day too early or too late would show on the day a delay ends.
    changes = 0
    for payment_start in ("arl", "envoi"):
        settings = ReturnSettings(payment_start=payment_start)
        before = None
        for today in (date(2026, 11, 1) + timedelta(days=n) for n in range(60)):
            unpaid, _ = late_payments(today, settings)
            to_send = late_to_send(today)
            counted = (count_late_payments(today, settings), count_late_to_send(today))
            assert counted == (len(unpaid), len(to_send)), (payment_start, today)
            changes += before is not None and counted != before
            before = counted
    assert changes >= 4, changes  # the counts did move over those days


@given(
    start=st.dates(date(2024, 1, 1), date(2027, 12, 31)),
    after=st.integers(0, 400),
    tiers_payant=st.booleans(),
)
def test_the_menu_tells_late_fse_as_the_list_does(start, after, tiers_payant) -> None:
    # Weekends and holidays included: a deadline on Friday is not late on Saturday or Sunday.
    today = start + timedelta(days=after)
    expected = assess_sending(start, tiers_payant, sent_on=None, today=today).late
    assert sent_late(start, tiers_payant, next_working_day(today)) is expected
