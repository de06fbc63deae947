"""The README's first command on the practice's usual machine (issue 13 #25): with the
distribution's own python3 first on the PATH (Debian 12: PEP 668 refuses a system-wide
`pip install`), `bash scripts/demo.sh` makes tuibill's own venv and opens the demo."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = pytest.mark.skipif(
    not SYSTEM_PYTHON.exists() or shutil.which("tmux") is None,
    reason="the distribution's python3 and tmux are installed by scripts/test-all.sh",
)


def _checkout(target: Path) -> None:
    """A clean copy of what git tracks (what a practice downloads), nothing else."""
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    for name in filter(None, names):
        source = ROOT / name.decode()
        if source.is_file():
            destination = target / name.decode()
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def test_the_first_readme_command_with_the_system_python(tmp_path: Path) -> None:
    assert "bash scripts/demo.sh" in (ROOT / "README.md").read_text(encoding="utf-8")
    checkout = tmp_path / "tuibill"
    _checkout(checkout)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": "/usr/bin:/bin",  # the distribution's python3, nothing of this machine's
        "HOME": str(home),
        "TERM": "xterm-256color",
        "TUIBILL_CONFIG": "",
        "PIP_FIND_LINKS": os.environ.get("PIP_FIND_LINKS", ""),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    socket = f"tuibill-fresh-{os.getpid()}"
    conf = tmp_path / "tmux.conf"
    conf.write_text("set -g remain-on-exit on\n", encoding="utf-8")

    def tmux(*args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", socket, "-f", str(conf), *args], capture_output=True, text=True
        ).stdout

    exports = " ".join(f"{key}={value}" for key, value in env.items())
    tmux("new-session", "-d", "-s", "demo", "-x", "80", "-y", "24",
         f"cd {checkout} && env -i {exports} bash scripts/demo.sh")  # fmt: skip
    try:
        deadline = time.monotonic() + 300  # a fresh venv: pip downloads what it needs
        screen = ""
        while time.monotonic() < deadline and "Menu principal" not in screen:
            time.sleep(1)
            screen = tmux("capture-pane", "-p", "-t", "demo")
            assert "externally-managed-environment" not in screen, screen
            assert "Traceback" not in screen, screen
            assert "Pane is dead" not in screen, screen
        assert "Menu principal" in screen, screen
        base = subprocess.run(
            [str(checkout / ".venv/bin/python"), "-c", "import sys; print(sys.base_prefix)"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
        assert base == "/usr"
        tmux("send-keys", "-t", "demo", "C-q")
    finally:
        tmux("kill-server")
