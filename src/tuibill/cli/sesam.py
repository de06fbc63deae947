"""``tuibill sesam …``: mode SESAM-Vitale (carte Vitale + CPS) and the SCOR pieces.

- ``read-patient``: the Vitale card's bénéficiaires, each looked up in the file, with the
  differences; ``--create`` / ``--update`` apply the card to the file.
- ``validate ID… --pin-stdin``: Saisie → Validée, secured with the Vitale, signed with the CPS.
- ``pending`` and ``secure ID…|--all --pin-stdin``: « FSE à sécuriser », signed with the CPS.
- ``attach ID FILE.pdf``, ``pieces ID``, ``detach PIECE``: SCOR pieces of mode-dégradé invoices.

The CPS PIN is read from standard input (``--pin-stdin``; typed without echo on a terminal),
never from the command line, where any user could read it in the process list.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_table

if TYPE_CHECKING:
    from tuibill.services.devices import CardReader
    from tuibill.services.securing import SecuringOutcome
    from tuibill.services.vitale_patients import BeneficiaryMatch

QUALITY_CODES = ("00", "01", "02", "03", "04", "05", "06", "09", "10")  # domain.patients


def register(subparsers, common) -> None:
    cards = argparse.ArgumentParser(add_help=False)
    cards.add_argument("--reader", metavar="NOM", help="lecteur de cartes (début de son nom)")
    cards.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDES",
        help="attendre l'insertion des cartes (0 : ne pas attendre)",
    )
    pin = argparse.ArgumentParser(add_help=False)
    pin.add_argument(
        "--pin-stdin",
        action="store_true",
        help="lire le code porteur de la CPS sur l'entrée standard (obligatoire)",
    )
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true")

    noun = subparsers.add_parser(
        "sesam", parents=[common], help="mode SESAM-Vitale : cartes Vitale et CPS, pièces SCOR"
    )
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    read = verbs.add_parser(
        "read-patient",
        parents=[common, cards, output],
        help="lire la carte Vitale et retrouver ses bénéficiaires dans le fichier",
    )
    read.add_argument(
        "--beneficiary", type=arguments.bounded(1, 9, "rang sur la carte"), metavar="N", help="seulement le N-ième bénéficiaire de la carte"
    )
    read.add_argument(
        "--create", action="store_true", help="créer les bénéficiaires absents du fichier"
    )
    read.add_argument(
        "--update", action="store_true", help="corriger les fiches d'après la carte (nom, date…)"
    )
    read.add_argument(
        "--organism", type=arguments.identifier, metavar="ID", help="caisse (AMO) d'un patient créé sans assuré"
    )
    read.add_argument(
        "--quality", choices=QUALITY_CODES, help="qualité d'un patient créé (défaut : déduite)"
    )
    read.set_defaults(handler=cmd_read_patient)

    validate = verbs.add_parser(
        "validate",
        parents=[common, cards, pin, output],
        help="valider en mode SESAM-Vitale : carte Vitale du patient + CPS de l'exécutant",
    )
    validate.add_argument("ids", type=arguments.identifier, nargs="+", metavar="ID")
    validate.set_defaults(handler=cmd_validate)

    pending = verbs.add_parser(
        "pending", parents=[common, output], help="« FSE à sécuriser » (semi-sécurisées par CPE)"
    )
    pending.set_defaults(handler=cmd_pending)

    secure = verbs.add_parser(
        "secure",
        parents=[common, cards, pin, output],
        help="signer des « FSE à sécuriser » avec la CPS de l'exécutant",
    )
    secure.add_argument("ids", type=arguments.identifier, nargs="*", metavar="ID")
    secure.add_argument(
        "--all", action="store_true", dest="every", help="toutes les FSE à sécuriser"
    )
    secure.set_defaults(handler=cmd_secure)

    attach = verbs.add_parser(
        "attach", parents=[common, output], help="joindre une pièce SCOR (PDF) à une facture"
    )
    attach.add_argument("id", type=arguments.identifier, metavar="ID")
    attach.add_argument("file", metavar="FICHIER.pdf")
    attach.add_argument("--kind", choices=("prescription", "feuille"), default="prescription")
    attach.set_defaults(handler=cmd_attach)

    pieces = verbs.add_parser("pieces", parents=[common, output], help="pièces SCOR d'une facture")
    pieces.add_argument("id", type=arguments.identifier, metavar="ID")
    pieces.set_defaults(handler=cmd_pieces)

    detach = verbs.add_parser(
        "detach",
        parents=[common, output],
        help="enlever une pièce SCOR (facture en saisie ou validée)",
    )
    detach.add_argument("piece", type=arguments.identifier, metavar="PIÈCE")
    detach.set_defaults(handler=cmd_detach)


# --- helpers --------------------------------------------------------------------------------


def _reader(args: argparse.Namespace, ctx: CliContext) -> CardReader:
    from tuibill.services.devices import open_card_reader

    return open_card_reader(ctx.settings.devices, args.reader)


def _wait(reader: CardReader, args: argparse.Namespace, *kinds) -> None:
    if args.wait > 0:
        reader.wait_for_card(args.wait, kinds=set(kinds))


def read_pin(args: argparse.Namespace) -> str | None:
    """The PIN from standard input (without echo on a terminal); None if not allowed."""
    if not args.pin_stdin:
        error(
            "le code porteur de la CPS se lit sur l'entrée standard : ajoutez --pin-stdin "
            "(il n'est jamais accepté dans la ligne de commande)."
        )
        return None
    if sys.stdin.isatty():
        import getpass

        text = getpass.getpass("Code porteur de la CPS : ")
    else:
        text = sys.stdin.readline()
    text = text.strip()
    if not text:
        error("aucun code porteur sur l'entrée standard.")
        return None
    return text


def _date(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _match_json(match: BeneficiaryMatch) -> dict:
    person = match.beneficiary
    return {
        "position": match.position + 1,
        "nom": person.last_name,
        "prenom": person.first_name,
        "date_naissance": person.birth_date,
        "nir": person.nir,
        "rang": person.rank,
        "statut": match.status,
        "statut_libelle": match.status_label,
        "patient_id": match.patient.id if match.patient else None,
        "differences": [
            {"champ": d.field, "libelle": d.label, "carte": d.card, "fichier": d.file}
            for d in match.differences
        ],
        "meme_nir": [p.id for p in match.same_nir],
    }


def _print_outcome(ctx: CliContext, outcome: SecuringOutcome, what: str) -> int:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.domain.invoices import InvoiceState

    if ctx.json:
        print_json(
            {
                "faites": [
                    {
                        "id": invoice.id,
                        "numero": format_invoice_number(invoice.number),
                        "etat": InvoiceState(invoice.state).label,
                        "mode": invoice.mode,
                        "signataire": invoice.signer,
                        "carte": invoice.signing_card,
                        "securisee_le": invoice.secured_at,
                    }
                    for invoice in outcome.done
                ],
                "refusees": [{"id": i, "motif": m} for i, m in outcome.refused],
            }
        )
    else:
        for invoice in outcome.done:
            print(
                f"Facture {invoice.id} (n° {format_invoice_number(invoice.number)}) : "
                f"{InvoiceState(invoice.state).label}, {what} par {invoice.signer}."
            )
    for invoice_id, message in outcome.refused:
        error(f"facture {invoice_id} : {message}")
    return 1 if outcome.refused else 0


# --- handlers -------------------------------------------------------------------------------


def cmd_read_patient(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.errors import ValidationError
    from tuibill.services import vitale_patients
    from tuibill.services.devices import CardType

    reader = _reader(args, ctx)
    _wait(reader, args, CardType.VITALE_2, CardType.VITALE_1)
    vitale = reader.read_vitale()
    ctx.open_db()
    reading = vitale_patients.CardReading(vitale, vitale_patients.match_beneficiaries(vitale))
    count = len(reading.matches)
    if args.beneficiary is not None and not 1 <= args.beneficiary <= count:
        raise ValidationError(
            f"La carte porte {count} bénéficiaire(s) : choisissez de 1 à {count}."
        )
    chosen = [args.beneficiary - 1] if args.beneficiary else list(range(count))
    created, updated = [], []
    for position in chosen:
        match = reading.matches[position]
        if args.create and match.patient is None:
            patient = vitale_patients.create_patient_from_card(
                reading, position, quality=args.quality, organism_id=args.organism
            )
            created.append(patient.id)
        elif args.update and match.differences:
            vitale_patients.update_patient_from_card(match.patient.id, match.beneficiary)
            updated.append(match.patient.id)
        else:
            continue
        # The assuré may just have been created: his dependants then inherit his caisse.
        reading = vitale_patients.CardReading(vitale, vitale_patients.match_beneficiaries(vitale))
    matches = [reading.matches[position] for position in chosen]
    if ctx.json:
        print_json(
            {
                "carte": vitale.card.label,
                "lecteur": vitale.card.reader,
                "beneficiaires": [_match_json(match) for match in matches],
                "crees": created,
                "mis_a_jour": updated,
            }
        )
        return None
    print(f"{vitale.card.label} ({vitale.card.reader})")
    print_table(
        ["N°", "Nom", "Prénom", "Naissance", "NIR", "Rang", "Fichier", "Patient"],
        [
            (
                match.position + 1,
                match.beneficiary.last_name,
                match.beneficiary.first_name,
                _date(match.beneficiary.birth_date),
                match.beneficiary.nir,
                match.beneficiary.rank or "",
                match.status_label,
                match.patient.id if match.patient else "",
            )
            for match in matches
        ],
    )
    for match in matches:
        for difference in match.differences:
            print(
                f"  {match.position + 1}. {difference.label} : carte « {difference.card} », "
                f"fichier « {difference.file} »"
            )
    for patient_id in created:
        print(f"Patient {patient_id} créé d'après la carte.")
    for patient_id in updated:
        print(f"Patient {patient_id} mis à jour d'après la carte.")
    if not args.create and any(m.patient is None for m in matches):
        print("Ajoutez --create pour créer les bénéficiaires absents du fichier.")
    return None


def cmd_validate(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import securing
    from tuibill.services.devices import CardType

    pin = read_pin(args)
    if pin is None:
        return 2
    reader = _reader(args, ctx)
    _wait(reader, args, CardType.VITALE_2, CardType.VITALE_1)
    _wait(reader, args, CardType.CPS, CardType.CPE)
    ctx.open_db()
    outcome = securing.validate_with_cards(
        args.ids,
        reader=reader,
        pin=pin,
        user=ctx.user,
        lot_codec=ctx.settings.transmission.lot_codec,
    )
    return _print_outcome(ctx, outcome, "signée")


def cmd_pending(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.formatting import format_cents, format_invoice_number
    from tuibill.services import securing

    ctx.open_db()
    invoices = securing.invoices_to_secure()
    rows = [
        {
            "id": invoice.id,
            "numero": format_invoice_number(invoice.number),
            "patient": invoice.patient.display_name,
            "praticien": invoice.practitioner.display_name,
            "numero_am": invoice.practitioner.am_number,
            "date": invoice.billing_date,
            "montant_centimes": invoice.total_cents,
            "semi_securisee_par": invoice.signer,
            "securisee_le": invoice.secured_at,
        }
        for invoice in invoices
    ]
    if ctx.json:
        print_json(rows)
        return None
    if not rows:
        print("Aucune FSE à sécuriser.")
        return None
    print_table(
        ["Id", "N°", "Patient", "Praticien", "Date", "Montant", "Semi-sécurisée par"],
        [
            (
                row["id"],
                row["numero"],
                row["patient"],
                f"{row['praticien']} ({row['numero_am']})",
                _date(row["date"]),
                format_cents(row["montant_centimes"]),
                row["semi_securisee_par"],
            )
            for row in rows
        ],
    )
    return None


def cmd_secure(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import securing
    from tuibill.services.devices import CardType

    if args.every == bool(args.ids):
        error("indiquez les factures à sécuriser, ou --all (pas les deux).")
        return 2
    pin = read_pin(args)
    if pin is None:
        return 2
    reader = _reader(args, ctx)
    _wait(reader, args, CardType.CPS, CardType.CPE)
    ctx.open_db()
    ids = [invoice.id for invoice in securing.invoices_to_secure()] if args.every else args.ids
    if not ids:
        print("Aucune FSE à sécuriser.")
        return None
    outcome = securing.secure_invoices(
        ids, reader=reader, pin=pin, user=ctx.user, lot_codec=ctx.settings.transmission.lot_codec
    )
    return _print_outcome(ctx, outcome, "sécurisée")


def _piece_json(piece) -> dict:
    return {
        "id": piece.id,
        "facture": piece.invoice_id,
        "type": piece.kind,
        "type_libelle": piece.kind_label,
        "fichier": piece.file_name,
        "taille": piece.size,
        "sha256": piece.sha256,
        "ajoutee_le": piece.added_at,
        "ajoutee_par": piece.added_by,
        "lot": piece.lot_id,
    }


def cmd_attach(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from pathlib import Path

    from tuibill.domain.errors import ValidationError
    from tuibill.services import pieces

    path = Path(args.file)
    try:
        # The size first: a huge file is refused without being read into memory.
        pieces.check_size(path.stat().st_size, path.name)
        content = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"Fichier « {args.file} » illisible : {exc.strerror}.") from None
    ctx.open_db()
    piece = pieces.attach_piece(args.id, path.name, content, kind=args.kind, user=ctx.user)
    if ctx.json:
        print_json(_piece_json(piece))
        return None
    print(
        f"Pièce {piece.id} « {piece.file_name} » ({piece.kind_label}, {piece.size} octets) "
        f"jointe à la facture {args.id}."
    )
    return None


def cmd_pieces(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import pieces

    ctx.open_db()
    found = pieces.list_pieces(args.id)
    if ctx.json:
        print_json([_piece_json(piece) for piece in found])
        return None
    if not found:
        print(f"Aucune pièce SCOR jointe à la facture {args.id}.")
        return None
    print_table(
        ["Id", "Type", "Fichier", "Octets", "Ajoutée le", "Par", "SHA-256"],
        [
            (
                piece.id,
                piece.kind_label,
                piece.file_name,
                piece.size,
                piece.added_at.strftime("%d/%m/%Y %H:%M"),
                piece.added_by,
                piece.sha256[:16] + "…",
            )
            for piece in found
        ],
    )
    return None


def cmd_detach(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import pieces

    ctx.open_db()
    piece = pieces.remove_piece(args.piece, user=ctx.user)
    if ctx.json:
        print_json(_piece_json(piece))
        return None
    print(f"Pièce {piece.id} « {piece.file_name} » enlevée de la facture {piece.invoice_id}.")
    return None
