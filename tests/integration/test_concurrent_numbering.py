"""Several desks (processes) validating at once on one SQLite file: no duplicate, no gap."""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta

from tuibill.domain.acts import Act
from tuibill.models import Invoice, database


def _desk(url: str, ids: list[int], desk: int) -> None:
    from tuibill.models import database as db_module
    from tuibill.services import invoices as invoice_service

    db_module.bind(url)
    for invoice_id in ids:
        invoice_service.validate(invoice_id, user=f"poste{desk}")


def test_four_desks_validate_at_once(db_url) -> None:
    from tuibill.domain.patients import nir_key
    from tuibill.services import invoices as invoice_service
    from tuibill.services import patients, practice

    nurse = practice.create_practitioner("GAUTIER", "Anne", "281234567", invoice_number_start=100)
    first13 = "1500528123456"
    patient = patients.create_patient(
        patients.PatientInput("DUPUIS", "Alain", date(1950, 5, 1), first13 + nir_key(first13))
    )
    day = date.today() - timedelta(days=1)
    ids = [
        invoice_service.create_invoice(
            nurse.id, patient.id, [Act(act_date=day, code="AMI")], user="u"
        ).id
        for _ in range(200)
    ]
    database.bind(db_url)  # release our connection before forking
    from tuibill.models import db

    db.close()
    ctx = multiprocessing.get_context("spawn")
    desks = [ctx.Process(target=_desk, args=(db_url, ids[k::4], k)) for k in range(4)]
    for p in desks:
        p.start()
    for p in desks:
        p.join(120)
        assert p.exitcode == 0
    database.bind(db_url)
    numbers = sorted(i.number for i in Invoice.select(Invoice.number))
    assert numbers == list(range(100, 300))  # every invoice numbered, no gap, no duplicate
    users = {t.user for inv in Invoice.select() for t in inv.transitions if t.action == "validate"}
    assert users == {"poste0", "poste1", "poste2", "poste3"}
