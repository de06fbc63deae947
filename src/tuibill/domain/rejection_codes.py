"""The caisses' rejection codes tuibill knows by default (NOEMIE 294), with what to do.

Codes are public only as a caisse memo on the most frequent rejections (see
``/work/shared/formats/noemie-ps.md``); the seeds' motifs (prescripteur inconnu, date de
prescription erronée, date de décès postérieure) have none. So this is a *default* table: the
practice extends it (``services.rejection_motifs``); an unknown code is shown with the label the
return gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Treatment(StrEnum):
    """What the desk does with an invoice rejected for that motif (seed 000)."""

    CORRECT_PRESCRIBER = "prescripteur"  # fix the prescripteur, « Recommencer la FSE »
    CORRECT_PRESCRIPTION_DATE = "date_prescription"
    CORRECT_ACT_DATES = "dates_actes"  # date de décès: act dates before it
    CORRECT_AND_RESTART = "recommencer"  # any motif: fix what is needed, « Recommencer la FSE »
    NEVER_RESEND = "ne_pas_renvoyer"  # already paid (2900): never re-sent
    PAPER_WITH_AMC = "papier_amc"  # AMC rejection: on paper with the mutuelle, or the patient pays

    @property
    def label(self) -> str:
        return TREATMENT_LABELS[self]


TREATMENT_LABELS = {
    Treatment.CORRECT_PRESCRIBER: "Corriger le prescripteur, puis « Recommencer la FSE »",
    Treatment.CORRECT_PRESCRIPTION_DATE: (
        "Corriger la date de prescription, puis « Recommencer la FSE »"
    ),
    Treatment.CORRECT_ACT_DATES: (
        "Revalider les actes à une date antérieure au décès, puis « Recommencer la FSE »"
    ),
    Treatment.CORRECT_AND_RESTART: (
        "Faire les corrections nécessaires, puis « Recommencer la FSE » (ou avoir + nouvelle "
        "facture)"
    ),
    Treatment.NEVER_RESEND: "Ne jamais renvoyer : la caisse a déjà payé cette facture",
    Treatment.PAPER_WITH_AMC: (
        "Traiter sur papier avec la mutuelle, ou demander le règlement au patient"
    ),
}


@dataclass(frozen=True)
class RejectionCode:
    code: str  # 4 digits (the 294's code)
    label: str  # as the caisses write it (capitals, no accents: what the 294 carries)
    treatment: Treatment
    refinement: str = ""  # the 3-digit code of the level-A line that usually goes with it


DEFAULT_CODES: tuple[RejectionCode, ...] = (
    RejectionCode("0460", "ETABLISSEMENT PRESCRIPTEUR INCONNU", Treatment.CORRECT_PRESCRIBER, "053"),
    RejectionCode(
        "0470", "PRESCRIPTION INTERDITE A CETTE DATE", Treatment.CORRECT_PRESCRIPTION_DATE, "049"
    ),
    RejectionCode("2900", "FACTURE DEJA PAYEE", Treatment.NEVER_RESEND, "005"),
    RejectionCode(
        "0450", "EXONERATION ABSENTE DU FICHIER A LA DATE DES SOINS",
        Treatment.CORRECT_AND_RESTART, "072",
    ),  # fmt: skip
    RejectionCode(
        "0250", "ASSURE ABSENT DES FICHIERS DE LA CAISSE", Treatment.CORRECT_AND_RESTART, "050"
    ),
    RejectionCode(
        "0317", "NATURE D'ASSURANCE INCOMPATIBLE", Treatment.CORRECT_AND_RESTART, "051"
    ),
)
DEFAULT_BY_CODE = {item.code: item for item in DEFAULT_CODES}
