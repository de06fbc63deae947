"""``tuibill client …``, ``tuibill intervention …`` and ``tuibill billing …``: the home-care
service's clients and contracts, their planning, and Clients › Facturation (seed 004)."""

from __future__ import annotations

from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_record, print_table
from tuibill.cli.payers import _verb


def register(subparsers, common) -> None:
    client = subparsers.add_parser("client", parents=[common], help="clients de l'aide à domicile")
    verbs = client.add_subparsers(dest="verb", metavar="ACTION", required=True)
    listing = _verb(verbs, common, "list", cmd_client_list, "liste des clients")
    listing.add_argument("--search", metavar="NOM", help="début du nom")
    add = _verb(verbs, common, "add", cmd_client_add, "nouveau client")
    add.add_argument("--last-name", metavar="NOM", required=True, help="nom")
    add.add_argument("--first-name", metavar="PRÉNOM", default="", help="prénom")
    for option, meta, text in (
        ("--address", "ADRESSE", "adresse"), ("--postcode", "CODE", "code postal"),
        ("--city", "VILLE", "ville"), ("--email", "ADRESSE", "e-mail"),
        ("--phone", "TÉLÉPHONE", "téléphone"),
    ):  # fmt: skip
        add.add_argument(option, metavar=meta, default="", help=text)
    show = _verb(verbs, common, "show", cmd_client_show, "fiche, contrat, plans et solde")
    show.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du client")
    contract = _verb(verbs, common, "contract", cmd_client_contract,
                     "ajouter ou changer une prestation du contrat")  # fmt: skip
    contract.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du client")
    contract.add_argument("--prestation", metavar="CODE", required=True, help="prestation")
    contract.add_argument("--base", type=arguments.euros, metavar="EUROS", required=True, help="tarif horaire de base")
    contract.add_argument("--saturday", type=arguments.euros, metavar="EUROS", help="tarif samedi")
    contract.add_argument("--sunday", type=arguments.euros, metavar="EUROS", help="tarif dimanche/JF")
    balance = _verb(verbs, common, "balance", cmd_client_balance, "solde client")
    balance.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du client")
    prestation = _verb(verbs, common, "prestation", cmd_prestation, "créer ou renommer une prestation")
    prestation.add_argument("code", metavar="CODE", help="code (AD, MEN…)")
    prestation.add_argument("label", metavar="LIBELLÉ", help="libellé")
    _verb(verbs, common, "prestations", cmd_prestations, "liste des prestations")

    intervention = subparsers.add_parser(
        "intervention", parents=[common], help="interventions (planning des clients)"
    )
    iverbs = intervention.add_subparsers(dest="verb", metavar="ACTION", required=True)
    add = _verb(iverbs, common, "add", cmd_intervention_add, "ajouter une intervention")
    add.add_argument("--client", type=arguments.identifier, metavar="CLIENT", required=True, help="Id du client")
    add.add_argument("--date", type=arguments.day, metavar="DATE", required=True, help="JJ/MM/AAAA")
    add.add_argument("--start", type=arguments.clock, metavar="HH:MM", required=True, help="début")
    add.add_argument("--end", type=arguments.clock, metavar="HH:MM", required=True,
                     help="fin (avant le début : le lendemain)")  # fmt: skip
    add.add_argument("--prestation", metavar="CODE", required=True, help="prestation du contrat")
    add.add_argument("--intervenant", metavar="NOM", default="", help="intervenant")
    imported = _verb(iverbs, common, "import", cmd_intervention_import,
                     "importer un planning CSV (refusé en entier à la première ligne fausse)")  # fmt: skip
    imported.add_argument("file", metavar="FICHIER", help="client;date;debut;fin;prestation;intervenant")
    listing = _verb(iverbs, common, "list", cmd_intervention_list, "interventions")
    listing.add_argument("--client", type=arguments.identifier, metavar="CLIENT", help="d'un client")
    listing.add_argument("--period", type=arguments.period, metavar="AAAA-MM", help="d'un mois")
    delete = _verb(iverbs, common, "delete", cmd_intervention_delete, "supprimer (non facturée)")
    delete.add_argument("id", type=arguments.identifier, metavar="ID", help="Id de l'intervention")

    billing = subparsers.add_parser(
        "billing", parents=[common], help="facturation des clients (aide à domicile)"
    )
    bverbs = billing.add_subparsers(dest="verb", metavar="ACTION", required=True)
    for name, handler, text in (
        ("simulate", cmd_simulate, "« Simuler la facturation » (rien n'est écrit)"),
        ("create", cmd_create, "« Créer les factures »"),
        ("validate", cmd_validate, "valider les factures créées du mois (numérotées)"),
    ):
        verb = _verb(bverbs, common, name, handler, text)
        verb.add_argument("--period", type=arguments.period, metavar="AAAA-MM", required=True, help="mois facturé")
        verb.add_argument("--client", type=arguments.identifier, metavar="CLIENT", action="append",
                          help="Id d'un client (répétable) ; par défaut tous")  # fmt: skip
    listing = _verb(bverbs, common, "list", cmd_invoice_list, "factures et avoirs")
    listing.add_argument("--client", type=arguments.identifier, metavar="CLIENT", help="d'un client")
    listing.add_argument("--period", type=arguments.period, metavar="AAAA-MM", help="d'un mois")
    show = _verb(bverbs, common, "show", cmd_invoice_show, "détail (onglet Financement) et historique")
    show.add_argument("id", type=arguments.identifier, metavar="ID", help="Id de la facture")
    credit = _verb(bverbs, common, "credit", cmd_credit, "avoir sur une facture validée")
    credit.add_argument("id", type=arguments.identifier, metavar="ID", help="Id de la facture")
    credit.add_argument("--reason", metavar="MOTIF", required=True, help="motif de l'avoir")
    delete = _verb(bverbs, common, "delete", cmd_invoice_delete, "supprimer une facture créée (non validée)")
    delete.add_argument("id", type=arguments.identifier, metavar="ID", help="Id de la facture")


# --- clients ----------------------------------------------------------------------------------


def cmd_client_list(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import client_dict, search_clients

    ctx.open_db()
    rows = search_clients(args.search or "")
    if ctx.json:
        print_json([client_dict(c) for c in rows])
        return
    print_table(["Id", "Client", "Ville", "E-mail"], [[c.id, c.display_name, c.city, c.email] for c in rows])


def cmd_client_add(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import ClientInput, client_dict, create_client

    ctx.open_db()
    client = create_client(
        ClientInput(args.last_name, args.first_name, args.address, args.postcode, args.city,
                    args.email, args.phone)
    )  # fmt: skip
    if ctx.json:
        print_json(client_dict(client))
    else:
        print(f"Client {client.id} créé : {client.display_name}.")


def cmd_client_show(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.aid_plans import list_plans
    from tuibill.services.homecare import client_dict, get_client
    from tuibill.services.homecare_billing import balance_of

    ctx.open_db()
    client = get_client(args.id)
    data = client_dict(client)
    data["plans"] = [row.as_dict() for row in list_plans(client_id=client.id)]
    data["solde"] = balance_of(client.id).as_dict()
    if ctx.json:
        print_json(data)
        return
    print_record([("Id", client.id), ("Client", client.display_name),
                  ("Adresse", f"{client.address} {client.postcode} {client.city}".strip()),
                  ("Solde", f"{format_cents(data['solde']['solde'])} €")])  # fmt: skip
    for line in data["contrat"]:
        print(f"  contrat {line['prestation']} : {format_cents(line['tarif_base'])} / "
              f"{format_cents(line['tarif_samedi'])} / {format_cents(line['tarif_dimanche_ferie'])} €/h")  # fmt: skip
    for plan in data["plans"]:
        print(f"  plan {plan['id']} {plan['tiers_payeur_nom']} {plan['prestation']} "
              f"({plan['etat_libelle']})")  # fmt: skip


def cmd_client_contract(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import client_dict, get_client, set_contract_line

    ctx.open_db()
    set_contract_line(
        args.id, args.prestation, args.base,
        args.saturday if args.saturday is not None else args.base,
        args.sunday if args.sunday is not None else args.base,
    )  # fmt: skip
    data = client_dict(get_client(args.id))
    if ctx.json:
        print_json(data)
    else:
        print(f"Contrat de {data['nom']} : {', '.join(line['prestation'] for line in data['contrat'])}.")


def cmd_client_balance(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.homecare import get_client
    from tuibill.services.homecare_billing import balance_of

    ctx.open_db()
    get_client(args.id)
    balance = balance_of(args.id)
    if ctx.json:
        print_json(balance.as_dict())
        return
    print_record([
        ("Total facturé", f"{format_cents(balance.invoiced_cents)} €"),
        ("Net à payer (client)", f"{format_cents(balance.net_to_pay_cents)} €"),
        ("Règlements du client", f"{format_cents(balance.client_payments_cents)} €"),
        ("Solde client", f"{format_cents(balance.balance_cents)} €"),
    ])  # fmt: skip


def cmd_prestation(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import save_prestation

    ctx.open_db()
    prestation = save_prestation(args.code, args.label)
    if ctx.json:
        print_json({"code": prestation.code, "libelle": prestation.label})
    else:
        print(f"Prestation {prestation.code} : {prestation.label}.")


def cmd_prestations(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import list_prestations

    ctx.open_db()
    rows = list_prestations()
    if ctx.json:
        print_json([{"code": p.code, "libelle": p.label} for p in rows])
    else:
        print_table(["Code", "Libellé"], [[p.code, p.label] for p in rows])


# --- interventions ----------------------------------------------------------------------------


def cmd_intervention_add(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import add_intervention, list_interventions

    ctx.open_db()
    end = args.end if args.end > args.start else args.end + 1440
    item = add_intervention(args.client, args.date, args.start, end, args.prestation, args.intervenant)
    row = next(r for r in list_interventions(client_id=args.client) if r.id == item.id)
    if ctx.json:
        print_json(row.as_dict())
    else:
        print(f"Intervention {row.id} : {row.client} le {row.day:%d/%m/%Y} {row.hours_text} {row.prestation}.")


def cmd_intervention_import(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import import_interventions

    ctx.open_db()
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        from tuibill.domain.errors import ValidationError

        raise ValidationError(f"Fichier « {args.file} » illisible ({error.strerror}).") from None
    count = import_interventions(data)
    if ctx.json:
        print_json({"importees": count, "fichier": args.file})
    else:
        print(f"{count} intervention(s) importée(s).")


def cmd_intervention_list(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import list_interventions
    from tuibill.services.homecare_billing import month_bounds

    ctx.open_db()
    start, end = month_bounds(*args.period) if args.period else (None, None)
    rows = list_interventions(client_id=args.client, start=start, end=end)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(["Id", "Client", "Date", "Horaire", "Prest.", "Intervenant", "Facturée"],
                [[r.id, r.client, f"{r.day:%d/%m/%Y}", r.hours_text, r.prestation, r.intervenant,
                  "oui" if r.billed else ""] for r in rows])  # fmt: skip


def cmd_intervention_delete(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import delete_intervention

    ctx.open_db()
    delete_intervention(args.id)
    if ctx.json:
        print_json({"supprimee": args.id})
    else:
        print(f"Intervention {args.id} supprimée.")


# --- billing ----------------------------------------------------------------------------------


def _print_previews(previews, ctx: CliContext, created: list[int] | None = None) -> None:
    from tuibill.domain.formatting import format_cents

    if ctx.json:
        data = {"previsions": [p.as_dict() for p in previews]}
        if created is not None:
            data["factures_creees"] = created
        print_json(data)
        return
    # A write a client, not a print a line: a month of 2,000 clients is 46,000 lines (and one
    # write of them all would hold them twice more in memory).
    for preview in previews:
        if preview.billing is None:
            print(f"{preview.client} : {preview.refusal}")
            continue
        billing = preview.billing
        head = (
            f"{preview.client} — {preview.month:02d}/{preview.year} : total "
            f"{format_cents(billing.amount_cents)} €, organismes {format_cents(billing.payer_cents)} €,"
            f" client {format_cents(billing.client_cents)} €"
        )
        print("\n    ".join([head, *(line.explanation for line in billing.lines)]))
    if created is not None:
        print(f"{len(created)} facture(s) créée(s) : « tuibill billing validate » pour les valider.")


def cmd_simulate(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import simulate

    ctx.open_db()
    _print_previews(simulate(*args.period, args.client), ctx)


def cmd_create(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import create_invoices

    ctx.open_db()
    created, previews = create_invoices(*args.period, args.client, user=ctx.user)
    _print_previews(previews, ctx, created)


def cmd_validate(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import list_invoices, validate_invoices

    ctx.open_db()
    done = set(validate_invoices(*args.period, args.client, user=ctx.user))
    rows = [row for row in list_invoices(year=args.period[0], month=args.period[1]) if row.id in done]
    if ctx.json:
        print_json([row.as_dict() for row in rows])
    else:
        print(f"{len(rows)} facture(s) validée(s) : " + ", ".join(row.number for row in rows))


def _print_invoices(rows, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents

    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(
        ["Id", "Numéro", "Client", "Mois", "État", "Total", "Dû client", "Dû org.", "Réglé org."],
        [[r.id, r.number, r.client, f"{r.period_start:%m/%Y}", r.state_label,
          format_cents(r.total_cents), format_cents(r.client_cents), format_cents(r.payer_cents),
          format_cents(r.payer_paid_cents) + (" (partiel)" if r.payer_partly_paid else "")]
         for r in rows],
    )  # fmt: skip


def cmd_invoice_list(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import list_invoices

    ctx.open_db()
    year, month = args.period if args.period else (None, None)
    _print_invoices(list_invoices(client_id=args.client, year=year, month=month), ctx)


def cmd_invoice_show(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_when
    from tuibill.services.homecare_billing import (
        get_invoice,
        invoice_history,
        invoice_lines,
        list_invoices,
    )

    ctx.open_db()
    invoice = get_invoice(args.id)
    row = next(r for r in list_invoices(client_id=invoice.client_id) if r.id == invoice.id) if \
        invoice.state != "SUPPRIMEE" else None  # fmt: skip
    lines = invoice_lines(invoice.id)
    history = invoice_history(invoice.id)
    if ctx.json:
        print_json({
            "facture": row.as_dict() if row else {"id": invoice.id, "etat": invoice.state},
            "financement": [{"date": ln.day, "horaire": ln.hours, "prestation": ln.prestation,
                             "financement": ln.funding, "organisme": ln.payer,
                             "montant": ln.amount_cents, "part_organisme": ln.payer_cents,
                             "part_client": ln.client_cents, "detail": ln.explanation}
                            for ln in lines],
            "historique": [{"le": at, "par": user, "action": what, "motif": why}
                           for at, user, what, why in history],
        })  # fmt: skip
        return
    if row:
        _print_invoices([row], ctx)
    print("Financement :")
    for line in lines:
        print(f"  {line.explanation}")
    print("Historique :")
    for at, user, what, why in history:
        print(f"  {format_when(at)} {user} {what} {why}".rstrip())


def cmd_credit(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import credit_invoice, list_invoices

    ctx.open_db()
    credit = credit_invoice(args.id, user=ctx.user, reason=args.reason)
    rows = [r for r in list_invoices(client_id=credit.client_id) if r.id in (credit.id, args.id)]
    _print_invoices(rows, ctx)


def cmd_invoice_delete(args, ctx: CliContext) -> None:
    from tuibill.services.homecare_billing import delete_invoice

    ctx.open_db()
    delete_invoice(args.id, user=ctx.user)
    if ctx.json:
        print_json({"supprimee": args.id})
    else:
        print(f"Facture {args.id} supprimée (ses interventions sont à facturer de nouveau).")


