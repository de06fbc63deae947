"""What every benchmark of ``bench/`` shares: the machine, the databases, timed and measured child
processes, a real pseudo-terminal, and the results table.

Each figure runs the tuibill found on ``PYTHONPATH`` (or installed) in child processes, so that
imports, start-up and memory are counted as a user meets them. Nothing here is part of the test
run: the suite never times anything.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import json
import os
import platform
import re
import select
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

PY = sys.executable
BENCH = Path(__file__).resolve().parent

# Keys as an xterm sends them.
KEYS = {
    "down": b"\x1b[B",
    "up": b"\x1b[A",
    "right": b"\x1b[C",
    "left": b"\x1b[D",
    "pagedown": b"\x1b[6~",
    "pageup": b"\x1b[5~",
    "end": b"\x1b[F",
    "home": b"\x1b[H",
    "f5": b"\x1b[15~",
    "f6": b"\x1b[17~",
    "tab": b"\t",
    "enter": b"\r",
    "escape": b"\x1b",
    "slash": b"/",
    "ctrl+t": b"\x14",
    "ctrl+r": b"\x12",
    "ctrl+q": b"\x11",
}


# --- results ----------------------------------------------------------------------------------


@dataclass
class Result:
    """One line of the table: a figure, what was measured, the goal, and whether it is met."""

    figure: str
    measured: str
    goal: str = ""
    ok: bool | None = None  # None: no goal (a reference figure)
    detail: str = ""

    @property
    def verdict(self) -> str:
        return {True: "oui", False: "NON", None: ""}[self.ok]


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def mib(kib: float) -> str:
    return f"{kib / 1024:.0f} MB"


def number(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def table(results: Iterable[Result]) -> str:
    rows = [("Mesure", "Mesuré", "Objectif", "Atteint", "Détail")]
    rows += [(r.figure, r.measured, r.goal, r.verdict, r.detail) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[i].ljust(widths[i]) for i in range(4)] + [row[4]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 6)
    return "\n".join(lines)


# --- the machine and the code measured ---------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def source_tree() -> Path:
    """The ``src`` folder of the tuibill the children import."""
    found = subprocess.run(
        [PY, "-c", "import tuibill, pathlib; print(pathlib.Path(tuibill.__file__).parent.parent)"],
        capture_output=True, text=True, check=True, env=child_env(),
    ).stdout.strip()  # fmt: skip
    return Path(found)


def source_revision(tree: Path) -> str:
    done = subprocess.run(
        ["git", "-C", str(tree), "describe", "--always", "--dirty"],
        capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip() or "hors git"


def machine() -> dict[str, str]:
    versions = subprocess.run(
        [PY, "-c", "import sqlite3, textual, peewee, platform;"
         "print(platform.python_version(), sqlite3.sqlite_version, textual.__version__,"
         " peewee.__version__)"],
        capture_output=True, text=True, check=True, env=child_env(),
    ).stdout.split()  # fmt: skip
    tree = source_tree()
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu_model(),
        "system": platform.platform(),
        "python": versions[0],
        "sqlite": versions[1],
        "textual": versions[2],
        "peewee": versions[3],
        "source": f"{tree} ({source_revision(tree)})",
        "bytecode": "compilé (.pyc)" if any(tree.glob("tuibill/__pycache__/*.pyc"))
        else "sources recompilées à chaque lancement (PYTHONDONTWRITEBYTECODE, pas de .pyc)",
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def machine_text(info: dict[str, str]) -> str:
    return (
        f"Machine : {info['nproc']} CPU ({info['cpu']}) · {info['system']} · charge {info['load']}\n"
        f"Python {info['python']} · SQLite {info['sqlite']} · Textual {info['textual']} · "
        f"peewee {info['peewee']}\n"
        f"Code : {info['source']} · {info['bytecode']}"
    )


# --- child processes ---------------------------------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The children's environment: no user configuration file, a known terminal."""
    env = {**os.environ, "TUIBILL_CONFIG": "", **extra}
    env.pop("TEXTUAL", None)  # no devtools
    return env


def tuibill_argv(*args: str) -> list[str]:
    return [PY, "-m", "tuibill", *args]


def run(argv: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("env", child_env())
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    return subprocess.run(list(argv), **kwargs)


@dataclass
class Measured:
    seconds: float
    peak_rss_kib: int
    returncode: int
    stderr: str = ""


# The child is started by this small interpreter, not by the benchmark itself: on Linux a child's
# peak RSS (``ru_maxrss``) starts from the RSS of the process that forked it, so a benchmark that
# holds tuibill, a database's pages or a big file would lend its own size to every child. The
# wall time is taken here too, from the spawn to the child's end.
_SPAWNER = """
import os, sys, time
fd, argv = int(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
os.write(fd, f"{seconds!r} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}".encode())
"""


def measure(
    argv: Sequence[str], *, env: dict[str, str] | None = None, stdout=subprocess.DEVNULL
) -> Measured:
    """Wall time and peak RSS (the kernel's own count, ``wait4``) of one child process."""
    read_end, write_end = os.pipe()
    try:
        spawner = subprocess.Popen(
            [PY, "-I", "-S", "-c", _SPAWNER, str(write_end), *argv], stdout=stdout,
            stderr=subprocess.PIPE, env=env or child_env(), pass_fds=(write_end,),
        )  # fmt: skip
        os.close(write_end)
        write_end = -1
        # Drain stderr before waiting: a child blocked on a full pipe never ends.
        stderr = spawner.stderr.read() if spawner.stderr else b""
        spawner.wait()
        with os.fdopen(read_end, "rb") as pipe:
            read_end = -1
            answer = pipe.read().decode()
    finally:
        for fd in (read_end, write_end):
            if fd >= 0:
                os.close(fd)
    if not answer:
        raise RuntimeError(f"mesure impossible de {list(argv)} : {stderr.decode(errors='replace')}")
    seconds, peak, code = answer.split()
    return Measured(float(seconds), int(peak), int(code), stderr.decode(errors="replace"))


# --- databases ---------------------------------------------------------------------------------


def workdir(path: str | None = None) -> Path:
    """Where the databases are kept between runs (one folder per source tree)."""
    base = Path(path) if path else Path(tempfile.gettempdir()) / "tuibill-bench"
    tree = hashlib.sha1(str(source_tree()).encode()).hexdigest()[:8]
    folder = base / tree
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def invoice_count(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT COUNT(*) FROM invoice").fetchone()[0]
    except sqlite3.Error:
        return -1


def remove_db(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def copy_db(source: Path, target: Path) -> Path:
    remove_db(target)
    with sqlite3.connect(source) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(source, target)
    return target


def demo_db(folder: Path) -> Path:
    """A fresh ``tuibill init --demo`` database (made once per folder, then copied)."""
    path = folder / "demo.sqlite"
    if not path.exists() or invoice_count(path) <= 0:
        remove_db(path)
        run(tuibill_argv("init", "--db", str(path), "--demo"))
    return path


def seeded_db(folder: Path, invoices: int, *, years: int = 5, fresh: bool = False) -> tuple[Path, Measured | None]:
    """The demo practice plus *invoices* seeded ones, made with ``tuibill seed`` (reused when it
    exists, unless *fresh*). The seed's measure when it was made now."""
    path = folder / f"seed-{invoices}-{years}y.sqlite"
    if not fresh and path.exists() and invoice_count(path) >= invoices:
        return path, None
    copy_db(demo_db(folder), path)
    made = measure(
        tuibill_argv("--db", str(path), "seed", "--invoices", str(invoices),
                     "--years", str(years), "--quiet")
    )  # fmt: skip
    if made.returncode:
        raise SystemExit(f"seed a échoué : {made.stderr}")
    return path, made


# --- a real pseudo-terminal --------------------------------------------------------------------


class Pty:
    """A child process on a real pseudo-terminal of *size*, read from the master side: what it
    writes is exactly what a terminal (or an SSH link) would carry."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        size: tuple[int, int] = (80, 24),
        term: str = "xterm-256color",
        env: dict[str, str] | None = None,
    ) -> None:
        columns, rows = size
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        environment = {**(env or child_env()), "TERM": term, "COLUMNS": str(columns),
                       "LINES": str(rows)}  # fmt: skip
        environment.pop("COLORTERM", None)  # as over ssh: 256 colours
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=environment,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.total = 0
        self.last_at: float | None = None  # perf_counter time of the last byte read

    def read(self, silence: float, timeout: float = 30.0) -> tuple[bytes, float | None, float | None]:
        """Read until *silence* seconds pass with nothing written; (bytes, first, last) with the
        perf_counter times of the first and last bytes (None when nothing came)."""
        data = bytearray()
        first = last = None
        deadline = time.perf_counter() + timeout
        while True:
            now = time.perf_counter()
            wait = silence if last is None else (last + silence - now)
            if first is None:
                wait = min(max(wait, silence), deadline - now)
            if wait <= 0 or now > deadline:
                break
            ready, _, _ = select.select([self.master], [], [], wait)
            if not ready:
                if first is not None or time.perf_counter() >= deadline:
                    break
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            now = time.perf_counter()
            first = now if first is None else first
            last = self.last_at = now
            data += chunk
        self.total += len(data)
        return bytes(data), first, last

    def settle(self, silence: float, timeout: float = 30.0) -> bytes:
        """Read until *silence* seconds pass with nothing written — at once when the screen is
        already quiet (``read`` waits for a first byte: a key's answer)."""
        data = bytearray()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not select.select([self.master], [], [], silence)[0]:
                break
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                break
            if not chunk:
                break
            self.last_at = time.perf_counter()
            data += chunk
        self.total += len(data)
        return bytes(data)

    def wait_for(self, pattern: bytes, timeout: float = 30.0) -> bytes:
        """Read until the regular expression *pattern* matches what was written since the call
        (then until 50 ms of silence)."""
        data = bytearray()
        deadline = time.perf_counter() + timeout
        found = re.compile(pattern)
        while not found.search(data) and time.perf_counter() < deadline:
            chunk, _, _ = self.read(0.05, timeout=max(0.05, deadline - time.perf_counter()))
            data += chunk
        if not found.search(data):
            raise TimeoutError(f"{pattern!r} not shown within {timeout} s")
        return bytes(data)

    def send(self, key: str | bytes) -> float:
        sequence = KEYS[key] if isinstance(key, str) else key
        sent = time.perf_counter()
        os.write(self.master, sequence)
        return sent

    def key(self, key: str | bytes, silence: float = 0.15) -> tuple[int, float | None]:
        """Press *key*; (bytes it cost, seconds from the key to the last byte of its answer)."""
        sent = self.send(key)
        data, _, last = self.read(silence)
        return len(data), (None if last is None else last - sent)

    def status(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak) of the child, in KiB."""
        found = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
        return found

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.write(self.master, KEYS["ctrl+q"])
                self._reap(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
        try:
            while select.select([self.master], [], [], 0)[0] and os.read(self.master, 65536):
                pass
        except OSError:
            pass
        os.close(self.master)

    def _reap(self, timeout: float) -> None:
        """Wait for the child to end and keep its CPU time (user + system, ``wait4``)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            pid, status, usage = os.wait4(self.process.pid, os.WNOHANG)
            if pid:
                self.process.returncode = os.waitstatus_to_exitcode(status)
                self.cpu_seconds = usage.ru_utime + usage.ru_stime
                return
            try:  # keep reading: a child blocked on a full pty never ends
                while select.select([self.master], [], [], 0.01)[0]:
                    os.read(self.master, 65536)
            except OSError:
                time.sleep(0.01)
        raise subprocess.TimeoutExpired(self.process.args, timeout)

    cpu_seconds: float | None = None

    def __enter__(self) -> Pty:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- command line shared by every script -------------------------------------------------------


def arguments(description: str, *, invoices: int = 1_000_000) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--invoices", type=int, default=invoices,
                        help=f"taille de l'historique (défaut {invoices:,})".replace(",", " "))  # fmt: skip
    parser.add_argument("--db", type=Path, help="base déjà remplie à utiliser (copiée si modifiée)")
    parser.add_argument("--workdir", help="dossier des bases (défaut $TMPDIR/tuibill-bench)")
    parser.add_argument("--runs", type=int, default=5, help="mesures par chiffre")
    parser.add_argument("--json", type=Path, help="ajouter les résultats (une ligne JSON chacun)")
    return parser


def big_db(args: argparse.Namespace) -> Path:
    if args.db:
        return args.db
    path, _ = seeded_db(workdir(args.workdir), args.invoices)
    return path


def report(results: list[Result], args: argparse.Namespace, title: str) -> None:
    if args.json:
        with args.json.open("a") as out:
            for result in results:
                out.write(json.dumps(asdict(result), ensure_ascii=False) + "\n")
    print(f"\n{title}\n{machine_text(machine())}\n")
    print(table(results))


def main_of(run_figures: Callable[[argparse.Namespace], list[Result]], description: str,
            parser: argparse.ArgumentParser | None = None) -> int:  # fmt: skip
    args = (parser or arguments(description)).parse_args()
    results = run_figures(args)
    report(results, args, description)
    return 0


# The status line once the journal is counted: « 33 012 factures · … ».
COUNTED = "\\d factures? · ".encode()


def journal_on_pty(db: str, *, all_time: bool = False, env: dict[str, str] | None = None) -> Pty:
    """The application on a pty (80×24, xterm-256color), on the Journal des factures (F5), its
    rows shown and counted (the status line says « N factures · du … ») and the screen quiet
    again; with *all_time*, then on the whole history (Ctrl+T, « N factures · sans limite »)."""
    pty = Pty(tuibill_argv("--db", db, "--user", "bench"), env=env)
    try:
        pty.wait_for(rb"Facturer", timeout=30)  # the menu (not the terminal set-up before it)
        pty.settle(0.3)
        pty.send("f5")
        pty.wait_for(COUNTED + rb"du ", timeout=60)
        pty.settle(0.3)
        if all_time:
            pty.send("ctrl+t")
            pty.wait_for(COUNTED + rb"sans limite", timeout=120)
            pty.settle(0.3)
    except BaseException:
        pty.close()
        raise
    return pty
