"""The WAL checkpointed beside a batch of transactions (models.checkpoints): the same commits,
their pages copied back into the file by another connection, the WAL started anew past a size."""

from __future__ import annotations

import time

import peewee
import pytest

from tuibill.models import db
from tuibill.models.checkpoints import Checkpointer, checkpoints_beside
from tuibill.models.database import immediate


def pragma(name: str) -> object:
    return db.execute_sql(f"PRAGMA {name}").fetchone()


def write_rows(count: int, checkpointer: Checkpointer | None = None) -> None:
    for index in range(count):
        with immediate():
            db.execute_sql("INSERT INTO batch_rows (text) VALUES (?)", (f"{index:04d}" * 500,))
        if checkpointer is not None:
            checkpointer.committed()


@pytest.fixture
def rows_table(db_url):
    db.execute_sql("CREATE TABLE batch_rows (id INTEGER PRIMARY KEY, text TEXT)")
    yield
    db.execute_sql("DROP TABLE batch_rows")


def test_checkpoints_run_beside_the_batch_then_the_setting_comes_back(rows_table) -> None:
    assert pragma("wal_autocheckpoint") == (1000,)
    with checkpoints_beside(db.obj) as checkpointer:
        assert checkpointer is not None
        assert pragma("wal_autocheckpoint") == (0,)
        write_rows(5, checkpointer)
    assert pragma("wal_autocheckpoint") == (1000,)
    assert checkpointer.count >= 1
    # Every page committed is back in the database file: nothing left for a checkpoint to copy.
    busy, wal_pages, copied = pragma("wal_checkpoint(PASSIVE)")
    assert busy == 0 and wal_pages == copied
    assert db.execute_sql("SELECT COUNT(*) FROM batch_rows").fetchone() == (5,)


def test_past_its_size_the_batch_waits_for_the_checkpoint(rows_table) -> None:
    database = db.obj
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    checkpointer = Checkpointer(str(database.database), 10_000, pages_kept=0)
    try:
        write_rows(1, checkpointer)
        deadline = time.monotonic() + 30
        while checkpointer.count == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert checkpointer.wal_pages > 0  # past 0 pages: each commit now waits for its copy
        write_rows(3, checkpointer)
        assert checkpointer.waits == 3 and checkpointer.count == 4
    finally:
        checkpointer.close()
        database.execute_sql("PRAGMA wal_autocheckpoint = 1000")
    busy, wal_pages, copied = pragma("wal_checkpoint(PASSIVE)")
    assert busy == 0 and wal_pages == copied


def test_nothing_changes_without_a_wal_file(tmp_path) -> None:
    memory = peewee.SqliteDatabase(":memory:")
    with checkpoints_beside(memory) as checkpointer:
        assert checkpointer is None
    rollback = peewee.SqliteDatabase(str(tmp_path / "plain.sqlite"))
    with checkpoints_beside(rollback) as checkpointer:
        assert checkpointer is None  # journal_mode delete: no WAL to checkpoint
    rollback.close()


def test_a_checkpointer_that_cannot_open_stops_and_lets_the_batch_go(tmp_path) -> None:
    checkpointer = Checkpointer(str(tmp_path / "missing" / "x.sqlite"), 100, pages_kept=-1)
    checkpointer.committed()  # would wait for a checkpoint: none is coming
    checkpointer.close()
    assert checkpointer.count == 0
