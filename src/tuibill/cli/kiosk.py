"""``tuibill kiosk``: the desk of a thin client — never a shell, restarted if it stops.

The command supervises: it runs the application in a child process (``tuibill kiosk
--no-restart``, the same application with ``kiosk`` on: the quitting keys lock the screen) and
starts it again whenever it ends — a crash, a kill, an out-of-memory — after a pause that grows
while it keeps failing (1 s, 2 s, 4 s… 30 s at most; back to 1 s after a minute of running).
The terminal is put back as it was between two runs. SIGTERM or SIGHUP (systemd stopping the
unit, the SSH session closing) stops the child and the supervisor. ``[ui] kiosk = true`` makes
a plain ``tuibill`` do the same. See docs/kiosk.md.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

from tuibill.cli.context import CliContext

FIRST_DELAY = 1.0
MAX_DELAY = 30.0
STABLE_AFTER = 60.0  # seconds of running after which a stop is not a crash loop
# Leave the alternate screen, show the cursor, stop mouse reporting: what a killed Textual
# application leaves on.
_TERMINAL_RESET = "\x1b[?1049l\x1b[?25h\x1b[?1000l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[0m"


def register(subparsers, common) -> None:
    kiosk = subparsers.add_parser(
        "kiosk", parents=[common],
        help="poste en mode kiosque : jamais de shell, relancé s'il s'arrête",
    )  # fmt: skip
    # The supervised child: one run of the application in kiosk mode, not supervised again.
    kiosk.add_argument("--no-restart", action="store_true", help=argparse.SUPPRESS)
    kiosk.set_defaults(handler=cmd_kiosk)


def child_command(args: argparse.Namespace) -> list[str]:
    """The child's command line: this Python, the same global options."""
    command = [sys.executable, "-m", "tuibill"]
    for option in ("config", "db", "user"):
        value = getattr(args, option, None)
        if value:
            command += [f"--{option}", value]
    return [*command, "kiosk", "--no-restart"]


class _Terminal:
    """The terminal's settings at start, put back after each run of the child."""

    def __init__(self) -> None:
        self.saved = None
        try:
            import termios

            if sys.stdin.isatty():
                self.saved = termios.tcgetattr(sys.stdin.fileno())
        except (ImportError, OSError):
            self.saved = None

    def restore(self) -> None:
        if self.saved is None:
            return
        import termios

        try:
            termios.tcsetattr(sys.stdin.fileno(), termios.TCSANOW, self.saved)
            sys.stdout.write(_TERMINAL_RESET)
            sys.stdout.flush()
        except OSError:
            pass


def supervise(
    command: Sequence[str],
    *,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    say: Callable[[str], None] | None = None,
) -> int:
    """Run *command* again and again (at most *max_runs* times, for tests); the last exit code.

    Stops when the supervisor itself is told to (SIGTERM, SIGHUP, SIGINT): then the child is
    stopped too.
    """
    say = say or (lambda text: print(text, file=sys.stderr, flush=True))
    terminal = _Terminal()
    stopping = False
    child: subprocess.Popen | None = None

    def stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        if child is not None and child.poll() is None:
            child.terminate()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    runs, delay, code = 0, FIRST_DELAY, 0
    try:
        while not stopping:
            runs += 1
            started = time.monotonic()
            child = subprocess.Popen(list(command))
            code = child.wait()
            terminal.restore()
            if stopping or (max_runs is not None and runs >= max_runs):
                break
            if time.monotonic() - started >= STABLE_AFTER:
                delay = FIRST_DELAY
            say(
                f"tuibill kiosque : l'application s'est arrêtée (code {code}) ; "
                f"relance dans {delay:g} s."
            )
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code


def cmd_kiosk(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.no_restart:
        from tuibill.cli.tui import run_tui

        return run_tui(ctx, demo=False, kiosk=True)
    ctx.open_db(authenticate=False)  # a wrong path or schema is said once, not in a loop
    return supervise(child_command(args))
