"""``tuibill practitioner …``, ``tuibill prescription …``, ``tuibill facturer list``."""

from __future__ import annotations

import argparse

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_table


def register(subparsers, common) -> None:
    ps = subparsers.add_parser("practitioner", parents=[common], help="praticiens (PS) du cabinet")
    verbs = ps.add_subparsers(dest="verb", metavar="ACTION", required=True)
    ls = verbs.add_parser("list", parents=[common], help="les praticiens et leur numérotation")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=cmd_practitioner_list)
    create = verbs.add_parser("create", parents=[common], help="ajouter un praticien")
    create.add_argument("--last-name", required=True)
    create.add_argument("--first-name", required=True)
    create.add_argument("--am-number", required=True, help="numéro AM, 9 chiffres")
    create.add_argument("--rpps", default="")
    create.add_argument("--specialty", default="24", help="24 infirmier, 26 kiné, 28 orthophoniste")
    create.add_argument("--zone", default="01")
    create.add_argument("--first-invoice-number", type=arguments.invoice_number, help="sans : pas de numérotation")
    create.set_defaults(handler=cmd_practitioner_create)
    num = verbs.add_parser("numbering", parents=[common], help="régler le prochain numéro de facture")
    num.add_argument("practitioner", help="numéro AM ou identifiant")
    num.add_argument("--next", type=arguments.invoice_number, required=True, dest="next_number")
    num.set_defaults(handler=cmd_numbering)

    pr = subparsers.add_parser("prescription", parents=[common], help="prescriptions")
    pverbs = pr.add_subparsers(dest="verb", metavar="ACTION", required=True)
    pc = pverbs.add_parser("create", parents=[common], help="enregistrer une prescription")
    pc.add_argument("--patient", type=arguments.identifier, required=True)
    pc.add_argument("--prescriber", required=True, help="numéro du prescripteur (9 ou 11 chiffres)")
    pc.add_argument("--practitioner", required=True)
    pc.add_argument("--date", type=arguments.day, required=True, metavar="JJ/MM/AAAA")
    pc.add_argument("--act", action="append", required=True, metavar="CODE:NOMBRE[:COEF]",
                    help="ex. AMI:20:1,5 — répétable")
    pc.add_argument("--notes", default="")
    pc.add_argument("--json", action="store_true")
    pc.set_defaults(handler=cmd_prescription_create)
    pl = pverbs.add_parser("list", parents=[common], help="prescriptions d'un patient")
    pl.add_argument("--patient", type=arguments.identifier, required=True)
    pl.add_argument("--json", action="store_true")
    pl.set_defaults(handler=cmd_prescription_list)
    pe = pverbs.add_parser(
        "edit", parents=[common], help="corriger le prescripteur ou la date d'une prescription"
    )
    pe.add_argument("id", type=arguments.identifier, metavar="ID", help="la prescription")
    pe.add_argument("--prescriber", help="numéro du prescripteur (9 ou 11 chiffres)")
    pe.add_argument("--date", type=arguments.day, metavar="JJ/MM/AAAA")
    pe.add_argument("--json", action="store_true", help="sortie JSON")
    pe.set_defaults(handler=cmd_prescription_edit)

    fa = subparsers.add_parser("facturer", parents=[common], help="listes de travail de Facturer")
    fverbs = fa.add_subparsers(dest="verb", metavar="ACTION", required=True)
    fl = fverbs.add_parser("list", parents=[common], help="une liste de travail de Facturer")
    fl.add_argument(
        "list_name",
        choices=["prescriptions_praticien", "prescriptions_tous", "non_validees", "dre_non_validees", "actes_isoles", "validees"],
    )
    fl.add_argument("--practitioner")
    fl.add_argument("--patient", default="")
    fl.add_argument("--sector", default="")
    fl.add_argument("--json", action="store_true")
    fl.set_defaults(handler=cmd_facturer_list)
    ia = fverbs.add_parser("isolated-act", parents=[common], help="enregistrer un acte isolé")
    ia.add_argument("--patient", type=arguments.identifier, required=True)
    ia.add_argument("--practitioner", required=True)
    ia.add_argument("--act", required=True, metavar="ACTE", help="« JJ/MM/AAAA [HH:MM] CODE [COEF] [MAU] [IFD] [IK=km] »")
    ia.set_defaults(handler=cmd_isolated_act)


def cmd_practitioner_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services import numbering
    from tuibill.services.practice import list_practitioners

    ctx.open_db()
    rows = [(p, numbering.peek(p)) for p in list_practitioners()]
    if ctx.json:
        print_json([
            {"id": p.id, "nom": p.last_name, "prenom": p.first_name, "am": p.am_number, "rpps": p.rpps,
             "specialite": p.specialty_label, "zone": p.zone, "prochain_numero": nxt}
            for p, nxt in rows
        ])
        return 0
    print_table(["Id", "Nom", "Prénom", "AM", "Spécialité", "Prochain n°"],
                [(p.id, p.last_name, p.first_name, p.am_number, p.specialty_label,
                  nxt if nxt is not None else "non configuré") for p, nxt in rows])
    return 0


def cmd_practitioner_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.permissions import Family
    from tuibill.services.practice import create_practitioner

    ctx.open_db()
    ctx.require(Family.PRACTICE)
    p = create_practitioner(args.last_name, args.first_name, args.am_number, rpps=args.rpps,
                            specialty=args.specialty, zone=args.zone,
                            invoice_number_start=args.first_invoice_number)
    print(f"Praticien {p.id} créé : {p.display_name} ({p.am_number}).")
    return 0


def cmd_numbering(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.permissions import Family
    from tuibill.services.practice import find_practitioner, set_numbering

    ctx.open_db()
    ctx.require(Family.PRACTICE)
    p = find_practitioner(args.practitioner)
    set_numbering(p.id, args.next_number)
    print(f"Prochain numéro de facture de {p.display_name} : {args.next_number:09d}.")
    return 0


def _prescribed(spec: str):
    from tuibill.domain.errors import ValidationError
    from tuibill.domain.pricing import parse_coefficient
    from tuibill.services.prescriptions import PrescribedAct

    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        raise ValidationError(f"Acte prescrit « {spec} » invalide : CODE:NOMBRE[:COEF] attendu.")
    coef = parse_coefficient(parts[2]) if len(parts) == 3 else 100
    return PrescribedAct(parts[0].upper(), int(parts[1]), coef)


def cmd_prescription_create(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.services.patients import find_prescriber
    from tuibill.services.practice import find_practitioner
    from tuibill.services.prescriptions import create_prescription

    ctx.open_db()
    prescription = create_prescription(
        args.patient,
        find_prescriber(args.prescriber).id,
        find_practitioner(args.practitioner).id,
        args.date,
        [_prescribed(a) for a in args.act],
        notes=args.notes,
    )
    if ctx.json:
        print_json({"id": prescription.id})
    else:
        print(f"Prescription {prescription.id} créée.")
    return 0


def cmd_prescription_edit(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.cli.output import error
    from tuibill.services.patients import find_prescriber
    from tuibill.services.prescriptions import update_prescription_header

    if args.prescriber is None and args.date is None:
        error("indiquez ce qui change : --prescriber NUMÉRO et/ou --date JJ/MM/AAAA.")
        return 2  # a usage error
    ctx.open_db()
    prescriber_id = find_prescriber(args.prescriber).id if args.prescriber else None
    prescription = update_prescription_header(
        args.id, prescriber_id=prescriber_id, prescribed_on=args.date
    )
    if ctx.json:
        print_json(
            {
                "id": prescription.id,
                "date": prescription.date,
                "prescripteur": prescription.prescriber.number,
            }
        )
    else:
        print(
            f"Prescription {prescription.id} : du {prescription.date:%d/%m/%Y}, prescripteur "
            f"{prescription.prescriber.display_name} ({prescription.prescriber.number})."
        )
    return 0


def cmd_prescription_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_coefficient
    from tuibill.services.prescriptions import prescriptions_of

    ctx.open_db()
    found = prescriptions_of(args.patient)
    data = [
        {
            "id": p.id,
            "date": p.date,
            "prescripteur": p.prescriber.number,
            "actes": [
                {"code": i.code, "coefficient": format_coefficient(i.coefficient_x100),
                 "prescrits": i.count, "factures": i.billed, "restants": i.remaining}
                for i in p.items
            ],
        }
        for p in found
    ]
    if ctx.json:
        print_json(data)
        return 0
    print_table(["Id", "Date", "Prescripteur", "Actes (restants/prescrits)"],
                [(d["id"], f"{d['date']:%d/%m/%Y}", d["prescripteur"],
                  ", ".join(f"{a['code']} {a['coefficient']} {a['restants']}/{a['prescrits']}" for a in d["actes"]))
                 for d in data])
    return 0


def cmd_facturer_list(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.formatting import format_cents, format_invoice_number
    from tuibill.services import worklists
    from tuibill.services.practice import find_practitioner

    ctx.open_db()
    criteria = worklists.Criteria(
        patient=args.patient,
        practitioner_id=find_practitioner(args.practitioner).id if args.practitioner else None,
        sector=args.sector,
    )
    rows = worklists.rows_for(args.list_name, criteria)
    if ctx.json:
        print_json([r.__dict__ for r in rows])
        return 0

    def money(v):
        return "" if v is None else format_cents(v)

    def day(v):
        return "" if v is None else f"{v:%d/%m/%y}"

    print_table(
        ["Id", "CV", "N°", "Patient", "Date", "Total", "Début", "Fin", "Caisse", "Mutuelle", "Assuré", "Secteur", "Détail"],
        [(r.id, "x" if r.vitale else "", format_invoice_number(r.number), r.patient, day(r.date),
          money(r.total_cents), day(r.first), day(r.last), money(r.amo_cents), money(r.amc_cents),
          money(r.patient_cents), r.sector, r.detail) for r in rows],
    )
    return 0


def cmd_isolated_act(args: argparse.Namespace, ctx: CliContext) -> int:
    from tuibill.domain.act_notation import parse_act
    from tuibill.services import acts as act_service
    from tuibill.services.practice import find_practitioner

    ctx.open_db()
    spec = parse_act(args.act)
    act = act_service.record_isolated_act(
        args.patient, find_practitioner(args.practitioner).id, spec.act_date, spec.code,
        spec.coefficient_x100, spec.act_time.strftime("%H:%M") if spec.act_time else None,
        spec.majorations, spec.home_visit, spec.mileage_km,
    )
    print(f"Acte isolé {act.id} enregistré.")
    return 0
