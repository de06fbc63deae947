"""The legal delays as the menu counts them and F7 lists them."""

from __future__ import annotations

from datetime import date, timedelta

from tuibill.config import ReturnSettings
from tuibill.services.dashboard import return_alerts
from tuibill.services.legal_delays import count_late_to_send, late_payments, late_to_send


def test_the_menu_counts_what_the_list_shows(demo_url) -> None:
    # The demo's drafts, seen on several days: none late yet, some, then all past the delay.
    counts = []
    for today in (date(2026, 11, 23) + timedelta(days=n) for n in (-60, -20, -8, -4, 0, 40, 400)):
        listed = late_to_send(today)
        assert count_late_to_send(today) == len(listed), today
        counts.append(len(listed))
        alerts = return_alerts(ReturnSettings(), today)
        sending = [line for line in alerts if "retard d'envoi" in line]
        assert sending == ([f"{len(listed)} FSE en retard d'envoi (R161-47)"] if listed else [])
        unpaid, _ = late_payments(today, ReturnSettings())
        paying = [line for line in alerts if "paiement(s) de caisse" in line]
        assert len(paying) == (1 if unpaid else 0)
    assert len(set(counts)) >= 3 and max(counts) > 0, counts  # drafts become late, then too old
