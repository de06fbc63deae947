"""What starting the desk imports (issue 12: start-up time and memory).

The application is started as ``tuibill --db FILE`` starts it, in a child process (headless, its
menu drawn and the menu's worker done); only what the menu needs may be imported by then. Each
module named here cost start-up time or resident memory when it crept in: psycopg2 (libpq and
OpenSSL, ~10 MB) on a SQLite desk, the ``holidays`` package (every country's calendar, ~13 MB)
for France's eleven days, the screens and the file formats of the other menus.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tuibill.models import LAZY_MODULES

# Top-level packages a desk on a SQLite file does not need to show its menu.
NOT_AT_START = {
    "psycopg2", "psycopg", "psycopg2cffi", "pymysql", "MySQLdb", "playhouse",
    "lxml", "fpdf", "facturx", "ofxtools", "schwifty", "stdnum", "argon2", "cryptography",
    "holidays", "smtplib", "email", "aiosmtpd", "serial", "smartcard", "tomllib",
}  # fmt: skip

_CHILD = """
import sys
import textual.app

original = textual.app.App.run


async def pilot(pilot):
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()  # the menu's « À faire »
    await pilot.pause()
    print("screen", type(pilot.app.screen).__name__)
    pilot.app.exit()


def run(self, **kwargs):
    return original(self, headless=True, size=(80, 24), auto_pilot=pilot)


textual.app.App.run = run
from tuibill.cli.main import main

print("exit", main(["--db", sys.argv[1]]))
print("modules", " ".join(sorted(sys.modules)))
"""


def _start(db: str) -> dict[str, str]:
    env = {**os.environ, "TUIBILL_CONFIG": ""}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, db], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)


def test_the_desk_starts_without_what_its_menu_does_not_use(demo_url) -> None:
    shown = _start(demo_url)
    assert shown["exit"] == "0"
    assert shown["screen"] == "MenuScreen"
    modules = set(shown["modules"].split())
    assert "tuibill.services.legal_delays" in modules  # the menu's alerts were read
    assert "tuibill.services.return_views" not in modules  # F7's views: counted without them
    assert sorted(NOT_AT_START & {name.split(".")[0] for name in modules}) == []
    screens = sorted(name for name in modules if name.startswith("tuibill.screens."))
    assert screens == ["tuibill.screens.menu"]
    others = ("tuibill.hardware", "tuibill.transport", "tuibill.simulator", "tuibill.dialogs")
    assert sorted(name for name in modules if name.startswith(others)) == []
    assert sorted(name for name in modules if name.startswith("tuibill.formats.")) == []
    # The tiers-payeurs', bank's, rejections' models: loaded on first use (tuibill.models).
    lazy = {f"tuibill.models.{module}" for module in LAZY_MODULES}
    assert sorted(lazy & modules) == []


def test_psycopg2_stays_importable_after_a_sqlite_start() -> None:
    # The drivers are hidden from peewee's first import only, not from the process.
    code = (
        "from tuibill.cli.context import server_drivers_hidden\n"
        "import sys\n"
        "with server_drivers_hidden('/tmp/x.sqlite'):\n"
        "    import peewee\n"
        "assert peewee.psycopg2 is None\n"
        "import psycopg2\n"
        "print(psycopg2.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "psycopg2"


def test_a_postgresql_desk_imports_peewee_with_its_driver() -> None:
    code = (
        "from tuibill.cli.context import server_drivers_hidden\n"
        "with server_drivers_hidden('postgresql://tuibill@localhost/cabinet'):\n"
        "    import peewee\n"
        "print(peewee.psycopg2 is not None)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_the_start_sets_its_imports_aside_from_the_garbage_collector() -> None:
    # Run in a child: freezing the objects of the test process itself would outlive the test.
    code = (
        "import gc\n"
        "from tuibill.cli.tui import imports_kept\n"
        "with imports_kept():\n"
        "    assert not gc.isenabled()\n"
        "    import peewee\n"
        "    kept = [[]]\n"
        "print(gc.isenabled(), gc.get_freeze_count() > 0)\n"
        "gc.disable()\n"
        "with imports_kept():\n"
        "    pass\n"
        "print(gc.isenabled())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "False"]  # a disabled collector stays so
