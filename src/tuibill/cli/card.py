"""``tuibill card status`` and ``tuibill card read``: the smart-card readers and their cards."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from tuibill.cli.context import CliContext
from tuibill.cli.output import error, print_json, print_record, print_table

if TYPE_CHECKING:
    from tuibill.services.devices import CardInfo, CardReader, CpsHolder, VitaleData


def register(subparsers, common) -> None:
    noun = subparsers.add_parser("card", parents=[common], help="lecteurs de cartes (Vitale, CPS)")
    verbs = noun.add_subparsers(dest="verb", metavar="ACTION", required=True)

    status = verbs.add_parser(
        "status", parents=[common], help="lecteurs, carte présente et son type"
    )
    status.add_argument("--json", action="store_true")
    status.set_defaults(handler=card_status)

    read = verbs.add_parser(
        "read",
        parents=[common],
        help="lire la carte : bénéficiaires d'une carte Vitale, porteur d'une CPS/CPE",
    )
    read.add_argument("--reader", metavar="NOM", help="lecteur (début de son nom)")
    read.add_argument(
        "--cps",
        action="store_true",
        help="lire la CPS/CPE (par défaut : la carte Vitale quand il y en a une)",
    )
    read.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDES",
        help="attendre l'insertion d'une carte (0 : ne pas attendre)",
    )
    read.add_argument("--json", action="store_true")
    read.set_defaults(handler=card_read)


def _open(ctx: CliContext, reader_name: str | None = None) -> CardReader:
    from tuibill.services.devices import open_card_reader

    return open_card_reader(ctx.settings.devices, reader_name)


def card_status(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.services.devices import CardError

    try:
        reader = _open(ctx)
        statuses = reader.reader_status()
    except CardError as exc:
        error(str(exc))
        return 1
    if ctx.json:
        print_json(
            {
                "backend": reader.backend,
                "reader_name": reader.reader_name,
                "readers": [
                    {
                        "name": status.name,
                        "selected": reader.matches(status.name),
                        "card_present": status.card is not None,
                        "card_type": status.card.card_type.value if status.card else None,
                        "card_label": status.card.label if status.card else None,
                        "atr": status.card.atr_hex if status.card else None,
                    }
                    for status in statuses
                ],
            }
        )
    elif statuses:
        print_table(
            ["Lecteur", "Carte", "ATR"],
            [
                (
                    status.name,
                    status.card.label if status.card else "aucune carte",
                    status.card.atr_hex if status.card else "",
                )
                for status in statuses
            ],
        )
    if not statuses:
        error("Aucun lecteur de cartes détecté : branchez le lecteur.")
        return 1
    if not any(reader.matches(status.name) for status in statuses):
        error(f"Aucun lecteur dont le nom commence par « {reader.reader_name} ».")
        return 1
    return None


def card_read(args: argparse.Namespace, ctx: CliContext) -> int | None:
    from tuibill.domain.cards import PROFESSIONAL_CARDS
    from tuibill.services.devices import CardError, CpsHolder

    try:
        reader = _open(ctx, args.reader)
        if args.wait > 0:
            reader.wait_for_card(args.wait)
        if args.cps:
            content = reader.read_cps_holder()
            card = next(c for c in reader.cards() if c.card_type in PROFESSIONAL_CARDS.values())
        else:
            card = reader.preferred_card()  # read() reads this same card: a Vitale first
            content = reader.read()
        if isinstance(content, CpsHolder):
            # Readable without the PIN: the certificate and the PIN counter (no try spent).
            certificate = reader.read_certificate()
            tries = reader.pin_tries_left()
            _print_cps(ctx, content, certificate, tries, card)
        else:
            _print_vitale(ctx, content)
    except CardError as exc:
        error(str(exc))
        return 1
    return None


def _print_vitale(ctx: CliContext, content: VitaleData) -> None:
    card = content.card
    if ctx.json:
        print_json(
            {
                "reader": card.reader,
                "card_type": card.card_type.value,
                "card_label": card.label,
                "atr": card.atr_hex,
                "beneficiaries": [
                    {
                        "last_name": person.last_name,
                        "first_name": person.first_name,
                        "birth_date": person.birth_date,
                        "nir": person.nir,
                        "rank": person.rank,
                    }
                    for person in content.beneficiaries
                ],
            }
        )
        return
    print_record([("Carte", card.label), ("Lecteur", card.reader)])
    print()
    print_table(
        ["N°", "Nom", "Prénom", "Naissance", "NIR", "Rang"],
        [
            (
                index,
                person.last_name,
                person.first_name,
                person.birth_date.strftime("%d/%m/%Y"),
                person.nir,
                person.rank,
            )
            for index, person in enumerate(content.beneficiaries, start=1)
        ],
    )


def _print_cps(
    ctx: CliContext, holder: CpsHolder, certificate: bytes, tries: int, card: CardInfo
) -> None:
    from tuibill.services.devices import certificate_summary

    summary = certificate_summary(certificate)
    if ctx.json:
        print_json(
            {
                "reader": card.reader,
                "card_type": holder.card_type.value,
                "card_label": holder.card_type.label,
                "atr": card.atr_hex,
                "holder": {
                    "name": holder.name,
                    "ps_number": holder.ps_number,
                    "specialty": holder.specialty,
                    "card_type": holder.card_type.value,
                },
                "pin_tries_left": tries,
                "certificate": summary,
            }
        )
        return
    print_record(
        [
            ("Carte", holder.card_type.label),
            ("Lecteur", card.reader),
            ("Porteur", holder.name),
            ("N° de professionnel", holder.ps_number),
            ("Spécialité", holder.specialty),
            ("Essais du code porteur", tries),
            ("Certificat", summary["subject"]),
            ("Valide jusqu'au", summary["not_after"]),
        ]
    )
