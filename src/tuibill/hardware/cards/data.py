"""Plain frozen values returned by the card readers (no I/O here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from tuibill.domain.cards import CardType


def atr_hex(atr: bytes) -> str:
    return " ".join(f"{b:02X}" for b in atr)


@dataclass(frozen=True)
class CardInfo:
    """A card present in a reader, identified by its ATR."""

    reader: str
    atr: bytes
    card_type: CardType

    @property
    def label(self) -> str:
        return self.card_type.label

    @property
    def atr_hex(self) -> str:
        return atr_hex(self.atr)


@dataclass(frozen=True)
class ReaderStatus:
    """One reader and the card in it, if any."""

    name: str
    card: CardInfo | None


@dataclass(frozen=True)
class Beneficiary:
    last_name: str
    first_name: str
    birth_date: date
    nir: str  # 15 characters, key included, checked with stdnum.fr.nir
    rank: int | None = None  # rang de naissance, when the card carries it


@dataclass(frozen=True)
class VitaleData:
    card: CardInfo
    beneficiaries: tuple[Beneficiary, ...]


@dataclass(frozen=True)
class CpsHolder:
    name: str
    ps_number: str
    specialty: str
    card_type: CardType  # CPS or CPE, as written on the card


@dataclass(frozen=True)
class Signature:
    value: bytes
    certificate_der: bytes
    algorithm: str  # "sha256WithRSAEncryption": RSA PKCS#1 v1.5 over a SHA-256 digest
