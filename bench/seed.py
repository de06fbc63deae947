"""``tuibill seed --invoices N`` into the demo practice: wall time and peak memory.

The database it makes is the one the other figures use (``$TMPDIR/tuibill-bench/…``); this
figure always makes it again. Its invoices are priced like billed ones: the lots figure builds
lots from seeded invoices, and ``tests/integration/test_seed.py`` checks that every seeded
validated invoice goes into a lot.

    python bench/seed.py --invoices 1000000
"""

from __future__ import annotations

import argparse

from harness import Result, main_of, mib, ms, number, seeded_db, workdir


def run_figures(args: argparse.Namespace) -> list[Result]:
    path, made = seeded_db(workdir(args.workdir), args.invoices, fresh=True)
    assert made is not None
    goal = 45 * args.invoices / 1_000_000
    return [
        Result(f"seed --invoices {number(args.invoices)}", ms(made.seconds),
               f"≤ {goal:g} s", made.seconds <= goal,
               f"pic RSS {mib(made.peak_rss_kib)} ; base {path.stat().st_size / 1e6:,.0f} Mo"),
    ]  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Données de volumétrie (seed)"))
