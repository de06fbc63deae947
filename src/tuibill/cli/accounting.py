"""``tuibill accounting …``: the accountant's files.

``fec`` writes the FEC of a financial year (``<SIREN>FEC<AAAAMMJJ>.txt``), with the journals
and accounts of ``[accounting]``; ``check`` re-reads a FEC (balance of each entry, order,
numbering); ``receipts`` prints the bank credits and what each was matched to, as CSV.
"""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json

EXIT_PROBLEMS = 1  # the FEC checked has problems
year = arguments.bounded(1990, 2100, "année")


def compact_day(text: str) -> date:
    """AAAAMMJJ, as the FEC writes dates (JJ/MM/AAAA and AAAA-MM-JJ are read too)."""
    value = text.strip()
    if re.fullmatch(r"[0-9]{8}", value):
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise argparse.ArgumentTypeError(f"« {text} » n'est pas une date du calendrier") from None
    return arguments.day(text)


def siren(text: str) -> str:
    from tuibill.domain.errors import ValidationError
    from tuibill.formats.fec import check_siren

    try:
        return check_siren(text.strip())
    except ValidationError as error:
        raise argparse.ArgumentTypeError(str(error).rstrip(".")) from None


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "accounting", parents=[common], help="comptabilité : FEC et journal des recettes"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    verb = verbs.add_parser("fec", parents=[common], help="écrire le FEC d'un exercice")
    verb.add_argument("--year", type=year, required=True, metavar="AAAA", help="l'exercice")
    verb.add_argument("--closing", type=compact_day, metavar="AAAAMMJJ",
                      help="date de clôture (par défaut le 31/12 de l'année)")  # fmt: skip
    verb.add_argument("--siren", type=siren, metavar="N",
                      help="SIREN du cabinet (par défaut : accounting.siren)")  # fmt: skip
    verb.add_argument("--output", default=".", metavar="DOSSIER",
                      help="dossier où écrire le fichier (par défaut : le dossier courant)")  # fmt: skip
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_fec)

    verb = verbs.add_parser("check", parents=[common], help="vérifier un FEC")
    verb.add_argument("file", metavar="FICHIER", help="le FEC à relire")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_check)

    verb = verbs.add_parser(
        "receipts", parents=[common], help="journal des recettes bancaires (CSV)"
    )
    verb.add_argument("--year", type=year, metavar="AAAA", help="l'année civile")
    verb.add_argument("--from", dest="start", type=arguments.day, metavar="DATE",
                      help="première date (JJ/MM/AAAA)")  # fmt: skip
    verb.add_argument("--to", dest="end", type=arguments.day, metavar="DATE",
                      help="dernière date (JJ/MM/AAAA)")  # fmt: skip
    verb.add_argument("--output", metavar="FICHIER", help="écrire le CSV dans ce fichier")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_receipts)


def cmd_fec(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import accounting

    ctx.open_db()
    report = accounting.export_fec(
        ctx.settings.accounting,
        year=args.year,
        siren=args.siren,
        closing=args.closing,
        directory=args.output,
    )
    if ctx.json:
        print_json(report.as_dict())
    else:
        print(report.summary())


def cmd_check(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services import accounting

    report = accounting.check_file(args.file)
    if ctx.json:
        print_json(
            {
                "fichier": args.file,
                "conforme": report.ok,
                "tresorerie": report.cash_basis,
                "ecritures": report.entry_count,
                "lignes": report.line_count,
                "total_debit_cents": report.total_debit_cents,
                "total_credit_cents": report.total_credit_cents,
                "problemes": [{"ligne": p.line, "message": p.message} for p in report.problems],
            }
        )
    elif report.ok:
        print(
            f"FEC conforme : {report.entry_count} écriture(s) équilibrée(s), numérotées sans "
            f"trou, dans l'ordre ; {report.line_count} ligne(s), débit = crédit = "
            f"{format_cents(report.total_debit_cents)} €."
        )
    else:
        for problem in report.problems:
            print(problem)
        print(f"FEC non conforme : {len(report.problems)} problème(s).")
    return None if report.ok else EXIT_PROBLEMS


def cmd_receipts(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.domain.errors import RefusedOperation, ValidationError
    from tuibill.services import accounting

    if args.year is not None and (args.start or args.end):
        raise ValidationError("Donnez --year, ou --from et --to, pas les deux.")
    if args.year is not None:
        start, end = date(args.year, 1, 1), date(args.year, 12, 31)
    else:
        today = date.today()
        start, end = args.start or date(today.year, 1, 1), args.end or today
    if start > end:
        raise ValidationError(f"Période vide : du {start:%d/%m/%Y} au {end:%d/%m/%Y}.")
    ctx.open_db()
    rows = accounting.receipts(start, end)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    text = accounting.receipts_csv(rows)
    if args.output:
        path = Path(args.output).expanduser()
        try:
            path.write_text(text, encoding="utf-8", newline="")
        except OSError as error:
            raise RefusedOperation(f"Écriture de « {path} » impossible ({error.strerror or error}).") from None
        print(f"Journal des recettes écrit : {path} ({len(rows)} recette(s)).")
    else:
        print(text, end="")
