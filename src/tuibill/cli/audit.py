"""``tuibill audit verify``: walk the history's hash chain (exit 1 when it was tampered with)."""

from __future__ import annotations

import argparse

from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("audit", parents=[common], help="historique inviolable")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    verify = verbs.add_parser(
        "verify", parents=[common], help="vérifier que l'historique n'a pas été retouché"
    )
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)


def cmd_verify(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import audit, lifecycle

    ctx.open_db()
    report = audit.verify()
    audit.record_check(report, user=ctx.user, at=lifecycle.now())
    if ctx.json:
        print_json(report.as_dict())
    elif report.ok:
        print(report.message)
    if not report.ok:
        error(report.message)
        return 1
    return 0
