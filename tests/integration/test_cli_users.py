"""`tuibill user …` and logging in from the command line: --user with TUIBILL_PASSWORD, the
bootstrap administrator of a database without accounts, refusals naming who may."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ADMIN_PASSWORD = "chef du cabinet"


def run(*args: str, env: dict | None = None, check: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120,
        env={**{k: v for k, v in os.environ.items() if not k.startswith("TUIBILL_")},
             "TUIBILL_CONFIG": "", **(env or {})},
    )  # fmt: skip
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


@pytest.fixture(scope="module")
def staffed(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("users") / "cabinet.sqlite")
    run("init", "--db", path, "--demo")
    # No account yet: the default administrator creates the first one.
    assert "Aucun compte" in run("--db", path, "user", "list").stdout
    run("--db", path, "user", "add", "chef", "--name", "Chef", "--role", "administrateur",
        env={"TUIBILL_NEW_PASSWORD": ADMIN_PASSWORD})  # fmt: skip
    as_chef = {"TUIBILL_PASSWORD": ADMIN_PASSWORD}
    run("--db", path, "--user", "chef", "user", "add", "accueil", "--role", "secretariat",
        "--pin", env={**as_chef, "TUIBILL_NEW_PASSWORD": "accueil 2026", "TUIBILL_NEW_PIN": "4321"})  # fmt: skip
    return path


def test_user_list_json(staffed) -> None:
    listed = json.loads(run("--db", staffed, "--user", "chef", "user", "list", "--json",
                            env={"TUIBILL_PASSWORD": ADMIN_PASSWORD}).stdout)  # fmt: skip
    assert [(u["identifiant"], u["role"], u["actif"], u["pin"]) for u in listed] == [
        ("accueil", "secretariat", True, True),
        ("chef", "administrateur", True, False),
    ]


def test_with_accounts_every_command_logs_in(staffed) -> None:
    missing = run("--db", staffed, "patient", "list", "DUPUIS", check=2)
    assert "--user" in missing.stderr
    no_password = run("--db", staffed, "--user", "accueil", "patient", "list", "DUPUIS", check=2)
    assert "TUIBILL_PASSWORD" in no_password.stderr
    wrong = run("--db", staffed, "--user", "accueil", "patient", "list", "DUPUIS", check=1,
                env={"TUIBILL_PASSWORD": "nope"})  # fmt: skip
    assert "mot de passe incorrect" in wrong.stderr
    run("--db", staffed, "--user", "accueil", "patient", "list", "DUPUIS",
        env={"TUIBILL_PASSWORD": "accueil 2026"})  # fmt: skip


def test_the_history_records_the_logged_in_account(staffed) -> None:
    as_desk = {"TUIBILL_PASSWORD": "accueil 2026"}
    drafts = json.loads(run("--db", staffed, "--user", "accueil", "journal", "--all", "--state",
                            "SAISIE", "--json", env=as_desk).stdout)  # fmt: skip
    draft = drafts[0]
    run("--db", staffed, "--user", "accueil", "invoice", "validate", str(draft["id"]), env=as_desk)
    shown = json.loads(run("--db", staffed, "--user", "accueil", "invoice", "show",
                           str(draft["id"]), "--json", env=as_desk).stdout)  # fmt: skip
    assert shown["historique"][-1]["utilisateur"] == "accueil"


def test_a_secretariat_is_told_who_may(staffed) -> None:
    as_desk = {"TUIBILL_PASSWORD": "accueil 2026", "TUIBILL_NEW_PASSWORD": "whatever 2026"}
    refused = run("--db", staffed, "--user", "accueil", "user", "add", "x2", "--role",
                  "secretariat", env=as_desk, check=1)  # fmt: skip
    assert "réservée au rôle administrateur" in refused.stderr
    refused = run("--db", staffed, "--user", "accueil", "practitioner", "create", "--last-name",
                  "X", "--first-name", "Y", "--am-number", "281234599", env=as_desk, check=1)  # fmt: skip
    assert "administrateur" in refused.stderr


def test_passwd_disable_and_the_accounts_history_in_the_chain(staffed) -> None:
    as_chef = {"TUIBILL_PASSWORD": ADMIN_PASSWORD}
    run("--db", staffed, "--user", "accueil", "user", "passwd",
        env={"TUIBILL_PASSWORD": "accueil 2026", "TUIBILL_NEW_PASSWORD": "accueil 2027"})  # fmt: skip
    shown = json.loads(run("--db", staffed, "--user", "chef", "user", "disable", "accueil",
                           "--json", env=as_chef).stdout)  # fmt: skip
    assert shown["actif"] is False
    refused = run("--db", staffed, "--user", "accueil", "journal", check=1,
                  env={"TUIBILL_PASSWORD": "accueil 2027"})  # fmt: skip
    assert "désactivé" in refused.stderr
    report = json.loads(run("--db", staffed, "--user", "chef", "audit", "verify", "--json",
                            env=as_chef).stdout)  # fmt: skip
    assert report["intacte"]
