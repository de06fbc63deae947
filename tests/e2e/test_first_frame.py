"""The desk's first frame, as the terminal receives it: `tuibill demo` on a real pseudo-terminal.

The menu's first frame already says where and who (the practice, the logged-in user) and what
is to do (read while the desk starts): set once mounted, the header's title came a frame late,
and the alerts a frame later still (issue 12).
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

ESCAPE = re.compile(rb"\x1b\[[0-9;?:<>=]*[A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>]")


@pytest.fixture
def demo_db(tmp_path) -> Path:
    path = tmp_path / "demo.sqlite"
    subprocess.run([sys.executable, "-m", "tuibill", "init", "--db", str(path), "--demo"],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    return path


def _chunk(master: int) -> bytes:
    """What the pty holds now; nothing once the program is gone."""
    try:
        return os.read(master, 65536)
    except OSError:
        return b""


def _first_burst(
    argv: list[str], env: dict[str, str], until: bytes, then: tuple[bytes, ...] = ()
) -> bytes | list[bytes]:
    """What the program writes on an 80×24 pty until *until* shows, then 0.3 s of silence;
    with *then*, also what each of those keys makes it write (0.5 s of silence after each)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                               start_new_session=True, close_fds=True)  # fmt: skip
    os.close(slave)
    data = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            quiet = 0.3 if until in data else 5
            if not select.select([master], [], [], quiet)[0]:
                if until in data:
                    break
                continue
            chunk = _chunk(master)
            if not chunk:
                break
            data += chunk
        bursts = [bytes(data)]
        for key in then:
            os.write(master, key)
            burst = bytearray()
            while select.select([master], [], [], 0.5)[0]:
                chunk = _chunk(master)
                if not chunk:
                    break
                burst += chunk
            bursts.append(bytes(burst))
    finally:
        process.kill()
        process.wait(timeout=30)
        os.close(master)
    return bursts if then else bursts[0]


def test_the_first_frame_says_where_who_and_what_to_do(tmp_path, demo_db) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "TUIBILL_CONFIG": "", "HOME": str(tmp_path)}
    env.pop("COLORTERM", None)
    written = _first_burst([sys.executable, "-m", "tuibill", "demo", "--db", str(demo_db)],
                           env, until=b"Facturer")  # fmt: skip
    text = ESCAPE.sub(b"", written).decode("utf-8", "replace")
    frames = text.split("≡")[1:]  # the header's icon opens each full frame
    assert frames, text
    first = frames[0]
    header = first.split("\n", 1)[0]
    assert "Cabinet infirmier" in header and "demo (administrateur)" in header, header
    assert "Menu principal" in first and "À faire" in first


def test_the_desk_starts_with_one_full_frame(tmp_path, demo_db) -> None:
    # Textual laid the menu out and drew it all again just after its first frame (a layout and
    # a repaint asked while it mounted, and the terminal's size told twice): ~7 KB more at every
    # start over a slow link, and the start ended a frame later (issue 12).
    env = {**os.environ, "TERM": "xterm-256color", "TUIBILL_CONFIG": "", "HOME": str(tmp_path)}
    env.pop("COLORTERM", None)
    written = _first_burst([sys.executable, "-m", "tuibill", "--db", str(demo_db)],
                           env, until=b"Facturer")  # fmt: skip
    text = ESCAPE.sub(b"", written).decode("utf-8", "replace")
    assert "Menu principal" in text
    assert text.count("≡") == 1, f"{text.count('≡')} full frames, {len(written)} bytes"


F_KEYS = {
    "Facturer": b"\x1bOQ",
    "Journal des factures": b"\x1b[15~",
    "Journal des lots": b"\x1b[17~",
    "Tiers-payeurs": b"\x1b[19~",
}


def test_a_menu_draws_its_screen_once(tmp_path, demo_db) -> None:
    # Shown, a screen was drawn where its layout moved things, then all of it again at the next
    # update (a repaint asked while it mounted): the header and every line twice, 4–9 KB more
    # at each F-key over a slow link (issue 12).
    env = {**os.environ, "TERM": "xterm-256color", "TUIBILL_CONFIG": "", "HOME": str(tmp_path)}
    env.pop("COLORTERM", None)
    keys = tuple(key for title in F_KEYS for key in (F_KEYS[title], b"\x1b"))
    bursts = _first_burst([sys.executable, "-m", "tuibill", "--db", str(demo_db)],
                          env, until=b"Facturer", then=keys)  # fmt: skip
    assert isinstance(bursts, list)
    for title, burst in zip(F_KEYS, bursts[1::2], strict=True):
        text = ESCAPE.sub(b"", burst).decode("utf-8", "replace")
        header = f"{title} — admin"  # the header: where, and who
        assert text.count(header) == 1, (title, text.count(header), len(burst))
