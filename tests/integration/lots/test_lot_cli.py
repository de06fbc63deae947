"""``tuibill lots …`` and ``tuibill rejection …`` in real subprocesses against the simulated
caisse: exit statuses, French messages, JSON, the paper list, ``check`` on the real clock."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from lots_support import CAISSE_ADDRESSES, PRACTICE_ADDRESS

from tuibill.models import Lot
from tuibill.simulator.scenarios import Answer, FixedScenario


def write_config(path: Path, caisse, *, caisses: dict[str, str] | None = None) -> Path:
    settings = caisse.settings
    lines = [
        "[transmission]",
        f'archive_dir = "{settings.archive_dir}"',
        "[transmission.smtp]",
        'host = "127.0.0.1"',
        f"port = {caisse.server.port}",
        'security = "none"',
        f'sender = "{PRACTICE_ADDRESS}"',
        "[transmission.mailbox]",
        'protocol = "inbox"',
        f'folder = "{caisse.outbox}"',
        "[transmission.caisses]",
        *(f'"{code}" = "{address}"' for code, address in (caisses or CAISSE_ADDRESSES).items()),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(db: str, config: Path, *args: str, check: int | None = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tuibill",
            "--db",
            db,
            "--config",
            str(config),
            "--user",
            "anne",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "TUIBILL_CONFIG": ""},
        timeout=60,
    )
    if check is not None:
        assert result.returncode == check, result.stderr + result.stdout
    return result


def test_build_send_receive_show_and_cancel(office, start_caisse, db_url, tmp_path):
    ids = office.invoices(2)
    caisse = start_caisse()
    config = write_config(tmp_path / "config.toml", caisse)

    built = json.loads(cli(db_url, config, "lots", "build", "--json").stdout)
    (lot,) = built["lots"]
    assert (lot["numero"], lot["etat"], lot["factures"]) == ("001", "À transmettre", 2)
    listing = cli(db_url, config, "lots", "list").stdout
    assert "À transmettre" in listing and "01281" in listing

    sent = cli(db_url, config, "lots", "send")
    assert "Lot 001 (id 1) : Transmis à lots@cpam-chartres.example." in sent.stdout

    received = json.loads(cli(db_url, config, "lots", "receive", "--json").stdout)
    assert received["traitements"][0]["message"] == "Lot 001 : ARL positif, reçu par la caisse."

    shown = cli(db_url, config, "lots", "show", "1").stdout
    assert "ARL positif" in shown and "000007401" in shown and "arl_positive" not in shown
    assert "ARL positif reçu" in shown  # the history, in French
    by_number = json.loads(cli(db_url, config, "lots", "show", "281234567/1", "--json").stdout)
    assert by_number["id"] == 1 and len(by_number["historique"]) == 4
    paper = cli(db_url, config, "lots", "show", "1", "--print").stdout
    assert "Lot 001" in paper.splitlines()[0] and "DUPUIS Alain" in paper
    out = tmp_path / "lot.csv"
    cli(db_url, config, "lots", "show", "1", "--csv", "--output", str(out))
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith("001;000007401;")

    assert cli(db_url, config, "lots", "check", "--quiet").stdout == ""

    refused = cli(
        db_url, config, "rejection", "cancel-invoice", str(ids[0]), "--reason", "x", check=1
    )
    assert "qu'après un rejet de la caisse" in refused.stderr
    cli(db_url, config, "rejection", "record", str(ids[0]), "--reason", "courrier du 05/03")
    done = cli(db_url, config, "rejection", "cancel-invoice", str(ids[0]), "--reason", "rejet")
    assert "de nouveau « Saisie »" in done.stdout


def test_cli_errors_are_french_with_exit_statuses(office, start_caisse, db_url, tmp_path):
    office.invoices(1, organism=office.lille)
    caisse = start_caisse()
    config = write_config(tmp_path / "config.toml", caisse, caisses={"01281": "a@b.example"})
    cli(db_url, config, "lots", "build")

    missing = cli(db_url, config, "lots", "send", check=2)
    assert "transmission.caisses" in missing.stderr and "« 01595 »" in missing.stderr
    assert "introuvable" in cli(db_url, config, "lots", "show", "99", check=1).stderr
    wrong = cli(db_url, config, "lots", "resolve", "1", "--sent", check=1)
    assert "seul un lot « En cours »" in wrong.stderr
    usage = cli(db_url, config, "lots", "resolve", "1", check=2)
    assert "--sent" in usage.stderr
    unknown = cli(db_url, config, "lots", "list", "--state", "perdu", check=1)
    assert "État de lot « perdu » inconnu" in unknown.stderr


def test_check_on_the_real_clock_resends_after_the_timeout(office, start_caisse, db_url, tmp_path):
    office.invoices(1)
    caisse = start_caisse(FixedScenario((Answer("silent"),)))
    config = write_config(tmp_path / "config.toml", caisse)
    cli(db_url, config, "lots", "build")
    cli(db_url, config, "lots", "send")
    # 49 hours go by (the CLI reads the real clock: here the sending is moved back instead).
    earlier = datetime.now().replace(microsecond=0) - timedelta(hours=49)
    Lot.update(sent_at=earlier, send_started_at=earlier).execute()

    result = cli(db_url, config, "lots", "check")

    assert "Pas d'ARL 48 h après l'envoi" in result.stdout
    assert "Lot 001 (id 1) : Transmis à" in result.stdout
    lot = Lot.get()
    assert (lot.state, lot.send_count) == ("TRANSMIS", 2)
    assert sum(caisse.simulator.state.receptions.values()) == 2
