"""One table from the results the benchmarks appended to a JSON-lines file (``--json``).

    python bench/report.py results.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from harness import Result, machine, machine_text, table


def main(path: str) -> int:
    results = [Result(**json.loads(line)) for line in Path(path).read_text().splitlines() if line]
    print(machine_text(machine()))
    print()
    print(table(results))
    met = sum(1 for r in results if r.ok)
    goals = sum(1 for r in results if r.ok is not None)
    print(f"\n{met} objectif(s) atteint(s) sur {goals}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
