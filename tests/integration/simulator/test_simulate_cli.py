"""``tuibill simulate caisse`` as a user runs it: a subprocess, SMTP in, maildir out, SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest
from caisse_helpers import arl_of, lot_bytes, lot_mail, send, wait_for_answers

from tuibill.cli.main import main


def _run(tmp_path, *options: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "PYTHONUNBUFFERED": "1"}
    env.pop("TUIBILL_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "tuibill", "simulate", "caisse", "--smtp-port", "0", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_cli_round_trip_and_clean_stop(tmp_path):
    outbox = tmp_path / "Maildir"
    process = _run(tmp_path, "--outbox", str(outbox), "--mode", "negative", "--reason", "004")
    try:
        first = process.stdout.readline()
        match = re.search(r"127\.0\.0\.1:(\d+)", first)
        assert match, first + process.stderr.read()
        send(int(match.group(1)), lot_mail(lot_bytes()))
        (answer,) = wait_for_answers(outbox, 1)
        arl = arl_of(answer)
        assert (arl.reason_code, arl.reason_label) == ("004", "Lot en double")
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Reçu : lot 042 du PS 123456789, 1 FSE." in out
    assert "ARL négatif 004" in out
    assert "Caisse simulée arrêtée." in out


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--mode", "script"], "--mode script demande --script"),
        (["--mode", "positive", "--script", "x.toml"], "--script ne va qu'avec --mode script"),
        (["--mode", "positive", "--reason", "003"], "--reason ne sert qu'avec"),
        (["--mode", "negative", "--reason", "ZZZ"], "motif d'ARL « ZZZ » inconnu"),
        (["--delay", "-1"], "--delay"),
    ],
)
def test_cli_option_errors_exit_2(tmp_path, capsys, monkeypatch, options, words):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TUIBILL_CONFIG", raising=False)
    status = main(["simulate", "caisse", "--outbox", str(tmp_path / "box"), *options])
    assert status == 2
    assert words in capsys.readouterr().err


def test_cli_taken_port_exits_1(tmp_path, capsys, monkeypatch):
    import socket

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("TUIBILL_CONFIG", raising=False)
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        status = main(
            ["simulate", "caisse", "--outbox", str(tmp_path / "box"), "--smtp-port", str(port)]
        )
    assert status == 1
    assert f"impossible d'écouter sur 127.0.0.1:{port}" in capsys.readouterr().err
