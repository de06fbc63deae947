"""`tuibill kiosk` as a thin client shows it (tmux): Ctrl+Q locks instead of leaving, and the
application killed by the system comes back by itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_tmux import Tmux

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux absent"),
]


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return []
    return [int(word) for word in text.split()]


def _wait_child(pid: int, not_this: int | None = None, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [child for child in _children(pid) if child != not_this]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("l'application n'a pas été (re)lancée")


def test_the_kiosk_locks_and_comes_back_after_a_crash(tmp_path) -> None:
    db = tmp_path / "cabinet.sqlite"
    subprocess.run([sys.executable, "-m", "tuibill", "init", "--db", str(db), "--demo"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    tmux = Tmux(tmp_path, "kiosk")
    tmux.start(
        f"{sys.executable} -m tuibill kiosk --db {db}",
        {"TERM": "xterm-256color", "TUIBILL_CONFIG": "", "HOME": str(tmp_path)},
    )
    try:
        tmux.wait_for("Menu principal")
        supervisor = int(tmux.run("display-message", "-p", "-t", "app", "#{pane_pid}").strip())
        first = _wait_child(supervisor)
        for key in ("C-q", "C-c", "C-z", "C-\\"):
            tmux.keys(key)
            tmux.wait_for("poste verrouillé")
            tmux.keys("Enter")  # no account in this database: anything unlocks
            tmux.wait_for("Menu principal")
        assert _children(supervisor) == [first]  # still the same run: nothing left
        os.kill(first, signal.SIGKILL)  # a crash, as the system sees it
        second = _wait_child(supervisor, not_this=first)
        assert second != first
        tmux.wait_for("Menu principal")
        assert "Pane is dead" not in tmux.screen()
    finally:
        tmux.kill()
