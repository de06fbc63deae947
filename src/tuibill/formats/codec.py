"""The contract of the teletransmission files: what a lot and an ARL hold, and the codec shape.

Everything the rest of tuibill needs to build, sign, send and read a lot or an ARL is here; how
the bytes look is the codec's business. tuibill ships its own codecs (``tuibill.formats.lot_file``,
``tuibill.formats.arl``, specified in ``docs/formats/``): B2 and the ARL layouts of the caisses
are not public, certified software builds them through the official SESAM-Vitale library.

A certified backend is any object with the :class:`LotFileCodec` (or :class:`ArlCodec`) shape
that maps these same dataclasses to the certified bytes; the registry of ``tuibill.formats``
finds it by the name the ``[transmission] lot_codec`` setting gives. This module imports no
codec: a codec imports it.

Pure: no database, no network, no files; the caller passes the times.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from tuibill.domain.cards import CardType

# --- lot file content -----------------------------------------------------------------------


class FseMode(StrEnum):
    """How the FSE was made; the values are those of ``Invoice.mode``."""

    SESAM_VITALE = "sesam_vitale"
    DEGRADE = "degrade"


SIGNATURE_NONE = "AUCUNE"
SIGNATURE_ALGORITHMS = ("RSA-SHA256", "RSA-SHA1", "ECDSA-SHA256", SIGNATURE_NONE)


@dataclass(frozen=True)
class CaisseCode:
    """An AMO organism: régime (2 digits), caisse (3 digits), centre (4 digits)."""

    regime: str
    caisse: str
    centre: str = "0000"

    def __str__(self) -> str:
        return f"{self.regime} {self.caisse} {self.centre}"

    @property
    def destination(self) -> str:
        """Régime + caisse, the 5 digits that route a lot (« 01281 »)."""
        return f"{self.regime}{self.caisse}"


@dataclass(frozen=True)
class LotHeader:
    sender_id: str  # identifiant de l'émetteur (the practice): 1–14 of A–Z 0–9
    sender_name: str  # the practice's name, as the caisse's operators will read it
    practitioner_am: str  # numéro AM of the PS (9 digits)
    destination: CaisseCode
    lot_number: int  # 1–999
    created_at: datetime  # local time, whole seconds, no tzinfo
    software_name: str
    software_version: str
    format_version: int = 1
    kind: str = "FSE"  # FSE, or DRE: the AMC parts in tiers payant (seed 003)


@dataclass(frozen=True)
class FseLine:
    act_date: date
    code: str  # NGAP code or majoration (« AMI », « IFD », « NUIT »…)
    coefficient_x100: int
    quantity: int
    unit_cents: int
    total_cents: int  # = round_half_up(unit × coefficient × quantity / 100)
    amo_cents: int
    amc_cents: int
    patient_cents: int  # amo + amc + patient = total
    act_time: time | None = None  # hours and minutes only

    @classmethod
    def of_fields(cls, **values: Any) -> FseLine:
        """The line of *values*, every field named, made as :meth:`FseRecord.of_fields` makes
        a record (a build makes some 12,000 distinct lines; the frozen __init__ is 4× slower)."""
        return _of_fields(cls, _LINE_FIELDS, values)


@dataclass(frozen=True)
class FseSignature:
    algorithm: str  # one of SIGNATURE_ALGORITHMS
    signer: str | None  # AM (9 digits) or RPPS (11 digits) of the card holder
    card_type: CardType | None  # CPS (practitioner) or CPE (staff, semi-secured only)
    value: bytes  # the raw signature, opaque to the format

    @classmethod
    def unsigned(cls) -> FseSignature:
        """No signature: only allowed for an FSE in mode dégradé."""
        return cls(algorithm=SIGNATURE_NONE, signer=None, card_type=None, value=b"")

    @property
    def signed(self) -> bool:
        return self.algorithm != SIGNATURE_NONE


@dataclass(frozen=True)
class FseRecord:
    invoice_number: int  # 1–999999999
    mode: FseMode
    billing_date: date
    patient_last_name: str
    patient_first_name: str
    birth_date: date
    nir: str  # 15 characters, key included
    rank: int  # rang de naissance, 1–9
    quality: str  # qualité, a code of tuibill.domain.patients.QUALITIES
    amo: CaisseCode
    amo_tiers_payant: bool
    amc_tiers_payant: bool
    amo_rate: int  # taux de prise en charge AMO, percent
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    lines: tuple[FseLine, ...]
    signature: FseSignature = field(default_factory=FseSignature.unsigned)
    amc_number: str | None = None
    prescriber_number: str | None = None  # 9 digits (AM) or 11 (RPPS)
    prescription_date: date | None = None

    @classmethod
    def of_fields(cls, **values: Any) -> FseRecord:
        """The record of *values*, every field named: made without the frozen __init__, which
        sets its 22 fields one by one through object.__setattr__ (30 ms of a 10,000-invoice
        build). What the fields hold is the writer's to check, as for any record."""
        return _of_fields(cls, _FSE_FIELDS, values)


def _of_fields(cls: type, names: frozenset[str], values: dict[str, Any]) -> Any:
    if values.keys() != names:
        return cls(**values)  # a field missing or unknown: __init__ says which
    made = object.__new__(cls)
    object.__setattr__(made, "__dict__", values)
    return made


_FSE_FIELDS = frozenset(item.name for item in fields(FseRecord))
_LINE_FIELDS = frozenset(item.name for item in fields(FseLine))


@dataclass(frozen=True)
class LotTrailer:
    """What the trailer of a lot states; always derived from the FSE (see ``LotFile.trailer``)."""

    fse_count: int
    line_count: int
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int


@dataclass(frozen=True)
class LotFile:
    header: LotHeader
    fses: tuple[FseRecord, ...]

    @property
    def trailer(self) -> LotTrailer:
        return LotTrailer(
            fse_count=len(self.fses),
            line_count=sum(len(fse.lines) for fse in self.fses),
            total_cents=sum(fse.total_cents for fse in self.fses),
            amo_cents=sum(fse.amo_cents for fse in self.fses),
            amc_cents=sum(fse.amc_cents for fse in self.fses),
            patient_cents=sum(fse.patient_cents for fse in self.fses),
        )


# --- ARL content ----------------------------------------------------------------------------


class ArlStatus(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"


@dataclass(frozen=True)
class Arl:
    """The caisse's acknowledgement of one lot, positive or negative."""

    emitter: CaisseCode  # the caisse answering
    created_at: datetime  # local time, whole seconds, no tzinfo
    sender_id: str | None  # the lot's sender; None when the lot was unreadable
    practitioner_am: str
    lot_number: int
    lot_checksum: str  # SHA-256 (lower-case hex) of the lot file as received, see file_checksum
    status: ArlStatus
    reason_code: str | None = None  # negative only: 3 of 0–9 A–Z (catalogue in formats.arl)
    reason_label: str | None = None  # negative only: French label of the reason
    detail: str | None = None  # negative only, optional: e.g. the reader's error message
    format_version: int = 1

    @property
    def positive(self) -> bool:
        return self.status is ArlStatus.POSITIVE


def file_checksum(data: bytes) -> str:
    """SHA-256 of a whole file, lower-case hex: how an ARL names the lot it acknowledges."""
    return hashlib.sha256(data).hexdigest()


# --- the codecs' shape ----------------------------------------------------------------------


@runtime_checkable
class LotFileCodec(Protocol):
    """Turns a :class:`LotFile` into bytes and back; ``read`` is strict.

    ``signing_payload`` gives the exact bytes a card signs for one FSE: they are the codec's
    (what the caisse verifies is the signature over the FSE as the lot carries it), so signing
    always asks the configured codec, never a given one.
    """

    name: str

    def write(self, lot: LotFile) -> bytes:
        """The file's bytes; :class:`~tuibill.formats.errors.FormatError` if it cannot be written."""
        ...

    def read(self, data: bytes) -> LotFile:
        """The whole content, or :class:`~tuibill.formats.errors.FormatError`: never a part."""
        ...

    def signing_payload(self, fse: FseRecord) -> bytes:
        """The bytes a card signs for *fse* (independent of the lot it will travel in)."""
        ...


@runtime_checkable
class ArlCodec(Protocol):
    """Turns an :class:`Arl` into bytes and back; ``read`` is strict."""

    name: str

    def write(self, arl: Arl) -> bytes: ...

    def read(self, data: bytes) -> Arl: ...
