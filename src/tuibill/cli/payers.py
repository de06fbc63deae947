"""``tuibill payer …`` and ``tuibill aid-plan …``: tiers-payeurs and plans d'aide (seed 004).

Every verb takes ``--json``. Amounts are written in euros (« 23,50 »), rates in percent
(« 80 », « 33,33 »), hours as « 10 » or « 10:30 ».
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_record, print_table


def _verb(verbs, common, name: str, handler, text: str) -> argparse.ArgumentParser:
    verb = verbs.add_parser(name, parents=[common], help=text)
    verb.add_argument("--json", action="store_true", help="sortie JSON")
    verb.set_defaults(handler=handler)
    return verb


def _payer_fields(verb: argparse.ArgumentParser, *, required: bool) -> None:
    verb.add_argument("--name", metavar="NOM", required=required, help="nom du tiers-payeur")
    verb.add_argument("--address", metavar="ADRESSE", help="adresse (rue)")
    verb.add_argument("--postcode", metavar="CODE", help="code postal")
    verb.add_argument("--city", metavar="VILLE", help="ville")
    verb.add_argument("--email", metavar="ADRESSE", help="adresse e-mail (envoi des bordereaux)")
    verb.add_argument("--phone", metavar="TÉLÉPHONE", help="téléphone")
    verb.add_argument("--siret", metavar="SIRET", help="SIRET (14 chiffres)")
    verb.add_argument("--account", metavar="COMPTE", help="compte comptable")
    verb.add_argument("--public", choices=["oui", "non"], metavar="oui|non",
                      help="organisme public (Chorus Pro : Factur-X)")  # fmt: skip
    verb.add_argument("--service-code", metavar="CODE", help="code service Chorus Pro")
    verb.add_argument("--slip-kind", choices=["individuelle", "globale"],
                      metavar="individuelle|globale", help="type de bordereau")  # fmt: skip
    verb.add_argument("--aid-to-client", choices=["oui", "non"], metavar="oui|non",
                      help="« Aide versée directement au client »")  # fmt: skip


def _plan_values(verb: argparse.ArgumentParser) -> None:
    verb.add_argument("--hours", type=arguments.hours, metavar="HEURES", help="heures accordées par mois")
    verb.add_argument("--base", type=arguments.euros, metavar="EUROS", help="tarif de base (horaire)")
    verb.add_argument("--saturday", type=arguments.euros, metavar="EUROS", help="tarif majoré samedi")
    verb.add_argument("--sunday", type=arguments.euros, metavar="EUROS", help="tarif majoré dimanche/JF")
    verb.add_argument("--pec", type=arguments.percent, metavar="TAUX", help="taux de PEC (%%)")
    verb.add_argument("--sunday-pec", type=arguments.percent, metavar="TAUX", help="taux de PEC dimanche/JF (%%)")
    verb.add_argument("--sunday-cap", metavar="HEURES",
                      help="plafond d'heures dimanche/JF : 0 = lundi–samedi seulement, "
                      "« aucun » = tous les jours")  # fmt: skip
    verb.add_argument("--mode", choices=["base", "prestation"], metavar="base|prestation",
                      help="facturation pendant la PEC : tarif de base P.E.C. ou de la prestation")  # fmt: skip


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("payer", parents=[common], help="tiers-payeurs (APA, caisses, mutuelles)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)
    _verb(verbs, common, "list", cmd_list, "liste des tiers-payeurs")
    show = _verb(verbs, common, "show", cmd_show, "fiche d'un tiers-payeur")
    show.add_argument("payer", metavar="TIERS-PAYEUR", help="Id ou nom exact")
    add = _verb(verbs, common, "add", cmd_add, "nouveau tiers-payeur (Définition, Paramétrage)")
    _payer_fields(add, required=True)
    change = _verb(verbs, common, "set", cmd_set, "modifier la Définition ou le Paramétrage")
    change.add_argument("payer", metavar="TIERS-PAYEUR", help="Id ou nom exact")
    _payer_fields(change, required=False)
    default = _verb(verbs, common, "default", cmd_default,
                    "valeurs de plan d'aide par défaut d'une prestation")  # fmt: skip
    default.add_argument("payer", metavar="TIERS-PAYEUR", help="Id ou nom exact")
    default.add_argument("--prestation", metavar="CODE", required=True, help="prestation (AD…)")
    _plan_values(default)
    note = _verb(verbs, common, "note", cmd_note, "ajouter une note interne (ou une réponse)")
    note.add_argument("payer", metavar="TIERS-PAYEUR", help="Id ou nom exact")
    note.add_argument("--text", metavar="TEXTE", required=True, help="la note")
    note.add_argument("--reply", type=arguments.identifier, metavar="NOTE", help="répondre à cette note")
    for name, handler, text in (
        ("notes", cmd_notes, "notes internes"),
        ("mails", cmd_mails, "envois (courriels archivés)"),
        ("documents", cmd_documents, "documents (bordereaux, Factur-X, relances)"),
    ):
        verb = _verb(verbs, common, name, handler, text)
        verb.add_argument("payer", metavar="TIERS-PAYEUR", help="Id ou nom exact")
    document = _verb(verbs, common, "document", cmd_document, "écrire un document dans un fichier")
    document.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du document")
    document.add_argument("--output", metavar="FICHIER", required=True, help="fichier à écrire")
    service = _verb(verbs, common, "service", cmd_service,
                    "le service d'aide à domicile (vendeur des bordereaux)")  # fmt: skip
    for option, meta, text in (
        ("--name", "NOM", "nom du service"), ("--address", "ADRESSE", "adresse"),
        ("--postcode", "CODE", "code postal"), ("--city", "VILLE", "ville"),
        ("--siret", "SIRET", "SIRET"), ("--email", "ADRESSE", "e-mail (expéditeur)"),
        ("--phone", "TÉLÉPHONE", "téléphone"), ("--iban", "IBAN", "IBAN"),
    ):  # fmt: skip
        service.add_argument(option, metavar=meta, help=text)
    _verb(verbs, common, "levels", cmd_levels, "niveaux de relance")
    level = _verb(verbs, common, "level", cmd_level, "créer ou changer un niveau de relance")
    level.add_argument("number", type=arguments.bounded(1, 9, "niveau"), metavar="NIVEAU", help="1 à 9")
    level.add_argument("--days", type=arguments.bounded(0, 3650, "jours"), metavar="JOURS",
                       required=True, help="jours après l'envoi du bordereau")  # fmt: skip
    level.add_argument("--title", metavar="TITRE", required=True, help="titre (objet du courriel)")
    level.add_argument("--text", metavar="TEXTE", required=True, help="texte d'introduction")

    plan = subparsers.add_parser("aid-plan", parents=[common], help="plans d'aide des tiers-payeurs")
    plan_verbs = plan.add_subparsers(dest="verb", metavar="ACTION", required=True)
    listing = _verb(plan_verbs, common, "list", cmd_plan_list, "plans d'aide")
    listing.add_argument("--client", type=arguments.identifier, metavar="CLIENT", help="d'un client")
    listing.add_argument("--payer", metavar="TIERS-PAYEUR", help="d'un tiers-payeur (Id ou nom)")
    create = _verb(plan_verbs, common, "add", cmd_plan_add,
                   "nouveau plan d'aide (valeurs par défaut du tiers-payeur)")  # fmt: skip
    create.add_argument("--client", type=arguments.identifier, metavar="CLIENT", required=True, help="bénéficiaire")
    create.add_argument("--payer", metavar="TIERS-PAYEUR", required=True, help="Id ou nom exact")
    create.add_argument("--prestation", metavar="CODE", required=True, help="prestation (AD…)")
    create.add_argument("--from", dest="valid_from", type=arguments.day, metavar="DATE",
                        required=True, help="date de début de validité")  # fmt: skip
    create.add_argument("--until", type=arguments.day, metavar="DATE", help="fin de validité")
    create.add_argument("--reference", metavar="RÉFÉRENCE", help="numéro du plan chez l'organisme")
    create.add_argument("--validate", action="store_true", help="valider aussitôt")
    _plan_values(create)
    for name, handler, text in (
        ("validate", cmd_plan_validate, "valider (seul un plan validé finance)"),
        ("cancel", cmd_plan_cancel, "annuler"),
    ):
        verb = _verb(plan_verbs, common, name, handler, text)
        verb.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du plan")
    end = _verb(plan_verbs, common, "end", cmd_plan_end, "donner une fin de validité (renouvellement)")
    end.add_argument("id", type=arguments.identifier, metavar="ID", help="Id du plan")
    end.add_argument("--until", type=arguments.day, metavar="DATE", required=True, help="dernier jour")


def _yes(value: str | None, current: bool) -> bool:
    return current if value is None else value == "oui"


def _input(args, current=None):
    from tuibill.services.payers import PayerInput

    base = current or PayerInput(name="")
    def pick(name: str, attr: str) -> str:
        value = getattr(args, name, None)
        return getattr(base, attr) if value is None else value

    return PayerInput(
        name=pick("name", "name"), address=pick("address", "address"),
        postcode=pick("postcode", "postcode"), city=pick("city", "city"),
        email=pick("email", "email"), phone=pick("phone", "phone"), siret=pick("siret", "siret"),
        account=pick("account", "account"), public=_yes(args.public, base.public),
        service_code=pick("service_code", "service_code"),
        slip_kind=(args.slip_kind or base.slip_kind).upper(),
        aid_paid_to_client=_yes(args.aid_to_client, base.aid_paid_to_client),
    )  # fmt: skip


def _print_payer(payer, ctx: CliContext) -> None:
    from tuibill.services.payers import payer_dict

    data = payer_dict(payer)
    if ctx.json:
        print_json(data)
        return
    print_record([
        ("Id", data["id"]), ("Nom", data["nom"]), ("Adresse", data["adresse"]),
        ("Ville", f"{data['code_postal']} {data['ville']}".strip()), ("E-mail", data["email"] or "(aucune)"),
        ("SIRET", data["siret"]), ("Compte", data["compte"]),
        ("Public (Factur-X)", "oui" if data["public"] else "non"),
        ("Bordereau", data["type_bordereau"]),
        ("Aide versée au client", "oui" if data["aide_versee_au_client"] else "non"),
        ("Prestations par défaut", ", ".join(data["valeurs_par_defaut"]) or "(aucune)"),
    ])  # fmt: skip


def cmd_list(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_cents
    from tuibill.services.payers import list_payers

    ctx.open_db()
    rows = list_payers()
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(
        ["Id", "Tiers-payeur", "Bordereau", "E-mail", "Ouverts", "Reste dû"],
        [[r.id, r.name, r.kind_label, r.email or "⚠ aucune", r.open_slips,
          format_cents(r.remaining_cents)] for r in rows],
    )  # fmt: skip


def cmd_show(args, ctx: CliContext) -> None:
    from tuibill.services.payers import find_payer

    ctx.open_db()
    _print_payer(find_payer(args.payer), ctx)


def cmd_add(args, ctx: CliContext) -> None:
    from tuibill.services.payers import create_payer

    ctx.open_db()
    _print_payer(create_payer(_input(args)), ctx)


def cmd_set(args, ctx: CliContext) -> None:
    from tuibill.services.payers import find_payer, payer_input, update_payer

    ctx.open_db()
    payer = find_payer(args.payer)
    _print_payer(update_payer(payer.id, _input(args, payer_input(payer))), ctx)


def _cap(text: str | None, current: int | None) -> int | None:
    if text is None:
        return current
    if text.strip().lower() in ("aucun", "vide", ""):
        return None
    try:
        return arguments.hours(text)
    except argparse.ArgumentTypeError as error:
        from tuibill.domain.errors import ValidationError

        raise ValidationError(str(error), field="sunday_cap_minutes") from None


def _changes(args) -> dict:
    from tuibill.domain.aid_plans import BillingMode

    changes: dict = {}
    if args.hours is not None:
        changes["monthly_minutes"] = args.hours
    if args.pec is not None:
        changes["pec_bp"] = args.pec
    if args.sunday_pec is not None:
        changes["sunday_pec_bp"] = args.sunday_pec
    if args.sunday_cap is not None:
        changes["sunday_cap_minutes"] = _cap(args.sunday_cap, None)
    if args.mode is not None:
        changes["billing_mode"] = (
            BillingMode.PLAN_RATES if args.mode == "base" else BillingMode.PRESTATION_RATES
        ).value
    return changes


def _rates(args, current):
    from tuibill.domain.aid_plans import HourlyRates

    if args.base is None and args.saturday is None and args.sunday is None:
        return current
    base = args.base if args.base is not None else (current.base_cents if current else None)
    if base is None:
        from tuibill.domain.errors import ValidationError

        raise ValidationError("Indiquez le tarif de base (--base).", field="base_cents")
    return HourlyRates(
        base,
        args.saturday if args.saturday is not None else (current.saturday_cents if current else base),
        args.sunday if args.sunday is not None else (current.sunday_holiday_cents if current else base),
    )


def cmd_default(args, ctx: CliContext) -> None:
    from dataclasses import replace

    from tuibill.domain.errors import ValidationError
    from tuibill.services.payers import PlanValues, defaults_of, find_payer, set_default

    ctx.open_db()
    payer = find_payer(args.payer)
    current = defaults_of(payer.id).get(args.prestation.strip().upper())
    rates = _rates(args, current.rates if current else None)
    if current is None:
        if rates is None or args.pec is None or args.hours is None:
            raise ValidationError(
                "Nouvelle prestation : indiquez au moins --hours, --base et --pec.", field="pec"
            )
        current = PlanValues(args.hours, rates, args.pec)
    values = replace(current, rates=rates, **_changes(args))
    set_default(payer.id, args.prestation, values)
    _print_payer(find_payer(str(payer.id)), ctx)


def cmd_note(args, ctx: CliContext) -> None:
    from tuibill.services.payers import add_note, find_payer

    ctx.open_db()
    note = add_note(find_payer(args.payer).id, args.text, user=ctx.user, parent_id=args.reply)
    if ctx.json:
        print_json({"id": note.id, "reponse_a": note.parent_id})
    else:
        print(f"Note {note.id} enregistrée.")


def cmd_notes(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_when
    from tuibill.services.payers import find_payer, notes_of

    ctx.open_db()
    rows = notes_of(find_payer(args.payer).id)
    if ctx.json:
        print_json([{"id": r.id, "le": r.at, "par": r.user, "texte": r.text, "reponse": r.reply} for r in rows])
        return
    for row in rows:
        indent = "    ↳ " if row.reply else ""
        print(f"{indent}[{row.id}] {format_when(row.at)} {row.user} : {row.text}")


def cmd_mails(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_when
    from tuibill.services.payers import find_payer, mails_of

    ctx.open_db()
    rows = mails_of(find_payer(args.payer).id)
    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(["Id", "Date", "Type", "Destinataire", "Objet", "Statut"],
                [[r.id, format_when(r.at), r.kind, r.recipient, r.subject, r.status] for r in rows])  # fmt: skip


def cmd_documents(args, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_when
    from tuibill.services.payers import documents_of, find_payer

    ctx.open_db()
    rows = documents_of(find_payer(args.payer).id)
    if ctx.json:
        print_json([{"id": r.id, "le": r.at, "nom": r.name, "type": r.kind, "taille": r.size} for r in rows])
        return
    print_table(["Id", "Date", "Type", "Nom", "Octets"],
                [[r.id, format_when(r.at), r.kind, r.name, r.size] for r in rows])  # fmt: skip


def cmd_document(args, ctx: CliContext) -> None:
    from tuibill.services.payers import document_data

    ctx.open_db()
    name, data = document_data(args.id)
    Path(args.output).write_bytes(data)
    if ctx.json:
        print_json({"document": args.id, "nom": name, "fichier": args.output, "taille": len(data)})
    else:
        print(f"{name} écrit dans {args.output} ({len(data)} octets).")


def cmd_service(args, ctx: CliContext) -> None:
    from tuibill.services.homecare import get_service, save_service

    ctx.open_db()
    current = get_service()
    def pick(name: str) -> str:
        value = getattr(args, name)
        return (getattr(current, name) if current else "") if value is None else value

    service = save_service(
        pick("name"), address=pick("address"), postcode=pick("postcode"), city=pick("city"),
        siret=pick("siret"), email=pick("email"), phone=pick("phone"), iban=pick("iban"),
    )  # fmt: skip
    data = {"nom": service.name, "adresse": service.address, "code_postal": service.postcode,
            "ville": service.city, "siret": service.siret, "email": service.email}  # fmt: skip
    if ctx.json:
        print_json(data)
    else:
        print_record([(key, value) for key, value in data.items()])


def cmd_levels(args, ctx: CliContext) -> None:
    from tuibill.services.payers import reminder_levels

    ctx.open_db()
    levels = reminder_levels()
    if ctx.json:
        print_json([{"niveau": lv.number, "jours": lv.days, "titre": lv.title, "texte": lv.text} for lv in levels])
        return
    print_table(["Niveau", "Jours", "Titre"], [[lv.number, f"J+{lv.days}", lv.title] for lv in levels])


def cmd_level(args, ctx: CliContext) -> None:
    from tuibill.services.payers import save_reminder_level

    ctx.open_db()
    save_reminder_level(args.number, args.days, args.title, args.text)
    cmd_levels(args, ctx)


# --- aid-plan ---------------------------------------------------------------------------------


def _print_plans(rows, ctx: CliContext) -> None:
    from tuibill.domain.formatting import format_day

    if ctx.json:
        print_json([row.as_dict() for row in rows])
        return
    print_table(
        ["Id", "Bénéficiaire", "Tiers-payeur", "Prest.", "Du", "Au", "Plan", "État"],
        [[r.id, r.client, r.payer, r.prestation, format_day(r.valid_from),
          format_day(r.valid_until), r.summary, r.state_label] for r in rows],
    )  # fmt: skip


def cmd_plan_list(args, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import list_plans
    from tuibill.services.payers import find_payer

    ctx.open_db()
    payer_id = find_payer(args.payer).id if args.payer else None
    _print_plans(list_plans(client_id=args.client, payer_id=payer_id), ctx)


def cmd_plan_add(args, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import create_plan, list_plans, validate_plan
    from tuibill.services.payers import defaults_of, find_payer

    ctx.open_db()
    payer = find_payer(args.payer)
    changes = _changes(args)
    current = defaults_of(payer.id).get(args.prestation.strip().upper())
    rates = _rates(args, current.rates if current else None)
    if current is not None and rates is not current.rates:
        changes["rates"] = rates
    plan = create_plan(
        args.client, payer.id, args.prestation, args.valid_from, valid_until=args.until,
        reference=args.reference or "", changes=changes,
    )  # fmt: skip
    if args.validate:
        validate_plan(plan.id)
    _print_plans([row for row in list_plans(client_id=args.client) if row.id == plan.id], ctx)


def _one_plan(plan_id: int, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import get_plan, list_plans

    plan = get_plan(plan_id)
    _print_plans([row for row in list_plans(client_id=plan.client_id) if row.id == plan_id], ctx)


def cmd_plan_validate(args, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import validate_plan

    ctx.open_db()
    validate_plan(args.id)
    _one_plan(args.id, ctx)


def cmd_plan_cancel(args, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import cancel_plan

    ctx.open_db()
    cancel_plan(args.id)
    _one_plan(args.id, ctx)


def cmd_plan_end(args, ctx: CliContext) -> None:
    from tuibill.services.aid_plans import update_plan

    ctx.open_db()
    update_plan(args.id, valid_until=args.until)
    _one_plan(args.id, ctx)
