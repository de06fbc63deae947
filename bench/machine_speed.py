"""How fast the machine is while the figures are taken: a fixed pure-Python loop and
``python -c pass``, timed in child processes. No goal: it tells how to read the figures whose
goals are times (seed, lots, reports…), the same code measuring up to 1.3× slower on a day this
virtual machine's CPU is shared (bench/README.md). ``run-all.sh`` takes it first and last.

    python bench/machine_speed.py --label début
"""

from __future__ import annotations

import argparse

from harness import PY, Result, arguments, measure, median, ms, report

LOOP = [PY, "-c", "s = 0\nfor i in range(5_000_000):\n    s += i"]
PASS = [PY, "-c", "pass"]


def run_figures(args: argparse.Namespace) -> list[Result]:
    loop = median([measure(LOOP).seconds for _ in range(args.runs)])
    bare = median([measure(PASS).seconds for _ in range(args.runs)])
    label = f" ({args.label})" if args.label else ""
    return [
        Result(f"Vitesse de la machine{label} : boucle Python de référence", ms(loop), "", None,
               f"5 000 000 additions, médiane de {args.runs} ; python -c pass {ms(bare)}"),
    ]  # fmt: skip


if __name__ == "__main__":
    parser = arguments("Vitesse de la machine")
    parser.set_defaults(runs=5)
    parser.add_argument("--label", default="", help="où dans la série (début, fin)")
    args = parser.parse_args()
    report(run_figures(args), args, "Vitesse de la machine")
