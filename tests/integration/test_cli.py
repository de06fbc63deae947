"""The headless CLI in real subprocesses: exit statuses, French errors, JSON output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta

import pytest


def run(*args: str, env: dict | None = None, check: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TUIBILL_CONFIG": "", **(env or {})},
        timeout=120,
    )
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "demo.sqlite")
    out = run("init", "--db", path, "--demo").stdout
    assert "démonstration" in out
    return path


def test_invoice_create_validate_show_json(demo) -> None:
    patients = json.loads(run("--db", demo, "patient", "list", "DUPUIS", "--json").stdout)
    assert [p["prenom"] for p in patients][:1] and all(p["nom"] == "DUPUIS" for p in patients)
    from tuibill.domain.public_holidays import is_sunday_or_holiday

    past = date.today() - timedelta(days=1)
    while is_sunday_or_holiday(past):  # no automatic DIM majoration in the expected total
        past -= timedelta(days=1)
    day = past.strftime("%d/%m/%Y")
    created = json.loads(run(
        "invoice", "create", "--db", demo, "--practitioner", "281234567",
        "--patient", str(patients[0]["id"]), "--act", f"{day} 10:00 AMI 2 IFD", "--json",
    ).stdout)
    assert created["etat"] == "Saisie" and created["total_cents"] == 630 + 275
    validated = json.loads(run("invoice", "validate", str(created["id"]), "--db", demo, "--json").stdout)
    number = validated["faites"][0]["numero"]
    assert len(number) == 9 and number.isdigit()
    shown = json.loads(run("--db", demo, "invoice", "show", str(created["id"]), "--json").stdout)
    assert [h["vers"] for h in shown["historique"]] == ["Saisie", "Validée"]
    # Validating it again (a run interrupted, then started again) is done, not refused; an
    # action it cannot take is still refused with the reason.
    again = json.loads(run("--db", demo, "invoice", "validate", str(created["id"]), "--json").stdout)
    assert again["faites"][0]["numero"] == number and again["refusees"] == []
    refused = run("--db", demo, "invoice", "unprepare", str(created["id"]), check=1)
    assert "impossible sur une facture à l'état « Validée »" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_journal_filters_and_csv(demo) -> None:
    count = int(run("--db", demo, "journal", "--all", "--count").stdout)
    assert count >= 50
    saisie = json.loads(run("--db", demo, "journal", "--all", "--state", "Saisie", "--json").stdout)
    assert saisie and {r["etat"] for r in saisie} == {"Saisie"}
    csv = run("--db", demo, "journal", "--all", "--format", "csv", "--patient", "dupuis").stdout
    lines = csv.strip().splitlines()
    assert lines[0].startswith("Numéro;État;Date;Patient")
    assert all(";DUPUIS " in line for line in lines[1:]) and len(lines) > 1
    # People read the CSV: the mode in words (issue 13 #15); --json keeps the codes for scripts.
    modes = {line.split(";")[11] for line in lines[1:]}
    assert modes <= {"Dégradé", "SESAM-Vitale"} and modes


def test_refusals_exit_1_in_french(demo) -> None:
    day = (date.today() + timedelta(days=3)).strftime("%d/%m/%Y")
    result = run("--db", demo, "invoice", "create", "--practitioner", "281234567", "--patient", "1",
                 "--act", f"{day} AMI", check=1)
    assert "postérieure à la date de facturation" in result.stderr
    result = run("--db", demo, "patient", "create", "--last-name", "X", "--first-name", "Y",
                 "--birth-date", "01/01/1950", "--nir", "150052812345600", check=1)
    assert "Clé du NIR invalide" in result.stderr


def test_usage_and_config_errors_exit_2(tmp_path, demo) -> None:
    assert "erreur d'utilisation" in run("invoice", "frobnicate", check=2).stderr
    bad = tmp_path / "bad.toml"
    bad.write_text('[devices]\ncard_reader = "usb"\n', encoding="utf-8")
    result = run("--config", str(bad), "--db", demo, "invoice", "list", check=2)
    assert str(bad) in result.stderr and "devices.card_reader" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run("--config", str(tmp_path / "none.toml"), "invoice", "list", check=2)
    assert "introuvable" in missing.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[ui]\ncolour = 1\n", encoding="utf-8")
    result = run("invoice", "list", "--db", demo, env={"TUIBILL_CONFIG": str(unknown)}, check=2)
    assert "ui.colour" in result.stderr and "clé inconnue" in result.stderr
    fresh = run("--db", str(tmp_path / "empty.sqlite"), "invoice", "list", check=2)
    assert "tuibill init" in fresh.stderr


def test_config_example_is_valid() -> None:
    from pathlib import Path

    from tuibill import config

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    settings = config.parse(example.read_text(encoding="utf-8"), str(example))
    assert settings.practice.practitioners and settings.transmission.caisses


def test_config_practitioners_created_by_init(tmp_path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        '[practice]\nname = "Cabinet test"\n[[practice.practitioners]]\nlast_name = "A"\n'
        'first_name = "B"\nam_number = "111111111"\ninvoice_number_start = 42\n',
        encoding="utf-8",
    )
    db = str(tmp_path / "c.sqlite")
    run("--config", str(cfg), "init", "--db", db)
    listed = json.loads(run("--db", db, "practitioner", "list", "--json").stdout)
    assert listed[0]["am"] == "111111111" and listed[0]["prochain_numero"] == 42
