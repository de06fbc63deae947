"""The lot life cycle on PostgreSQL: the wrapping UPDATE … RETURNING, bytea files, keyset pages."""

from __future__ import annotations

import os

import pytest
from lots_support import T0, make_office

from tests.support.postgres import pg_bin, postgres_server
from tuibill.models import Counter, Lot, database, schema
from tuibill.services import lot_views, lots, receiving, rejections, sending, tariffs
from tuibill.services.lot_journal import LotFilter, LotJournalQuery
from tuibill.services.paging import KeysetPager

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_bin() is None and not os.environ.get("CI"), reason="PostgreSQL absent"),
]


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def test_build_send_receive_cancel_on_postgres(pg_url, start_caisse):
    database.bind(pg_url)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    office = make_office()
    ids = office.invoices(3)
    Counter.update(next_value=998).where(
        (Counter.practitioner == office.nurse.id) & (Counter.kind == "lot")
    ).execute()
    caisse = start_caisse()
    caisse.settings.lot_max_invoices = 1

    built = lots.build_lots(caisse.settings, user="anne", now=T0).lots
    assert [s.number_text for s in built] == ["998", "999", "001"]
    assert sending.send_lots(caisse.settings, user="anne", now=T0).all_sent
    report = receiving.receive(caisse.settings, user="anne", now=T0)
    assert [o.file.status for o in report.processed] == ["applique"] * 3
    assert {lot.state for lot in Lot.select()} == {"ARL_POSITIF"}
    # The stored file (bytea) is the file the caisse acknowledged.
    lot = Lot.get(Lot.number == 1)
    assert lot_views.lot_file(lot.id)[1][:7] == b"00TBLOT"
    pager = KeysetPager(LotJournalQuery(LotFilter()), page_size=2)
    assert [pager.row(i).number for i in range(pager.total)] == [1, 999, 998]

    rejections.record_rejection(ids[2], user="anne", reason="rejet papier")
    result = rejections.cancel_transmitted(ids[2], user="anne", reason="rejet", now=T0)
    assert result.lot_cancelled and Lot.get(Lot.number == 1).state == "ANNULE"
