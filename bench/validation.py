"""Validation throughput (« Valider », mode dégradé), one desk alone then two desks at once.

Each desk is a process of its own validating its invoices by batches of 100 with
``services.invoices.apply_many`` (what Facturer and ``tuibill invoice validate`` call), started
at the same instant; the throughput is the invoices validated over the time from the first
start to the last end. Errors are what a desk would show: refusals and exceptions (« database
is locked »…).

The database: the demo practice and 20,000 invoices seeded over a year; the newest 12,000
numbered ones are made drafts again (« Saisie », no number) to be validated.

    python bench/validation.py
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import time

from harness import (
    PY,
    Result,
    arguments,
    child_env,
    copy_db,
    number,
    report,
    seeded_db,
    workdir,
)

PER_DESK = 4_000
BATCH = 100

DESK = r"""
import json, sys, time
from tuibill.models import database
database.bind(sys.argv[1])
from tuibill.domain.invoices import InvoiceAction
from tuibill.services import invoices
ids = json.loads(sys.argv[2])
batch, start_at = int(sys.argv[3]), float(sys.argv[4])
while time.time() < start_at:
    time.sleep(0.0005)
started = time.time()
done = refused = errors = 0
messages = []
for i in range(0, len(ids), batch):
    try:
        ok, no = invoices.apply_many(ids[i:i + batch], InvoiceAction.VALIDATE, user="desk")
        done += len(ok)
        refused += len(no)
        messages += [m for _, m in no[:3]]
    except Exception as error:
        errors += 1
        messages.append(repr(error))
print(json.dumps({"started": started, "ended": time.time(), "done": done, "refused": refused,
                  "errors": errors, "messages": messages[:5]}))
"""


def prepared(folder) -> tuple[str, list[int]]:
    seeded, _ = seeded_db(folder, 20_000, years=1)
    path = copy_db(seeded, folder / "validation-run.sqlite")
    with sqlite3.connect(path) as conn:
        ids = [row[0] for row in conn.execute(
            "SELECT id FROM invoice WHERE number IS NOT NULL AND created_by = 'seed' "
            "ORDER BY id DESC LIMIT ?", (3 * PER_DESK,))]  # fmt: skip
        conn.executemany(
            "UPDATE invoice SET state = 'SAISIE', number = NULL, lot_number = NULL, "
            "lot_id = NULL WHERE id = ?",
            [(i,) for i in ids],
        )
    return str(path), sorted(ids)


def desks(db: str, sets: list[list[int]]) -> dict:
    start_at = time.time() + 1.5  # every desk imported and connected before the start
    children = [
        subprocess.Popen(
            [PY, "-c", DESK, db, json.dumps(ids), str(BATCH), str(start_at)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env(),
        )  # fmt: skip
        for ids in sets
    ]
    outcomes = []
    for child in children:
        out, err = child.communicate()
        if child.returncode:
            raise SystemExit(err)
        outcomes.append(json.loads(out.strip().splitlines()[-1]))
    seconds = max(o["ended"] for o in outcomes) - min(o["started"] for o in outcomes)
    done = sum(o["done"] for o in outcomes)
    shown = sum(o["refused"] + o["errors"] for o in outcomes)
    messages = [m for o in outcomes for m in o["messages"]]
    return {"rate": done / seconds, "done": done, "errors": shown, "messages": messages}


def run_figures(args: argparse.Namespace) -> list[Result]:
    db, ids = prepared(workdir(args.workdir))
    alone = desks(db, [ids[:PER_DESK]])
    both = desks(db, [ids[PER_DESK : 2 * PER_DESK], ids[2 * PER_DESK :]])
    results = []
    for label, outcome, goal in (("1 poste", alone, 1500), ("2 postes à la fois", both, 2000)):
        detail = f"{number(outcome['done'])} validées, {outcome['errors']} erreur(s) affichée(s)"
        if outcome["messages"]:
            detail += f" : {outcome['messages'][0]}"
        results.append(Result(
            f"Validation, {label} (lots de {BATCH})", f"{number(outcome['rate'])}/s",
            f"≥ {number(goal)}/s, 0 erreur", outcome["rate"] >= goal and not outcome["errors"],
            detail,
        ))  # fmt: skip
    return results


if __name__ == "__main__":
    parser = arguments("Validation des factures")
    args = parser.parse_args()
    report(run_figures(args), args, "Validation des factures")
