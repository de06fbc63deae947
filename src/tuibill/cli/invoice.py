"""``tuibill invoice …``: the invoice actions of Facturer and the Journal, headless."""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_record, print_table
from tuibill.domain.formatting import format_cents
from tuibill.domain.invoices import InvoiceAction, mode_label


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("invoice", parents=[common], help="factures (FSE)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    ls = verbs.add_parser("list", parents=[common], help="lister les factures (filtres du journal)")
    _journal_filters(ls)
    ls.add_argument("--limit", type=arguments.bounded(1, 1_000_000), default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = verbs.add_parser("show", parents=[common], help="une facture, ses lignes, son historique")
    show.add_argument("id", type=arguments.invoice_reference, metavar="ID-OU-NUMÉRO", help="identifiant (colonne Id) ou numéro de facture sur 9 chiffres")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    create = verbs.add_parser("create", parents=[common], help="créer une facture en saisie")
    create.add_argument("--practitioner", required=True, help="numéro AM ou identifiant du praticien")
    create.add_argument("--patient", type=arguments.identifier, help="identifiant du patient")
    create.add_argument("--prescription", type=arguments.identifier, help="facturer les actes de cette prescription")
    create.add_argument("--isolated", type=arguments.identifier, nargs="+", metavar="ID", help="facturer ces actes isolés")
    create.add_argument(
        "--act",
        action="append",
        default=[],
        metavar="ACTE",
        help="« JJ/MM/AAAA [HH:MM] CODE [COEF] [MAU] [MCI] [MIE] [IFD] [IK=km] », répétable",
    )
    create.add_argument("--billing-date", type=arguments.day, metavar="JJ/MM/AAAA")
    create.add_argument("--json", action="store_true")
    create.set_defaults(handler=cmd_create)

    edit = verbs.add_parser("edit", parents=[common], help="remplacer les actes d'une facture en saisie")
    edit.add_argument("id", type=arguments.identifier)
    edit.add_argument("--act", action="append", default=[], metavar="ACTE", required=True)
    edit.add_argument("--billing-date", type=arguments.day, metavar="JJ/MM/AAAA")
    edit.add_argument("--json", action="store_true")
    edit.set_defaults(handler=cmd_edit)

    delete = verbs.add_parser("delete", parents=[common], help="supprimer une facture en saisie jamais numérotée")
    delete.add_argument("id", type=arguments.identifier)
    delete.set_defaults(handler=cmd_delete)

    for name, action, text in (
        ("validate", InvoiceAction.VALIDATE, "valider (mode dégradé)"),
        ("unvalidate", InvoiceAction.UNVALIDATE, "« Défacturer » : Validée → Saisie"),
        ("prepare", InvoiceAction.PREPARE, "« Choisir les factures à charger » → À charger"),
        ("unprepare", InvoiceAction.CANCEL_PREPARATION, "« Annuler préparation » → Saisie"),
        ("non-transmissible", InvoiceAction.MAKE_NON_TRANSMISSIBLE, "rendre non transmissible"),
    ):
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("ids", type=arguments.identifier, nargs="+", metavar="ID")
        verb.add_argument("--reason", default="", help="motif inscrit dans l'historique")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=cmd_action, action=action)


def _journal_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--number", type=arguments.invoice_number, help="numéro de facture")
    parser.add_argument("--lot", type=arguments.lot_number, help="numéro de lot")
    parser.add_argument("--patient", default="", help="début du nom du patient")
    parser.add_argument(
        "--state", type=arguments.invoice_state, help="état (SAISIE, VALIDEE, A_CHARGER, … ou libellé)"
    )
    parser.add_argument("--practitioner", help="numéro AM ou identifiant du praticien")
    parser.add_argument("--caisse", help="caisse : régime+caisse (01281) ou identifiant")
    parser.add_argument("--all", action="store_true", help="sans limite de temps (défaut : 2 mois)")
    parser.add_argument("--since", type=arguments.day, metavar="JJ/MM/AAAA")
    parser.add_argument("--until", type=arguments.day, metavar="JJ/MM/AAAA")


def journal_filter(args: argparse.Namespace):
    from tuibill.services.journal import JournalFilter
    from tuibill.services.patients import find_organism
    from tuibill.services.practice import find_practitioner

    organism_id = find_organism(args.caisse).id if args.caisse else None
    return JournalFilter(
        number=args.number,
        lot_number=args.lot,
        patient=args.patient,
        state=args.state,
        practitioner_id=find_practitioner(args.practitioner).id if args.practitioner else None,
        organism_id=organism_id,
        all_time=args.all,
        since=args.since,
        until=args.until,
    )


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.journal import JournalQuery

    ctx.open_db()
    query = JournalQuery(journal_filter(args))
    rows = query.page_after(None, args.limit)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return 0
    print_table(
        ["Id", "Numéro", "État", "Date", "Patient", "Praticien", "Caisse", "Total", "Lot"],
        [
            (r.id, r.number_text, r.state_label, f"{r.billing_date:%d/%m/%Y}", r.patient_name,
             r.practitioner, r.organism, format_cents(r.total_cents), r.lot_number or "")
            for r in rows
        ],
    )
    return 0


def _print_invoice(invoice, as_json: bool, warnings: list[str] | None = None) -> None:
    from tuibill.services.invoice_views import invoice_record

    record = invoice_record(invoice)
    if as_json:
        print_json({**record, "avertissements": warnings} if warnings is not None else record)
        return
    print_record([
        ("Facture", f"{record['id']} — n° {record['numero'] or '(non numérotée)'}"),
        ("État", record["etat"]),
        ("Mode", mode_label(record["mode"])),
        ("Praticien", f"{record['praticien']} ({record['praticien_am']})"),
        ("Patient", record["patient"]),
        ("Date", f"{record['date_facturation']:%d/%m/%Y}"),
        ("Actes", f"du {record['acte_du']:%d/%m/%Y} au {record['acte_au']:%d/%m/%Y}"),
        ("Caisse", record["caisse"] or ""),
        ("Mutuelle", record["mutuelle"] or ""),
        ("Total", f"{format_cents(record['total_cents'])} € (AMO {format_cents(record['amo_cents'])}, "
                  f"AMC {format_cents(record['amc_cents'])}, assuré {format_cents(record['patient_cents'])})"),
    ])
    print()
    print_table(
        ["Date", "Heure", "Code", "Coef", "Qté", "Total", "AMO", "AMC", "Assuré"],
        [
            (f"{li['date']:%d/%m/%Y}", li["heure"] or "", li["code"], li["coefficient"], li["quantite"],
             format_cents(li["total_cents"]), format_cents(li["amo_cents"]), format_cents(li["amc_cents"]),
             format_cents(li["patient_cents"]))
            for li in record["lignes"]
        ],
    )
    print()
    print_table(
        ["Quand", "Qui", "De", "Vers", "Action", "Motif"],
        [
            (f"{h['date']:%d/%m/%Y %H:%M}", h["utilisateur"], h["de"] or "—", h["vers"], h["action"], h["motif"])
            for h in record["historique"]
        ],
    )


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.invoices import invoice_by_reference

    ctx.open_db()
    _print_invoice(invoice_by_reference(args.id.id, args.id.number), ctx.json)
    return 0


def _acts(specs: list[str]):
    from tuibill.domain.act_notation import parse_act

    return [parse_act(spec) for spec in specs]


def cmd_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.errors import ValidationError
    from tuibill.services import acts as act_service
    from tuibill.services import invoices as invoice_service
    from tuibill.services.practice import find_practitioner

    ctx.open_db()
    billing_date = args.billing_date
    practitioner = find_practitioner(args.practitioner)
    patient_id = args.patient
    if args.isolated:
        practitioner_id, patient_id, acts = act_service.acts_from_isolated(args.isolated)
        if practitioner_id != practitioner.id:
            raise ValidationError("Ces actes isolés sont ceux d'un autre praticien.")
    elif args.prescription:
        acts = act_service.link_to_prescription(args.prescription, _acts(args.act)) if args.act else []
    else:
        acts = _acts(args.act)
    if patient_id is None:
        raise ValidationError("--patient est obligatoire (sauf avec --isolated).")
    warnings = act_service.duplicate_warnings(patient_id, acts)
    invoice = invoice_service.create_invoice(
        practitioner.id,
        patient_id,
        acts,
        user=ctx.user,
        billing_date=billing_date,
        prescription_id=args.prescription,
    )
    if ctx.json:
        _print_invoice(invoice, True, warnings)
    else:
        print(f"Facture {invoice.id} créée en saisie : {format_cents(invoice.total_cents)} €.")
        for warning in warnings:
            error(f"attention : {warning}")
    return 0


def cmd_edit(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import acts as act_service
    from tuibill.services import invoices as invoice_service

    ctx.open_db()
    invoice = invoice_service.get_invoice(args.id)
    specs = _acts(args.act)
    acts = (
        act_service.link_to_prescription(invoice.prescription_id, specs, replacing_invoice=invoice.id)
        if invoice.prescription_id
        else specs
    )
    warnings = act_service.duplicate_warnings(invoice.patient_id, acts, invoice_id=invoice.id)
    invoice = invoice_service.update_invoice(
        args.id,
        acts,
        user=ctx.user,
        billing_date=args.billing_date,
    )
    if ctx.json:
        _print_invoice(invoice, True, warnings)
    else:
        print(f"Facture {invoice.id} modifiée : {format_cents(invoice.total_cents)} €.")
        for warning in warnings:
            error(f"attention : {warning}")
    return 0


def cmd_delete(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import invoices as invoice_service
    ctx.open_db()
    invoice_service.delete_draft(args.id, user=ctx.user)
    print(f"Facture {args.id} supprimée.")
    return 0


def cmd_action(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState
    from tuibill.services import invoices as invoice_service

    ctx.open_db()
    done, refused = invoice_service.apply_many(args.ids, args.action, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json({
            "faites": [
                {"id": i.id, "numero": format_invoice_number(i.number), "etat": InvoiceState(i.state).label}
                for i in done
            ],
            "refusees": [{"id": i, "motif": m} for i, m in refused],
        })
    else:
        for invoice in done:
            print(
                f"Facture {invoice.id} (n° {format_invoice_number(invoice.number) or '—'}) : "
                f"{InvoiceState(invoice.state).label}."
            )
    for invoice_id, message in refused:
        error(f"facture {invoice_id} : {message}")
    return 1 if refused else 0
