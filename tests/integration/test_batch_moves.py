"""A desk's selection moved in batches (``invoices.apply_many`` → ``lifecycle.move_each``) ends
exactly as moving each invoice on its own would: same states, numbers, securing, lots, history,
refusals and messages (issue 12: a batch validation in a few statements)."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
from datetime import date, timedelta

import pytest

from tuibill.domain.errors import RefusedOperation
from tuibill.domain.invoices import InvoiceAction
from tuibill.models import (
    Counter,
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    IsolatedAct,
    Patient,
    PrescriptionItem,
    database,
    db,
)
from tuibill.services import audit
from tuibill.services import invoices as invoice_service

TODAY = date(2026, 11, 23)


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory) -> str:
    """The demo practice, plus drafts a validation must refuse: an act after the patient's
    death, and a draft without any act."""
    from tests.conftest import make_db
    from tuibill.services.demo import build_demo

    path = str(tmp_path_factory.mktemp("batch") / "demo.sqlite")
    make_db(path)
    build_demo(today=TODAY)
    drafts = list(Invoice.select().where(Invoice.state == "SAISIE").order_by(Invoice.id))
    dead = drafts[1]
    Patient.update(death_date=TODAY - timedelta(days=300)).where(
        Patient.id == dead.patient_id
    ).execute()
    InvoiceLine.delete().where(InvoiceLine.invoice == drafts[3].id).execute()
    db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def copy_of(source: str, target) -> str:
    shutil.copyfile(source, target)
    database.bind(str(target))
    return str(target)


def snapshot() -> dict:
    return {
        "invoices": list(
            Invoice.select(
                Invoice.id, Invoice.state, Invoice.number, Invoice.mode, Invoice.signature,
                Invoice.secured_at, Invoice.lot, Invoice.lot_number, Invoice.tla_key,
            ).order_by(Invoice.id).tuples()
        ),
        # The same rows, in any order: a batch writes the moves it does one by one (a sent lot
        # to leave) before the others; the chain's order is checked by audit.verify.
        "history": sorted(
            InvoiceTransition.select(
                InvoiceTransition.invoice, InvoiceTransition.from_state,
                InvoiceTransition.to_state, InvoiceTransition.action, InvoiceTransition.reason,
                InvoiceTransition.user,
            ).tuples(),
            key=repr,
        ),
        "counters": list(Counter.select(Counter.id, Counter.next_value).tuples()),
        "prescribed": list(PrescriptionItem.select(PrescriptionItem.id, PrescriptionItem.billed)
                           .order_by(PrescriptionItem.id).tuples()),
        "isolated": list(IsolatedAct.select(IsolatedAct.id, IsolatedAct.invoice)
                         .order_by(IsolatedAct.id).tuples()),
    }  # fmt: skip


def one_by_one(ids: list[int], action: InvoiceAction, reason: str):
    """What apply_many did before batches: each invoice in its own transaction."""
    done, refused = [], []
    for invoice_id in ids:
        try:
            done.append(invoice_service.apply_action(invoice_id, action, user="desk", reason=reason))
        except RefusedOperation as error:
            invoice = Invoice.get_or_none(Invoice.id == invoice_id)
            if invoice is not None and invoice_service.already_done(invoice, action):
                done.append(invoice)
            else:
                refused.append((invoice_id, str(error)))
    return done, refused


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        (InvoiceAction.VALIDATE, ""),
        (InvoiceAction.PREPARE, ""),
        (InvoiceAction.UNVALIDATE, "erreur de date"),
        (InvoiceAction.UNVALIDATE, ""),  # a reason is not asked for: no refusal
        (InvoiceAction.CANCEL_PREPARATION, ""),
        (InvoiceAction.MAKE_NON_TRANSMISSIBLE, "transfert de dette"),
        (InvoiceAction.MAKE_NON_TRANSMISSIBLE, ""),  # the reason is required: all refused
        (InvoiceAction.DELETE_DRAFT, ""),
    ],
)
def test_apply_many_ends_as_one_by_one(demo_file, tmp_path, action, reason) -> None:
    copy_of(demo_file, tmp_path / "reference.sqlite")
    ids = [i for (i,) in Invoice.select(Invoice.id).order_by(Invoice.id.desc()).tuples()]
    ids = ids[::2] + [999_999] + ids[1::2] + ids[:3]  # any order, a missing id, repeats
    done, refused = one_by_one(ids, action, reason)
    expected = snapshot()
    db.close()

    copy_of(demo_file, tmp_path / "batch.sqlite")
    batch_done, batch_refused = invoice_service.apply_many(ids, action, user="desk", reason=reason)
    assert [(i.id, i.state, i.number) for i in batch_done] == [
        (i.id, i.state, i.number) for i in done
    ]
    assert batch_refused == refused
    assert snapshot() == expected
    assert audit.verify().ok
    db.close()


def test_a_refused_invoice_takes_no_number(demo_file, tmp_path) -> None:
    copy_of(demo_file, tmp_path / "numbers.sqlite")
    drafts = [i.id for i in Invoice.select().where(Invoice.state == "SAISIE").order_by(Invoice.id)]
    done, refused = invoice_service.apply_many(drafts, InvoiceAction.VALIDATE, user="desk")
    assert {i for i, _ in refused} == {drafts[1], drafts[3]}
    messages = dict(refused)
    assert "décès" in messages[drafts[1]] and "au moins un acte" in messages[drafts[3]]
    for practitioner_id in {invoice.practitioner_id for invoice in done}:
        taken = sorted(
            n for (n,) in Invoice.select(Invoice.number)
            .where((Invoice.practitioner == practitioner_id) & Invoice.number.is_null(False))
            .tuples()
        )  # fmt: skip
        assert taken == list(range(taken[0], taken[0] + len(taken)))  # no gap, no duplicate
        following = Counter.get(practitioner=practitioner_id, kind="invoice").next_value
        assert following == taken[-1] + 1
    db.close()


def _desk(url: str, ids: list[int], desk: int) -> None:
    from tuibill.models import database as db_module
    from tuibill.services import invoices as service

    db_module.bind(url)
    for start in range(0, len(ids), 7):
        done, refused = service.apply_many(
            ids[start : start + 7], InvoiceAction.VALIDATE, user=f"poste{desk}"
        )
        assert not refused, refused


def test_two_desks_validate_batches_at_once(demo_file, tmp_path) -> None:
    """Batches of two desks interleave under SQLite's write lock: no duplicate, no gap."""
    url = copy_of(demo_file, tmp_path / "desks.sqlite")
    drafts = [
        i.id
        for i in Invoice.select().where(Invoice.state.in_(["SAISIE", "A_CHARGER"]))
        .order_by(Invoice.id)
    ]  # fmt: skip
    Invoice.update(state="SAISIE", number=None).where(Invoice.id.in_(drafts)).execute()
    Patient.update(death_date=None).execute()
    with_lines = [i for i in drafts if InvoiceLine.select().where(InvoiceLine.invoice == i).exists()]
    before = {c.practitioner_id: c.next_value for c in Counter.select().where(Counter.kind == "invoice")}
    db.close()
    ctx = multiprocessing.get_context("spawn")
    desks = [ctx.Process(target=_desk, args=(url, with_lines[k::2], k)) for k in range(2)]
    for process in desks:
        process.start()
    for process in desks:
        process.join(120)
        assert process.exitcode == 0
    database.bind(url)
    validated = Invoice.select().where(Invoice.id.in_(with_lines))
    assert {i.state for i in validated} == {"VALIDEE"}
    for practitioner_id, first in before.items():
        numbers = sorted(i.number for i in validated if i.practitioner_id == practitioner_id)
        following = Counter.get(practitioner=practitioner_id, kind="invoice").next_value
        assert numbers == list(range(first, following))  # no gap, no duplicate
    users = {t.user for t in InvoiceTransition.select().where(InvoiceTransition.action == "validate")
             .where(InvoiceTransition.invoice.in_(with_lines))}  # fmt: skip
    assert {"poste0", "poste1"} <= users
    assert audit.verify().ok
    db.close()
