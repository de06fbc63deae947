"""Emulated devices belong to their database (issue 13 #7): a fresh database never shows another
database's portable-reader invoices."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tuibill.services.devices import emulated_tla_state


def tuibill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TUIBILL_CONFIG": ""},
        timeout=120,
    )


def test_each_database_has_its_own_emulated_portable_reader(tmp_path: Path) -> None:
    first, second = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    for path in (first, second):
        assert tuibill("init", "--db", path, "--demo").returncode == 0
    # The demo leaves one invoice « Chargée dans le TLA » in each database's own reader.
    before_first = json.loads(tuibill("--db", first, "tla", "contents", "--json").stdout)
    before_second = json.loads(tuibill("--db", second, "tla", "contents", "--json").stdout)
    assert len(before_first) == len(before_second) == 1
    drafts = json.loads(
        tuibill("--db", first, "invoice", "list", "--all", "--state", "SAISIE", "--json").stdout
    )
    invoice = str(drafts[0]["id"])
    assert tuibill("--db", first, "invoice", "prepare", invoice).returncode == 0
    loaded = tuibill("--db", first, "tla", "load", invoice)
    assert loaded.returncode == 0, loaded.stderr

    on_first = json.loads(tuibill("--db", first, "tla", "contents", "--json").stdout)
    on_second = json.loads(tuibill("--db", second, "tla", "contents", "--json").stdout)
    assert len(on_first) == 2
    assert on_second == before_second
    assert emulated_tla_state(first) == tmp_path / "a.tla-emule.json"
    assert (tmp_path / "a.tla-emule.json").exists()


def test_a_postgresql_database_gets_a_reader_named_after_its_url() -> None:
    one = emulated_tla_state("postgresql://desk@server/cabinet")
    other = emulated_tla_state("postgresql://desk@server/autre")
    assert one != other and one.name.startswith("tla-emule-")
