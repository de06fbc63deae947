"""``tuibill tla identify|contents|clock|erase``: look after the portable reader (TLA).

Loading and unloading invoices go through the database and live with the invoice commands;
these are the device-only actions. ``--port`` overrides ``devices.tla_url`` (``emulated``,
``emulated:FILE``, ``/dev/ttyUSB0``, ``rfc2217://host:port``, ``socket://host:port``).
"""

from __future__ import annotations

import argparse
import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from tuibill.cli.context import CliContext
from tuibill.cli.output import print_json, print_record, print_table

if TYPE_CHECKING:
    from tuibill.hardware.tla import PortableReader


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


def _open(args: argparse.Namespace, ctx: CliContext) -> PortableReader:
    from tuibill.hardware.tla import open_portable_reader

    devices = ctx.settings.devices
    if args.port:
        devices = dataclasses.replace(devices, tla_url=args.port)
    return open_portable_reader(devices)


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
    from tuibill.domain.pricing import format_cents

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
