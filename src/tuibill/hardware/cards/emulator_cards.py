"""Card behaviour models: what an emulated card answers to each APDU.

Shared by the in-process emulated backend and the vpcd emulator, so the same reading code runs
against the same cards with or without pcscd. A card keeps its persistent state (PIN tries)
across insertions, like a real one; power-on and reset clear the volatile state (current file,
PIN verified, pending response).

Quirks reproduce what real T=0 cards do, to exercise the host's handling:

- ``get_response``: every answer with data comes as ``61xx``; the host fetches it with GET
  RESPONSE (in pieces of at most 256 bytes);
- ``wrong_length``: a READ/GET with a Le that is not the exact length available is answered
  ``6Cxx`` (xx = the right length); the host sends the command again with Le = xx.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from stdnum.fr import nir as stdnum_nir

from tuibill.hardware.cards import cps, tlv, vitale2
from tuibill.hardware.cards.atr import EMULATED_ATRS
from tuibill.hardware.cards.data import CardType
from tuibill.hardware.cards.errors import CardDataError

SW_OK = b"\x90\x00"
SW_WRONG_LENGTH = b"\x67\x00"
SW_SECURITY = b"\x69\x82"
SW_BLOCKED = b"\x69\x83"
SW_CONDITIONS = b"\x69\x85"
SW_NO_EF = b"\x69\x86"
SW_WRONG_DATA = b"\x6a\x80"
SW_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6a\x86"
SW_REF_NOT_FOUND = b"\x6a\x88"
SW_WRONG_OFFSET = b"\x6b\x00"
SW_INS = b"\x6d\x00"
SW_CLA = b"\x6e\x00"
SW_END_OF_FILE = b"\x62\x82"


@dataclass
class Quirks:
    get_response: bool = False
    wrong_length: bool = False


@dataclass(frozen=True)
class _Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None  # None: no Le; 0 in the APDU means 256

    @classmethod
    def parse(cls, apdu: bytes) -> _Command | None:
        if len(apdu) < 4:
            return None
        cla, ins, p1, p2 = apdu[:4]
        if len(apdu) == 4:
            return cls(cla, ins, p1, p2, b"", None)
        if len(apdu) == 5:
            return cls(cla, ins, p1, p2, b"", apdu[4] or 256)
        lc = apdu[4]
        if len(apdu) == 5 + lc:
            return cls(cla, ins, p1, p2, apdu[5:], None)
        if len(apdu) == 6 + lc:
            return cls(cla, ins, p1, p2, apdu[5 : 5 + lc], apdu[-1] or 256)
        return None


class EmulatedCard:
    """Base: ATR, power handling, quirks; subclasses answer the commands."""

    card_type: CardType = CardType.UNKNOWN

    def __init__(self, *, atr: bytes | None = None, quirks: Quirks | None = None) -> None:
        self.atr = atr if atr is not None else EMULATED_ATRS[self.card_type]
        self.quirks = quirks or Quirks()
        self._pending = b""
        self.power_on()

    @property
    def label(self) -> str:
        return self.card_type.label

    def power_on(self) -> None:
        self._pending = b""
        self._reset_state()

    def power_off(self) -> None:
        self._pending = b""
        self._reset_state()

    def reset(self) -> None:
        self.power_on()

    def _reset_state(self) -> None:
        """Volatile state a reset clears (subclasses extend)."""

    def process(self, apdu: bytes) -> bytes:
        """Answer one command APDU with data + SW1 SW2."""
        command = _Command.parse(bytes(apdu))
        if command is None:
            return SW_WRONG_LENGTH
        if command.cla != 0x00:
            return SW_CLA
        if command.ins == 0xC0:
            return self._get_response(command)
        self._pending = b""
        data, sw = self.handle(command)
        return self._deliver(command, data, sw)

    def handle(self, command: _Command) -> tuple[bytes, bytes]:
        return b"", SW_INS

    def _deliver(self, command: _Command, data: bytes, sw: bytes) -> bytes:
        if not data:
            return sw
        if self.quirks.get_response:
            self._pending = data
            return bytes([0x61, min(len(data), 256) & 0xFF])
        if self.quirks.wrong_length and command.le is not None and command.le != len(data):
            return bytes([0x6C, min(len(data), 256) & 0xFF])
        if command.le is None:
            # Case 3 command (no Le): a T=0 card keeps its data to itself.
            return sw
        return data[: command.le] + sw

    def _get_response(self, command: _Command) -> bytes:
        if not self._pending:
            return SW_CONDITIONS
        wanted = command.le or 256
        if self.quirks.wrong_length and wanted != min(len(self._pending), 256):
            return bytes([0x6C, min(len(self._pending), 256) & 0xFF])
        piece, self._pending = self._pending[:wanted], self._pending[wanted:]
        if self._pending:
            return piece + bytes([0x61, min(len(self._pending), 256) & 0xFF])
        return piece + SW_OK


class FileSystemCard(EmulatedCard):
    """A card with an MF, applications selected by AID, and short-identifier EFs."""

    def __init__(
        self,
        *,
        mf_files: dict[int, bytes],
        applications: dict[bytes, dict[int, bytes]],
        mf_selectable: bool = True,
        **kwargs: Any,
    ) -> None:
        self.mf_files = mf_files
        self.applications = applications
        self.mf_selectable = mf_selectable
        super().__init__(**kwargs)

    def _reset_state(self) -> None:
        self._current_df: bytes | None = b"MF" if self.mf_selectable else None
        self._current_ef: int | None = None  # SFI of the current EF, in the current DF

    def _files(self) -> dict[int, bytes]:
        if self._current_df == b"MF":
            return self.mf_files
        if self._current_df is None:
            return {}
        return self.applications.get(self._current_df, {})

    def handle(self, command: _Command) -> tuple[bytes, bytes]:
        if command.ins == 0xA4:
            return self._select(command)
        if command.ins == 0xB0:
            return self._read_binary(command)
        return b"", SW_INS

    def _select(self, command: _Command) -> tuple[bytes, bytes]:
        if command.p1 == 0x00 and command.data == b"\x3f\x00" and self.mf_selectable:
            self._current_df, self._current_ef = b"MF", None
            return tlv.encode(0x6F, tlv.encode(0x83, b"\x3f\x00")), SW_OK
        if command.p1 == 0x04 and command.data in self.applications:
            self._current_df, self._current_ef = command.data, None
            return tlv.encode(0x6F, tlv.encode(0x84, command.data)), SW_OK
        return b"", SW_NOT_FOUND

    def _read_binary(self, command: _Command) -> tuple[bytes, bytes]:
        if command.p1 & 0x80:
            if command.p1 & 0x60:
                return b"", SW_WRONG_P1P2
            sfi = command.p1 & 0x1F
            if sfi not in self._files():
                return b"", SW_NOT_FOUND
            self._current_ef = sfi
            content, offset = self._files()[sfi], command.p2
        else:
            if self._current_ef is None:
                return b"", SW_NO_EF
            content = self._files()[self._current_ef]
            offset = (command.p1 << 8) | command.p2
        if offset >= len(content):
            return b"", SW_WRONG_OFFSET
        wanted = command.le or 256
        data = content[offset : offset + wanted]
        if len(data) < wanted and command.le != 256:
            return data, SW_END_OF_FILE
        return data, SW_OK


# --- Vitale -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardPerson:
    """A bénéficiaire as written on an emulated card (fields raw, so tests can write bad ones)."""

    last_name: str
    first_name: str
    birth_date: str  # AAAAMMJJ as stored on the card
    nir: str  # 15 characters as stored on the card
    rank: int | None = None

    @classmethod
    def make(
        cls, last_name: str, first_name: str, birth: date | str, nir13: str, rank: int | None = None
    ) -> CardPerson:
        """A valid bénéficiaire: the NIR key is computed (13 characters given, 15 accepted)."""
        nir = nir13 if len(nir13) == 15 else nir13 + stdnum_nir.calc_check_digits(nir13)
        birth_text = birth.strftime("%Y%m%d") if isinstance(birth, date) else birth
        return cls(last_name, first_name, birth_text, nir, rank)

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> CardPerson:
        birth = str(item["birth_date"])
        if len(birth) == 10 and birth[4] == "-":  # ISO date; AAAAMMJJ is written as is
            birth = birth.replace("-", "")
        rank = item.get("rank")
        return cls.make(
            str(item["last_name"]),
            str(item["first_name"]),
            birth,
            str(item["nir"]),
            int(rank) if rank is not None else None,
        )


@dataclass
class VitaleLayout:
    """Real-world layout variants of the Vitale files."""

    long_lengths: bool = False  # 81 xx lengths even below 128
    zero_padding: int = 0  # filler bytes after the templates
    name_width: int = 0  # pad names with spaces to this width (0: no padding)


def vitale_files(
    people: list[CardPerson], layout: VitaleLayout | None = None
) -> tuple[bytes, bytes]:
    """The identity file (MF/2) and the NIR file (VITALE/2) for these bénéficiaires."""
    layout = layout or VitaleLayout()
    long = layout.long_lengths

    def text(value: str) -> bytes:
        return value.ljust(layout.name_width).encode("latin-1")

    identity, nirs = b"", b""
    for person in people:
        fields = (
            tlv.encode(vitale2.TAG_LAST_NAME, text(person.last_name), long_form=long)
            + tlv.encode(vitale2.TAG_FIRST_NAME, text(person.first_name), long_form=long)
            + tlv.encode(vitale2.TAG_BIRTH_DATE, person.birth_date.encode("ascii"), long_form=long)
        )
        if person.rank is not None:
            fields += tlv.encode(vitale2.TAG_RANK, str(person.rank).encode("ascii"), long_form=long)
        identity += tlv.encode(vitale2.TAG_BENEFICIARY, fields, long_form=long)
        nir_field = tlv.encode(vitale2.TAG_NIR, person.nir.encode("ascii"), long_form=long)
        nirs += tlv.encode(vitale2.TAG_BENEFICIARY, nir_field, long_form=long)
    padding = bytes(layout.zero_padding)
    return identity + padding, nirs + padding


class VitaleCard(FileSystemCard):
    card_type = CardType.VITALE_2

    def __init__(
        self, people: list[CardPerson], *, layout: VitaleLayout | None = None, **kwargs: Any
    ) -> None:
        self.people = list(people)
        identity, nirs = vitale_files(self.people, layout)
        super().__init__(
            mf_files={vitale2.IDENTITY_SFI: identity},
            applications={vitale2.VITALE_AID: {vitale2.NIR_SFI: nirs}},
            **kwargs,
        )


class SilentCard(EmulatedCard):
    """A card that refuses every command: unknown cards, and Vitale 1 (which the host must
    never even talk to: it is only recognised by its ATR)."""

    def __init__(self, card_type: CardType, **kwargs: Any) -> None:
        self.card_type = card_type
        super().__init__(**kwargs)

    def handle(self, command: _Command) -> tuple[bytes, bytes]:
        return b"", SW_NOT_FOUND if command.ins == 0xA4 else SW_INS


# --- CPS / CPE --------------------------------------------------------------------------------


@functools.cache
def _rsa_key(label: str) -> Any:
    """One RSA-2048 key per holder and per process (generation takes tens of milliseconds)."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_certificate(key: Any, name: str, ps_number: str, card_type: CardType) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tuibill (carte émulée)"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, card_type.value.upper()),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, ps_number),
            x509.NameAttribute(NameOID.COMMON_NAME, name),
        ]
    )
    # Fixed dates and a serial derived from the holder: the same card gives the same certificate.
    start = datetime(2024, 1, 1, tzinfo=UTC)
    serial = int.from_bytes(hashlib.sha256(f"{card_type}:{ps_number}".encode()).digest()[:8], "big")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(serial or 1)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=365 * 6))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.DER)


class CpsCard(FileSystemCard):
    """A CPS (or CPE) with a real RSA-2048 key and a self-signed certificate.

    ``pin`` is the card's secret (an emulator has to know it); ``tries_left`` persists across
    insertions; 0 means blocked.
    """

    def __init__(
        self,
        *,
        name: str,
        ps_number: str,
        specialty: str,
        card_type: CardType = CardType.CPS,
        pin: str = "1234",
        tries_left: int = cps.MAX_PIN_TRIES,
        key: Any = None,
        **kwargs: Any,
    ) -> None:
        self.card_type = card_type
        self.holder_name = name
        self.ps_number = ps_number
        self.specialty = specialty
        self._pin_block = pin.encode("ascii").ljust(cps.PIN_LENGTH, bytes([cps.PIN_PADDING]))
        self.tries_left = tries_left
        self.key = key if key is not None else _rsa_key(f"{card_type}:{ps_number}:{name}")
        self.certificate_der = self_signed_certificate(self.key, name, ps_number, card_type)
        holder = tlv.encode(
            cps.TAG_HOLDER,
            tlv.encode(cps.TAG_CARD_TYPE, card_type.value.upper().encode("latin-1"))
            + tlv.encode(cps.TAG_NAME, name.encode("latin-1"))
            + tlv.encode(cps.TAG_PS_NUMBER, ps_number.encode("latin-1"))
            + tlv.encode(cps.TAG_SPECIALTY, specialty.encode("latin-1")),
        )
        super().__init__(
            mf_files={},
            applications={
                cps.CPS_AID: {
                    cps.HOLDER_SFI: holder,
                    cps.CERTIFICATE_SFI: self.certificate_der + bytes(32),
                }
            },
            mf_selectable=False,  # DOMAIN.md: SELECT MF is not 9000 on a CPS
            **kwargs,
        )

    @property
    def blocked(self) -> bool:
        return self.tries_left <= 0

    def _reset_state(self) -> None:
        super()._reset_state()
        self._verified = False
        self._security_env: tuple[int, int] | None = None

    def handle(self, command: _Command) -> tuple[bytes, bytes]:
        if command.ins == 0x20:
            return self._verify(command)
        if command.ins == 0x22:
            return self._mse(command)
        if command.ins == 0x2A:
            return self._pso(command)
        return super().handle(command)

    def _in_application(self) -> bool:
        return self._current_df == cps.CPS_AID

    def _verify(self, command: _Command) -> tuple[bytes, bytes]:
        if command.p1 != 0x00 or command.p2 != cps.PIN_REFERENCE or not self._in_application():
            return b"", SW_REF_NOT_FOUND
        if self.blocked:
            return b"", SW_BLOCKED
        if not command.data:  # status only: no try spent
            return b"", SW_OK if self._verified else bytes([0x63, 0xC0 | self.tries_left])
        if len(command.data) != cps.PIN_LENGTH:
            return b"", SW_WRONG_LENGTH
        if command.data == self._pin_block:
            self.tries_left = cps.MAX_PIN_TRIES
            self._verified = True
            return b"", SW_OK
        self.tries_left -= 1
        self._verified = False
        return b"", bytes([0x63, 0xC0 | max(self.tries_left, 0)])

    def _mse(self, command: _Command) -> tuple[bytes, bytes]:
        if (command.p1, command.p2) != (0x41, 0xB6) or not self._in_application():
            return b"", SW_WRONG_P1P2
        try:
            items = {item.tag: item.value for item in tlv.parse(command.data)}
        except CardDataError:
            return b"", SW_WRONG_DATA
        if items.get(0x84) != bytes([cps.KEY_REFERENCE]):
            return b"", SW_REF_NOT_FOUND
        if items.get(0x80) != bytes([cps.ALGORITHM_RSA_SHA256]):
            return b"", SW_WRONG_DATA
        self._security_env = (cps.KEY_REFERENCE, cps.ALGORITHM_RSA_SHA256)
        return b"", SW_OK

    def _pso(self, command: _Command) -> tuple[bytes, bytes]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding, utils

        if (command.p1, command.p2) != (0x9E, 0x9A):
            return b"", SW_WRONG_P1P2
        if self.blocked:
            return b"", SW_BLOCKED
        if self._security_env is None:
            return b"", SW_CONDITIONS
        if not self._verified:
            return b"", SW_SECURITY
        if len(command.data) != 32:
            return b"", SW_WRONG_LENGTH
        value = self.key.sign(command.data, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        return value, SW_OK


def make_card(kind: str, **kwargs: Any) -> EmulatedCard:
    """An emulated card by kind name: vitale2, cps, cpe, unknown, vitale1 (demo contents)."""
    if kind == "vitale2":
        return demo_vitale(**kwargs)
    if kind == "cps":
        return demo_cps(**kwargs)
    if kind == "cpe":
        return demo_cpe(**kwargs)
    if kind == "unknown":
        return SilentCard(CardType.UNKNOWN, **kwargs)
    if kind == "vitale1":
        return SilentCard(CardType.VITALE_1, **kwargs)
    raise ValueError(f"type de carte inconnu : {kind}")


CARD_KINDS = ("vitale2", "cps", "cpe", "unknown", "vitale1")


# --- Demo cards -------------------------------------------------------------------------------

# One family: the assurée, her husband, their daughter (NIRs with valid keys, fictitious).
DEMO_FAMILY = (
    CardPerson.make("MARTIN", "SOPHIE", date(1982, 3, 14), "2820328085042", rank=1),
    CardPerson.make("MARTIN", "LUC", date(1979, 11, 2), "1791175056123", rank=1),
    CardPerson.make("MARTIN", "LEA", date(2012, 6, 25), "2120628085117", rank=1),
)


def demo_people() -> list[CardPerson]:
    return list(DEMO_FAMILY)


def load_people(path: str | Path) -> list[CardPerson]:
    """Bénéficiaires from a JSON file: a list of objects with last_name, first_name,
    birth_date (AAAA-MM-JJ, or AAAAMMJJ written as is), nir (13 characters: key computed;
    15: written as is) and an optional rank."""
    items = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(items, list) or not items:
        raise ValueError("une liste JSON non vide de bénéficiaires est attendue")
    return [CardPerson.from_json(item) for item in items]


def demo_vitale(people: list[CardPerson] | None = None, **kwargs: Any) -> VitaleCard:
    return VitaleCard(people if people is not None else demo_people(), **kwargs)


def demo_cps(**kwargs: Any) -> CpsCard:
    kwargs.setdefault("name", "Claire DUBOIS")
    kwargs.setdefault("ps_number", "281234567")
    kwargs.setdefault("specialty", "24")  # infirmier
    return CpsCard(card_type=CardType.CPS, **kwargs)


def demo_cpe(**kwargs: Any) -> CpsCard:
    kwargs.setdefault("name", "Julie PETIT")
    kwargs.setdefault("ps_number", "281234567")  # the practice's PS: a CPE works for a PS
    kwargs.setdefault("specialty", "24")
    return CpsCard(card_type=CardType.CPE, **kwargs)
