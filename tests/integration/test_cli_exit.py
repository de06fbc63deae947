"""A command ends without the interpreter's last garbage collection (issue 12: ~60 ms after a
lots build of 10,000 invoices), its database closed first as that collection closed it: SQLite
copies the WAL back into the file and removes it."""

from __future__ import annotations

import gc
import os
import threading

import pytest

from tests.support.child_command import run_child
from tuibill.cli import main as cli_main
from tuibill.models import db

_CHILD = """
import atexit
import gc
import sys

# Registered before the command's own exit handler, so run after it.
atexit.register(lambda: print("frozen", gc.get_freeze_count() > 0, flush=True))
from tuibill.cli.main import main

print("exit", main(sys.argv[1:]), flush=True)
"""


def _run(*argv: str) -> dict[str, str]:
    return run_child(_CHILD, *argv)


def test_a_command_ends_frozen_its_database_closed_and_its_wal_copied_back(demo_url) -> None:
    db.close()  # this process's connection would keep the WAL
    shown = _run("--db", demo_url, "lots", "build", "--json")
    assert shown["exit"] in ("0", "1") and shown["frozen"] == "True"
    assert os.path.exists(demo_url)
    assert not os.path.exists(demo_url + "-wal") and not os.path.exists(demo_url + "-shm")


@pytest.fixture
def unfrozen():
    yield
    gc.unfreeze()


def test_at_the_end_the_database_is_closed_then_the_heap_frozen(db_url, unfrozen) -> None:
    db.connect(reuse_if_open=True)
    frozen = gc.get_freeze_count()
    cli_main._close_and_freeze()
    assert db.is_closed()
    assert gc.get_freeze_count() > frozen


def test_left_to_the_interpreter_in_a_transaction_or_beside_another_thread(
    db_url, unfrozen
) -> None:
    db.connect(reuse_if_open=True)
    frozen = gc.get_freeze_count()
    with db.atomic():
        cli_main._close_and_freeze()
        assert not db.is_closed()
    assert gc.get_freeze_count() == frozen
    release = threading.Event()
    other = threading.Thread(target=release.wait)
    other.start()
    try:
        cli_main._close_and_freeze()
        assert not db.is_closed() and gc.get_freeze_count() == frozen
    finally:
        release.set()
        other.join()
