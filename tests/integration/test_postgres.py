"""The same invoice life cycle on PostgreSQL, where concurrency matters most."""

from __future__ import annotations

import multiprocessing
import os
from datetime import date, timedelta

import pytest

from tests.support.postgres import pg_bin, postgres_server
from tuibill.domain.acts import Act
from tuibill.models import Invoice, database, db, schema

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_bin() is None and not os.environ.get("CI"), reason="PostgreSQL absent"),
]


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def _desk(url: str, ids: list[int], desk: int) -> None:
    from tuibill.models import database as db_module
    from tuibill.services import invoices as invoice_service

    db_module.bind(url)
    for invoice_id in ids:
        invoice_service.validate(invoice_id, user=f"poste{desk}")


def test_life_cycle_numbering_journal_and_seed_on_postgres(pg_url) -> None:
    from tuibill.domain.patients import nir_key
    from tuibill.services import invoices as invoice_service
    from tuibill.services import patients, practice, tariffs
    from tuibill.services.journal import JournalFilter, JournalQuery
    from tuibill.services.paging import KeysetPager
    from tuibill.services.seed import seed

    database.bind(pg_url)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567", invoice_number_start=1)
    first13 = "1500528123456"
    patient = patients.create_patient(
        patients.PatientInput("Dupuis", "Alain", date(1950, 5, 1), first13 + nir_key(first13))
    )
    day = date.today() - timedelta(days=2)
    ids = [
        invoice_service.create_invoice(nurse.id, patient.id, [Act(act_date=day, code="AMI")], user="u").id
        for _ in range(60)
    ]
    db.close()
    ctx = multiprocessing.get_context("spawn")
    desks = [ctx.Process(target=_desk, args=(pg_url, ids[k::3], k)) for k in range(3)]
    for p in desks:
        p.start()
    for p in desks:
        p.join(120)
        assert p.exitcode == 0
    database.bind(pg_url)
    assert sorted(i.number for i in Invoice.select()) == list(range(1, 61))

    seed(3000, years=1)
    assert Invoice.select().count() == 3060
    pager = KeysetPager(JournalQuery(JournalFilter(all_time=True)), page_size=100)
    assert pager.total == 3060
    last = pager.row(pager.total - 1)
    assert last is not None and last.billing_date == min(i.billing_date for i in Invoice.select(Invoice.billing_date))
    found = JournalQuery(JournalFilter(patient="dupuis a", all_time=True)).count()
    assert found >= 60
    # The seeded rows did not break the id sequences: the ORM can still insert.
    invoice_service.create_invoice(nurse.id, patient.id, [Act(act_date=day, code="AMI")], user="u")
    # The menu's « À faire » counts what the lists show, on PostgreSQL too (booleans, dates).
    from tuibill.config import ReturnSettings
    from tuibill.services.dashboard import MenuFacts
    from tuibill.services.legal_delays import (
        count_late_payments,
        count_late_to_send,
        late_payments,
        late_to_send,
    )

    for today in (date.today(), date.today() + timedelta(days=30)):
        assert count_late_to_send(today) == len(late_to_send(today))
        assert count_late_payments(today, ReturnSettings()) == len(
            late_payments(today, ReturnSettings())[0]
        )
    assert count_late_to_send(date.today() + timedelta(days=30)) > 0
    facts = MenuFacts(ReturnSettings(), date.today()).start()
    facts.join(timeout=60)
    assert facts.check_read and facts.counts and facts.alerts is not None
