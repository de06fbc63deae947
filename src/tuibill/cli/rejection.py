"""``tuibill rejection …``: a caisse's rejection of a transmitted invoice, and its cancellation.

``record`` notes a rejection received on paper (the invoice stays « Transmise »);
``cancel-invoice`` is « Annuler facture transmise » (Transmise → Saisie, only after a
rejection); ``clear`` undoes a rejection noted by mistake.
"""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json


def register(subparsers, common) -> None:
    noun = subparsers.add_parser(
        "rejection", parents=[common], help="rejets des caisses, « Annuler facture transmise »"
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


def _invoice_dict(invoice) -> dict:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState

    return {
        "id": invoice.id,
        "numero": format_invoice_number(invoice.number),
        "etat": InvoiceState(invoice.state).label,
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
