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


def test_patient_prefix_plans_read_the_same_rows_through_their_indexes(demo_url) -> None:
    """A narrow prefix is read through the name index, a wide one in the journal's order (the
    name checked in the index): both page exactly like a plain ordered query (issue 12)."""
    from tuibill.models import db
    from tuibill.services.journal import BY_DATE_INDEX, BY_NAME_INDEX, _with_index

    seed(20_000, years=3, today=date(2026, 11, 23))
    today = date(2026, 11, 23)
    plans = {}
    for prefix in ("M", "MARTIN", "ZZZ"):
        for all_time in (False, True):
            flt = JournalFilter(patient=prefix, all_time=all_time, today=today)
            query = JournalQuery(flt)
            pager = KeysetPager(query, page_size=64, cache_pages=3)
            low = prefix
            plain = Invoice.select(Invoice.id).where(
                (Invoice.patient_name >= low) & (Invoice.patient_name < low + "\uffff")
            )
            if not all_time:
                plain = plain.where(Invoice.billing_date >= flt.window_start)
            expected = [i for (i,) in plain.order_by(
                Invoice.billing_date.desc(), Invoice.id.desc()).tuples()]  # fmt: skip
            assert pager.total == len(expected)
            assert [pager.row(i).id for i in range(min(300, pager.total))] == expected[:300]
            if pager.total:  # the tail by key, and a jump by offset
                assert pager.row(pager.total - 1).id == expected[-1]
                assert pager.row(pager.total // 2).id == expected[pager.total // 2]
            query.prepare()
            plans[prefix] = query.plan
    assert plans == {"M": "by_date", "MARTIN": "by_name", "ZZZ": "by_name"}
    # The hints really name the indexes SQLite uses.
    for prefix, index in (("M", BY_DATE_INDEX), ("MARTIN", BY_NAME_INDEX)):
        query = JournalQuery(JournalFilter(patient=prefix, all_time=True, today=today))
        query.prepare()
        page = query._newest_first(query._select()).limit(64)
        if query.plan == "by_name":
            page = page.select(Invoice.id)  # the keys only, sorted in the index
        sql, params = _with_index(page, index)
        plan = " ".join(str(row[-1]) for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
        assert index in plan
        if query.plan == "by_date":
            assert "TEMP B-TREE" not in plan  # walked in order: no sort at all


def test_the_plan_counts_the_prefix_no_further_than_its_bound(demo_url, monkeypatch) -> None:
    """prepare() chooses the name index when R² ≤ PAGE × N, counting the prefix's R index
    entries only up to √(PAGE × N): the same choice as a full count, at every boundary."""
    import peewee

    from tuibill.services import journal

    seed(3000, years=2, today=date(2026, 11, 23))
    history = Invoice.select(peewee.fn.MAX(Invoice.id)).scalar()
    plans = set()
    for prefix in ("M", "MA", "MAR", "MARTIN", "D", "DU", "Z"):
        matches = Invoice.select().where(
            (Invoice.patient_name >= prefix) & (Invoice.patient_name < prefix + "\uffff")
        ).count()
        for page in (1, 2, 4, 16, 64, 256, 1024):
            monkeypatch.setattr(journal, "PAGE", page)
            query = JournalQuery(JournalFilter(patient=prefix.lower(), all_time=True))
            query.prepare()
            expected = "by_name" if matches * matches <= page * history else "by_date"
            assert query.plan == expected, (prefix, page, matches, history)
            plans.add(query.plan)
    assert plans == {"by_name", "by_date"}
