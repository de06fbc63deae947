"""``tuibill lots build`` from 10,000 validated invoices: wall time and peak memory of the command.

The database: the demo practice and 12,000 invoices seeded over a year (``tuibill seed``: priced
like billed ones); the newest numbered invoices are then made « Validée » until 10,000 wait for a
lot — as after a few weeks of a busy practice. Each run builds from a fresh copy.

    python bench/lots_build.py --runs 3
"""

from __future__ import annotations

import argparse
import sqlite3

from harness import (
    Result,
    arguments,
    copy_db,
    measure,
    median,
    mib,
    ms,
    number,
    report,
    seeded_db,
    tuibill_argv,
    workdir,
)

VALIDATED = 10_000


def prepared(folder) -> str:
    path = folder / f"lots-{VALIDATED}.sqlite"
    with_validated = 0
    if path.exists():
        with sqlite3.connect(path) as conn:
            with_validated = conn.execute(
                "SELECT COUNT(*) FROM invoice WHERE state = 'VALIDEE'"
            ).fetchone()[0]
    if with_validated != VALIDATED:
        seeded, _ = seeded_db(folder, 12_000, years=1)
        copy_db(seeded, path)
        with sqlite3.connect(path) as conn:
            have = conn.execute("SELECT COUNT(*) FROM invoice WHERE state = 'VALIDEE'").fetchone()[0]
            conn.execute(
                "UPDATE invoice SET state = 'VALIDEE', lot_number = NULL, lot_id = NULL "
                "WHERE id IN (SELECT id FROM invoice WHERE number IS NOT NULL "
                "AND state IN ('TRANSMISE', 'A_TRANSMETTRE') ORDER BY id DESC LIMIT ?)",
                (VALIDATED - have,),
            )
    return str(path)


def run_figures(args: argparse.Namespace) -> list[Result]:
    folder = workdir(args.workdir)
    source = prepared(folder)
    times, peaks = [], []
    for _ in range(args.runs):
        target = copy_db(folder / f"lots-{VALIDATED}.sqlite", folder / "lots-run.sqlite")
        done = measure(tuibill_argv("--db", str(target), "lots", "build", "--json"))
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr)
        with sqlite3.connect(target) as conn:
            left = conn.execute("SELECT COUNT(*) FROM invoice WHERE state = 'VALIDEE'").fetchone()[0]
        times.append(done.seconds)
        peaks.append(done.peak_rss_kib)
    assert source
    return [
        Result(f"lots build, {number(VALIDATED)} factures validées : durée",
               ms(median(times)), "≤ 1 s", median(times) <= 1.0,
               f"médiane de {len(times)} (commande entière) ; {left} restées validées"),
        Result(f"lots build, {number(VALIDATED)} factures validées : mémoire",
               mib(median(peaks)), "≤ 80 MB", median(peaks) <= 80 * 1024, "pic RSS du processus"),
    ]  # fmt: skip


if __name__ == "__main__":
    parser = arguments("Construction des lots")
    parser.set_defaults(runs=3)
    args = parser.parse_args()
    report(run_figures(args), args, "Construction des lots")
