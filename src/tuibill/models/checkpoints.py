"""SQLite's WAL copied back into the database file beside a batch of transactions, not in them.

In WAL mode each commit appends the pages it changed to the ``-wal`` file; once that holds
``wal_autocheckpoint`` pages (1,000), the commit that crossed the mark also copies them back
into the database file and syncs both (a *checkpoint*). A batch that commits many big
transactions in a row (``lots build``: 26 lots of some 450 pages each for 10,000 invoices) spends
a tenth of its time in those checkpoints.

:func:`checkpoints_beside` turns the automatic checkpoint off on the batch's connection and runs
them on a connection of its own, in a thread, after each transaction the batch reports
(:meth:`Checkpointer.committed`): SQLite checkpoints without the GIL and beside a writer
(``PASSIVE``: it copies what no reader still needs and never waits), so the batch goes on with
its next transaction meanwhile. What is committed, when, and how durably (``synchronous =
NORMAL``: the WAL is synced before each checkpoint) is unchanged.

The WAL starts anew only in a transaction begun once it was all copied back: with checkpoints
beside it, it grows instead, until it holds *pages_kept* pages (16 MB); the batch then waits for
the checkpoint under way, and its next transaction starts the WAL anew. Afterwards the last
checkpoint is waited for and the connection's setting given back.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

WAL_PAGES_KEPT = 4_000


class Checkpointer:
    """A thread checkpointing the WAL of *path* each time it is told a transaction committed."""

    def __init__(self, path: str, busy_timeout_ms: int, pages_kept: int = WAL_PAGES_KEPT) -> None:
        self._path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._pages_kept = pages_kept
        self._state = threading.Condition()
        self._asked = 0  # commits reported
        self._done = 0  # commits whose pages a finished checkpoint covered
        self._stopping = False
        self._running = True
        self.wal_pages = 0  # the WAL's length at the last checkpoint
        self.count = 0  # checkpoints made
        self.waits = 0  # times the batch waited for one (the WAL past pages_kept)
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def committed(self) -> None:
        """A transaction of the batch committed: its pages are copied back now, beside the next
        one; waited for when the WAL has grown past *pages_kept* pages."""
        with self._state:
            self._asked += 1
            self._state.notify_all()
            if self.wal_pages > self._pages_kept:
                self.waits += 1
                self._state.wait_for(lambda: self._done >= self._asked or not self._running)

    def close(self) -> None:
        """Stop after a last checkpoint of what was reported."""
        with self._state:
            self._stopping = True
            self._state.notify_all()
        self._thread.join()

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error:
            self._stop()  # the batch's connection checkpoints again once its setting is back
            return
        try:
            connection.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout_ms)}")
            while True:
                with self._state:
                    self._state.wait_for(lambda: self._asked > self._done or self._stopping)
                    if self._asked == self._done:
                        return  # stopping, nothing left
                    asked = self._asked
                _, wal_pages, _ = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                with self._state:
                    self._done = asked
                    self.wal_pages = wal_pages
                    self.count += 1
                    self._state.notify_all()
        except sqlite3.Error:
            return  # a checkpoint refused is made later, by a commit after the batch
        finally:
            connection.close()
            self._stop()

    def _stop(self) -> None:
        with self._state:
            self._running = False
            self._state.notify_all()


@contextmanager
def checkpoints_beside(database: peewee.Database) -> Iterator[Checkpointer | None]:
    """Meanwhile the WAL of *database* (a SQLite file in WAL mode, this thread's connection) is
    checkpointed by a :class:`Checkpointer`, told of each commit; None (nothing changed) for
    another database."""
    if not isinstance(database, peewee.SqliteDatabase) or _memory(database.database):
        yield None
        return
    mode = database.execute_sql("PRAGMA journal_mode").fetchone()[0]
    previous = database.execute_sql("PRAGMA wal_autocheckpoint").fetchone()[0]
    if str(mode).lower() != "wal" or previous <= 0:
        yield None  # no WAL, or no automatic checkpoint to move: left as it is
        return
    timeout = database.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    database.execute_sql("PRAGMA wal_autocheckpoint = 0")
    checkpointer = Checkpointer(str(database.database), int(timeout))
    try:
        yield checkpointer
    finally:
        checkpointer.close()
        database.execute_sql(f"PRAGMA wal_autocheckpoint = {int(previous)}")


def _memory(path: object) -> bool:
    text = str(path)
    return text in ("", ":memory:") or text.startswith("file::memory:") or "mode=memory" in text
