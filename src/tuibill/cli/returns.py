"""``tuibill returns …``: the caisses' NOEMIE returns, headless (F7 Retours et rejets).

import · list · show · entry · match · late. Every verb takes ``--json``. ``import`` exits 1
when a file was refused (the others were imported all the same), 0 when every file was imported
or already was.
"""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_json_stream, print_record, print_table
from tuibill.domain.formatting import format_cents, format_when

VIEWS = ("fichiers", "virements", "rejets", "partiels", "non-rapprochees")


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "returns",
        parents=[common],
        help="retours NOEMIE des caisses : paiements, rejets, virements",
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    imp = verbs.add_parser(
        "import",
        parents=[common],
        help="importer des fichiers de retour NOEMIE (archivés, puis appliqués)",
        description="Chaque fichier est archivé, enregistré, puis appliqué en une transaction : "
        "factures payées, payées partiellement, rejetées ; virements. Un fichier illisible est "
        "refusé en entier et gardé de côté ; un fichier déjà importé ne change rien.",
    )
    imp.add_argument("files", nargs="+", metavar="FICHIER")
    imp.add_argument(
        "--dry-run", action="store_true", help="simulation : le même compte rendu, rien d'écrit"
    )
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_import)

    ls = verbs.add_parser("list", parents=[common], help="les listes de F7 (plus récents d'abord)")
    ls.add_argument(
        "--vue",
        choices=VIEWS,
        default="fichiers",
        help="retours reçus (défaut), virements, factures rejetées, paiements partiels, "
        "non rapprochées",
    )
    ls.add_argument("--practitioner", help="numéro AM ou identifiant du praticien")
    ls.add_argument(
        "--a-traiter",
        action="store_true",
        dest="to_treat",
        help="rejets et partiels : seulement les factures encore dans cet état",
    )
    ls.add_argument(
        "--all", action="store_true", help="sans limite de temps (défaut : 2 derniers mois)"
    )
    ls.add_argument("--limit", type=arguments.bounded(1, 10_000_000), default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = verbs.add_parser(
        "show", parents=[common], help="un retour reçu : virements et factures (demandé / payé)"
    )
    show.add_argument("id", type=arguments.identifier, metavar="ID", help="colonne Id de la liste")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    entry = verbs.add_parser(
        "entry", parents=[common], help="une facture d'un retour : lignes d'actes et rejets"
    )
    entry.add_argument("id", type=arguments.identifier, metavar="ID", help="ligne de retour")
    entry.add_argument("--json", action="store_true")
    entry.set_defaults(handler=cmd_entry)

    match = verbs.add_parser(
        "match",
        parents=[common],
        help="rapprocher à la main une facture non rapprochée d'un retour",
    )
    match.add_argument("id", type=arguments.identifier, metavar="ID", help="ligne de retour")
    match.add_argument(
        "--invoice",
        required=True,
        type=arguments.invoice_reference,
        metavar="FACTURE",
        help="la facture du cabinet : identifiant ou numéro à 9 chiffres",
    )
    match.add_argument("--json", action="store_true")
    match.set_defaults(handler=cmd_match)

    late = verbs.add_parser(
        "late",
        parents=[common],
        help="délais légaux : FSE à transmettre en retard, paiements des caisses en retard",
    )
    late.add_argument(
        "--date", type=arguments.day, metavar="JJ/MM/AAAA", help="à cette date (défaut : aujourd'hui)"
    )
    late.add_argument("--json", action="store_true")
    late.set_defaults(handler=cmd_late)


def cmd_import(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.returns import IMPORTED, REFUSED_STATUS, import_files

    ctx.open_db()
    reports = import_files(
        args.files, ctx.settings.transmission, user=ctx.user, dry_run=args.dry_run
    )
    if ctx.json:
        print_json({"fichiers": [report.as_dict() for report in reports]})
    else:
        for report in reports:
            prefix = "[simulation] " if report.dry_run else ""
            if report.status != IMPORTED:
                print(f"{prefix}{report.file} : {report.status} — {report.reason}")
                continue
            print(
                f"{prefix}{report.file} : {report.status} — {report.paid} payée(s), "
                f"{report.partial} partielle(s), {report.rejected} rejetée(s), "
                f"{report.deferred} différée(s), {report.not_matched} non rapprochée(s)"
                + (f", {report.doubles} doublon(s)" if report.doubles else "")
                + f" ; {format_cents(report.paid_cents)} € payés."
            )
            for entry in report.entries:
                if entry.note:
                    print(f"  n° {entry.number} {entry.patient} : {entry.note}")
        if any(report.dry_run for report in reports):
            print("Simulation : rien n'a été enregistré.")
    return 1 if any(report.status == REFUSED_STATUS for report in reports) else 0


def _filter(args: argparse.Namespace):
    from tuibill.services.practice import find_practitioner
    from tuibill.services.return_lists import ReturnListFilter, ReturnView

    practitioner_id = find_practitioner(args.practitioner).id if args.practitioner else None
    return ReturnListFilter(
        view=ReturnView(args.vue),
        practitioner_id=practitioner_id,
        to_treat=args.to_treat,
        all_time=args.all,
    )


def _cells(row) -> list:
    from tuibill.services.return_lists import EntryRow, FileRow, VirementRow

    if isinstance(row, FileRow):
        return [row.id, format_when(row.received_at), row.file_name, row.status_label,
                row.paying_body, row.invoices, row.paid, row.partial, row.rejected,
                row.not_matched, format_cents(row.paid_cents)]  # fmt: skip
    if isinstance(row, VirementRow):
        return [row.id, f"{row.accounting_date:%d/%m/%Y}", row.paying_body, row.practitioner,
                format_cents(row.total_cents), row.invoice_count, row.label]  # fmt: skip
    assert isinstance(row, EntryRow)
    date = f"{row.billing_date:%d/%m/%Y}" if row.billing_date else ""
    return [row.id, row.number, row.patient, date, row.state_label if row.state else "",
            row.code, row.label or row.note, format_cents(row.asked_cents),
            format_cents(row.paid_cents)]  # fmt: skip


HEADERS = {
    "fichiers": ["Id", "Reçu le", "Fichier", "État", "Caisse", "Fact.", "Payées", "Part.",
                 "Rej.", "Non rappr.", "Payé"],
    "virements": ["Id", "Date", "Organisme", "Praticien", "Montant", "Fact.", "Libellé"],
}  # fmt: skip
ENTRY_HEADERS = ["Id", "N°", "Patient", "Date", "État", "Code", "Motif / note", "Demandé", "Payé"]


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.return_lists import iter_rows

    ctx.open_db()
    rows = iter_rows(_filter(args), limit=args.limit)
    if ctx.json:
        print_json_stream(row.as_dict() for row in rows)
        return
    rows = list(rows)
    if not rows:
        print("Aucune ligne.")
        return
    print_table(HEADERS.get(args.vue, ENTRY_HEADERS), [_cells(row) for row in rows])


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.return_views import outcome_label, return_file

    ctx.open_db()
    view = return_file(args.id)
    if ctx.json:
        print_json(view.as_dict())
        return
    counts = ", ".join(f"{n} {outcome_label(k).lower()}" for k, n in sorted(view.counts.items()))
    print_record([
        ("Retour", f"{view.id} — {view.file_name}"),
        ("Reçu le", format_when(view.received_at)),
        ("État", view.status_label + (f" : {view.error}" if view.error else "")),
        ("Factures", counts or "aucune"),
        ("Payé", f"{format_cents(view.paid_cents)} €"),
    ])  # fmt: skip
    if view.virements:
        print()
        print_table(
            ["Virement", "Date", "Organisme", "Praticien", "Montant", "Fact."],
            [[v.id, f"{v.accounting_date:%d/%m/%Y}", v.paying_body, v.practitioner,
              format_cents(v.total_cents), v.invoice_count] for v in view.virements],
        )  # fmt: skip
    if view.entries:
        print()
        print_table(
            ["Id", "N°", "Patient", "Résultat", "État", "Demandé", "Payé", "Rejets / note"],
            [[e.id, e.number, e.patient, e.outcome_label,
              "" if e.state is None else _state(e.state), format_cents(e.asked_cents),
              format_cents(e.paid_cents), "; ".join(e.rejections) or e.note]
             for e in view.entries],
        )  # fmt: skip


def _state(state: str) -> str:
    from tuibill.domain.invoices import InvoiceState

    return InvoiceState(state).label


def cmd_entry(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.return_views import entry_detail

    ctx.open_db()
    detail = entry_detail(args.id)
    if ctx.json:
        print_json(detail)
        return
    print_record([
        ("Ligne de retour", detail["id"]),
        ("Facture", f"{detail['facture'] or '—'} — n° {detail['numero']}"),
        ("Patient", detail["patient"]),
        ("Résultat", detail["resultat"]),
        ("État", detail["etat"] or ""),
        ("AMO", f"demandé {format_cents(detail['amo_demande_cents'])} €, payé "
                f"{format_cents(detail['amo_paye_cents'])} € ({detail['amo_etat']})"),
        ("Note", detail["note"]),
    ])  # fmt: skip
    if detail["lignes"]:
        print()
        print_table(
            ["Ligne", "Code", "Date", "Base", "Taux", "Remboursé", "Refusée"],
            [[li["ligne"], li["code"], f"{li['date']:%d/%m/%Y}" if li["date"] else "",
              format_cents(li["base_cents"]), li["taux"], format_cents(li["rembourse_cents"]),
              "oui" if li["refusee"] else ""] for li in detail["lignes"]],
        )  # fmt: skip
    if detail["rejets_detail"]:
        print()
        print_table(
            ["Type", "Code", "Libellé", "Niveau", "Part", "Ligne"],
            [[r["type"], r["code"], r["libelle"], r["niveau"], r["part"], r["ligne"] or ""]
             for r in detail["rejets_detail"]],
        )  # fmt: skip


def cmd_match(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.invoices import invoice_by_reference
    from tuibill.services.returns import match_entry

    ctx.open_db()
    invoice = invoice_by_reference(args.invoice.id, args.invoice.number)
    report = match_entry(args.id, invoice.id, user=ctx.user)
    if ctx.json:
        print_json(report.as_dict())
        return
    print(
        f"Ligne de retour {args.id} rapprochée de la facture n° {report.number} "
        f"({report.patient}) : {report.as_dict()['etat'] or ''}"
        + (f" — {report.note}" if report.note else "")
    )


def cmd_late(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.legal_delays import late_report

    ctx.open_db()
    report = late_report(ctx.settings.returns, args.date)
    if ctx.json:
        print_json(report.as_dict())
        return
    print(f"FSE à transmettre en retard (art. R161-47) : {len(report.to_send)}")
    if report.to_send:
        print_table(
            ["Facture", "N°", "Patient", "Praticien", "Dernier acte", "Échéance", "Retard (j.o.)"],
            [[i.invoice_id, i.number, i.patient, i.practitioner, f"{i.start:%d/%m/%Y}",
              f"{i.deadline:%d/%m/%Y}", i.days_late] for i in report.to_send],
        )  # fmt: skip
    print()
    print(
        f"Paiements des caisses en retard (décret 2016-1069) : {len(report.unpaid)} "
        f"(pénalité si payé aujourd'hui : {format_cents(report.pending_penalty_cents)} €)"
    )
    if report.unpaid:
        print_table(
            ["Facture", "N°", "Patient", "Caisse", "Échéance", "Retard (j.o.)", "AMO", "Pénalité"],
            [[i.invoice_id, i.number, i.patient, i.caisse, f"{i.deadline:%d/%m/%Y}",
              i.days_late, format_cents(i.amo_cents), format_cents(i.penalty_cents)]
             for i in report.unpaid],
        )  # fmt: skip
    print()
    print(
        f"Payées en retard : {len(report.paid_late)} — pénalités dues par les caisses : "
        f"{format_cents(report.penalty_cents)} €"
    )
    if report.paid_late:
        print_table(
            ["Facture", "N°", "Patient", "Caisse", "Échéance", "Payée le", "AMO", "Pénalité"],
            [[i.invoice_id, i.number, i.patient, i.caisse, f"{i.deadline:%d/%m/%Y}",
              f"{i.paid_on:%d/%m/%Y}" if i.paid_on else "", format_cents(i.amo_cents),
              format_cents(i.penalty_cents)] for i in report.paid_late],
        )  # fmt: skip
