"""The command line's start: ``tuibill --help`` and ``tuibill invoice list --json`` against
``python -c pass``, alternately (A B A B…), the ratio taken pair by pair in the same run.

    python bench/cli_start.py --invoices 100000 --runs 15
"""

from __future__ import annotations

import argparse

from harness import PY, Result, arguments, big_db, measure, report, tuibill_argv
from startup import paired, ratio_result

PASS = [PY, "-c", "pass"]


def wall(argv: list[str]) -> float:
    done = measure(argv)
    if done.returncode:
        raise RuntimeError(f"{argv} : code {done.returncode}\n{done.stderr}")
    return done.seconds


def run(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    help_times, pass_times = paired(tuibill_argv("--help"), PASS, args.runs, wall)
    results = [
        ratio_result("tuibill --help / python -c pass", help_times, pass_times, 3,
                     "python -c pass")  # fmt: skip
    ]
    # The default period (2 months): what a script asks for most.
    listing = tuibill_argv("--db", db, "invoice", "list", "--json")
    list_times, pass_times = paired(listing, PASS, args.runs, wall)
    results.append(
        ratio_result("tuibill invoice list --json / python -c pass", list_times, pass_times, 5,
                     "python -c pass")  # fmt: skip
    )
    return results


if __name__ == "__main__":
    parser = arguments("Démarrage de la ligne de commande")
    parser.set_defaults(runs=15)
    arguments_ = parser.parse_args()
    report(run(arguments_), arguments_, "Démarrage de la ligne de commande")
