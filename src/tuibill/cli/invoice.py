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
    _register_treatments(verbs, common)


def _register_treatments(verbs, common) -> None:
    """The treatments after the returns (issue 9, seeds 000–002)."""
    reference = {"type": arguments.invoice_reference, "metavar": "ID-OU-NUMÉRO",
                 "help": "identifiant (colonne Id) ou numéro de facture sur 9 chiffres"}  # fmt: skip
    restart = verbs.add_parser("restart", parents=[common], help="« Recommencer la FSE » après un rejet (même numéro)")
    restart.add_argument("id", **reference)
    restart.add_argument("--reason", required=True, help="ce qui a été corrigé (historique)")
    restart.add_argument("--prescriber", help="numéro du bon prescripteur (Données › Prescripteurs)")
    restart.add_argument("--prescription-date", type=arguments.day, metavar="JJ/MM/AAAA", help="la date de prescription corrigée")
    restart.add_argument("--act-date", action="append", default=[], metavar="RANG=JJ/MM/AAAA", help="nouvelle date de l'acte de ce rang (1, 2…), répétable")
    restart.add_argument("--validate", action="store_true", help="revalider aussitôt (elle part au prochain lot)")
    restart.add_argument("--json", action="store_true")
    restart.set_defaults(handler=cmd_restart)

    credit = verbs.add_parser("credit-note", parents=[common], help="« Créer un avoir » pour une facture rejetée")
    credit.add_argument("id", **reference)
    credit.add_argument("--reason", required=True, help="motif de l'avoir (historique)")
    credit.add_argument("--new-invoice", action="store_true", help="puis « Nouvelle facture » en mode dégradé")
    credit.add_argument("--json", action="store_true")
    credit.set_defaults(handler=cmd_credit_note)

    new = verbs.add_parser("new-from", parents=[common], help="« Nouvelle facture » à la place d'une facture annulée par avoir")
    new.add_argument("id", **reference)
    new.add_argument("--json", action="store_true")
    new.set_defaults(handler=cmd_new_from)

    for name, handler, text in (
        ("recycle", cmd_recycle, "« Recycler » : recyclée chez le concentrateur (date, qui)"),
        ("reactivate", cmd_reactivate, "« Réactiver Télétrans » : de nouveau à transmettre, même numéro"),
    ):
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("id", **reference)
        verb.add_argument("--reason", default="", help="motif inscrit dans l'historique")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=handler)

    status = verbs.add_parser("line-status", parents=[common], help="statut d'une ligne refusée (sans LIGNE : les lignes)")
    status.add_argument("id", **reference)
    status.add_argument("line", nargs="?", type=arguments.bounded(1, 999, "ligne"), metavar="LIGNE", help="rang de la ligne (1, 2…)")
    status.add_argument(
        "status", nargs="?", metavar="STATUT",
        choices=["refuse", "autre-destination", "note-de-credit", "regularisation", "a-juste-titre", "restaurer"],
        help="refuse, autre-destination, note-de-credit, regularisation, a-juste-titre, restaurer",
    )  # fmt: skip
    status.add_argument("--reason", default="", help="note inscrite dans l'historique")
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=cmd_line_status)


def _resolve(args: argparse.Namespace) -> int:
    from tuibill.services.invoices import invoice_by_reference

    return invoice_by_reference(args.id.id, args.id.number).id


def _moved(invoice, ctx: CliContext, message: str, extra: dict | None = None) -> None:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState

    if ctx.json:
        print_json({
            "id": invoice.id, "numero": format_invoice_number(invoice.number),
            "etat": InvoiceState(invoice.state).label, "etat_code": invoice.state, **(extra or {}),
        })  # fmt: skip
    else:
        print(message)


def cmd_restart(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.errors import ValidationError
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState
    from tuibill.services.patients import find_prescriber
    from tuibill.services.rejections import Corrections, restart

    ctx.open_db()
    dates = {}
    for spec in args.act_date:
        rank, _, text = spec.partition("=")
        if not rank.strip().isdigit() or not text:
            raise ValidationError(f"--act-date « {spec} » : RANG=JJ/MM/AAAA attendu (ex. 1=03/03/2026).")
        try:
            dates[int(rank)] = arguments.day(text)
        except argparse.ArgumentTypeError as error:
            raise ValidationError(f"--act-date « {spec} » : {error}") from None
    prescriber = find_prescriber(args.prescriber).id if args.prescriber else None
    invoice = restart(
        _resolve(args), user=ctx.user, reason=args.reason, validate=args.validate,
        corrections=Corrections(prescriber, args.prescription_date, dates or None),
    )  # fmt: skip
    _moved(invoice, ctx, f"Facture {format_invoice_number(invoice.number)} recommencée (même numéro) : "
           f"{InvoiceState(invoice.state).label}.")  # fmt: skip
    return 0


def cmd_credit_note(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services import rejections

    ctx.open_db()
    invoice_id = _resolve(args)
    note = rejections.create_credit_note(invoice_id, user=ctx.user, reason=args.reason)
    new = rejections.new_invoice_from(invoice_id, user=ctx.user) if args.new_invoice else None
    invoice = rejections.get_invoice(invoice_id)
    text = (f"Avoir {rejections.format_credit_note(note)} créé : la facture "
            f"{format_invoice_number(invoice.number)} est « Annulée par avoir ».")  # fmt: skip
    if new is not None:
        text += f" Nouvelle facture {new.id} en saisie (mode dégradé) : signez-la, joignez les pièces SCOR."
    _moved(invoice, ctx, text, {
        "avoir": rejections.format_credit_note(note), "avoir_total_cents": note.total_cents,
        "nouvelle_facture": new.id if new else None,
    })  # fmt: skip
    return 0


def cmd_new_from(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import rejections

    ctx.open_db()
    new = rejections.new_invoice_from(_resolve(args), user=ctx.user)
    _moved(new, ctx, f"Nouvelle facture {new.id} en saisie (mode dégradé), pré-remplie.",
           {"remplace": new.replaces})  # fmt: skip
    return 0


def cmd_recycle(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services.rejections import recycle

    ctx.open_db()
    invoice = recycle(_resolve(args), user=ctx.user, reason=args.reason)
    _moved(invoice, ctx, f"Facture {format_invoice_number(invoice.number)} recyclée : « Réactiver "
           "Télétrans » la remet à transmettre avec le même numéro.")  # fmt: skip
    return 0


def cmd_reactivate(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services.rejections import reactivate

    ctx.open_db()
    invoice = reactivate(
        _resolve(args), user=ctx.user, reason=args.reason,
        recycling_days=ctx.settings.transmission.recycling_days,
    )  # fmt: skip
    _moved(invoice, ctx, f"Facture {format_invoice_number(invoice.number)} réactivée : elle partira "
           "au prochain lot, même numéro.")  # fmt: skip
    return 0


def cmd_line_status(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.errors import ValidationError
    from tuibill.services import line_statuses

    ctx.open_db()
    invoice_id = _resolve(args)
    if args.line is not None and args.status is None:
        raise ValidationError("Indiquez le STATUT de la ligne (refuse, autre-destination, …).")
    if args.line is not None:
        row = line_statuses.set_status(invoice_id, args.line, args.status, user=ctx.user, reason=args.reason)
        if ctx.json:
            print_json(row.as_dict())
        else:
            label = row.status_label or "état d'origine"
            print(f"Ligne {row.rank} ({row.code} du {row.act_date:%d/%m/%Y}) : {label}.")
        return 0
    rows = line_statuses.lines_of(invoice_id)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return 0
    print_table(
        ["Ligne", "Date", "Code", "Total", "Remboursé", "Rejet", "Statut", "Reprise sur"],
        [(r.rank, f"{r.act_date:%d/%m/%Y}", r.code, format_cents(r.total_cents),
          "" if r.refunded_cents is None else format_cents(r.refunded_cents), r.rejection,
          r.status_label, r.carried) for r in rows],
    )  # fmt: skip
    return 0


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
    answered = bool(record["retours"])
    print_table(
        ["Date", "Heure", "Code", "Coef", "Qté", "Total", "AMO", "AMC", "Assuré"]
        + (["Remboursé", "Refusée"] if answered else []),
        [
            (f"{li['date']:%d/%m/%Y}", li["heure"] or "", li["code"], li["coefficient"], li["quantite"],
             format_cents(li["total_cents"]), format_cents(li["amo_cents"]), format_cents(li["amc_cents"]),
             format_cents(li["patient_cents"]))
            + ((format_cents(li["rembourse_cents"] or 0), "oui" if li["refusee"] else "")
               if answered else ())
            for li in record["lignes"]
        ],
    )
    print()
    if answered:
        print(f"Payé par la caisse : AMO {format_cents(record['amo_paye_cents'])} €, "
              f"AMC {format_cents(record['amc_paye_cents'])} €")
        for answer in record["retours"]:
            print(f"  retour {answer['fichier']} du {answer['recu_le']:%d/%m/%Y} : "
                  f"{answer['resultat']}" + (f" — {answer['note']}" if answer["note"] else ""))
        for rejection in record["rejets"]:
            line = f", ligne {rejection['ligne']}" if rejection["ligne"] else ""
            print(f"  {rejection['type']} {rejection['code']} {rejection['libelle']} "
                  f"({rejection['niveau']}{line}, {rejection['part']})")
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
