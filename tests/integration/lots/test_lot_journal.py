"""Journal des lots: keyset paging over many lots, filters, same order as a full sort."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from tuibill.domain.lots import LotState
from tuibill.models import Lot, db
from tuibill.services.lot_journal import LotFilter, LotJournalQuery
from tuibill.services.paging import KeysetPager

START = datetime(2024, 1, 1, 8, 0, 0)


def seed_lots(office, count: int) -> list[dict]:
    rng = random.Random(7)
    states = list(LotState)
    rows = []
    for i in range(count):
        practitioner = office.nurse if i % 3 else office.kine
        organism = office.cpam if i % 2 else office.lille
        rows.append(
            {
                "practitioner": practitioner.id,
                "organism": organism.id,
                "kind": "SCOR" if i % 10 == 0 else "FSE",
                "number": i % 999 + 1,
                "state": rng.choice(states).value,
                # Several lots share a creation second: the id breaks the tie.
                "created_at": START + timedelta(minutes=(i // 3) * 37),
                "destination": f"{organism.regime}{organism.caisse}",
                "invoice_count": i % 7 + 1,
                "total_cents": 1000 + i,
            }
        )
    with db.atomic():
        for chunk in range(0, count, 200):
            Lot.insert_many(rows[chunk : chunk + 200]).execute()
    return rows


def expected(flt: LotFilter) -> list[int]:
    query = Lot.select(Lot.id, Lot.created_at, Lot.state, Lot.kind, Lot.destination)
    lots = [
        lot
        for lot in query
        if (flt.state is None or lot.state == flt.state.value)
        and (flt.kind is None or lot.kind == flt.kind)
        and (flt.destination is None or lot.destination == flt.destination)
        and (flt.since is None or lot.created_at.date() >= flt.since)
    ]
    return [lot.id for lot in sorted(lots, key=lambda lot: (lot.created_at, lot.id), reverse=True)]


def test_pager_reads_by_key_in_journal_order(office):
    seed_lots(office, 900)
    query = LotJournalQuery(LotFilter())
    pager = KeysetPager(query, page_size=64, cache_pages=4)
    assert pager.total == 900
    order = expected(LotFilter())
    assert [pager.row(i).id for i in range(900)] == order  # top to bottom, page after page
    assert pager.reads["offset"] == 0
    # The bottom first (from the tail), then upwards by key.
    pager = KeysetPager(query, page_size=64, cache_pages=4)
    assert [pager.row(i).id for i in range(899, -1, -1)] == order[::-1]
    assert pager.reads["offset"] == 0 and pager.reads["tail"] == 1
    # A jump into the unknown middle.
    pager = KeysetPager(query, page_size=64)
    assert pager.row(450).id == order[450] and pager.reads["offset"] == 1
    assert pager.row(900) is None


def test_filters(office):
    seed_lots(office, 300)
    for flt in (
        LotFilter(state=LotState.TRANSMIS),
        LotFilter(kind="SCOR"),
        LotFilter(destination="01595", state=LotState.ARL_POSITIF),
        LotFilter(since=date(2024, 1, 3)),
    ):
        query = LotJournalQuery(flt)
        pager = KeysetPager(query, page_size=16)
        assert [pager.row(i).id for i in range(pager.total)] == expected(flt), flt
    rows = LotJournalQuery(LotFilter(number=5)).page_after(None)
    assert {row.number_text for row in rows} == {"005"}
    row = rows[0]
    assert row.practitioner in ("GAUTIER Anne", "NOËL Marc") and row.organism.startswith("CPAM")
    several = LotJournalQuery(LotFilter(states=(LotState.EN_COURS, LotState.TRAITEMENT_MANUEL)))
    assert {r.state for r in several.page_after(None, 500)} <= {
        LotState.EN_COURS,
        LotState.TRAITEMENT_MANUEL,
    }
