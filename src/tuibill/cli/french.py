"""argparse speaks French: its own messages (usage, options, errors) translated in one place.

argparse looks its messages up through its module-level ``_`` and ``ngettext`` at the moment it
uses them, so replacing those two functions before any parser is built is enough. A message this
table does not know is shown as argparse wrote it (a test walks every ``--help`` and error of the
command line looking for English).
"""

from __future__ import annotations

import argparse

MESSAGES: dict[str, str] = {
    "usage: ": "utilisation : ",
    "options": "options",
    "positional arguments": "arguments",
    "show this help message and exit": "afficher cette aide et quitter",
    "show program's version number and exit": "afficher la version et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": (
        "choix invalide : %(value)r (possibles : %(choices)s)"
    ),
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "ambiguous option: %(option)s could match %(matches)s": (
        "option ambiguë : %(option)s peut désigner %(matches)s"
    ),
    "not allowed with argument %s": "impossible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "valeur %r ignorée : cette option n'en prend pas",
    "unexpected option string: %s": "option inattendue : %s",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)": (
        "commande %(parser_name)r inconnue (possibles : %(choices)s)"
    ),
}


def translate(message: str) -> str:
    return MESSAGES.get(message, message)


def translate_plural(singular: str, plural: str, count: int) -> str:
    if singular == "expected %s argument":
        return "%s valeur attendue" if count == 1 else "%s valeurs attendues"
    if singular == "conflicting option string: %s":
        return "option en conflit : %s" if count == 1 else "options en conflit : %s"
    return singular if count == 1 else plural


def install() -> None:
    """Make argparse speak French (idempotent)."""
    argparse._ = translate  # type: ignore[attr-defined]
    argparse.ngettext = translate_plural  # type: ignore[attr-defined]


# The name shown for an option's value (or a positional argument), by the option's dest.
METAVARS: dict[str, str] = {
    "practitioner": "PRATICIEN",
    "patient": "PATIENT",
    "reason": "MOTIF",
    "limit": "N",
    "number": "NUMÉRO",
    "last_name": "NOM",
    "first_name": "PRÉNOM",
    "specialty": "SPÉCIALITÉ",
    "caisse": "CAISSE",
    "state": "ÉTAT",
    "sector": "SECTEUR",
    "reader": "LECTEUR",
    "kind": "TYPE",
    "zone": "ZONE",
    "years": "ANNÉES",
    "script": "SCÉNARIO",
    "rpps": "RPPS",
    "rank": "RANG",
    "quality": "QUALITÉ",
    "pty": "LIEN",
    "prescription": "PRESCRIPTION",
    "prescriber": "PRESCRIPTEUR",
    "phone": "TÉLÉPHONE",
    "output": "FICHIER",
    "notes": "NOTES",
    "nir": "NIR",
    "next_number": "NUMÉRO",
    "mutuelle": "MUTUELLE",
    "lot": "LOT",
    "link": "LIEN",
    "invoices": "N",
    "insured": "ASSURÉ",
    "format": "FORMAT",
    "first_invoice_number": "NUMÉRO",
    "exoneration": "EXONÉRATION",
    "count": "N",
    "am_number": "NUMÉRO-AM",
    "address": "ADRESSE",
    "file": "FICHIER",
    "id": "ID",
    "ids": "ID",
    "keys": "CLÉ",
    "lots": "LOT",
    "piece": "PIÈCE",
    "search": "RECHERCHE",
    "list_name": "LISTE",
    "verb": "ACTION",
    "command": "COMMANDE",
}
