"""The kinds of smart card tuibill meets: the patient's Vitale, the professional's CPS or CPE.

One enum for every layer that names a card: the card readers (which card is in the slot), the
portable reader (which card secured an invoice at the patient's home) and the lot file (which
card signed an FSE). Each spells it its own way on the wire (the TLA protocol and the lot file
write « CPS » / « CPE »); the values here are those ``tuibill card --json`` prints.
"""

from __future__ import annotations

from enum import StrEnum


class CardType(StrEnum):
    VITALE_1 = "vitale1"
    VITALE_2 = "vitale2"
    CPS = "cps"  # the practitioner's own card: it secures (signs) an FSE
    CPE = "cpe"  # a staff card: it only semi-secures; the practitioner's CPS signs later
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _LABELS[self]

    @property
    def is_vitale(self) -> bool:
        return self in (CardType.VITALE_1, CardType.VITALE_2)

    @property
    def is_professional(self) -> bool:
        """CPS or CPE: the cards that sign."""
        return self in (CardType.CPS, CardType.CPE)


_LABELS = {
    CardType.VITALE_1: "Carte Vitale 1",
    CardType.VITALE_2: "Carte Vitale 2",
    CardType.CPS: "Carte CPS",
    CardType.CPE: "Carte CPE",
    CardType.UNKNOWN: "Carte inconnue",
}

# The professional cards, as the lot file and the TLA protocol spell them.
PROFESSIONAL_CARDS: dict[str, CardType] = {"CPS": CardType.CPS, "CPE": CardType.CPE}
