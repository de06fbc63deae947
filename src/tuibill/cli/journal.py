"""``tuibill journal``: the Journal des factures, headless (text, JSON or CSV)."""

from __future__ import annotations

import argparse
import csv
import sys

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.invoice import journal_filter
from tuibill.cli.output import print_json_stream, print_table_stream


def register(subparsers, common) -> None:
    journal = subparsers.add_parser(
        "journal", parents=[common], help="Journal des factures (2 derniers mois par défaut)"
    )
    from tuibill.cli.invoice import _journal_filters

    _journal_filters(journal)
    journal.add_argument("--format", choices=["text", "csv", "json"], default="text")
    journal.add_argument("--json", action="store_true", help="comme --format json")
    journal.add_argument("--limit", type=arguments.bounded(0, 100_000_000), default=0, help="au plus N lignes (0 : toutes)")
    journal.add_argument("--count", action="store_true", help="afficher seulement le nombre")
    journal.set_defaults(handler=cmd_journal)


def _rows(query, limit: int):
    """Stream the journal page by page: memory stays flat whatever the history's size."""
    key = None
    sent = 0
    while True:
        page = query.page_after(key)
        if not page:
            return
        for row in page:
            yield row
            sent += 1
            if limit and sent >= limit:
                return
        key = page[-1].key


def cmd_journal(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_cents
    from tuibill.domain.invoices import mode_label
    from tuibill.services.journal import JournalQuery

    ctx.open_db()
    query = JournalQuery(journal_filter(args))
    if args.count:
        print(query.count())
        return 0
    fmt = "json" if args.json else args.format
    rows = _rows(query, args.limit)
    if fmt == "json":
        print_json_stream(row.as_dict() for row in rows)
    elif fmt == "csv":
        writer = csv.writer(sys.stdout, delimiter=";")
        writer.writerow(["Numéro", "État", "Date", "Patient", "Praticien", "Caisse", "Total",
                         "AMO", "AMC", "Assuré", "Lot", "Mode", "Id"])
        for r in rows:
            writer.writerow([r.number_text, r.state_label, f"{r.billing_date:%d/%m/%Y}",
                             r.patient_name, r.practitioner, r.organism, format_cents(r.total_cents),
                             format_cents(r.amo_cents), format_cents(r.amc_cents),
                             format_cents(r.patient_cents), r.lot_number or "",
                             mode_label(r.mode), r.id])
    else:
        print_table_stream(
            ["Numéro", "État", "Date", "Patient", "Praticien", "Caisse", "Total", "Lot"],
            [9, 19, 10, 28, 20, 20, 9, 3],
            ((r.number_text, r.state_label, f"{r.billing_date:%d/%m/%Y}", r.patient_name,
              r.practitioner, r.organism, format_cents(r.total_cents), r.lot_number or "")
             for r in rows),
        )
    return 0
