"""TLA protocol, above the frames: command codes, error codes, payloads (UTF-8 JSON objects).

The same request builders and answer parsers serve the serial client and the in-process emulated
reader, so both give the desk the same dataclasses and the same errors.
Specification: docs/formats/tla-protocol.md.

Over 600 lines on purpose: this is the protocol's one vocabulary — every message's fields, limits
and checks — written in the order of docs/formats/tla-protocol.md, which a reviewer reads beside
it; the desk's client and the emulator both build and check messages only through it.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum
from typing import Any

from tuibill.domain.cards import PROFESSIONAL_CARDS, CardType
from tuibill.hardware.cards.data import Signature
from tuibill.hardware.tla.errors import (
    TlaConflict,
    TlaDeviceError,
    TlaDeviceFull,
    TlaProtocolError,
    TlaUnknownInvoice,
    TlaVersionError,
)

PROTOCOL_VERSIONS: tuple[int, ...] = (1, 2)  # what this software speaks, oldest first
# IDENTIFY, and the UNSUPPORTED_VERSION error, always travel in version-1 frames: that is what
# makes negotiation possible with a device of any later version.
BASE_VERSION = 1
LATEST_VERSION = PROTOCOL_VERSIONS[-1]
# Version 2: the desk puts the exact bytes to sign in the invoice's content, the device signs
# them with the card used at the patient's home, and FETCH gives the signature back.
SIGNING_VERSION = 2
SIGNING_PAYLOAD = "signing_payload"  # the key of ``content`` holding those bytes (base64)
RESPONSE_FLAG = 0x80
ERROR_RESPONSE = 0xFF
KEY_MAX_LENGTH = 64
TEXT_MAX_LENGTH = 80
PS_NUMBER_MAX_LENGTH = 20
ALGORITHM_MAX_LENGTH = 80
SIGNATURE_MAX_BYTES = 512  # RSA-4096 at most
CERTIFICATE_MAX_BYTES = 2048  # DER
# An invoice's LOAD entry must leave this much of max_payload free, so that FETCH's answer (the
# same invoice plus its state and securing data) always fits in one frame. Version 2 adds the
# signature and the certificate (base64): 512 + 2048 bytes at most, 3 416 characters.
INVOICE_RESERVES: dict[int, int] = {1: 256, 2: 4096}
_KEY_RE = re.compile(rf"[\x21-\x7e]{{1,{KEY_MAX_LENGTH}}}")  # printable ASCII, no space
_TIME_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


class Command(IntEnum):
    IDENTIFY = 0x01
    GET_CLOCK = 0x02
    SET_CLOCK = 0x03
    LIST = 0x10
    LOAD = 0x11
    FETCH = 0x12
    ERASE = 0x13
    ERASE_ALL = 0x14

    @property
    def response(self) -> int:
        return self | RESPONSE_FLAG


class ErrorCode(IntEnum):
    UNKNOWN_COMMAND = 0x01
    BAD_PAYLOAD = 0x02
    UNSUPPORTED_VERSION = 0x03
    DEVICE_FULL = 0x04
    NOT_FOUND = 0x05
    CONFLICT = 0x06
    INTERNAL = 0x07

    @property
    def meaning(self) -> str:
        return ERROR_MEANINGS[self]


ERROR_MEANINGS: dict[ErrorCode, str] = {
    ErrorCode.UNKNOWN_COMMAND: "Commande inconnue du lecteur",
    ErrorCode.BAD_PAYLOAD: "Données de la commande invalides",
    ErrorCode.UNSUPPORTED_VERSION: "Version de protocole non prise en charge",
    ErrorCode.DEVICE_FULL: "Mémoire du lecteur pleine",
    ErrorCode.NOT_FOUND: "Facture absente du lecteur",
    ErrorCode.CONFLICT: "Facture déjà sécurisée avec un autre contenu",
    ErrorCode.INTERNAL: "Erreur interne du lecteur",
}


class DeviceInvoiceState(StrEnum):
    """An invoice as the portable reader sees it (not the desk's invoice state)."""

    LOADED = "loaded"
    SECURED = "secured"
    SEMI_SECURED = "semi-secured"

    @property
    def label(self) -> str:
        return {"loaded": "Chargée", "secured": "Sécurisée", "semi-secured": "Semi-sécurisée"}[
            self.value
        ]


def securing_state(card: CardType) -> DeviceInvoiceState:
    """The practitioner's own CPS secures; a staff CPE only semi-secures (the PS signs later)."""
    return DeviceInvoiceState.SECURED if card is CardType.CPS else DeviceInvoiceState.SEMI_SECURED


class PayloadError(TlaProtocolError):
    """A payload that is not what the protocol says (bad JSON, missing or mistyped field)."""


# --- Encoding -----------------------------------------------------------------------------------


def encode_payload(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON; an empty object travels as an empty payload."""
    if not data:
        return b""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def decode_payload(raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(f"Données TLA illisibles (JSON UTF-8 attendu : {error}).") from None
    if not isinstance(data, dict):
        raise PayloadError("Données TLA illisibles : un objet JSON est attendu.")
    return data


def format_time(when: datetime) -> str:
    """Device time is local wall-clock time to the second, without offset (the TLA has no zone)."""
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when.replace(microsecond=0).isoformat()


def parse_time(text: Any, name: str = "time") -> datetime:
    if not isinstance(text, str) or not _TIME_RE.fullmatch(text):
        raise PayloadError(f"Champ « {name} » : date-heure AAAA-MM-JJTHH:MM:SS attendue.")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise PayloadError(f"Champ « {name} » : date-heure impossible ({text}).") from None


def invoice_reserve(version: int) -> int:
    """What an invoice's LOAD entry must leave free of max_payload in a session of *version*."""
    return INVOICE_RESERVES.get(version, max(INVOICE_RESERVES.values()))


def invoice_key(am_number: str, number: int | str) -> str:
    """The key the desk gives an invoice on the device: « <numéro AM>-<numéro de facture> »."""
    text = f"{number:09d}" if isinstance(number, int) else number
    return check_key(f"{am_number}-{text}")


def check_key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise PayloadError(
            f"Clé de facture invalide ({key!r}) : 1 à {KEY_MAX_LENGTH} caractères ASCII "
            "imprimables, sans espace."
        )
    return key


def _get(data: dict[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    # bool is an int in Python; a JSON true is never a valid count or amount here.
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise PayloadError(f"Données TLA : champ « {name} » absent ou de mauvais type.")
    return value


def _count(data: dict[str, Any], name: str) -> int:
    value = _get(data, name, int)
    if value < 0:
        raise PayloadError(f"Données TLA : champ « {name} » négatif.")
    return value


def _text(data: dict[str, Any], name: str, limit: int = TEXT_MAX_LENGTH) -> str:
    value = _get(data, name, str)
    if len(value) > limit:
        raise PayloadError(
            f"Données TLA : champ « {name} » trop long ({limit} caractères au plus)."
        )
    return value


def _keys(data: dict[str, Any], name: str) -> list[str]:
    values = _get(data, name, list)
    return [check_key(key) for key in values]


def encode_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _bytes(data: dict[str, Any], name: str, limit: int) -> bytes:
    """A base64 field (strict alphabet and padding), decoded: 1 to *limit* bytes."""
    value = _get(data, name, str)
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise PayloadError(f"Données TLA : champ « {name} » : base64 attendu.") from None
    if not raw or len(raw) > limit:
        raise PayloadError(
            f"Données TLA : champ « {name} » vide ou trop long ({limit} octets au plus)."
        )
    return raw


def content_signing_payload(content: dict[str, Any]) -> bytes | None:
    """The bytes to sign that the desk put in an invoice's content (version 2), or None."""
    if content.get(SIGNING_PAYLOAD) is None:
        return None
    return _bytes(content, SIGNING_PAYLOAD, 0xFFFF)


def signature_payload(signature: Signature) -> dict[str, Any]:
    return {
        "algorithm": signature.algorithm,
        "certificate": encode_bytes(signature.certificate_der),
        "value": encode_bytes(signature.value),
    }


def parse_signature(data: Any) -> Signature:
    if not isinstance(data, dict):
        raise PayloadError("Données TLA : « signature » doit être un objet JSON.")
    return Signature(
        value=_bytes(data, "value", SIGNATURE_MAX_BYTES),
        certificate_der=_bytes(data, "certificate", CERTIFICATE_MAX_BYTES),
        algorithm=_text(data, "algorithm", ALGORITHM_MAX_LENGTH),
    )


# --- Payload dataclasses ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceIdentity:
    model: str
    serial: str
    firmware: str
    protocol_version: int  # the version chosen for this session
    protocol_versions: tuple[int, ...]  # every version the device speaks
    capacity: int  # invoices it can hold
    stored: int  # invoices it holds now
    max_payload: int  # largest payload it accepts or sends, in bytes

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.stored)

    def to_payload(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "version": self.protocol_version,
            "versions": list(self.protocol_versions),
            "capacity": self.capacity,
            "stored": self.stored,
            "max_payload": self.max_payload,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> DeviceIdentity:
        versions = _get(data, "versions", list)
        if not versions or not all(isinstance(v, int) and 1 <= v <= 255 for v in versions):
            raise PayloadError("Données TLA : champ « versions » invalide.")
        return cls(
            model=_text(data, "model"),
            serial=_text(data, "serial"),
            firmware=_text(data, "firmware"),
            protocol_version=_count(data, "version"),
            protocol_versions=tuple(versions),
            capacity=_count(data, "capacity"),
            stored=_count(data, "stored"),
            max_payload=_count(data, "max_payload"),
        )


@dataclass(frozen=True)
class InvoiceToLoad:
    """What the desk sends for one invoice. ``content`` is the desk's own description of the
    invoice (acts, patient, prescription…): the device stores it as is and gives it back."""

    key: str  # « <numéro AM>-<numéro de facture> », see invoice_key()
    number: str  # the invoice number as shown (9 digits)
    patient: str  # the name shown on the device's screen
    amount_cents: int
    content: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Checked here, on the desk, so that a bad invoice is refused before anything is sent.
        check_key(self.key)
        _text(self.__dict__, "number", 20)
        _text(self.__dict__, "patient")
        _count(self.__dict__, "amount_cents")
        _get(self.__dict__, "content", dict)
        content_signing_payload(self.content)  # well-formed if present
        try:
            json.dumps(self.content)
        except (TypeError, ValueError) as error:
            raise PayloadError(
                f"Facture « {self.key} » : contenu non représentable en JSON ({error})."
            ) from None

    def to_payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "number": self.number,
            "patient": self.patient,
            "amount_cents": self.amount_cents,
            "content": self.content,
        }

    @classmethod
    def from_payload(cls, data: Any) -> InvoiceToLoad:
        if not isinstance(data, dict):
            raise PayloadError("Données TLA : une facture doit être un objet JSON.")
        return cls(
            key=data.get("key"),
            number=data.get("number"),
            patient=data.get("patient"),
            amount_cents=data.get("amount_cents"),
            content=data.get("content"),
        )


@dataclass(frozen=True)
class Securing:
    """How an invoice was secured at the patient's home."""

    secured_at: datetime  # device clock
    card_type: CardType  # CPS → secured, CPE → semi-secured
    signer: str  # the card holder's name
    # Version 2: the card's PS number (a CPE: the PS it works for), and the card's signature of
    # the content's signing payload (None: the content had none, or a version-1 session).
    ps_number: str = ""
    signature: Signature | None = None

    def to_payload(self, version: int = LATEST_VERSION) -> dict[str, Any]:
        data: dict[str, Any] = {
            "secured_at": format_time(self.secured_at),
            "card": self.card_type.value.upper(),  # « CPS » / « CPE » on the wire
            "signer": self.signer,
        }
        if version >= SIGNING_VERSION:
            data["ps_number"] = self.ps_number
            data["signature"] = (
                None if self.signature is None else signature_payload(self.signature)
            )
        return data

    @classmethod
    def from_payload(cls, data: Any, version: int = LATEST_VERSION) -> Securing:
        if not isinstance(data, dict):
            raise PayloadError("Données TLA : « securing » doit être un objet JSON.")
        card = _get(data, "card", str)
        if card not in PROFESSIONAL_CARDS:
            raise PayloadError(f"Données TLA : type de carte « {card} » inconnu (CPS ou CPE).")
        securing = cls(
            secured_at=parse_time(data.get("secured_at"), "secured_at"),
            card_type=PROFESSIONAL_CARDS[card],
            signer=_text(data, "signer"),
        )
        if version < SIGNING_VERSION:
            return securing  # a version-1 reader ignores what later versions add
        if "signature" not in data:
            raise PayloadError("Données TLA : champ « signature » absent (null si aucune).")
        raw = data["signature"]
        return cls(
            secured_at=securing.secured_at,
            card_type=securing.card_type,
            signer=securing.signer,
            ps_number=_text(data, "ps_number", PS_NUMBER_MAX_LENGTH),
            signature=None if raw is None else parse_signature(raw),
        )


def _state(data: dict[str, Any]) -> DeviceInvoiceState:
    value = data.get("state")
    if value not in {s.value for s in DeviceInvoiceState}:
        raise PayloadError(f"Données TLA : état de facture « {value} » inconnu.")
    return DeviceInvoiceState(value)


@dataclass(frozen=True)
class InvoiceSummary:
    """One line of LIST: what the device's screen shows of a stored invoice."""

    key: str
    number: str
    state: DeviceInvoiceState
    patient: str
    amount_cents: int
    loaded_at: datetime

    def to_payload(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "number": self.number,
            "state": self.state.value,
            "patient": self.patient,
            "amount_cents": self.amount_cents,
            "loaded_at": format_time(self.loaded_at),
        }

    @classmethod
    def from_payload(cls, data: Any) -> InvoiceSummary:
        if not isinstance(data, dict):
            raise PayloadError("Données TLA : une ligne de liste doit être un objet JSON.")
        return cls(
            key=check_key(data.get("key")),
            number=_text(data, "number", 20),
            state=_state(data),
            patient=_text(data, "patient"),
            amount_cents=_count(data, "amount_cents"),
            loaded_at=parse_time(data.get("loaded_at"), "loaded_at"),
        )


@dataclass(frozen=True)
class StoredInvoice:
    """A stored invoice in full (FETCH): what was loaded, plus how it was secured, if it was."""

    key: str
    number: str
    state: DeviceInvoiceState
    patient: str
    amount_cents: int
    loaded_at: datetime
    content: dict[str, Any]
    securing: Securing | None = None

    @property
    def summary(self) -> InvoiceSummary:
        return InvoiceSummary(
            self.key, self.number, self.state, self.patient, self.amount_cents, self.loaded_at
        )

    def same_content(self, invoice: InvoiceToLoad) -> bool:
        return (self.number, self.patient, self.amount_cents, self.content) == (
            invoice.number,
            invoice.patient,
            invoice.amount_cents,
            invoice.content,
        )

    def to_payload(self, version: int = LATEST_VERSION) -> dict[str, Any]:
        return {
            **self.summary.to_payload(),
            "content": self.content,
            "securing": self.securing.to_payload(version) if self.securing else None,
        }

    @classmethod
    def from_payload(cls, data: Any, version: int = LATEST_VERSION) -> StoredInvoice:
        summary = InvoiceSummary.from_payload(data)
        raw_securing = data.get("securing")
        securing = None if raw_securing is None else Securing.from_payload(raw_securing, version)
        if (securing is None) != (summary.state is DeviceInvoiceState.LOADED) or (
            securing is not None and securing_state(securing.card_type) is not summary.state
        ):
            raise PayloadError(
                f"Données TLA : facture {summary.key} : état et sécurisation incohérents."
            )
        return cls(
            key=summary.key,
            number=summary.number,
            state=summary.state,
            patient=summary.patient,
            amount_cents=summary.amount_cents,
            loaded_at=summary.loaded_at,
            content=_get(data, "content", dict),
            securing=securing,
        )


# --- Requests and answers -----------------------------------------------------------------------


def identify_request(versions: Sequence[int] = PROTOCOL_VERSIONS) -> dict[str, Any]:
    return {"versions": list(versions)}


def clock_payload(when: datetime) -> dict[str, Any]:
    return {"time": format_time(when)}


def parse_clock(data: dict[str, Any]) -> datetime:
    return parse_time(data.get("time"))


def list_request(start: int) -> dict[str, Any]:
    return {"start": start}


@dataclass(frozen=True)
class ListPage:
    total: int
    invoices: list[InvoiceSummary]
    next: int | None  # where the next page starts; None: this was the last one

    def to_payload(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "invoices": [i.to_payload() for i in self.invoices],
            "next": self.next,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> ListPage:
        following = data.get("next")
        if following is not None and (
            not isinstance(following, int) or isinstance(following, bool) or following < 0
        ):
            raise PayloadError("Données TLA : champ « next » invalide.")
        return cls(
            total=_count(data, "total"),
            invoices=[InvoiceSummary.from_payload(i) for i in _get(data, "invoices", list)],
            next=following,
        )


def load_request(invoices: Iterable[InvoiceToLoad]) -> dict[str, Any]:
    return {"invoices": [invoice.to_payload() for invoice in invoices]}


@dataclass(frozen=True)
class LoadAnswer:
    stored: list[str]  # new on the device
    already: list[str]  # were there with the same content: not stored twice
    replaced: list[str]  # were there, still only loaded, with another content: replaced
    free: int  # room left afterwards

    def to_payload(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "already": self.already,
            "replaced": self.replaced,
            "free": self.free,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> LoadAnswer:
        return cls(
            stored=_keys(data, "stored"),
            already=_keys(data, "already"),
            replaced=_keys(data, "replaced"),
            free=_count(data, "free"),
        )


def fetch_request(key: str) -> dict[str, Any]:
    return {"key": check_key(key)}


def erase_request(keys: Iterable[str]) -> dict[str, Any]:
    return {"keys": [check_key(key) for key in keys]}


@dataclass(frozen=True)
class EraseAnswer:
    erased: list[str]
    absent: list[str]  # not on the device (already erased by an earlier, interrupted run)

    def to_payload(self) -> dict[str, Any]:
        return {"erased": self.erased, "absent": self.absent}

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> EraseAnswer:
        return cls(erased=_keys(data, "erased"), absent=_keys(data, "absent"))


def parse_request_keys(data: dict[str, Any]) -> list[str]:
    return _keys(data, "keys")


def parse_request_key(data: dict[str, Any]) -> str:
    return check_key(data.get("key"))


def parse_request_start(data: dict[str, Any]) -> int:
    return _count(data, "start") if "start" in data else 0


def parse_request_versions(data: dict[str, Any]) -> list[int]:
    versions = data.get("versions", [BASE_VERSION])
    if not isinstance(versions, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in versions
    ):
        raise PayloadError("Données TLA : champ « versions » invalide.")
    return versions


def parse_request_invoices(data: dict[str, Any]) -> list[InvoiceToLoad]:
    return [InvoiceToLoad.from_payload(item) for item in _get(data, "invoices", list)]


def parse_erased_count(data: dict[str, Any]) -> int:
    return _count(data, "erased")


# --- Errors -------------------------------------------------------------------------------------


def error_payload(error: TlaDeviceError) -> dict[str, Any]:
    return {"code": error.code, "message": error.reason, "details": error.details}


def device_error(
    code: int, details: dict[str, Any] | None = None, message: str = ""
) -> TlaDeviceError:
    """The desk-side exception for an error frame (or for the in-process device's refusal).

    The French text is built here from the code and details; the device's own *message* is only
    appended where it is the sole explanation (bad payload, internal error, unknown code).
    """
    details = details or {}
    try:
        known = ErrorCode(code)
    except ValueError:
        text = f"Erreur du lecteur portable (code {code:02X})"
        text = f"{text} : {message.rstrip('.')}." if message else f"{text}."
        return TlaDeviceError(text, code, details, message)
    prefix = f"{known.meaning} (code {code:02X})"
    cls: type[TlaDeviceError] = TlaDeviceError
    if known is ErrorCode.DEVICE_FULL:
        cls = TlaDeviceFull
        text = (
            f"{prefix} : {details.get('requested', '?')} facture(s) à ajouter, "
            f"{details.get('stored', '?')} déjà stockée(s) pour une capacité de "
            f"{details.get('capacity', '?')}. Déchargez le lecteur portable avant d'en charger "
            "d'autres."
        )
    elif known is ErrorCode.NOT_FOUND:
        cls = TlaUnknownInvoice
        text = f"{prefix} : facture « {details.get('key', '?')} » absente du lecteur portable."
    elif known is ErrorCode.CONFLICT:
        cls = TlaConflict
        keys = ", ".join(str(k) for k in details.get("keys", [])) or "?"
        text = f"{prefix} : {keys}. Déchargez ces factures avant de les charger à nouveau."
    elif known is ErrorCode.UNSUPPORTED_VERSION:
        cls = TlaVersionError
        theirs = ", ".join(str(v) for v in details.get("supported", [])) or "?"
        ours = ", ".join(str(v) for v in PROTOCOL_VERSIONS)
        text = (
            f"{prefix} : le lecteur portable parle la version {theirs}, ce logiciel la version "
            f"{ours}. Mettez à jour le logiciel ou le micrologiciel du lecteur."
        )
    elif known is ErrorCode.UNKNOWN_COMMAND:
        text = f"{prefix} : micrologiciel du lecteur portable trop ancien ?"
    else:
        text = f"{prefix} : {message.rstrip('.')}." if message else f"{prefix}."
    return cls(text, code, details, message)


def parse_error(data: dict[str, Any]) -> TlaDeviceError:
    code = _count(data, "code")
    details = data.get("details")
    message = data.get("message")
    return device_error(
        code,
        details if isinstance(details, dict) else {},
        message if isinstance(message, str) else "",
    )
