"""``tuibill rejection …``: the caisses' rejections and their treatment.

``record`` notes a rejection received on paper (the invoice becomes « Rejetée »);
``cancel-invoice`` is « Annuler facture transmise » (Rejetée → Saisie); ``clear`` undoes a
rejection noted by mistake. ``list`` and ``show`` give the rejected invoices, the motif of each
and what to do (seed 000); ``treated`` marks « facture déjà payée » treated; ``paper`` and
``bill-patient`` treat an AMC rejection; ``rule`` lists and extends the motif table.
"""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "rejection", parents=[common], help="rejets des caisses : motif, traitement, « Annuler facture transmise »"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    for name, handler, text in (
        ("record", cmd_record, "noter le rejet d'une facture transmise (reçu sur papier…)"),
        ("clear", cmd_clear, "effacer un rejet noté par erreur"),
        (
            "cancel-invoice",
            cmd_cancel,
            "« Annuler facture transmise » : Transmise → Saisie (après un rejet)",
        ),
    ):
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("id", type=arguments.identifier, metavar="ID", help="identifiant de la facture")
        verb.add_argument("--reason", required=True, help="motif inscrit dans l'historique")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=handler)


    ls = verbs.add_parser("list", parents=[common], help="les factures rejetées à traiter, avec leur motif")
    ls.add_argument("--after", type=arguments.identifier, metavar="ID", help="à partir de la facture suivant cet identifiant (page suivante)")
    ls.add_argument("--limit", type=arguments.bounded(1, 10_000), default=100)
    ls.add_argument("--amc", action="store_true", help="les rejets de la part mutuelle (AMC, DRE)")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    reference = {"type": arguments.invoice_reference, "metavar": "ID-OU-NUMÉRO",
                 "help": "identifiant (colonne Id) ou numéro de facture sur 9 chiffres"}  # fmt: skip
    show = verbs.add_parser("show", parents=[common], help="une facture rejetée : rejets, motif, que faire")
    show.add_argument("id", **reference)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for name, handler, text in (
        ("treated", cmd_treated, "« facture déjà payée » : marquer le rejet traité (rien n'est renvoyé)"),
        ("paper", cmd_paper, "rejet AMC : « Traiter sur papier avec la mutuelle » (demande imprimable)"),
        ("bill-patient", cmd_bill_patient, "rejet AMC : « Facturer au patient » la part de la mutuelle"),
    ):
        verb = verbs.add_parser(name, parents=[common], help=text)
        verb.add_argument("id", **reference)
        verb.add_argument("--reason", default="", help="motif inscrit dans l'historique")
        if name == "paper":
            verb.add_argument("--output", help="écrire la demande dans ce fichier (.pdf : PDF, sinon texte)")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=handler)

    rule = verbs.add_parser("rule", parents=[common], help="la table des motifs (livrée + règles du cabinet)")
    rules = rule.add_subparsers(dest="rule_verb", metavar="ACTION", required=True)
    rule_list = rules.add_parser("list", parents=[common], help="les règles, dans l'ordre où elles s'appliquent")
    rule_list.add_argument("--json", action="store_true")
    rule_list.set_defaults(handler=cmd_rule_list)
    add = rules.add_parser("add", parents=[common], help="ajouter une règle du cabinet")
    add.add_argument("motif", metavar="MOTIF", help="prescripteur_inconnu, date_prescription, date_deces, droits, deja_payee, doublon, autre")
    add.add_argument("--code", action="append", default=[], metavar="CODE", help="code de rejet (4 caractères), répétable")
    add.add_argument("--label", default="", metavar="EXPRESSION", help="expression cherchée dans le libellé (majuscules sans accents)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=cmd_rule_add)
    delete = rules.add_parser("delete", parents=[common], help="retirer une règle du cabinet")
    delete.add_argument("rule_id", type=arguments.identifier, metavar="ID")
    delete.set_defaults(handler=cmd_rule_delete)


def _resolve(args: argparse.Namespace) -> int:
    from tuibill.services.invoices import invoice_by_reference

    return invoice_by_reference(args.id.id, args.id.number).id


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.cli.output import print_table
    from tuibill.domain.formatting import format_cents
    from tuibill.services.rejections import list_rejections

    ctx.open_db()
    rows = list_rejections(after=args.after, limit=args.limit, amc=args.amc)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(
        ["Id", "Numéro", "État", "Patient", "Date", "Total", "Code", "Motif"],
        [(r.invoice_id, r.number, r.state, r.patient, f"{r.billing_date:%d/%m/%Y}",
          format_cents(r.total_cents), r.code, r.motif) for r in rows],
    )  # fmt: skip


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.cli.output import print_record, print_table
    from tuibill.domain.formatting import format_cents
    from tuibill.services.rejections import rejection_view

    ctx.open_db()
    view = rejection_view(_resolve(args))
    if ctx.json:
        print_json(view.as_dict())
        return
    print_record([
        ("Facture", f"{view.invoice_id} — n° {view.number}"),
        ("État", view.state.label),
        ("Mode", "SESAM-Vitale" if view.mode == "sesam_vitale" else "dégradé"),
        ("Patient", view.patient),
        ("Caisse", view.caisse),
        ("Mutuelle", view.mutuelle),
        ("Total", f"{format_cents(view.total_cents)} € (AMO {format_cents(view.amo_cents)}, "
                  f"AMC {format_cents(view.amc_cents)})"),
        ("Prescripteur", view.prescriber),
        ("Motif", view.motif_label),
        ("À corriger", view.field_label),
        ("Que faire", view.what_to_do),
        ("Actions", ", ".join(f"« {a.label} »" for a in view.actions) or "aucune"),
        ("Avoir", view.credit_note),
        ("Recyclée", view.recycled),
    ])  # fmt: skip
    print()
    print_table(
        ["Code", "Libellé", "Niveau", "Part", "Ligne", "Motif"],
        [(r.code, r.label, r.level, r.part, r.line_number or "", r.motif) for r in view.rejections],
    )


def cmd_treated(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejections import mark_treated

    ctx.open_db()
    invoice = mark_treated(_resolve(args), user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(_invoice_dict(invoice))
    else:
        print(f"Rejet de la facture {invoice.number:09d} traité : elle ne sera pas renvoyée.")


def cmd_paper(args: argparse.Namespace, ctx: CliContext) -> None:
    from pathlib import Path

    from tuibill.services.rejections import amc_paper, paper_claim

    ctx.open_db()
    invoice_id = _resolve(args)
    claim = paper_claim(invoice_id)
    invoice = amc_paper(invoice_id, user=ctx.user, reason=args.reason)
    written = None
    if args.output:
        from tuibill.services.reports.pdf import text_pdf

        path = Path(args.output).expanduser()
        data = text_pdf(claim.title, claim.lines) if path.suffix.lower() == ".pdf" else claim.text().encode()
        path.write_bytes(data)
        written = str(path)
    if ctx.json:
        print_json({**_invoice_dict(invoice), "demande": list(claim.lines), "fichier": written})
        return
    if written is None:
        print(claim.text())
    print(f"Facture {invoice.number:09d} : part AMC traitée sur papier avec la mutuelle."
          + (f" Demande écrite dans {written}." if written else ""))


def cmd_bill_patient(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.rejections import bill_patient

    ctx.open_db()
    invoice = bill_patient(_resolve(args), user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json({**_invoice_dict(invoice), "du_patient_cents": invoice.amc_to_patient_cents})
    else:
        print(f"Facture {invoice.number:09d} : {format_cents(invoice.amc_to_patient_cents or 0)} € "
              "de part mutuelle demandés au patient.")


def cmd_rule_list(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.cli.output import print_table
    from tuibill.services.rejection_motifs import rules

    ctx.open_db()
    rows = rules()
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(["Id", "Origine", "Codes", "Libellé contient", "Motif"],
                [(r.id or "", r.source, r.codes, r.pattern, r.motif_label) for r in rows])


def cmd_rule_add(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejection_motifs import add_rule

    ctx.open_db()
    row = add_rule(args.motif, args.code, args.label, user=ctx.user)
    if ctx.json:
        print_json(row.as_dict())
    else:
        print(f"Règle {row.id} ajoutée : {row.codes or row.pattern} → {row.motif_label}.")


def cmd_rule_delete(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejection_motifs import delete_rule

    ctx.open_db()
    delete_rule(args.rule_id)
    print(f"Règle {args.rule_id} retirée.")


def _invoice_dict(invoice) -> dict:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState

    return {
        "id": invoice.id,
        "numero": format_invoice_number(invoice.number),
        "etat": InvoiceState(invoice.state).label,
        "etat_code": invoice.state,
        "rejetee": invoice.state == InvoiceState.REJETEE.value,
    }


def cmd_record(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejections import record_rejection

    ctx.open_db()
    invoice = record_rejection(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(_invoice_dict(invoice))
    else:
        print(
            f"Rejet noté sur la facture {invoice.number:09d} : « Annuler facture transmise » "
            f"est possible (tuibill rejection cancel-invoice {invoice.id} --reason …)."
        )


def cmd_clear(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejections import clear_rejection

    ctx.open_db()
    invoice = clear_rejection(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(_invoice_dict(invoice))
    else:
        print(f"Rejet effacé sur la facture {invoice.number:09d}.")


def cmd_cancel(args: argparse.Namespace, ctx: CliContext) -> None:
    from tuibill.services.rejections import cancel_transmitted

    ctx.open_db()
    result = cancel_transmitted(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json(
            {
                "facture": _invoice_dict(result.invoice),
                "lot": result.lot.as_dict() if result.lot else None,
                "lot_annule": result.lot_cancelled,
            }
        )
        return
    print(f"Facture {result.invoice.number:09d} annulée : elle est de nouveau « Saisie ».")
    if result.lot_cancelled and result.lot is not None:
        print(
            f"Toutes les factures du lot {result.lot.number_text} sont annulées : le lot est "
            "« Annulé » ; revalidées, elles partiront dans un nouveau lot."
        )
