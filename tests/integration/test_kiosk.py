"""The kiosk's supervisor: the application is started again whenever it stops, with a growing
pause, and everything stops with the supervisor (systemd's SIGTERM)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tuibill.cli.kiosk import child_command, supervise


def test_a_stopped_application_is_started_again(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    crash = f"open({str(runs)!r}, 'a').write('x'); raise SystemExit(3)"
    pauses: list[float] = []
    said: list[str] = []
    code = supervise([sys.executable, "-c", crash], max_runs=4, sleep=pauses.append, say=said.append)
    assert code == 3 and runs.read_text() == "xxxx"
    assert pauses == [1, 2, 4]  # a crash loop backs off
    assert all("relance" in line and "code 3" in line for line in said)


def test_the_child_runs_the_same_database_in_kiosk_mode() -> None:
    import argparse

    args = argparse.Namespace(config=None, db="/srv/cabinet.sqlite", user="accueil")
    command = child_command(args)
    assert command[:3] == [sys.executable, "-m", "tuibill"]
    assert command[3:] == ["--db", "/srv/cabinet.sqlite", "--user", "accueil", "kiosk", "--no-restart"]


def test_sigterm_stops_the_child_and_the_supervisor(tmp_path: Path) -> None:
    started = tmp_path / "started"
    child = f"import time; open({str(started)!r}, 'w').write('1'); time.sleep(120)"
    script = (
        "import sys; from tuibill.cli.kiosk import supervise; "
        f"sys.exit(supervise([sys.executable, '-c', {child!r}]))"
    )
    supervisor = subprocess.Popen([sys.executable, "-c", script], env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists()
        children = Path(f"/proc/{supervisor.pid}/task/{supervisor.pid}/children").read_text().split()
        assert len(children) == 1
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=30)
        assert not Path(f"/proc/{children[0]}").exists() or _is_zombie(children[0])
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


def _is_zombie(pid: str) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True
