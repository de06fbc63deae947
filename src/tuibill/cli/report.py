"""``tuibill report NAME``: the follow-up reports of the returns (seed 002's list).

Each report streams every row page by page (by key): a text table, ``--json`` (a list),
``--format csv`` (« ; »-separated) or ``--format pdf --output FILE`` (printable, with the charts).
``report graphiques`` draws what the caisses owe by age and their payment delays per month;
``report point LOT`` is the clerk's « pointage » of a lot without a return.
"""

from __future__ import annotations

import argparse
import sys

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json_stream, print_table_stream

# The report names, known here without importing the services (start-up stays light).
NAMES = {
    "fse-transmises": "FSE télétransmises",
    "fse-non-payees": "FSE non payées (recyclables)",
    "fse-en-attente": "FSE en attente de retour (moins de 21 jours)",
    "fse-rejetees": "FSE rejetées (recyclables)",
    "fse-recyclees": "FSE recyclées (rejetées, puis payées)",
    "rejets-amc": "rejets AMC (code, libellé)",
    "lots-transmis": "lots télétransmis",
    "lots-sans-retour": "lots sans retour, à traiter / traités",
    "retards": "retards légaux de paiement",
}


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("report", parents=[common], help="rapports de suivi des retours")
    verbs = noun.add_subparsers(dest="verb", metavar="RAPPORT", required=True)
    for name, text in NAMES.items():
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("--since", type=arguments.day, metavar="JJ/MM/AAAA", help="depuis cette date")
        verb.add_argument("--until", type=arguments.day, metavar="JJ/MM/AAAA", help="jusqu'à cette date")
        verb.add_argument("--json", action="store_true")
        verb.add_argument("--format", choices=["texte", "csv", "pdf"], default="texte", metavar="FORMAT", help="texte, csv ou pdf")
        verb.add_argument("--output", help="fichier à écrire (obligatoire pour le PDF)")
        if name == "lots-sans-retour":
            which = verb.add_mutually_exclusive_group()
            which.add_argument("--a-traiter", action="store_true", help="seulement les lots non pointés")
            which.add_argument("--traites", action="store_true", help="seulement les lots pointés")
        verb.set_defaults(handler=cmd_report, report=name)

    charts = verbs.add_parser("graphiques", parents=[common], help="dû par caisse et ancienneté, délais de paiement par mois")
    charts.add_argument("--since", type=arguments.day, metavar="JJ/MM/AAAA")
    charts.add_argument("--until", type=arguments.day, metavar="JJ/MM/AAAA")
    charts.add_argument("--ascii", action="store_true", help="sans caractères de bloc (console Linux)")
    charts.add_argument("--json", action="store_true")
    charts.set_defaults(handler=cmd_charts)

    point = verbs.add_parser("point", parents=[common], help="« pointage » d'un lot sans retour (traité)")
    point.add_argument("lot_id", type=arguments.identifier, metavar="ID", help="identifiant du lot")
    point.add_argument("--note", default="", help="ce qui a été fait (appel à la caisse, papier…)")
    point.add_argument("--undo", action="store_true", help="remettre le lot « à traiter »")
    point.set_defaults(handler=cmd_point)


def _filters(args: argparse.Namespace, ctx: CliContext):
    from tuibill.services.reports import Filters

    pointed = None
    if getattr(args, "traites", False):
        pointed = True
    elif getattr(args, "a_traiter", False):
        pointed = False
    return Filters(
        since=args.since, until=args.until, pointed=pointed,
        awaiting_days=ctx.settings.transmission.awaiting_return_days,
    )  # fmt: skip


def cmd_report(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.errors import ConfigError
    from tuibill.services import reports
    from tuibill.services.reports.pdf import cell_text

    ctx.open_db()
    report = reports.get(args.report)
    filters = _filters(args, ctx)
    if args.format == "pdf":
        if not args.output:
            raise ConfigError("--format pdf écrit un fichier : donnez --output FICHIER.pdf.")
        from pathlib import Path

        Path(args.output).expanduser().write_bytes(reports.pdf_bytes(report, filters))
        print(f"Rapport « {report.title} » écrit dans {args.output}.")
        return 0
    out = open(args.output, "w", encoding="utf-8", newline="") if args.output else sys.stdout  # noqa: SIM115
    try:
        if args.format == "csv":
            for line in reports.csv_lines(report, report.rows(filters)):
                out.write(line)
            return 0
        if ctx.json:
            if out is not sys.stdout:
                import json

                json.dump([row.values for row in report.rows(filters)], out, ensure_ascii=False,
                          indent=2, default=str)  # fmt: skip
            else:
                print_json_stream(row.values for row in report.rows(filters))
            return 0
        columns = report.columns
        print(f"{report.title} — {report.description}", file=out)
        if out is sys.stdout:
            print_table_stream(
                [c.label for c in columns], [c.width for c in columns],
                ([cell_text(c, row.values.get(c.key)) for c in columns] for row in report.rows(filters)),
            )  # fmt: skip
        else:
            for row in report.rows(filters):
                out.write("  ".join(cell_text(c, row.values.get(c.key)) for c in columns) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def cmd_charts(args: argparse.Namespace, ctx: CliContext) -> int:
    import os
    from datetime import date, timedelta

    from tuibill.cli.output import print_json
    from tuibill.services.reports import charts

    ctx.open_db()
    today = args.until or date.today()
    owed = charts.owed_by_caisse(today)
    months, delays = charts.payment_delays(args.since or today - timedelta(days=365), today)
    if ctx.json:
        print_json({
            "du_par_caisse": [
                {"caisse": r.caisse, "anciennete_cents": dict(zip(
                    [label for label, _, _ in charts.AGE_BUCKETS], r.buckets, strict=True)),
                 "total_cents": r.total} for r in owed
            ],
            "delais_de_paiement": [{"caisse": r.caisse, "mois": r.months} for r in delays],
        })  # fmt: skip
        return 0
    plain = args.ascii or os.environ.get("TERM") == "linux"
    print("Dû par les caisses, par ancienneté")
    for line in charts.draw_owed(owed, ascii=plain):
        print(line)
    print()
    print("Délai de paiement par caisse et par mois")
    for line in charts.draw_delays(months, delays, ascii=plain):
        print(line)
    return 0


def cmd_point(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.reports import point_lot

    ctx.open_db()
    point_lot(args.lot_id, user=ctx.user, note=args.note, undo=args.undo)
    print(f"Lot {args.lot_id} " + ("remis « à traiter »." if args.undo else "pointé « traité »."))
    return 0
