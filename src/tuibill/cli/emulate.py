"""``tuibill emulate tla``: a portable reader (TLA) emulator on a pseudo-terminal or a TCP port.

``tuibill emulate tla [--pty | --tcp PORT]`` serves until Ctrl+C; ``tuibill emulate tla secure``
does on the emulated device what is done at the patient's home: secure stored invoices with a
CPS (secured) or a CPE (semi-secured). The card is the demo CPS or CPE (``--signer`` and
``--ps-number`` change its holder); it signs each invoice's signing payload (protocol version 2).
Both work on the device's memory file (``--state``; by default the emulated reader of the database,
beside its SQLite file: ``services.devices.emulated_tla_state``), so they can run at the same time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json

if TYPE_CHECKING:
    from pathlib import Path

    from tuibill.hardware.tla.emulator_server import Misbehaviour


def _non_negative(kind: type) -> Callable[[str], int | float]:
    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"nombre attendu, pas « {text} »") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"valeur positive attendue, pas « {text} »")
        return value

    return convert


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("emulate", parents=[common], help="émulateurs de périphériques")
    devices = noun.add_subparsers(dest="device", metavar="PÉRIPHÉRIQUE", required=True)

    tla = devices.add_parser(
        "tla",
        parents=[common],
        help="lecteur portable (TLA) émulé, jusqu'à Ctrl+C",
        description="Lance un lecteur portable émulé sur un pseudo-terminal (par défaut) ou un "
        "port TCP de 127.0.0.1, jusqu'à Ctrl+C. « tuibill emulate tla secure … » sécurise des "
        "factures stockées, comme chez le patient.",
    )
    where = tla.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="sur un nouveau pseudo-terminal (défaut)")
    where.add_argument(
        "--tcp", type=_non_negative(int), metavar="PORT", help="sur ce port TCP (0 : un port libre)"
    )
    tla.add_argument("--link", metavar="CHEMIN", help="--pty : lien symbolique stable vers le pty")
    tla.add_argument("--state", metavar="FICHIER", help="mémoire du lecteur (fichier JSON)")
    tla.add_argument(
        "--capacity", type=_non_negative(int), metavar="N", help="capacité en factures"
    )
    faults = tla.add_argument_group("pannes simulées")
    faults.add_argument("--silent", action="store_true", help="ne répond jamais")
    faults.add_argument(
        "--garbage", action="store_true", help="envoie du bruit avant chaque réponse"
    )
    faults.add_argument(
        "--slow",
        type=_non_negative(float),
        default=0.0,
        metavar="SECONDES",
        help="délai avant chaque réponse",
    )
    faults.add_argument(
        "--hangup-after",
        type=_non_negative(int),
        metavar="N",
        help="après N réponses, coupe la suivante en deux et raccroche (une fois)",
    )
    faults.add_argument(
        "--corrupt-crc-once", action="store_true", help="somme de contrôle fausse une fois"
    )
    faults.add_argument(
        "--drop",
        type=_non_negative(int),
        default=0,
        metavar="N",
        help="exécute les N prochaines requêtes sans répondre",
    )
    visit = tla.add_argument_group("visite chez le patient")
    visit.add_argument(
        "--secure",
        action="append",
        default=[],
        metavar="CLÉ",
        help="sécuriser cette facture dès son chargement (répétable)",
    )
    visit.add_argument(
        "--secure-all", action="store_true", help="sécuriser chaque facture dès son chargement"
    )
    visit.add_argument("--cpe", action="store_true", help="avec une CPE : semi-sécurisée")
    visit.add_argument(
        "--signer", metavar="NOM", help="porteur de la carte (défaut : carte de démonstration)"
    )
    visit.add_argument(
        "--ps-number", metavar="N°", help="n° de PS de la carte (défaut : 281234567)"
    )
    tla.add_argument(
        "--protocol-v1",
        action="store_true",
        help="lecteur ancien : protocole version 1 seulement (aucune signature renvoyée)",
    )
    tla.set_defaults(handler=cmd_serve)

    actions = tla.add_subparsers(dest="tla_action", metavar="ACTION")
    secure = actions.add_parser(
        "secure",
        parents=[common],
        help="sécuriser des factures stockées, comme chez le patient",
    )
    # Own dest names: the parent parser's options of the same spelling must not be reset.
    secure.add_argument(
        "--state", dest="secure_state", metavar="FICHIER", help="mémoire du lecteur"
    )
    chosen = secure.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--key",
        dest="secure_keys",
        action="extend",  # « --key K1 K2 » as the docs write it, and « --key K1 --key K2 »
        nargs="+",
        default=[],
        metavar="CLÉ",
        help="clé(s) des factures (répétable)",
    )
    chosen.add_argument(
        "--all", dest="secure_every", action="store_true", help="toutes celles qui peuvent l'être"
    )
    secure.add_argument(
        "--cpe", dest="secure_cpe", action="store_true", help="avec une CPE : semi-sécurisée"
    )
    secure.add_argument(
        "--signer",
        dest="secure_signer",
        metavar="NOM",
        help="porteur de la carte (défaut : carte de démonstration)",
    )
    secure.add_argument(
        "--ps-number",
        dest="secure_ps_number",
        metavar="N°",
        help="n° de PS de la carte (défaut : 281234567)",
    )
    secure.add_argument("--json", action="store_true")
    secure.set_defaults(handler=cmd_secure)


def _state_file(path: str | None, ctx: CliContext) -> Path:
    """--state, else the emulated reader of the database (--db or the configured one)."""
    from pathlib import Path

    from tuibill.services.devices import emulated_tla_state

    return Path(path).expanduser() if path else emulated_tla_state(ctx.database_url)


def cmd_serve(args: argparse.Namespace, ctx: CliContext) -> int | None:
    import signal

    from tuibill.hardware.tla.emulator import TlaDevice
    from tuibill.hardware.tla.emulator_server import Misbehaviour, PtyLine, TcpLine, TlaEmulator
    from tuibill.hardware.tla.protocol import PROTOCOL_VERSIONS, CardType

    if args.link and args.tcp is not None:
        error("--link ne s'emploie qu'avec --pty.")
        return 2
    card = CardType.CPE if args.cpe else CardType.CPS
    state = _state_file(args.state, ctx)
    device = TlaDevice(
        state,
        capacity=args.capacity,
        auto_secure=args.secure,
        auto_secure_all=args.secure_all,
        auto_card=card,
        auto_signer=args.signer,
        auto_ps_number=args.ps_number,
        versions=(1,) if args.protocol_v1 else PROTOCOL_VERSIONS,
    )
    faults = Misbehaviour(
        silent=args.silent,
        garbage=args.garbage,
        slow=args.slow,
        hangup_after=args.hangup_after,
        corrupt_crc_once=args.corrupt_crc_once,
        drop=args.drop,
    )
    emulator = TlaEmulator(device, faults)

    def announce(where: str) -> None:
        print(f"Lecteur portable émulé : {where}", flush=True)
        print(f"  essai : tuibill tla identify --port {where}", flush=True)

    # A service manager's SIGTERM stops it as cleanly as Ctrl+C (the pty link is removed).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    print(f"Mémoire : {state}", flush=True)
    active = [name for name, on in _fault_names(faults) if on]
    if active:
        print(f"Pannes simulées : {', '.join(active)}", flush=True)
    if args.tcp is not None:
        try:
            line = TcpLine(emulator, args.tcp)
        except OSError as exc:
            error(f"port TCP {args.tcp} indisponible ({exc}).")
            return 1
        announce(line.url)
    else:
        line = PtyLine(emulator, reopen=True, link=args.link, on_port=announce)
    print("Ctrl+C pour arrêter.", flush=True)
    try:
        while not line.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        line.stop()
    if line.error is not None:
        error(f"l'émulateur s'est arrêté sur une erreur : {line.error}")
        return 1
    print("Émulateur arrêté.", flush=True)
    return None


def _fault_names(faults: Misbehaviour) -> list[tuple[str, bool]]:
    return [
        ("silencieux", faults.silent),
        ("bruit", faults.garbage),
        (f"lent ({faults.slow:g} s)", faults.slow > 0),
        (f"raccroche après {faults.hangup_after} réponse(s)", faults.hangup_after is not None),
        ("somme de contrôle fausse une fois", faults.corrupt_crc_once),
        (f"{faults.drop} réponse(s) perdue(s)", faults.drop > 0),
    ]


def cmd_secure(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.errors import NotFound
    from tuibill.hardware.tla.emulator import TlaDevice
    from tuibill.hardware.tla.protocol import CardType, securing_state

    card = CardType.CPE if args.secure_cpe else CardType.CPS
    state = _state_file(args.secure_state or args.state, ctx)
    if not state.exists():  # do not create an empty device for a mistyped path
        raise NotFound(
            f"Mémoire du lecteur émulé introuvable : {state}. Chargez-y d'abord des factures."
        )
    device = TlaDevice(state)
    keys = device.secure(
        None if args.secure_every else args.secure_keys,
        card,
        args.secure_signer,
        args.secure_ps_number,
    )
    stored = {invoice.key: invoice for invoice in device.stored()}
    signed = [key for key in keys if (s := stored[key].securing) and s.signature is not None]
    if ctx.json:
        print_json(
            {
                "cles": keys,
                "carte": card.value.upper(),
                "etat": securing_state(card).value,
                "signees": signed,
            }
        )
        return None
    if not keys:
        print("Aucune facture à sécuriser dans le lecteur portable.")
        return None
    holder = stored[keys[0]].securing
    who = f" de {holder.signer} (n° {holder.ps_number})" if holder else ""
    print(
        f"{len(keys)} facture(s) {securing_state(card).label.lower()}(s) avec la "
        f"{card.value.upper()}{who} : "
        f"{', '.join(keys)}."
    )
    if len(signed) < len(keys):
        print(
            f"{len(keys) - len(signed)} sans signature (chargée(s) sans contenu à signer, ou "
            "lecteur en protocole version 1)."
        )
    return None
