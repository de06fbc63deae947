"""``tuibill journal --all`` over the whole history: peak memory (the kernel's count for the child,
``wait4``) and time of each format, written to /dev/null.

    python bench/journal_export.py --invoices 100000
"""

from __future__ import annotations

import argparse

from harness import Result, big_db, main_of, measure, mib, ms, tuibill_argv


def run_figures(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    results = []
    for fmt in ("json", "text", "csv"):
        done = measure(tuibill_argv("--db", db, "journal", "--all", "--format", fmt))
        if done.returncode:
            raise SystemExit(done.stderr)
        results.append(Result(
            f"journal --all --format {fmt} : mémoire",
            mib(done.peak_rss_kib), "≤ 80 MB", done.peak_rss_kib <= 80 * 1024,
            f"en {ms(done.seconds)}",
        ))  # fmt: skip
    return results


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Journal des factures exporté (--all)"))
