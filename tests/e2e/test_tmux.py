"""The whole application as a person sees it: `tuibill demo` in tmux at 80×24."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.tmux,
    pytest.mark.skipif(shutil.which("tmux") is None and not os.environ.get("CI"), reason="tmux absent"),
]


class Tmux:
    def __init__(self, tmp: Path, name: str) -> None:
        self.socket = f"tuibill-{name}-{os.getpid()}"
        self.conf = tmp / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\nset -s escape-time 10\n", encoding="utf-8")

    def run(self, *args: str) -> str:
        result = subprocess.run(
            ["tmux", "-L", self.socket, "-f", str(self.conf), *args],
            capture_output=True, text=True, timeout=30,
        )
        return result.stdout

    def start(self, command: str, env: dict[str, str]) -> None:
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        self.run("new-session", "-d", "-s", "app", "-x", "80", "-y", "24", f"env {exports} {command}")

    def screen(self) -> str:
        return self.run("capture-pane", "-p", "-t", "app")

    def keys(self, *keys: str) -> None:
        self.run("send-keys", "-t", "app", *keys)

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.2)
        raise AssertionError(f"« {text} » jamais affiché ; écran :\n{screen}")

    def kill(self) -> None:
        self.run("kill-server")


@pytest.fixture
def demo_db(tmp_path) -> Path:
    path = tmp_path / "demo.sqlite"
    subprocess.run([sys.executable, "-m", "tuibill", "init", "--db", str(path), "--demo"],
                   check=True, capture_output=True, timeout=120)
    return path


def _app(tmp_path: Path, demo_db: Path, name: str, term: str) -> Tmux:
    tmux = Tmux(tmp_path, name)
    tmux.start(
        f"{sys.executable} -m tuibill demo --db {demo_db}",
        {"TERM": term, "TUIBILL_CONFIG": "", "HOME": str(tmp_path)},
    )
    return tmux


def test_the_demo_at_the_reception_desk(tmp_path, demo_db) -> None:
    tmux = _app(tmp_path, demo_db, "desk", "xterm-256color")
    try:
        screen = tmux.wait_for("Menu principal")
        assert "Facturer" in screen and "Journal" in screen
        tmux.keys("F2")
        tmux.wait_for("Prescriptions à facturer")
        tmux.keys("F5")
        screen = tmux.wait_for("Numéro")
        assert "État" in screen
        tmux.keys("F9")
        tmux.wait_for("Patient")
        tmux.keys("F1")
        tmux.wait_for("Aide")
        tmux.keys("Escape")
        tmux.keys("Escape")
        tmux.wait_for("Menu principal")
        for line in tmux.screen().splitlines():
            assert len(line) <= 80
        tmux.keys("C-q")
        deadline = time.monotonic() + 15
        while "Pane is dead" not in tmux.screen() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Traceback" not in tmux.screen()
    finally:
        tmux.kill()


def test_linux_console_uses_ascii_frames(tmp_path, demo_db) -> None:
    tmux = _app(tmp_path, demo_db, "console", "linux")
    try:
        screen = tmux.wait_for("Menu principal")
        tmux.keys("F2")
        screen = tmux.wait_for("Prescriptions à facturer")
        rounded = set("╭╮╰╯⭘")
        assert not rounded & set(screen), screen
        assert "+----" in screen  # the table's frame, drawn in ASCII
    finally:
        tmux.kill()


# The header of each main screen (issue 13 #12): F-key, the title it must show.
TITLES = [
    ("F2", "Facturer"),
    ("F3", "Transmettre"),
    ("F4", "Lecteur"),
    ("F5", "Journal des factures"),
    ("F6", "Journal des lots"),
    ("F7", "Retours"),
    ("F8", "Tiers"),
    ("F9", "Patients"),
]


def header_line(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def test_every_main_screen_names_itself_at_80x24(tmp_path, demo_db) -> None:
    tmux = _app(tmp_path, demo_db, "titles", "xterm-256color")
    try:
        screen = tmux.wait_for("Menu principal")
        assert "Cabinet" in header_line(screen)
        for key, title in TITLES:
            tmux.keys(key)
            deadline = time.monotonic() + 30
            while title not in header_line(tmux.screen()) and time.monotonic() < deadline:
                time.sleep(0.2)
            screen = tmux.screen()
            assert title in header_line(screen), screen
            assert all(len(line) <= 80 for line in screen.splitlines())
        tmux.keys("Escape")
        tmux.wait_for("Menu principal")
        tmux.keys(*["Down"] * 9, "Enter")  # « Données › Praticiens », a screen of the menu
        deadline = time.monotonic() + 30
        while "Praticiens" not in header_line(tmux.screen()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "Données › Praticiens" in header_line(tmux.screen()), tmux.screen()
    finally:
        tmux.kill()


def _drawable_on_the_console(char: str) -> bool:
    """In a Linux console font: ASCII, Latin-1/Latin-9, code page 437's lines and blocks."""
    if char.isascii() or "\xa0" <= char <= "\xff" or char in "€ŒœŠšŽžŸ":
        return True
    try:
        char.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


def test_the_linux_console_gets_only_what_its_fonts_draw(tmp_path, demo_db) -> None:
    """Issue 13 #16: no « ⭘ », « ▼ », « … » nor scrollbar eighths reach TERM=linux."""
    tmux = _app(tmp_path, demo_db, "glyphs", "linux")
    try:
        seen = set(tmux.wait_for("Menu principal"))
        for key, title in [("F2", "Facturer"), ("F3", "Transmettre"), ("F5", "Journal"),
                           ("F9", "Patients")]:
            tmux.keys(key)
            deadline = time.monotonic() + 30
            while title not in header_line(tmux.screen()) and time.monotonic() < deadline:
                time.sleep(0.2)
            time.sleep(0.5)
            seen |= set(tmux.screen())
        assert not {char for char in seen if not _drawable_on_the_console(char)}, seen
    finally:
        tmux.kill()
