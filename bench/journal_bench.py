"""Benchmark of the Journal des factures at a practice's scale (not part of the test run).

Seeds (or reuses) a SQLite database of N invoices with the real CLI, then times, as medians of
several runs: the journal's first page (count + page 0), the jump to the end, a page in the
middle by key and by offset, a patient-prefix filter, a number lookup, and the TUI's time to
show the journal's rows (Textual Pilot, headless, in a fresh process).

    python bench/journal_bench.py                       # 1,000,000 invoices
    python bench/journal_bench.py --invoices 100000 --runs 7
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# The TUI measurement runs in a child process so that imports and start-up are counted as a
# user sees them.
TUI_CHILD = r"""
import time
T0 = time.perf_counter()
import asyncio, json, sys
from tuibill.models import database
database.bind(sys.argv[1])
from tuibill.app import TuibillApp
from tuibill.screens.journal import JournalScreen
from tuibill.widgets.virtual_table import VirtualTable
T_IMPORTS = time.perf_counter()

# First paint = the first time the compositor asks the journal's table for a line with data.
first_paint = []
render_line = VirtualTable.render_line
def spy(self, y):
    if not first_paint and self.row_count and y > 0:
        first_paint.append(time.perf_counter())
    return render_line(self, y)
VirtualTable.render_line = spy

async def main():
    app = TuibillApp(user="bench")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        t_menu = time.perf_counter()
        await pilot.press("f5")
        while not (
            first_paint
            and isinstance(app.screen, JournalScreen)
            and not app.screen.is_searching
        ):
            await pilot.pause()
        await pilot.pause()
        t_idle = time.perf_counter()
        print(json.dumps({
            "imports": T_IMPORTS - T0,
            "menu": t_menu - T0,
            "f5_to_rows": first_paint[0] - t_menu,
            "f5_to_idle": t_idle - t_menu,
            "rows": app.screen.pager.total,
            "wall": time.time() - (time.perf_counter() - first_paint[0]),
        }), flush=True)

asyncio.run(main())
"""


def median_of(runs: int, work: Callable[[], object]) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def invoice_count(path: Path) -> int:
    try:
        with sqlite3.connect(path) as conn:
            return conn.execute("SELECT COUNT(*) FROM invoice").fetchone()[0]
    except sqlite3.Error:
        return -1


def tuibill(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "tuibill", *args], check=True, env=_env())


def _env() -> dict[str, str]:
    return {**os.environ, "TUIBILL_CONFIG": ""}  # no user config: a reproducible run


def prepare(path: Path, invoices: int, reseed: bool) -> float | None:
    """Create the database if needed; the seed time in seconds, or None if it was reused."""
    sidecar = path.with_suffix(".seed.json")
    if not reseed and path.exists() and invoice_count(path) >= invoices:
        if sidecar.exists():
            return json.loads(sidecar.read_text()).get("seed_seconds")
        return None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"Création de {path} ({invoices:,} factures)…".replace(",", " "), flush=True)
    tuibill("init", "--db", str(path), "--demo")
    start = time.perf_counter()
    tuibill("--db", str(path), "seed", "--invoices", str(invoices), "--quiet")
    seconds = time.perf_counter() - start
    sidecar.write_text(json.dumps({"invoices": invoices, "seed_seconds": seconds}))
    return seconds


def measure(path: Path, runs: int) -> list[tuple[str, list[float], str]]:
    from tuibill.models import Invoice, database
    from tuibill.services.journal import JournalFilter, JournalQuery
    from tuibill.services.paging import KeysetPager

    database.bind(str(path))
    results: list[tuple[str, list[float], str]] = []

    def add(label: str, times: list[float], note: str = "") -> None:
        results.append((label, times, note))
        print(f"  {label}: {statistics.median(times) * 1000:.2f} ms", flush=True)

    window = KeysetPager(JournalQuery(JournalFilter()))
    add(
        "1re page, 2 derniers mois (compte + page 0)",
        median_of(runs, lambda: KeysetPager(JournalQuery(JournalFilter())).page(0)),
        f"{window.total:,} lignes".replace(",", " "),
    )
    everything = JournalFilter(all_time=True)
    pager = KeysetPager(JournalQuery(everything))
    total = pager.total
    add(
        "1re page, sans limite de temps (compte + page 0)",
        median_of(runs, lambda: KeysetPager(JournalQuery(everything)).page(0)),
        f"{total:,} lignes".replace(",", " "),
    )

    def fresh() -> KeysetPager:
        fresh_pager = KeysetPager(JournalQuery(everything))
        fresh_pager.page(0)
        return fresh_pager

    def timed(setup: Callable[[], KeysetPager], action: Callable[[KeysetPager], object]):
        times = []
        for _ in range(runs):
            subject = setup()  # the count and any preparation are not timed
            start = time.perf_counter()
            action(subject)
            times.append(time.perf_counter() - start)
        return times

    add(
        "Fin : dernière ligne (la queue, par clé)",
        timed(fresh, lambda p: p.row(p.total - 1)),
        "après la 1re page",
    )
    middle_page = pager.page_count // 2

    def with_neighbour() -> KeysetPager:
        prepared = fresh()
        prepared.page(middle_page - 1)
        return prepared

    add(
        "Page au milieu, par clé (page voisine lue)",
        timed(with_neighbour, lambda p: p.page(middle_page)),
        f"page {middle_page:,}".replace(",", " "),
    )
    add(
        "Page au milieu, par OFFSET",
        timed(fresh, lambda p: p.page(middle_page)),
        f"OFFSET {middle_page * pager.page_size:,}".replace(",", " "),
    )
    three_quarters = pager.page_count * 3 // 4

    def view() -> KeysetPager:
        prepared = KeysetPager(JournalQuery(everything))
        prepared.page(0)
        return prepared

    add(
        "Page aux 3/4, OFFSET depuis la fin (TUI)",
        timed(view, lambda p: p.read_far(three_quarters)),
        "KeysetPager.read_far",
    )
    prefix = "MARTIN"
    by_patient = JournalFilter(patient=prefix, all_time=True)
    add(
        f"Filtre patient « {prefix} », sans limite (compte + page 0)",
        median_of(runs, lambda: KeysetPager(JournalQuery(by_patient)).page(0)),
        f"{JournalQuery(by_patient).count():,} lignes".replace(",", " "),
    )
    number = (
        Invoice.select(Invoice.number)
        .where(Invoice.number.is_null(False))
        .order_by(Invoice.id)
        .offset(total // 2)
        .limit(1)
        .scalar()
    )
    add(
        "Recherche par numéro de facture (compte + page 0)",
        median_of(runs, lambda: KeysetPager(JournalQuery(JournalFilter(number=number))).page(0)),
        f"n° {number:09d}",
    )
    return results


def measure_tui(path: Path, runs: int) -> list[tuple[str, list[float], str]]:
    keys = ("imports", "menu", "f5_to_rows", "f5_to_idle")
    samples: dict[str, list[float]] = {key: [] for key in ("wall", *keys)}
    rows = 0
    for _ in range(runs):
        spawned = time.time()
        out = subprocess.run(
            [sys.executable, "-c", TUI_CHILD, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=_env(),
        ).stdout
        data = json.loads(out.strip().splitlines()[-1])
        samples["wall"].append(data["wall"] - spawned)
        for key in keys:
            samples[key].append(data[key])
        rows = data["rows"]
    shown = f"{rows:,} lignes".replace(",", " ")
    results = [
        ("TUI : imports (tuibill.app)", samples["imports"], f"{runs} processus neufs"),
        ("TUI : démarrage → menu affiché", samples["menu"], "Pilot 80×24 headless"),
        ("TUI : F5 → 1re image du journal", samples["f5_to_rows"], shown),
        ("TUI : F5 → écran au repos", samples["f5_to_idle"], "pied de page compris"),
        ("TUI : lancement → journal affiché", samples["wall"], "interpréteur compris"),
    ]
    for label, times, _ in results:
        print(f"  {label}: {statistics.median(times) * 1000:.1f} ms", flush=True)
    return results


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:,.2f}".replace(",", " ") if ms < 100 else f"{ms:,.0f}".replace(",", " ")


def report(
    path: Path, invoices: int, runs: int, tui_runs: int, seed_seconds: float | None, rows: list
) -> str:
    import peewee
    import textual

    size_mb = (
        sum(
            Path(f"{path}{suffix}").stat().st_size
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        )
        / 1e6
    )
    lines = [
        "Journal des factures — banc de mesure",
        f"Machine : {platform.platform()} · {cpu_model()} · {os.cpu_count()} CPU · "
        f"charge {os.getloadavg()[0]:.1f}",
        f"Python {platform.python_version()} · SQLite {sqlite3.sqlite_version} · "
        f"peewee {peewee.__version__} · Textual {textual.__version__}",
        f"Base : {path} · {invoices:,} factures · {size_mb:,.0f} Mo".replace(",", " "),
        f"Médianes de {runs} mesures (TUI : {tui_runs} lancements), en millisecondes.",
        "",
    ]
    width = max(len(label) for label, _, _ in rows) + 2
    header = f"{'Mesure':<{width}}{'médiane':>10}{'min':>10}{'max':>10}  détail"
    lines += [header, "-" * len(header)]
    if seed_seconds is None:
        lines.append(f"{'tuibill seed --invoices N':<{width}}{'(base réutilisée)':>30}")
    else:
        lines.append(
            f"{'tuibill seed --invoices N':<{width}}{seed_seconds:>9.1f}s{'':>20}  1 mesure"
        )
    for label, times, note in rows:
        lines.append(
            f"{label:<{width}}{fmt_ms(statistics.median(times)):>10}"
            f"{fmt_ms(min(times)):>10}{fmt_ms(max(times)):>10}  {note}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="base à utiliser (créée au besoin)")
    parser.add_argument("--runs", type=int, default=5, help="mesures par chiffre (médiane)")
    parser.add_argument("--tui-runs", type=int, default=3, help="lancements de la TUI")
    parser.add_argument("--reseed", action="store_true", help="recréer la base")
    parser.add_argument("--no-tui", action="store_true", help="sans la mesure de la TUI")
    args = parser.parse_args(argv)
    path = args.db or Path(tempfile.gettempdir()) / f"tuibill-bench-{args.invoices}.sqlite"
    seed_seconds = prepare(path, args.invoices, args.reseed)
    print("Mesures du journal :", flush=True)
    rows = measure(path, args.runs)
    if not args.no_tui:
        print("Mesures de la TUI :", flush=True)
        rows += measure_tui(path, args.tui_runs)
    print()
    print(report(path, invoice_count(path), args.runs, args.tui_runs, seed_seconds, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
