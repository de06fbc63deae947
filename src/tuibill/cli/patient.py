"""``tuibill patient …`` and ``tuibill prescriber …`` (« Données › Prescripteurs »)."""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_record, print_table


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("patient", parents=[common], help="patients (assurés et bénéficiaires)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    ls = verbs.add_parser("list", parents=[common], help="chercher par début de nom ou de NIR")
    ls.add_argument("search", nargs="?", default="")
    ls.add_argument("--limit", type=arguments.bounded(1, 1_000_000), default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_list)

    show = verbs.add_parser("show", parents=[common], help="un patient et ses factures")
    show.add_argument("id", type=arguments.identifier)
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=cmd_show)

    for name, handler, text in (("create", cmd_create, "créer un patient"), ("edit", cmd_edit, "modifier un patient")):
        verb = verbs.add_parser(name, parents=[common], help=text)
        if name == "edit":
            verb.add_argument("id", type=arguments.identifier)
        required = name == "create"
        verb.add_argument("--last-name", required=required)
        verb.add_argument("--first-name", required=required)
        verb.add_argument("--birth-date", type=arguments.day, required=required, metavar="JJ/MM/AAAA")
        verb.add_argument("--nir", required=required, help="15 caractères, clé comprise")
        verb.add_argument("--rank", type=arguments.bounded(1, 9, "rang de naissance"))
        verb.add_argument("--quality", help="00 assuré, 02 conjoint, 06 enfant…")
        verb.add_argument("--insured", type=arguments.identifier, help="identifiant de l'assuré (ayant droit)")
        verb.add_argument("--death-date", type=arguments.day, metavar="JJ/MM/AAAA")
        verb.add_argument("--caisse", type=arguments.identifier, help="identifiant de la caisse AMO")
        verb.add_argument("--mutuelle", type=arguments.identifier, help="identifiant de la mutuelle AMC")
        verb.add_argument("--ald", action=argparse.BooleanOptionalAction)
        verb.add_argument("--maternity", action=argparse.BooleanOptionalAction)
        verb.add_argument("--amc-tiers-payant", action=argparse.BooleanOptionalAction)
        verb.add_argument("--exoneration")
        verb.add_argument("--sector")
        verb.add_argument("--address")
        verb.add_argument("--phone")
        verb.add_argument("--json", action="store_true")
        verb.set_defaults(handler=handler)

    pr = subparsers.add_parser("prescriber", parents=[common], help="prescripteurs (Données › Prescripteurs)")
    pverbs = pr.add_subparsers(dest="verb", metavar="ACTION", required=True)
    pls = pverbs.add_parser("list", parents=[common])
    pls.add_argument("search", nargs="?", default="")
    pls.add_argument("--json", action="store_true")
    pls.set_defaults(handler=cmd_prescriber_list)
    pcreate = pverbs.add_parser("create", parents=[common])
    pcreate.add_argument("--number", required=True, help="9 chiffres (AM) ou 11 (RPPS)")
    pcreate.add_argument("--last-name", required=True)
    pcreate.add_argument("--first-name", default="")
    pcreate.add_argument("--specialty", default="Médecine générale")
    pcreate.set_defaults(handler=cmd_prescriber_create)
    pedit = pverbs.add_parser("edit", parents=[common])
    pedit.add_argument("id", type=arguments.identifier)
    pedit.add_argument("--number", required=True)
    pedit.add_argument("--last-name", required=True)
    pedit.add_argument("--first-name", default="")
    pedit.add_argument("--specialty", default="")
    pedit.set_defaults(handler=cmd_prescriber_edit)


def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import patient_record, search_patients

    ctx.open_db()
    found = search_patients(args.search, limit=args.limit)
    if ctx.json:
        print_json([patient_record(p) for p in found])
        return 0
    print_table(
        ["Id", "Nom", "Prénom", "Naissance", "NIR", "Caisse", "Secteur"],
        [
            (p.id, p.last_name, p.first_name, f"{p.birth_date:%d/%m/%Y}", p.nir,
             p.organism.name if p.organism_id else "", p.sector)
            for p in found
        ],
    )
    return 0


def cmd_show(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import get_patient, patient_invoices, patient_record

    ctx.open_db()
    patient = get_patient(args.id)
    record = patient_record(patient)
    invoices = patient_invoices(patient.id)
    if ctx.json:
        record["factures"] = [row.as_dict() for row in invoices]
        print_json(record)
        return 0
    print_record([(key.capitalize(), value) for key, value in record.items()])
    print()
    from tuibill.domain.formatting import format_cents

    print_table(
        ["Numéro", "TP", "Etat", "Date", "Montant", "Acte du", "au", "Caisse", "Mutuelle", "Patient", "Exécutant"],
        [
            (r.number_text, r.tiers_payant, r.state_label, f"{r.billing_date:%d/%m/%Y}",
             format_cents(r.total_cents), f"{r.first_act:%d/%m/%Y}", f"{r.last_act:%d/%m/%Y}",
             format_cents(r.amo_cents), format_cents(r.amc_cents), format_cents(r.patient_cents),
             r.practitioner)
            for r in invoices
        ],
    )
    return 0


def _input_from_args(args: argparse.Namespace, base=None):
    from tuibill.services.patients import PatientInput

    values = dict(base.__dict__) if base is not None else {}
    mapping = {
        "last_name": args.last_name,
        "first_name": args.first_name,
        "birth_date": args.birth_date,
        "nir": args.nir,
        "rank": args.rank,
        "quality": args.quality,
        "insured_id": args.insured,
        "death_date": args.death_date,
        "organism_id": args.caisse,
        "mutuelle_id": args.mutuelle,
        "ald": args.ald,
        "maternity": args.maternity,
        "amc_tiers_payant": args.amc_tiers_payant,
        "exoneration": args.exoneration,
        "sector": args.sector,
        "address": args.address,
        "phone": args.phone,
    }
    for key, value in mapping.items():
        if value is not None:
            values[key] = value
    if values.get("insured_id") and "quality" not in values:
        values["quality"] = "06"
    return PatientInput(**values)


def cmd_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import create_patient, patient_record

    ctx.open_db()
    patient = create_patient(_input_from_args(args))
    if ctx.json:
        print_json(patient_record(patient))
    else:
        print(f"Patient {patient.id} créé : {patient.display_name}.")
    return 0


def cmd_edit(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import get_patient, patient_input, patient_record, update_patient

    ctx.open_db()
    current = patient_input(get_patient(args.id))
    patient = update_patient(args.id, _input_from_args(args, current))
    if ctx.json:
        print_json(patient_record(patient))
    else:
        print(f"Patient {patient.id} modifié : {patient.display_name}.")
    return 0


def cmd_prescriber_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import list_prescribers

    ctx.open_db()
    found = list_prescribers(args.search)
    if ctx.json:
        print_json([
            {"id": p.id, "numero": p.number, "nom": p.last_name, "prenom": p.first_name, "specialite": p.specialty}
            for p in found
        ])
        return 0
    print_table(["Id", "Numéro", "Nom", "Prénom", "Spécialité"],
                [(p.id, p.number, p.last_name, p.first_name, p.specialty) for p in found])
    return 0


def cmd_prescriber_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import create_prescriber

    ctx.open_db()
    p = create_prescriber(args.number, args.last_name, args.first_name, args.specialty)
    print(f"Prescripteur {p.id} créé : {p.display_name} ({p.number}).")
    return 0


def cmd_prescriber_edit(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import update_prescriber

    ctx.open_db()
    p = update_prescriber(args.id, args.number, args.last_name, args.first_name, args.specialty)
    print(f"Prescripteur {p.id} modifié : {p.display_name} ({p.number}).")
    return 0
