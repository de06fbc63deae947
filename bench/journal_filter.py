"""Journal des factures: the patient filter, as the desk meets it.

The application runs headless (Textual's ``run_test``, 80×24) in a child process on the big
database. For each patient prefix — one letter, three letters, a whole name, a name and a first
name — the bench types it in the filter, presses Entrée and times (1) Entrée → the table's
first rows, and (2) the longest the event loop was held meanwhile (a key pressed then waits that
long: « keys never wait » means this stays near zero). Both in the 2-month window and over the
whole history (Ctrl+T). p95 over prefixes × runs. The same queries are also timed directly on
the service (count, first page) for reference.

    python bench/journal_filter.py --invoices 100000 --runs 3
"""

from __future__ import annotations

import argparse
import json

from harness import PY, Result, big_db, main_of, ms, p95, run

PREFIXES = ["M", "B", "D", "L", "DUP", "MAR", "GAR", "LEF", "MARTIN", "DUBOIS", "ROBIN",
            "MARTIN J", "PETIT M"]  # fmt: skip

CHILD = r"""
import asyncio, json, sys, time
from tuibill.cli.tui import imports_kept
with imports_kept():  # as ``tuibill`` starts the desk: the start's objects out of the collector's scans
    from tuibill.models import database
    database.bind(sys.argv[1])
    from textual.widgets import Input
    from tuibill.app import TuibillApp
    from tuibill.screens.journal import JournalScreen
    from tuibill.widgets.virtual_table import VirtualTable
prefixes = json.loads(sys.argv[2])
runs = int(sys.argv[3])

shown = []
set_source = VirtualTable.set_source
def spy(self, *args, **kwargs):
    shown.append(time.perf_counter())
    return set_source(self, *args, **kwargs)
VirtualTable.set_source = spy

lag = {"max": 0.0}
async def monitor():
    while True:
        start = time.perf_counter()
        await asyncio.sleep(0.001)
        lag["max"] = max(lag["max"], time.perf_counter() - start - 0.001)

async def settle(pilot, screen):
    deadline = time.monotonic() + 60
    while (screen.is_searching or screen.pager is None) and time.monotonic() < deadline:
        await asyncio.sleep(0.002)
    await pilot.pause()

async def main():
    app = TuibillApp(user="bench")
    out = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        screen = app.screen
        assert isinstance(screen, JournalScreen)
        await settle(pilot, screen)
        ticker = asyncio.create_task(monitor())
        for all_time in (False, True):
            if all_time:
                await pilot.press("ctrl+t")
                await settle(pilot, screen)
            field = screen.query_one("#f-patient", Input)
            for _ in range(runs):
                for prefix in prefixes:
                    await pilot.press("slash")
                    field.value = prefix
                    await pilot.pause()
                    shown.clear()
                    lag["max"] = 0.0
                    start = time.perf_counter()
                    await pilot.press("enter")
                    deadline = time.monotonic() + 60
                    while not shown and time.monotonic() < deadline:
                        await asyncio.sleep(0.001)
                    first = shown[0] - start if shown else None
                    stall = lag["max"]
                    await settle(pilot, screen)
                    out.append({"prefix": prefix, "all_time": all_time, "first_rows": first,
                                "stall": stall, "rows": screen.pager.total if screen.pager else 0})
        ticker.cancel()
    print(json.dumps(out))

asyncio.run(main())
"""

SERVICE = r"""
import json, sys, time
from tuibill.models import database
database.bind(sys.argv[1])
from tuibill.services.journal import JournalFilter, open_journal
out = []
for prefix in json.loads(sys.argv[2]):
    for all_time in (False, True):
        start = time.perf_counter()
        pager = open_journal(JournalFilter(patient=prefix, all_time=all_time))
        total = pager.total
        out.append({"prefix": prefix, "all_time": all_time,
                    "seconds": time.perf_counter() - start, "rows": total})
print(json.dumps(out))
"""


def run_figures(args: argparse.Namespace) -> list[Result]:
    db = str(big_db(args))
    done = run([PY, "-c", CHILD, db, json.dumps(PREFIXES), str(args.runs)])
    samples = json.loads(done.stdout.strip().splitlines()[-1])
    results = []
    for all_time, where in ((False, "2 derniers mois"), (True, "sans limite de temps")):
        mine = [s for s in samples if s["all_time"] is all_time]
        firsts = [s["first_rows"] for s in mine if s["first_rows"] is not None]
        stalls = [s["stall"] for s in mine]
        letter = [s["first_rows"] for s in mine if len(s["prefix"]) == 1 and s["first_rows"]]
        results.append(Result(
            f"Filtre patient, {where} : Entrée → lignes, p95",
            ms(p95(firsts)), "≤ 50 ms", p95(firsts) <= 0.05,
            f"{len(firsts)} recherches ; une lettre : p95 {ms(p95(letter))}",
        ))  # fmt: skip
        results.append(Result(
            f"Filtre patient, {where} : touches bloquées au plus",
            ms(max(stalls)), "≈ 0 (jamais bloquées)", max(stalls) <= 0.016,
            f"p95 {ms(p95(stalls))} ; boucle d'événements mesurée toutes les 1 ms",
        ))  # fmt: skip
    service = json.loads(run([PY, "-c", SERVICE, db, json.dumps(PREFIXES)]).stdout)
    for all_time, where in ((False, "2 mois"), (True, "tout")):
        mine = [s for s in service if s["all_time"] is all_time]
        worst = max(mine, key=lambda s: s["seconds"])
        results.append(Result(
            f"Service : compte + 1re page, {where}, p95",
            ms(p95([s["seconds"] for s in mine])), "", None,
            f"le plus lent : « {worst['prefix']} » {ms(worst['seconds'])}, "
            f"{worst['rows']:,} lignes".replace(",", " "),
        ))  # fmt: skip
    return results


if __name__ == "__main__":
    raise SystemExit(main_of(run_figures, "Journal des factures : filtre patient"))
