"""Benchmark of the follow-up reports (issue 9 §4) at a practice's scale (not part of the tests).

Seeds (or reuses) a SQLite database of N invoices with the real CLI (``tuibill init --demo``,
``tuibill seed``), spreads the transmitted invoices over the states the returns give (every 5th
paid, every 50th rejected, every 97th partly paid — plain SQL, so that each report has rows to
find), then times, as medians of several runs, each report's first page and a page deep in the
list read by key (the key of page 50), and prints a table.

    python bench/reports.py                         # 1,000,000 invoices
    python bench/reports.py --invoices 100000 --runs 7
    python bench/reports.py --db /tmp/big.sqlite    # an existing database
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "tuibill", *args], check=True,
                   env={**os.environ, "TUIBILL_CONFIG": ""}, stdout=subprocess.DEVNULL)  # fmt: skip


def prepare(path: Path, invoices: int) -> None:
    if not path.exists():
        print(f"Création de {path} ({invoices} factures)…", flush=True)
        cli("init", "--db", str(path), "--demo")
        cli("--db", str(path), "seed", "--invoices", str(invoices))
    with sqlite3.connect(path) as con:
        con.execute("UPDATE invoice SET state = 'PAYEE', amo_paid_cents = amo_cents "
                    "WHERE state = 'TRANSMISE' AND id % 5 = 0")
        con.execute("UPDATE invoice SET state = 'REJETEE' WHERE state = 'TRANSMISE' AND id % 50 = 1")
        con.execute("UPDATE invoice SET state = 'PAYEE_PARTIELLEMENT' "
                    "WHERE state = 'TRANSMISE' AND id % 97 = 2")  # fmt: skip


def timed(function, runs: int) -> tuple[float, float, float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--db")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = Path(args.db or Path(tempfile.gettempdir()) / f"tuibill-bench-{args.invoices}.sqlite")
    prepare(path, args.invoices)

    from tuibill.models import Invoice, database
    from tuibill.services import reports

    database.bind(str(path))
    print(f"{Invoice.select().count():,} factures — {path}".replace(",", " "))
    print(f"charge : {os.getloadavg()[0]:.2f}")
    print(f"{'rapport':<18} {'1re page':>10} {'page 50 (clé)':>14} {'lignes/page':>12}")
    filters = reports.Filters()
    for name, report in reports.REPORTS.items():
        first = report.page(filters, None)
        deep_key = None
        page = first
        for _ in range(49):
            if len(page) < reports.PAGE:
                break
            deep_key = page[-1].key
            page = report.page(filters, deep_key)
        head = timed(lambda r=report: r.page(filters, None), args.runs)
        deep = timed(lambda r=report, k=deep_key: r.page(filters, k), args.runs)
        print(f"{name:<18} {head[0] * 1000:>8.1f} ms {deep[0] * 1000:>11.1f} ms {len(first):>12}")
    from datetime import date, timedelta

    from tuibill.services.reports import charts

    owed = timed(lambda: charts.owed_by_caisse(date.today()), args.runs)
    print(f"{'graphique dû':<18} {owed[0] * 1000:>8.1f} ms")
    delay = timed(lambda: charts.payment_delays(date.today() - timedelta(days=365), date.today()),
                  args.runs)  # fmt: skip
    print(f"{'graphique délais':<18} {delay[0] * 1000:>8.1f} ms")


if __name__ == "__main__":
    main()
