"""``tuibill slip …``, ``tuibill payment …`` and ``tuibill reminder …``: bordereaux, règlements
and relances of the tiers-payeurs (seed 004)."""

from __future__ import annotations

from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_table
from tuibill.cli.payers import _verb


def _period_options(verb, *, required: bool = True) -> None:
    verb.add_argument("--period", type=arguments.period, metavar="AAAA-MM", required=required,
                      help="mois (bordereaux de la période)")  # fmt: skip
    verb.add_argument("--payer", metavar="TIERS-PAYEUR", action="append",
                      help="Id ou nom (répétable) ; par défaut tous")  # fmt: skip


def register(subparsers, common) -> None:
    slip = subparsers.add_parser("slip", parents=[common], help="bordereaux des tiers-payeurs")
    verbs = slip.add_subparsers(dest="verb", metavar="ACTION", required=True)
    _period_options(_verb(verbs, common, "simulate", cmd_simulate, "simuler les bordereaux"))
    create = _verb(verbs, common, "create", cmd_create, "créer les bordereaux de la période")
    _period_options(create)
    create.add_argument("--date", type=arguments.day, metavar="DATE", help="date des bordereaux")
    validate = _verb(verbs, common, "validate", cmd_validate,
                     "valider (en lot : ceux datés d'aujourd'hui ou avant)")  # fmt: skip
    validate.add_argument("ids", type=arguments.identifier, metavar="ID", nargs="*", help="bordereaux")
    _period_options(validate, required=False)
    send = _verb(verbs, common, "send", cmd_send, "envoi par courriel (par défaut : tous les validés)")
    send.add_argument("ids", type=arguments.identifier, metavar="ID", nargs="*", help="bordereaux")
    send.add_argument("--again", action="store_true",
                      help="renvoyer aussi ceux dont un envoi n'a pas été confirmé")  # fmt: skip
    confirmed = _verb(verbs, common, "mark-sent", cmd_mark_sent,
                      "un envoi non confirmé a bien été reçu : « Envoyé »")  # fmt: skip
    confirmed.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du bordereau")
    confirmed.add_argument("--reason", metavar="MOTIF", default="", help="comment on l'a su")
    printed = _verb(verbs, common, "print", cmd_print, "édition d'un lot : un PDF (envoi postal)")
    printed.add_argument("ids", type=arguments.identifier, metavar="ID", nargs="+", help="bordereaux")
    printed.add_argument("--output", metavar="FICHIER", required=True, help="PDF à écrire")
    export = _verb(verbs, common, "export", cmd_export, "export CSV des bordereaux d'une période")
    export.add_argument("--period", type=arguments.period, metavar="AAAA-MM", required=True, help="mois")
    export.add_argument("--output", metavar="FICHIER", required=True, help="CSV à écrire")
    listing = _verb(verbs, common, "list", cmd_list, "bordereaux")
    listing.add_argument("--payer", metavar="TIERS-PAYEUR", help="Id ou nom")
    listing.add_argument("--state", metavar="ÉTAT", help="CREE, VALIDE, ENVOYE, PAYE_PARTIELLEMENT, PAYE")
    show = _verb(verbs, common, "show", cmd_show, "détail et historique d'un bordereau")
    show.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du bordereau")
    delete = _verb(verbs, common, "delete", cmd_delete, "supprimer un bordereau créé")
    delete.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du bordereau")
    delete.add_argument("--reason", metavar="MOTIF", default="", help="motif")
    for name, handler, text in (
        ("pdf", cmd_pdf, "le PDF d'un bordereau"),
        ("facturx", cmd_facturx, "le Factur-X d'un bordereau validé (Chorus Pro)"),
    ):
        verb = _verb(verbs, common, name, handler, text)
        verb.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du bordereau")
        verb.add_argument("--output", metavar="FICHIER", required=True, help="fichier à écrire")

    payment = subparsers.add_parser("payment", parents=[common], help="règlements des tiers-payeurs et clients")
    pverbs = payment.add_subparsers(dest="verb", metavar="ACTION", required=True)
    record = _verb(pverbs, common, "record", cmd_record, "enregistrer un règlement")
    who = record.add_mutually_exclusive_group(required=True)
    who.add_argument("--payer", metavar="TIERS-PAYEUR", help="émetteur : ce tiers-payeur (Id ou nom)")
    who.add_argument("--client", type=arguments.identifier, metavar="CLIENT", help="émetteur : ce client")
    record.add_argument("--amount", type=arguments.euros, metavar="EUROS", required=True, help="montant")
    record.add_argument("--date", type=arguments.day, metavar="DATE", required=True, help="date")
    record.add_argument("--mode", metavar="MODE", default="VIREMENT",
                        help="VIREMENT, CHEQUE, ESPECES, PRELEVEMENT, CESU")  # fmt: skip
    record.add_argument("--reference", metavar="RÉFÉRENCE", default="", help="référence")
    record.add_argument("--auto", action="store_true", help="puis « Automatiser association »")
    allocate = _verb(pverbs, common, "allocate", cmd_allocate, "associer une part à une ligne")
    allocate.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du règlement")
    allocate.add_argument("--target", type=arguments.identifier, metavar="CIBLE", required=True,
                          help="ligne (« cible » de payment show)")  # fmt: skip
    allocate.add_argument("--amount", type=arguments.euros, metavar="EUROS", required=True, help="montant")
    auto = _verb(pverbs, common, "auto", cmd_auto, "« Automatiser association »")
    auto.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du règlement")
    undo = _verb(pverbs, common, "undo", cmd_undo, "annuler une association")
    undo.add_argument("id", type=arguments.identifier, metavar="ID", help="Id de l'association")
    listing = _verb(pverbs, common, "list", cmd_payment_list, "règlements")
    listing.add_argument("--payer", metavar="TIERS-PAYEUR", help="Id ou nom")
    listing.add_argument("--client", type=arguments.identifier, metavar="CLIENT", help="Id du client")
    show = _verb(pverbs, common, "show", cmd_payment_show, "associations et lignes à régler")
    show.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du règlement")

    reminder = subparsers.add_parser("reminder", parents=[common], help="relances des tiers-payeurs")
    rverbs = reminder.add_subparsers(dest="verb", metavar="ACTION", required=True)
    listing = _verb(rverbs, common, "list", cmd_reminder_list, "tiers-payeurs à relancer à ce niveau")
    listing.add_argument("--level", type=arguments.bounded(1, 9, "niveau"), metavar="NIVEAU", required=True, help="niveau")
    send = _verb(rverbs, common, "send", cmd_reminder_send, "envoyer les relances")
    send.add_argument("--level", type=arguments.bounded(1, 9, "niveau"), metavar="NIVEAU", required=True, help="niveau")
    send.add_argument("--payer", metavar="TIERS-PAYEUR", action="append",
                      help="Id ou nom (répétable) ; par défaut tous ceux à relancer")  # fmt: skip
    send.add_argument("--method", choices=["courriel", "courrier"], default="courriel",
                      metavar="courriel|courrier", help="méthode d'envoi")  # fmt: skip
    send.add_argument("--output", metavar="FICHIER", help="courrier : le PDF des lettres")


def _payer_ids(values: list[str] | None) -> list[int] | None:
    if not values:
        return None
    from tuibill.services.payers import find_payer

    return [find_payer(value).id for value in values]


def _bounds(period):
    from tuibill.services.homecare_billing import month_bounds

    return month_bounds(*period)


def _print_plans(plans, ctx: CliContext, created: list[int] | None = None) -> None:
    from tuibill.domain.formatting import format_cents

    if ctx.json:
        data = {"bordereaux": [p.as_dict() for p in plans]}
        if created is not None:
            data["crees"] = created
        print_json(data)
        return
    for plan in plans:
        if plan.refusal:
            print(f"{plan.payer} : {plan.refusal}")
            continue
        who = plan.beneficiaries[0] if plan.client_id else f"{len(plan.beneficiaries)} bénéficiaire(s)"
        extra = f" dont avoirs {format_cents(plan.deductions_cents)} €" if plan.deductions_cents else ""
        print(f"{plan.payer} — {who} : {len(plan.funding_ids)} ligne(s), "
              f"{format_cents(plan.total_cents)} €{extra}")  # fmt: skip
    if created is not None:
        print(f"{len(created)} bordereau(x) créé(s).")


def cmd_simulate(args, ctx: CliContext) -> None:
    from tuibill.services.slips import simulate_slips

    ctx.open_db()
    _print_plans(simulate_slips(*_bounds(args.period), _payer_ids(args.payer)), ctx)


def cmd_create(args, ctx: CliContext) -> None:
    from tuibill.services.slips import create_slips

    ctx.open_db()
    created, plans = create_slips(
        *_bounds(args.period), _payer_ids(args.payer), user=ctx.user, slip_date=args.date
    )
    _print_plans(plans, ctx, created)


def _print_slips(rows, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents, format_day

    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(
        ["Id", "Numéro", "Tiers-payeur", "Bénéficiaire", "Date", "État", "Montant", "Réglé"],
        [[r.id, r.number, r.payer, r.beneficiary, format_day(r.slip_date), r.state_label,
          format_cents(r.total_cents), format_cents(r.paid_cents)] for r in rows],
    )  # fmt: skip


def cmd_validate(args, ctx: CliContext) -> None:
    from tuibill.domain.errors import ValidationError
    from tuibill.services.slips import BulkResult, validate_slip, validate_slips

    ctx.open_db()
    if args.ids:
        result = BulkResult(tuple(validate_slip(i, user=ctx.user).id for i in args.ids))
    elif args.period:
        result = validate_slips(*_bounds(args.period), _payer_ids(args.payer), user=ctx.user)
    else:
        raise ValidationError("Indiquez des bordereaux (ID…) ou une période (--period).")
    if ctx.json:
        print_json(result.as_dict())
        return
    print(f"{len(result.done)} bordereau(x) validé(s).")
    for slip_id, why in result.skipped:
        print(f"  bordereau {slip_id} écarté : {why}")


def cmd_send(args, ctx: CliContext) -> int | None:
    from tuibill.services.payer_mail import SENT, send_slips

    ctx.open_db()
    outcomes = send_slips(
        ctx.settings.transmission, args.ids or None, user=ctx.user, again=args.again
    )
    if ctx.json:
        print_json([o.as_dict() for o in outcomes])
    else:
        for outcome in outcomes:
            mark = "" if outcome.status == SENT else "⚠ "
            print(f"{mark}{outcome.payer} — {outcome.what} : {outcome.status_label}. {outcome.message}")
        if not outcomes:
            print("Aucun bordereau validé à envoyer.")
    return 0 if all(o.status == SENT for o in outcomes) else 1


def cmd_mark_sent(args, ctx: CliContext) -> None:
    from tuibill.domain.slips import format_number
    from tuibill.services.payer_mail import mark_sent

    ctx.open_db()
    slip = mark_sent(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json({"bordereau": slip.id, "numero": format_number(slip.number), "etat": slip.state})
        return
    print(f"Bordereau {format_number(slip.number)} : « Envoyé » (envoi confirmé).")


def cmd_print(args, ctx: CliContext) -> None:
    from tuibill.services.slips import print_slips

    ctx.open_db()
    data = print_slips(args.ids, user=ctx.user)
    Path(args.output).write_bytes(data)
    if ctx.json:
        print_json({"bordereaux": args.ids, "fichier": args.output, "taille": len(data)})
    else:
        print(f"{len(args.ids)} bordereau(x) dans {args.output} : « Envoyé » (par courrier).")


def cmd_export(args, ctx: CliContext) -> None:
    from tuibill.services.slips import export_slips

    ctx.open_db()
    data = export_slips(*_bounds(args.period))
    Path(args.output).write_bytes(data)
    lines = data.count(b"\n") - 1
    if ctx.json:
        print_json({"fichier": args.output, "bordereaux": lines})
    else:
        print(f"{lines} bordereau(x) exporté(s) dans {args.output}.")


def cmd_list(args, ctx: CliContext) -> None:
    from tuibill.services.payers import find_payer
    from tuibill.services.slips import list_slips

    ctx.open_db()
    payer_id = find_payer(args.payer).id if args.payer else None
    states = [args.state.strip().upper()] if args.state else None
    _print_slips(list_slips(payer_id=payer_id, states=states), ctx)


def cmd_show(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents, format_when
    from tuibill.services.slips import get_slip, list_slips, slip_document, slip_history

    ctx.open_db()
    slip = get_slip(args.id)
    rows = [r for r in list_slips(payer_id=slip.payer_id, states=[slip.state]) if r.id == slip.id]
    document = slip_document(slip)
    history = slip_history(slip.id)
    if ctx.json:
        print_json({
            "bordereau": rows[0].as_dict(),
            "lignes": [{"beneficiaire": ln.beneficiary, "facture": ln.invoice_number,
                        "mois": ln.period, "minutes": ln.minutes, "facture_montant": ln.invoiced_cents,
                        "part_organisme": ln.payer_cents} for ln in document.lines],
            "historique": [{"le": at, "par": user, "action": what, "motif": why}
                           for at, user, what, why in history],
        })  # fmt: skip
        return
    _print_slips(rows, ctx)
    for line in document.lines:
        print(f"  {line.beneficiary} {line.invoice_number} {line.period} : {format_cents(line.payer_cents)} €")
    for at, user, what, why in history:
        print(f"  {format_when(at)} {user} {what} {why}".rstrip())


def cmd_delete(args, ctx: CliContext) -> None:
    from tuibill.services.slips import delete_slip

    ctx.open_db()
    delete_slip(args.id, user=ctx.user, reason=args.reason)
    if ctx.json:
        print_json({"supprime": args.id})
    else:
        print(f"Bordereau {args.id} supprimé : ses factures sont à mettre sur un autre.")


def cmd_pdf(args, ctx: CliContext) -> None:
    from tuibill.services.slips import get_slip, slip_pdf_bytes

    ctx.open_db()
    data = slip_pdf_bytes(get_slip(args.id))
    Path(args.output).write_bytes(data)
    _written(ctx, args.output, data, "PDF")


def cmd_facturx(args, ctx: CliContext) -> None:
    from tuibill.services.slips import get_slip, slip_facturx_bytes

    ctx.open_db()
    data = slip_facturx_bytes(get_slip(args.id))
    Path(args.output).write_bytes(data)
    _written(ctx, args.output, data, "Factur-X")


def _written(ctx: CliContext, output: str, data: bytes, what: str) -> None:
    if ctx.json:
        print_json({"fichier": output, "taille": len(data)})
    else:
        print(f"{what} écrit dans {output} ({len(data)} octets).")


# --- payments ---------------------------------------------------------------------------------


def _print_payment(payment_id: int, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.payments import allocations_of, get_payment, list_payments, owed_for

    payment = get_payment(payment_id)
    row = next(r for r in list_payments(payer_id=payment.payer_id, client_id=payment.client_id)
               if r.id == payment_id)  # fmt: skip
    allocations = allocations_of(payment_id)
    owed = owed_for(payment)
    if ctx.json:
        print_json({"reglement": row.as_dict(), "associations": [a.as_dict() for a in allocations],
                    "a_regler": [o.as_dict() for o in owed]})  # fmt: skip
        return
    print(f"Règlement {row.id} — {row.who} — {format_cents(row.amount_cents)} € ({row.state_label}), "
          f"non associé {format_cents(row.unallocated_cents)} €")  # fmt: skip
    for a in allocations:
        print(f"  association {a.id} : {a.invoice} {a.client} {format_cents(a.cents)} €"
              + (" (annulée)" if a.undone else ""))
    for o in owed:
        print(f"  à régler — cible {o.target} : {o.invoice} {o.client} {o.period} "
              f"reste {format_cents(o.remaining_cents)} €")  # fmt: skip


def cmd_record(args, ctx: CliContext) -> None:
    from tuibill.services.payers import find_payer
    from tuibill.services.payments import auto_allocate, record_payment

    ctx.open_db()
    payer_id = find_payer(args.payer).id if args.payer else None
    payment = record_payment(
        emitter="PAYEUR" if payer_id else "CLIENT", payer_id=payer_id, client_id=args.client,
        amount_cents=args.amount, day=args.date, mode=args.mode, reference=args.reference,
        user=ctx.user,
    )  # fmt: skip
    if args.auto:
        auto_allocate(payment.id, user=ctx.user)
    _print_payment(payment.id, ctx)


def cmd_allocate(args, ctx: CliContext) -> None:
    from tuibill.services.payments import allocate

    ctx.open_db()
    allocate(args.id, args.target, args.amount, user=ctx.user)
    _print_payment(args.id, ctx)


def cmd_auto(args, ctx: CliContext) -> None:
    from tuibill.services.payments import auto_allocate

    ctx.open_db()
    auto_allocate(args.id, user=ctx.user)
    _print_payment(args.id, ctx)


def cmd_undo(args, ctx: CliContext) -> None:
    from tuibill.services.payments import undo_allocation

    ctx.open_db()
    allocation = undo_allocation(args.id, user=ctx.user)
    _print_payment(allocation.payment_id, ctx)


def cmd_payment_list(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents, format_day
    from tuibill.services.payers import find_payer
    from tuibill.services.payments import list_payments

    ctx.open_db()
    payer_id = find_payer(args.payer).id if args.payer else None
    rows = list_payments(payer_id=payer_id, client_id=args.client)
    if ctx.json:
        print_json([r.as_dict() for r in rows])
        return
    print_table(["Id", "Émetteur", "De", "Date", "Montant", "Non associé", "État"],
                [[r.id, r.emitter, r.who, format_day(r.day), format_cents(r.amount_cents),
                  format_cents(r.unallocated_cents), r.state_label] for r in rows])  # fmt: skip


def cmd_payment_show(args, ctx: CliContext) -> None:
    ctx.open_db()
    _print_payment(args.id, ctx)


# --- relances ---------------------------------------------------------------------------------


def cmd_reminder_list(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.payer_mail import reminder_candidates

    ctx.open_db()
    rows = reminder_candidates(args.level)
    if ctx.json:
        print_json([r.as_dict() for r in rows])
        return
    print_table(["Id", "Tiers-payeur", "E-mail", "Bordereaux", "Reste dû"],
                [[r.payer_id, r.payer, r.email or "⚠ aucune", " ".join(ln.number for ln in r.lines),
                  format_cents(r.remaining_cents)] for r in rows])  # fmt: skip


def cmd_reminder_send(args, ctx: CliContext) -> int | None:
    from tuibill.domain.errors import ValidationError
    from tuibill.services.payer_mail import SENT, reminder_candidates, send_reminders

    ctx.open_db()
    payer_ids = _payer_ids(args.payer) or [c.payer_id for c in reminder_candidates(args.level)]
    if args.method == "courrier" and not args.output:
        raise ValidationError("Relance par courrier : indiquez le PDF à écrire (--output).")
    outcomes, data = send_reminders(
        ctx.settings.transmission, args.level, payer_ids, method=args.method, user=ctx.user
    )
    if data is not None:
        Path(args.output).write_bytes(data)
    if ctx.json:
        print_json({"envois": [o.as_dict() for o in outcomes], "fichier": args.output if data else None})
    else:
        for outcome in outcomes:
            print(f"{outcome.payer} — {outcome.what} : {outcome.status_label}. {outcome.message}")
        if not outcomes:
            print("Aucun tiers-payeur à relancer à ce niveau.")
    return 0 if all(o.status == SENT for o in outcomes) else 1
