"""``tuibill bank …``: bank statements in, rapprochement with the receipts announced.

``import`` archives and stores CFONB 120, CAMT.053 and OFX statements (idempotent);
``match`` runs the rules (``--dry-run`` shows what they would do); ``unmatched`` lists both
sides left over; ``undo`` annuls a match; ``list`` the statements (or their lines);
``matches`` the matches (``--differences``: the amounts that differ); ``link`` matches by hand;
``rules`` lists or replaces the rules; ``chain`` follows an invoice to the bank.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_table

FORMATS = ("cfonb120", "camt.053", "ofx")
EXIT_REFUSED = 1  # a file refused (the others were imported)


def _receipt_reference(text: str) -> tuple[str, int]:
    """« virement:12 »: a receipt's origin and id."""
    match = re.fullmatch(r"\s*([a-z]+)\s*:\s*([0-9]{1,19})\s*", text)
    if not match or not 1 <= int(match[2]) <= arguments.MAX_ID:
        raise argparse.ArgumentTypeError(
            f"« {text} » : ORIGINE:ID attendu, par exemple « virement:12 » ou « reglement:3 »"
        )
    return match[1], int(match[2])


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "bank", parents=[common], help="banque : relevés et rapprochement des recettes"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    verb = verbs.add_parser(
        "import", parents=[common], help="importer des relevés (CFONB 120, CAMT.053, OFX)"
    )
    verb.add_argument("files", nargs="+", metavar="FICHIER", help="relevé(s) à importer")
    verb.add_argument("--format", choices=FORMATS, metavar="FORMAT",
                      help="format imposé (cfonb120, camt.053, ofx) ; par défaut : reconnu")  # fmt: skip
    verb.add_argument("--dry-run", action="store_true", help="simuler : rien n'est enregistré")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_import)

    verb = verbs.add_parser(
        "match", parents=[common], help="rapprocher les lignes bancaires selon les règles"
    )
    verb.add_argument("--dry-run", action="store_true", help="montrer ce que les règles feraient")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_match)

    verb = verbs.add_parser(
        "unmatched", parents=[common], help="crédits non rapprochés et recettes non retrouvées"
    )
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_unmatched)

    verb = verbs.add_parser("undo", parents=[common], help="annuler un rapprochement")
    verb.add_argument("id", type=arguments.identifier, metavar="ID", help="n° du rapprochement")
    verb.add_argument("--reason", default="", metavar="MOTIF", help="motif inscrit à l'historique")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_undo)

    verb = verbs.add_parser("list", parents=[common], help="relevés importés (ou leurs lignes)")
    verb.add_argument("--lines", action="store_true", help="les lignes bancaires")
    verb.add_argument("--statement", type=arguments.identifier, metavar="ID",
                      help="les lignes de ce relevé")  # fmt: skip
    verb.add_argument("--refused", action="store_true", help="les fichiers refusés, mis de côté")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_list)

    verb = verbs.add_parser("matches", parents=[common], help="rapprochements (et écarts)")
    verb.add_argument("--differences", action="store_true", help="seulement les écarts de montant")
    verb.add_argument("--all", action="store_true", help="y compris les rapprochements annulés")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_matches)

    verb = verbs.add_parser("link", parents=[common], help="rapprocher à la main")
    verb.add_argument("line", type=arguments.identifier, metavar="LIGNE",
                      help="n° de la ligne bancaire")  # fmt: skip
    verb.add_argument("receipt", type=_receipt_reference, metavar="ORIGINE:ID",
                      help="la recette annoncée, ex. virement:12")  # fmt: skip
    verb.add_argument("--reason", default="", metavar="MOTIF", help="motif inscrit à l'historique")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_link)

    verb = verbs.add_parser("rules", parents=[common], help="règles de rapprochement")
    verb.add_argument("--load", metavar="FICHIER",
                      help="remplacer les règles par celles de ce fichier TOML")  # fmt: skip
    verb.add_argument("--toml", action="store_true", help="écrire les règles en TOML (à modifier)")
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_rules)

    verb = verbs.add_parser(
        "chain", parents=[common], help="d'une facture à la banque : transmise, payée, créditée"
    )
    verb.add_argument("invoice", type=arguments.invoice_reference, metavar="ID-OU-NUMÉRO",
                      help="identifiant ou numéro de facture sur 9 chiffres")  # fmt: skip
    verb.add_argument("--json", action="store_true")
    verb.set_defaults(handler=cmd_chain)


def _euros(cents: int | None) -> str:
    from tuibill.domain.formatting import format_cents

    return "" if cents is None else format_cents(cents)


def _day(value) -> str:
    return "" if value is None else f"{value:%d/%m/%Y}"


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import bank

    ctx.open_db()
    reports = bank.import_files(
        [Path(name) for name in args.files],
        ctx.settings.transmission,
        user=ctx.user,
        dry_run=args.dry_run,
        format_name=args.format,
    )
    if ctx.json:
        print_json([report.as_dict() for report in reports])
    else:
        for report in reports:
            print(report.summary())
    return EXIT_REFUSED if any(r.status == bank.REFUSED_STATUS for r in reports) else None


def cmd_match(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching

    ctx.open_db()
    report = bank_matching.run_matching(user=ctx.user, dry_run=args.dry_run)
    if ctx.json:
        print_json(report.as_dict())
        return
    for line in report.lines():
        print(line)
    print(report.summary())


def cmd_unmatched(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching

    ctx.open_db()
    found = bank_matching.unmatched()
    if ctx.json:
        print_json(found.as_dict())
        return
    print(f"Crédits bancaires que personne n'a annoncés : {len(found.credits)}")
    if found.credits:
        print_table(
            ("Ligne", "Date", "Montant", "Libellé"),
            [(c.id, _day(c.booking_date), _euros(c.amount_cents), c.text[:60])
             for c in found.credits],
        )  # fmt: skip
    print()
    print(f"Recettes annoncées, pas encore sur la banque : {len(found.receipts)}")
    if found.receipts:
        print_table(
            ("Recette", "Date", "Montant", "Payeur", "Libellé"),
            [(r.key, _day(r.date), _euros(r.amount_cents), r.partner, r.label[:40])
             for r in found.receipts],
        )  # fmt: skip


def _match_row(match) -> tuple:
    return (
        match.id,
        _day(match.operation.booking_date),
        _euros(match.amount_cents),
        f"{match.kind}:{match.receipt_id}",
        _euros(match.expected_cents),
        _euros(match.difference_cents) if match.difference_cents else "",
        match.state_label,
        match.rule_name[:40],
    )


MATCH_HEADERS = ("N°", "Date", "Banque", "Recette", "Annoncé", "Écart", "État", "Règle")


def cmd_undo(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching

    ctx.open_db()
    match = bank_matching.undo(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(match.as_dict())
    else:
        print(
            f"Rapprochement {match.id} annulé : la ligne bancaire {match.operation.id} et "
            f"{match.kind}:{match.receipt_id} sont de nouveau à rapprocher."
        )


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank

    ctx.open_db()
    if args.refused:
        refused = bank.refused_files()
        if ctx.json:
            print_json([item.as_dict() for item in refused])
            return
        print_table(
            ("N°", "Reçu le", "Fichier", "Motif"),
            [(f.id, f"{f.received_at:%d/%m/%Y %H:%M}", f.file_name, f.reason) for f in refused],
        )
        return
    if args.lines or args.statement:
        lines = bank.operations(statement_id=args.statement, limit=None)
        if ctx.json:
            print_json([line.as_dict() for line in lines])
            return
        print_table(
            ("Ligne", "Date", "Montant", "Rappr.", "Libellé"),
            [(line.id, _day(line.booking_date), _euros(line.amount_cents), line.match_id or "",
              line.text[:60]) for line in lines],
        )  # fmt: skip
        return
    statements = bank.statements()
    if ctx.json:
        print_json([s.as_dict() for s in statements])
        return
    print_table(
        ("N°", "Compte", "Format", "Période", "Solde final", "Lignes", "Nouvelles"),
        [(s.id, s.account, bank.FORMAT_LABELS.get(s.format, s.format), s.period,
          _euros(s.closing_balance_cents), s.lines, s.new_lines) for s in statements],
    )  # fmt: skip


def cmd_matches(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching

    ctx.open_db()
    found = bank_matching.matches(differences_only=args.differences, include_undone=args.all)
    if ctx.json:
        print_json([m.as_dict() for m in found])
        return
    print_table(MATCH_HEADERS, [_match_row(m) for m in found])


def cmd_link(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching

    ctx.open_db()
    kind, receipt_id = args.receipt
    match = bank_matching.link(args.line, kind, receipt_id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(match.as_dict())
        return
    gap = f", écart {_euros(match.difference_cents)} €" if match.difference_cents else ""
    print(
        f"Rapprochement {match.id} : ligne bancaire {match.operation.id} ← "
        f"{match.kind}:{match.receipt_id}{gap}."
    )


def cmd_rules(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.domain.errors import RefusedOperation
    from tuibill.services import bank_matching

    ctx.open_db()
    if args.load:
        path = Path(args.load).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise RefusedOperation(f"Fichier de règles « {path} » illisible ({error}).") from None
        views = bank_matching.replace_rules(bank_matching.parse_rules(text, str(path)))
    else:
        views = bank_matching.rules()
    if ctx.json:
        print_json([view.as_dict() for view in views])
    elif args.toml:
        print(bank_matching.rules_toml(views), end="")
    else:
        for view in views:
            state = "" if view.rule.active else " (inactive)"
            print(f"{view.position}. {view.rule.name}{state}")
            print(f"   {view.rule.describe()}")


def cmd_chain(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services import bank_matching
    from tuibill.services.invoices import invoice_by_reference

    ctx.open_db()
    invoice = invoice_by_reference(args.invoice.id, args.invoice.number)
    chain = bank_matching.invoice_chain(invoice.id)
    if ctx.json:
        print_json(chain.as_dict())
    else:
        print("\n".join(chain.lines()))
