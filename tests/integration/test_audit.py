"""The history's hash chain: a row edited, deleted, swapped or cut off at the end is found and
named; desks writing at once keep one valid chain (SQLite here, PostgreSQL in test_postgres)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest

from tuibill.models import AuditHead, InvoiceTransition, db
from tuibill.services import audit


def tuibill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True, text=True, env={**os.environ, "TUIBILL_CONFIG": ""}, timeout=120,
    )  # fmt: skip


def test_the_demo_history_is_intact(demo_url) -> None:
    report = audit.verify()
    # Every chained history: FSE, lots, and the tiers-payeurs' invoices, bordereaux, payments.
    chained = audit.chained_tables()
    assert report.ok and report.rows == sum(c.model.select().count() for c in chained)
    assert InvoiceTransition.select().count() > 50


def _row(position: int) -> InvoiceTransition:
    return InvoiceTransition.select().order_by(InvoiceTransition.seq).offset(position).first()


def test_an_edited_row_is_named(demo_url) -> None:
    row = _row(10)
    db.execute_sql("UPDATE invoice_transition SET reason = 'retouché' WHERE id = ?", (row.id,))
    report = audit.verify()
    assert not report.ok and (report.table, report.row_id) == ("invoice_transition", row.id)
    assert "contenu modifié" in report.message


def test_a_deleted_row_is_found(demo_url) -> None:
    row = _row(10)
    db.execute_sql("DELETE FROM invoice_transition WHERE id = ?", (row.id,))
    report = audit.verify()
    assert not report.ok and report.seq == row.seq + 1
    assert f"la ligne n° {row.seq} a été supprimée" in report.message


def test_two_swapped_rows_are_found(demo_url) -> None:
    first, second = _row(10), _row(11)
    db.execute_sql("UPDATE invoice_transition SET seq = -1 WHERE id = ?", (first.id,))
    db.execute_sql("UPDATE invoice_transition SET seq = ? WHERE id = ?", (first.seq, second.id))
    db.execute_sql("UPDATE invoice_transition SET seq = ? WHERE id = ?", (second.seq, first.id))
    report = audit.verify()
    assert not report.ok and report.row_id == second.id


def test_rows_cut_off_at_the_end_are_found(demo_url) -> None:
    last = max(c.model.select(c.model.seq).order_by(c.model.seq.desc()).scalar() or 0
               for c in audit.chained_tables())  # fmt: skip
    assert last == AuditHead.get_by_id(1).seq
    for chained in audit.chained_tables():
        chained.model.delete().where(chained.model.seq == last).execute()
    report = audit.verify()
    assert not report.ok and "Fin de la chaîne supprimée" in report.message


def test_a_row_added_by_hand_is_found(demo_url) -> None:
    row = _row(3)
    db.execute_sql(
        "INSERT INTO invoice_transition (invoice_id, at, user, from_state, to_state, action, "
        "reason, hash) VALUES (?, '2026-01-01 00:00:00', 'x', NULL, 'SAISIE', 'create', '', '')",
        (row.invoice_id,),
    )
    assert not audit.verify().ok


def test_audit_verify_command_and_exit_status(tmp_path) -> None:
    path = str(tmp_path / "demo.sqlite")
    assert tuibill("init", "--db", path, "--demo").returncode == 0
    intact = tuibill("--db", path, "audit", "verify", "--json")
    assert intact.returncode == 0 and json.loads(intact.stdout)["intacte"] is True
    import sqlite3

    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE invoice_transition SET user = 'personne' WHERE id = 5")
    broken = tuibill("--db", path, "audit", "verify")
    assert broken.returncode == 1 and "contenu modifié" in broken.stderr
    with sqlite3.connect(path) as raw:
        checks = raw.execute("SELECT ok FROM audit_check ORDER BY id").fetchall()
    assert checks == [(1,), (0,)]  # the menu warns while the last check failed


@pytest.mark.parametrize("desks", [3])
def test_desks_validating_at_once_keep_one_chain(tmp_path, desks) -> None:
    path = str(tmp_path / "demo.sqlite")
    assert tuibill("init", "--db", path, "--demo").returncode == 0
    drafts = json.loads(
        tuibill("--db", path, "invoice", "list", "--all", "--state", "SAISIE", "--json").stdout
    )
    ids = [str(row["id"]) for row in drafts]
    chunks = [ids[i::desks] for i in range(desks)]
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "tuibill", "--db", path, "invoice", "validate", *chunk],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "TUIBILL_CONFIG": ""},
        )  # fmt: skip
        for chunk in chunks
        if chunk
    ]
    for run in runs:
        run.communicate(timeout=120)
    verified = tuibill("--db", path, "audit", "verify", "--json")
    assert verified.returncode == 0, verified.stderr


def test_the_canonical_text_and_hash_are_those_of_stored_chains() -> None:
    # Known values: a change of the canonical text would break every chain already stored.
    values = {"at": datetime(2026, 3, 4, 5, 6, 7, 89), "user": "amelie", "from_state": "VALIDEE",
              "to_state": "A_TRANSMETTRE", "action": "put_in_lot", "reason": "Lot 007"}  # fmt: skip
    text = audit.canonical("facture", 12, 345, values)
    assert text == (
        "facture\x1f12\x1f345\x1f2026-03-04 05:06:07.000089\x1famelie\x1fVALIDEE\x1f"
        "A_TRANSMETTRE\x1fput_in_lot\x1fLot 007"
    )
    assert audit.link(audit.GENESIS, text) == (
        "bec4e39e106a4b6173378ac904b908eda88285c0df037d269ac0c5fbd7fc2360"
    )
    created = {"at": datetime(2026, 3, 4, 5, 6, 7), "user": "amelie", "from_state": None,
               "to_state": "A", "action": "b"}  # fmt: skip
    assert audit.link(audit.GENESIS, audit.canonical("lot", 1, 2, created)) == (
        "642555558a1542c217edf2972a9d546eda9746ea6e99b08860a0399b85c2234f"
    )


def test_rows_sealed_alike_take_the_places_sealed_one_by_one_would(demo_url) -> None:
    at = datetime(2026, 3, 4, 5, 6, 7)
    values = {"at": at, "user": "amelie", "from_state": "VALIDEE", "to_state": "A_TRANSMETTRE",
              "action": "put_in_lot", "reason": "Lot 007"}  # fmt: skip
    ids = [3, 1, 2, 1]
    head = audit.AuditHead.get_by_id(1)
    with db.atomic() as transaction:
        one_by_one = [audit.seal(InvoiceTransition, {"invoice": i, **values}) for i in ids]
        transaction.rollback()
    with db.atomic() as transaction:
        alike = audit.seal_alike(InvoiceTransition, ids, values)
        transaction.rollback()
    with db.atomic() as transaction:
        many = audit.seal_many(
            InvoiceTransition,
            # The same values of other types (an int, True) hash as their own text.
            [{"invoice": 1, **values}, {"invoice": 2, **values, "reason": 1},
             {"invoice": 3, **values, "reason": True}, {"invoice": 4, **values}],
        )  # fmt: skip
        transaction.rollback()
    assert alike == [(row["seq"], row["hash"]) for row in one_by_one]
    expected, previous = head.seq + 1, head.hash
    for row, reason in zip(many, ["Lot 007", "1", "True", "Lot 007"], strict=True):
        text = audit.canonical("facture", expected, row["invoice"], {**values, "reason": reason})
        previous = audit.link(previous, text)
        assert (row["seq"], row["hash"]) == (expected, previous)
        expected += 1
