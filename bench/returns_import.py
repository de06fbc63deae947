"""``tuibill returns import`` of a NOEMIE return answering 10,000 invoices: wall time and peak
memory of the command.

The database: the demo practice and 13,000 invoices seeded over a year (``tuibill seed``); the
return pays the first 10,000 « Transmise » invoices, each with its act lines (210) — what a busy
month of a group practice brings back. The file is written once by the public layout's writer
(``formats.noemie``, as the simulated caisse does); each run imports it into a fresh copy.

    python bench/returns_import.py --runs 3
"""

from __future__ import annotations

import argparse
import sqlite3
from datetime import date
from pathlib import Path

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

ANSWERED = 10_000


def _return_file(db: Path, target: Path) -> int:
    """Write the return of the first ANSWERED transmitted invoices of *db*; how many it holds."""
    from tuibill.formats.noemie import (
        ActLine,
        AmoPart,
        Lot,
        NoemieReturn,
        ReturnHeader,
        ReturnInvoice,
        Virement,
        write_return,
    )

    today = date.today()
    with sqlite3.connect(db) as conn:
        invoices = conn.execute(
            "SELECT i.id, p.am_number, i.number, i.lot_number, i.billing_date, i.amo_cents "
            "FROM invoice i JOIN practitioner p ON p.id = i.practitioner_id "
            "WHERE i.state = 'TRANSMISE' AND i.number IS NOT NULL ORDER BY i.id LIMIT ?",
            (ANSWERED,),
        ).fetchall()
        lines: dict[int, list[tuple]] = {}
        for row in conn.execute(
            "SELECT invoice_id, act_date, unit_cents, total_cents, amo_cents, code, quantity, "
            "coefficient_x100 FROM invoice_line WHERE invoice_id IN "
            "(SELECT id FROM invoice WHERE state = 'TRANSMISE' AND number IS NOT NULL "
            "ORDER BY id LIMIT ?) ORDER BY invoice_id, position",
            (ANSWERED,),
        ):
            lines.setdefault(row[0], []).append(row[1:])
    virements: dict[str, Virement] = {}
    items = []
    for invoice_id, am, num, lot_number, billing_date, amo_cents in invoices:
        if am not in virements:
            virements[am] = Virement(
                index=len(virements), mandataire=am.zfill(15), payee=am,
                accounting_date=today, label1=f"VIR CPAM PS {am}", paying_body="CPAM",
            )  # fmt: skip
        acts = tuple(
            ActLine(
                line=k, regime_code="01", exoneration="0", processing_mode="10",
                discipline="024", prescription_date=date.fromisoformat(day),
                care_date=date.fromisoformat(day), care_end_date=date.fromisoformat(day),
                unit_price_cents=unit, base_cents=total, rate=60, refunded_cents=amo,
                nature=code[:3], quantity=quantity, coefficient_x100=coefficient,
                count=quantity, expense_cents=total,
            )  # fmt: skip
            for k, (day, unit, total, amo, code, quantity, coefficient) in enumerate(
                lines.get(invoice_id, []), 1
            )
        )
        items.append(
            ReturnInvoice(
                virement=virements[am].index, return_type="01",
                lot=Lot(lot_number or 1, today), number=f"{num:09d}", invoice_type="F",
                billing_date=date.fromisoformat(billing_date),
                entities=(AmoPart(asked_cents=amo_cents, state="P", paid_cents=amo_cents), *acts),
            )  # fmt: skip
        )
    items.sort(key=lambda item: (item.virement, item.lot.number))
    header = ReturnHeader(
        emitter_type="CP", emitter_number="01281000000000", recipient_type="TP",
        recipient_number="281234567", file_id="B00001", created=today, norm="NO58",
    )  # fmt: skip
    target.write_bytes(
        write_return(NoemieReturn(header=header, virements=tuple(virements.values()),
                                  items=tuple(items)))  # fmt: skip
    )
    return len(items)


def run_figures(args: argparse.Namespace) -> list[Result]:
    folder = workdir(args.workdir)
    seeded, _ = seeded_db(folder, int(ANSWERED * 1.3), years=1)
    file = folder / f"retour-{ANSWERED}.noe"
    answered = _return_file(seeded, file)
    times, peaks, outcome = [], [], ""
    for _ in range(args.runs):
        target = copy_db(seeded, folder / "returns-run.sqlite")
        done = measure(tuibill_argv("--db", str(target), "returns", "import", str(file), "--json"))
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        with sqlite3.connect(target) as conn:
            outcome = conn.execute(
                "SELECT COUNT(*) FROM invoice WHERE state = 'PAYEE'"
            ).fetchone()[0]
        times.append(done.seconds)
        peaks.append(done.peak_rss_kib)
    return [
        Result(f"retour NOEMIE de {number(answered)} factures : import",
               ms(median(times)), "≤ 2 s", median(times) <= 2.0,
               f"médiane de {len(times)} (commande entière) ; {number(outcome)} payées"),
        Result(f"retour NOEMIE de {number(answered)} factures : mémoire",
               mib(median(peaks)), "", None, "pic RSS du processus"),
    ]  # fmt: skip


if __name__ == "__main__":
    parser = arguments("Import d'un retour NOEMIE")
    parser.set_defaults(runs=3)
    args = parser.parse_args()
    report(run_figures(args), args, "Import d'un retour NOEMIE")
