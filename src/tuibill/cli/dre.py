"""``tuibill dre …``: the DRE (the AMC part in tiers payant, seed 003): list, validate."""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_table


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("dre", parents=[common], help="DRE : part mutuelle en tiers payant")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    ls = verbs.add_parser("list", parents=[common], help="les DRE non validées (--all : toutes)")
    ls.add_argument("--all", action="store_true", help="toutes les DRE, quel que soit leur état")
    ls.add_argument("--after", type=arguments.identifier, metavar="ID", help="après cette facture (page suivante)")
    ls.add_argument("--limit", type=arguments.bounded(1, 10_000), default=100)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)
    lots = verbs.add_parser("lots", parents=[common], help="constituer les lots de DRE validées (puis « tuibill lots send »)")
    lots.add_argument("--json", action="store_true")
    lots.set_defaults(handler=cmd_lots)
    for name, text in (("validate", "valider la DRE de ces factures"),
                       ("unvalidate", "dévalider la DRE de ces factures")):  # fmt: skip
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("ids", type=arguments.identifier, nargs="+", metavar="ID", help="identifiant de la facture")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=cmd_move, verb_name=name)


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.dre import DreState
    from tuibill.domain.formatting import format_cents
    from tuibill.services.dre import list_dres

    ctx.open_db()
    rows = list_dres(None if args.all else DreState.NON_VALIDEE, after=args.after, limit=args.limit)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return 0
    print_table(
        ["Facture", "Numéro", "Patient", "Date", "Mutuelle", "Montant", "Payé", "État"],
        [(r.invoice_id, r.number, r.patient, f"{r.billing_date:%d/%m/%Y}", r.mutuelle,
          format_cents(r.amount_cents), format_cents(r.paid_cents), r.state.label) for r in rows],
    )  # fmt: skip
    return 0


def cmd_move(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.dre import DreState
    from tuibill.domain.errors import RefusedOperation
    from tuibill.services import dre

    ctx.open_db()
    move = dre.validate if args.verb_name == "validate" else dre.unvalidate
    done, refused = [], []
    for invoice_id in args.ids:
        try:
            done.append((invoice_id, move(invoice_id, user=ctx.user)))
        except RefusedOperation as problem:
            refused.append((invoice_id, str(problem)))
    if ctx.json:
        print_json({
            "faites": [{"facture": i, "etat": DreState(d.state).label} for i, d in done],
            "refusees": [{"facture": i, "motif": m} for i, m in refused],
        })  # fmt: skip
    else:
        for invoice_id, record in done:
            print(f"DRE de la facture {invoice_id} : {DreState(record.state).label}.")
    for invoice_id, message in refused:
        error(f"facture {invoice_id} : {message}")
    return 1 if refused else 0


def cmd_lots(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.dre_lots import build_dre_lots, dre_summary

    ctx.open_db()
    report = build_dre_lots(ctx.settings.transmission, user=ctx.user)
    if ctx.json:
        print_json({
            "lots": [{"id": lot.id, "numero": lot.number, "caisse": lot.destination,
                      "dre": lot.count, "amc_cents": lot.amc_cents} for lot in report.lots],
            "ecartees": [{"facture": i, "motif": m} for i, m in report.skipped],
        })  # fmt: skip
    else:
        print(dre_summary(report, skipped=False))
        if report.lots:
            print("« tuibill lots send » les envoie.")
    for invoice_id, message in report.skipped:
        error(f"facture {invoice_id} : {message}")
    return 1 if report.skipped else 0
