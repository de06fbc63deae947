"""``tuibill emulate tla`` and ``tuibill tla …``: real subprocesses for the emulator and the
first identify, in-process ``main()`` for the rest (same parser and handlers, faster)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tla_support import make_invoices

from tuibill.cli.main import main
from tuibill.hardware.tla.interface import EmulatedPortableReader

ENV = {**os.environ, "TUIBILL_CONFIG": ""}


def _start_emulator(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tuibill", "emulate", "tla", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 15
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        found = re.search(r"Lecteur portable émulé : (\S+)", line)
        if found:
            return process, found.group(1)
    process.kill()
    raise AssertionError(f"no port announced: {lines!r} {process.stderr.read()!r}")


def _stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=10)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out


def _tuibill(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=30,
    )


@pytest.mark.parametrize("line", ["--tcp", "--pty"])
def test_emulator_and_identify_in_subprocesses(line: str, tmp_path: Path) -> None:
    state = tmp_path / "tla.json"
    args = ["--tcp", "0"] if line == "--tcp" else ["--pty", "--link", str(tmp_path / "ttyTLA")]
    process, url = _start_emulator(*args, "--state", str(state), "--capacity", "12")
    try:
        if line == "--tcp":
            assert url.startswith("socket://127.0.0.1:")
        else:
            assert url.startswith("/dev/pts/")
            assert os.path.realpath(tmp_path / "ttyTLA") == url
        result = _tuibill("tla", "identify", "--port", url, "--json")
        assert result.returncode == 0, result.stderr
        identity = json.loads(result.stdout)
        assert identity["modele"] == "TLA émulé tuibill"
        assert (identity["capacite"], identity["factures_stockees"]) == (12, 0)
        assert identity["version_protocole"] == 2 and identity["places_libres"] == 12
    finally:
        out = _stop(process)
    assert "Émulateur arrêté." in out
    assert json.loads(state.read_text(encoding="utf-8"))["capacity"] == 12
    assert not (tmp_path / "ttyTLA").exists()


@pytest.fixture
def env(monkeypatch) -> None:
    monkeypatch.setenv("TUIBILL_CONFIG", "")


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_contents_clock_erase_on_the_emulated_reader(env, capsys, tmp_path: Path) -> None:
    state = tmp_path / "tla.json"
    port = f"emulated:{state}"
    invoices = make_invoices(3)
    EmulatedPortableReader(state).load(invoices)

    status, out, _ = _run(
        capsys, "emulate", "tla", "secure", "--state", str(state), "--key", invoices[0].key, "--cpe"
    )
    assert status == 0 and "1 facture(s) semi-sécurisée(s) avec la CPE" in out

    status, out, _ = _run(capsys, "tla", "contents", "--port", port, "--json")
    listed = json.loads(out)
    assert [row["etat"] for row in listed] == ["semi-secured", "loaded", "loaded"]
    assert listed[0]["etat_libelle"] == "Semi-sécurisée" and listed[0]["montant_centimes"] == 2001

    status, out, _ = _run(capsys, "tla", "contents", "--port", port)
    assert "Semi-sécurisée" in out and "20,01" in out and invoices[2].key in out

    status, out, _ = _run(capsys, "tla", "clock", "--port", port, "--set", "--json")
    assert status == 0 and abs(json.loads(out)["ecart_secondes"]) <= 2

    status, _, err = _run(capsys, "tla", "erase", invoices[1].key, "--port", port)
    assert status == 1 and "Effacement non confirmé" in err and "--yes" in err
    status, _, err = _run(capsys, "tla", "erase", "--port", port, "--yes")
    assert status == 1 and "Indiquez" in err

    status, out, _ = _run(
        capsys, "tla", "erase", invoices[1].key, "591234567-000000099", "--port", port, "--yes"
    )
    assert status == 0 and "1 facture(s) effacée(s)" in out and "591234567-000000099" in out
    status, out, _ = _run(capsys, "tla", "erase", "--all", "--yes", "--port", port, "--json")
    assert json.loads(out)["effacees"] == 2

    status, out, _ = _run(capsys, "tla", "identify", "--port", port)
    assert status == 0 and re.search(r"Stockées\s+0", out)


def test_errors_are_french_with_status_1(env, capsys, tmp_path: Path) -> None:
    status, _, err = _run(capsys, "tla", "identify", "--port", "socket://127.0.0.1:1")
    assert status == 1 and err.startswith("tuibill : Impossible d'ouvrir la liaison")

    state = tmp_path / "tla.json"
    status, _, err = _run(capsys, "emulate", "tla", "secure", "--state", str(state), "--all")
    assert status == 1 and "Mémoire du lecteur émulé introuvable" in err
    assert not state.exists()

    EmulatedPortableReader(state).identify()
    status, _, err = _run(
        capsys, "emulate", "tla", "secure", "--state", str(state), "--key", "591234567-000000001"
    )
    assert status == 1 and "absente du lecteur portable" in err

    status, out, _ = _run(capsys, "emulate", "tla", "secure", "--state", str(state), "--all")
    assert status == 0 and "Aucune facture à sécuriser" in out
