"""``tuibill tla …``: the portable reader (TLA).

- device only: ``identify``, ``contents``, ``clock [--set]``, ``erase (KEY…|--all) --yes``;
- with the database (``services.tla_transfer``, the two-phase sequences of the protocol's §8):
  ``load [ID…]`` (« Charger dans lecteur »), ``unload`` (« Décharger »), ``unprepare ID…``
  (« Annuler préparation » of invoices that may be on the device).

``--port`` overrides ``devices.tla_url`` (``emulated``, ``emulated:FILE``, ``/dev/ttyUSB0``,
``rfc2217://host:port``, ``socket://host:port``).
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from tuibill.cli import arguments
from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_record, print_table

if TYPE_CHECKING:
    from tuibill.services.devices import PortableReader


def register(subparsers, common) -> None:
    port = argparse.ArgumentParser(add_help=False)
    port.add_argument(
        "--port",
        metavar="URL",
        help="liaison du lecteur (défaut : devices.tla_url), ex. /dev/ttyUSB0, "
        "socket://127.0.0.1:4000, emulated",
    )
    port.add_argument("--json", action="store_true")
    noun = subparsers.add_parser("tla", parents=[common], help="lecteur portable (TLA)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    identify = verbs.add_parser(
        "identify", parents=[common, port], help="modèle, numéro de série, capacité, contenu"
    )
    identify.set_defaults(handler=cmd_identify)

    contents = verbs.add_parser(
        "contents", parents=[common, port], help="factures stockées dans le lecteur"
    )
    contents.set_defaults(handler=cmd_contents)

    clock = verbs.add_parser("clock", parents=[common, port], help="horloge du lecteur")
    clock.add_argument(
        "--set", action="store_true", dest="set_clock", help="mettre le lecteur à l'heure du poste"
    )
    clock.set_defaults(handler=cmd_clock)

    erase = verbs.add_parser(
        "erase",
        parents=[common, port],
        help="effacer des factures du lecteur (perdues si elles n'ont pas été déchargées)",
    )
    erase.add_argument("keys", nargs="*", metavar="CLÉ", help="clé « numéro AM-numéro de facture »")
    erase.add_argument("--all", action="store_true", dest="erase_all", help="tout effacer")
    erase.add_argument("--yes", action="store_true", help="confirmer l'effacement")
    erase.set_defaults(handler=cmd_erase)

    load = verbs.add_parser(
        "load",
        parents=[common, port],
        help="« Charger dans lecteur » : les factures « À charger » (toutes, ou ces ID)",
    )
    load.add_argument("ids", type=arguments.identifier, nargs="*", metavar="ID")
    load.add_argument("--practitioner", metavar="AM", help="seulement les factures de ce praticien")
    load.set_defaults(handler=cmd_load)

    unload = verbs.add_parser(
        "unload",
        parents=[common, port],
        help="« Décharger » : reprendre les factures sécurisées, puis les effacer du lecteur",
    )
    unload.set_defaults(handler=cmd_unload)

    unprepare = verbs.add_parser(
        "unprepare",
        parents=[common, port],
        help="« Annuler préparation » : effacer du lecteur, puis remettre en saisie",
    )
    unprepare.add_argument("ids", type=arguments.identifier, nargs="+", metavar="ID")
    unprepare.set_defaults(handler=cmd_unprepare)


def _open(args: argparse.Namespace, ctx: CliContext) -> PortableReader:
    from tuibill.services.devices import open_portable_reader

    devices = ctx.settings.devices
    if args.port:
        devices = dataclasses.replace(devices, tla_url=args.port)
    return open_portable_reader(devices, database_url=ctx.database_url)


def _time(value: datetime) -> str:
    return value.strftime("%d/%m/%Y %H:%M:%S")


def cmd_identify(args: argparse.Namespace, ctx: CliContext) -> int | None:
    with _open(args, ctx) as reader:
        identity = reader.identify()
    if ctx.json:
        print_json(
            {
                "modele": identity.model,
                "numero_serie": identity.serial,
                "micrologiciel": identity.firmware,
                "version_protocole": identity.protocol_version,
                "versions_lecteur": list(identity.protocol_versions),
                "capacite": identity.capacity,
                "factures_stockees": identity.stored,
                "places_libres": identity.free,
            }
        )
        return None
    print_record(
        [
            ("Modèle", identity.model),
            ("Numéro de série", identity.serial),
            ("Micrologiciel", identity.firmware),
            ("Protocole", f"version {identity.protocol_version}"),
            ("Capacité", f"{identity.capacity} factures"),
            ("Stockées", identity.stored),
            ("Places libres", identity.free),
        ]
    )
    return None


def cmd_contents(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.formatting import format_cents

    with _open(args, ctx) as reader:
        invoices = reader.contents()
    if ctx.json:
        print_json(
            [
                {
                    "cle": invoice.key,
                    "numero": invoice.number,
                    "etat": invoice.state.value,
                    "etat_libelle": invoice.state.label,
                    "patient": invoice.patient,
                    "montant_centimes": invoice.amount_cents,
                    "chargee_le": invoice.loaded_at,
                }
                for invoice in invoices
            ]
        )
        return None
    if not invoices:
        print("Aucune facture dans le lecteur portable.")
        return None
    print_table(
        ["Clé", "N° facture", "État", "Patient", "Montant", "Chargée le"],
        [
            (
                invoice.key,
                invoice.number,
                invoice.state.label,
                invoice.patient,
                format_cents(invoice.amount_cents),
                _time(invoice.loaded_at),
            )
            for invoice in invoices
        ],
    )
    return None


def cmd_clock(args: argparse.Namespace, ctx: CliContext) -> int | None:
    with _open(args, ctx) as reader:
        device = reader.set_clock() if args.set_clock else reader.get_clock()
    desk = datetime.now().replace(microsecond=0)
    drift = round((device - desk).total_seconds())
    if ctx.json:
        print_json({"lecteur": device, "poste": desk, "ecart_secondes": drift})
        return None
    print_record(
        [
            ("Horloge du lecteur", _time(device)),
            ("Horloge du poste", _time(desk)),
            ("Écart", f"{drift:+d} s"),
        ]
    )
    return None


def cmd_erase(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.errors import RefusedOperation, ValidationError

    if args.erase_all == bool(args.keys):
        raise ValidationError("Indiquez les clés des factures à effacer, ou --all (pas les deux).")
    if not args.yes:
        raise RefusedOperation(
            "Effacement non confirmé : les factures effacées du lecteur portable sans avoir été "
            "déchargées sont perdues. Ajoutez --yes pour confirmer."
        )
    with _open(args, ctx) as reader:
        if args.erase_all:
            count = reader.erase_all()
            erased, absent = None, []
        else:
            erased = reader.erase(args.keys)
            count = len(erased)
            absent = [key for key in dict.fromkeys(args.keys) if key not in erased]
    if ctx.json:
        print_json({"effacees": count, "cles": erased, "absentes": absent})
        return None
    print(f"{count} facture(s) effacée(s) du lecteur portable.")
    if absent:
        print(f"Absentes du lecteur : {', '.join(absent)}.")
    return None


def cmd_load(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import practice, tla_transfer

    ctx.open_db()
    practitioner_id = (
        practice.find_practitioner(args.practitioner).id if args.practitioner else None
    )
    with _open(args, ctx) as reader:
        outcome = tla_transfer.load_prepared(
            reader,
            ctx.user,
            invoice_ids=args.ids or None,
            practitioner_id=practitioner_id,
            lot_codec=ctx.settings.transmission.lot_codec,
        )
    if ctx.json:
        print_json(
            {
                "chargees": outcome.loaded,
                "deja_chargees": outcome.already,
                "refusees": [{"id": i, "motif": m} for i, m in outcome.refused],
                "non_enregistrees": [{"cle": k, "motif": m} for k, m in outcome.not_recorded],
            }
        )
    else:
        if not (outcome.loaded or outcome.already or outcome.refused):
            print("Aucune facture « À charger ».")
        if outcome.loaded:
            print(f"{len(outcome.loaded)} facture(s) chargée(s) dans le lecteur portable.")
        if outcome.already:
            print(f"{len(outcome.already)} facture(s) déjà chargée(s).")
    for invoice_id, message in outcome.refused:
        error(f"facture {invoice_id} : {message}")
    for key, message in outcome.not_recorded:
        error(f"{key} : {message}")
    return 1 if outcome.refused or outcome.not_recorded else None


def cmd_unload(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services import tla_transfer

    ctx.open_db()
    with _open(args, ctx) as reader:
        outcome = tla_transfer.unload(
            reader, ctx.user, lot_codec=ctx.settings.transmission.lot_codec
        )
    if ctx.json:
        print_json(
            {
                "validees": outcome.validated,
                "a_securiser": outcome.to_secure,
                "deja_dechargees": outcome.already,
                "non_securisees": outcome.not_secured,
                "laissees": [{"cle": k, "motif": m} for k, m in outcome.rejected],
                "remarques": [{"cle": k, "motif": m} for k, m in outcome.notes],
                "effacees": outcome.erased,
                "erreur_effacement": outcome.erase_error,
            }
        )
    else:
        lines = [
            (outcome.validated, "sécurisée(s) par CPS → « Validée »"),
            (outcome.to_secure, "à finir avec la CPS de l'exécutant → « À sécuriser »"),
            (outcome.already, "déjà déchargée(s) par un essai précédent"),
            (outcome.not_secured, "pas encore sécurisée(s) : restent dans le lecteur"),
        ]
        for keys, text in lines:
            if keys:
                print(f"{len(keys)} facture(s) {text}.")
        if outcome.erased:
            print(f"{len(outcome.erased)} facture(s) effacée(s) du lecteur portable.")
        if not any(keys for keys, _ in lines) and not outcome.rejected:
            print("Aucune facture dans le lecteur portable.")
        for key, message in outcome.notes:
            print(f"{key} : {message}")
    for key, message in outcome.rejected:
        error(f"{key} : {message}")
    if outcome.erase_error:
        error(outcome.erase_error)
    return 1 if outcome.rejected or outcome.erase_error else None


def cmd_unprepare(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services import tla_transfer

    ctx.open_db()
    with _open(args, ctx) as reader:
        outcome = tla_transfer.cancel_preparation_on_device(reader, args.ids, ctx.user)
    if ctx.json:
        print_json(
            {
                "faites": [
                    {"id": i.id, "numero": format_invoice_number(i.number)} for i in outcome.done
                ],
                "refusees": [{"id": i, "motif": m} for i, m in outcome.refused],
            }
        )
    else:
        for invoice in outcome.done:
            print(
                f"Facture {invoice.id} (n° {format_invoice_number(invoice.number)}) : "
                "préparation annulée, en saisie."
            )
    for invoice_id, message in outcome.refused:
        error(f"facture {invoice_id} : {message}")
    return 1 if outcome.refused else None
