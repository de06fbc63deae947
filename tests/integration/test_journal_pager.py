"""The journal pages by key and agrees with a plain ordered query, wherever one looks."""

from __future__ import annotations

from datetime import date

from tuibill.models import Invoice
from tuibill.services.journal import JournalFilter, JournalQuery
from tuibill.services.paging import KeysetPager
from tuibill.services.seed import seed


def test_pager_matches_ordered_query_and_reads_by_key(demo_url) -> None:
    seed(5000, years=2, today=date(2026, 11, 23))
    everything = [
        i.id for i in Invoice.select(Invoice.id).order_by(Invoice.billing_date.desc(), Invoice.id.desc())
    ]
    pager = KeysetPager(JournalQuery(JournalFilter(all_time=True)), page_size=128, cache_pages=4)
    assert pager.total == len(everything)
    for i in range(0, 600):  # walking down from the top: only key reads
        assert pager.row(i).id == everything[i]
    assert pager.reads["offset"] == 0
    assert pager.row(pager.total - 1).id == everything[-1]  # End: the tail, in reverse, by key
    assert pager.reads["tail"] == 1 and pager.reads["offset"] == 0
    for i in range(pager.total - 1, pager.total - 400, -1):  # walking up from the end: by key
        assert pager.row(i).id == everything[i]
    assert pager.reads["offset"] == 0
    middle = pager.total // 2
    assert pager.row(middle).id == everything[middle]  # a jump: the offset fallback
    assert pager.reads["offset"] == 1


def test_default_window_and_filters(demo_url) -> None:
    seed(2000, years=3, today=date(2026, 11, 23))
    today = date(2026, 11, 23)
    window = JournalQuery(JournalFilter(today=today))
    unlimited = JournalQuery(JournalFilter(today=today, all_time=True))
    assert 0 < window.count() < unlimited.count()
    old = Invoice.select().where(Invoice.number.is_null(False)).order_by(Invoice.billing_date).first()
    found = JournalQuery(JournalFilter(number=old.number, today=today)).page_after(None)
    assert old.id in [r.id for r in found]  # a number search ignores the 2-month window
    rows = JournalQuery(JournalFilter(patient="dup", all_time=True, today=today)).page_after(None, 500)
    assert rows and all(r.patient_name.startswith("DUP") for r in rows)
    rows = JournalQuery(JournalFilter(state="SAISIE", all_time=True, today=today)).page_after(None, 500)
    assert rows and {r.state for r in rows} == {"SAISIE"}
