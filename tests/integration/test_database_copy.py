"""`tuibill db copy --to postgresql://…`: the demo practice copied from SQLite to the suite's
private PostgreSQL, every count and sum and the hash chain compared; a non-empty target is
refused; the copy goes on working (ids, sequences)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.postgres import pg_bin, postgres_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(pg_bin() is None and not os.environ.get("CI"), reason="PostgreSQL absent"),
]


def run(*args: str, check: int | None = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "tuibill", *args], capture_output=True, text=True, timeout=300,
        stdin=subprocess.DEVNULL,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("TUIBILL_")},
             "TUIBILL_CONFIG": "", **(env or {})},
    )  # fmt: skip
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


@pytest.fixture(scope="module")
def pg_url():
    with postgres_server() as url:
        yield url


def test_the_demo_moves_to_postgresql_with_every_check(tmp_path, pg_url) -> None:
    source = str(tmp_path / "cabinet.sqlite")
    run("init", "--db", source, "--demo")
    # The accounts' history and a lot are in the chain too; the copy is done by an admin.
    run("--db", source, "user", "add", "chef", "--role", "administrateur",
        env={"TUIBILL_NEW_PASSWORD": "chef du cabinet"})  # fmt: skip
    as_chef = {"TUIBILL_PASSWORD": "chef du cabinet"}
    run("--db", source, "--user", "chef", "lots", "build", env=as_chef, check=None)

    report = json.loads(run("--db", source, "--user", "chef", "db", "copy", "--to", pg_url,
                            "--json", env=as_chef).stdout)  # fmt: skip
    assert report["conforme"] and report["tables"]["invoice"] > 50
    checks = {c["controle"]: c for c in report["controles"]}
    assert checks["factures : total (centimes)"]["source"] > 0
    assert checks["historique : chaîne intacte"]["cible"] == "oui"
    assert checks["historique : lignes chaînées vérifiées"]["cible"] > 100
    assert "intact" in report["chaine"].lower()

    # The target works as a practice database: same login, the chain checks, new rows insert.
    verified = json.loads(run("--db", pg_url, "--user", "chef", "audit", "verify", "--json",
                              env=as_chef).stdout)  # fmt: skip
    assert verified["intacte"]
    run("--db", pg_url, "--user", "chef", "user", "add", "accueil", "--role", "secretariat",
        env={**as_chef, "TUIBILL_NEW_PASSWORD": "accueil 2026"})  # fmt: skip

    # A second copy into the now non-empty target is refused, nothing written.
    refused = run("--db", source, "--user", "chef", "db", "copy", "--to", pg_url, env=as_chef,
                  check=1)  # fmt: skip
    assert "n'est pas vide" in refused.stderr


def test_a_secretariat_may_not_copy_the_database(tmp_path) -> None:
    source = str(tmp_path / "cabinet.sqlite")
    run("init", "--db", source)
    run("--db", source, "user", "add", "chef", "--role", "administrateur",
        env={"TUIBILL_NEW_PASSWORD": "chef du cabinet"})  # fmt: skip
    run("--db", source, "--user", "chef", "user", "add", "accueil", "--role", "secretariat",
        env={"TUIBILL_PASSWORD": "chef du cabinet", "TUIBILL_NEW_PASSWORD": "accueil 2026"})  # fmt: skip
    refused = run("--db", source, "--user", "accueil", "db", "copy", "--to",
                  str(tmp_path / "copy.sqlite"), env={"TUIBILL_PASSWORD": "accueil 2026"},
                  check=1)  # fmt: skip
    assert "réservée au rôle administrateur" in refused.stderr
