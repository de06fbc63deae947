"""CPS / CPE cards: holder data, PIN, signature (ISO 7816-4 / 7816-8, IAS-ECC style).

The commands are the standard ones; the application identifier, file numbers, key and
algorithm references are **project-defined** (the real CPS3 layout is only public through the
official Cryptolib, see docs/hardware/cards.md). They are constants here so a site can adapt
them to its cards:

- SELECT the application by name ``00 A4 04 00 0B`` + :data:`CPS_AID`;
- READ BINARY short file 1: holder file, ``70 { 80 type "CPS"/"CPE", 81 nom, 82 n° PS,
  83 spécialité }`` (Latin-1, space-padded), readable without PIN;
- READ BINARY short file 2: the X.509 certificate (DER), readable without PIN;
- VERIFY ``00 20 00 81 08`` + PIN as ASCII digits padded with ``FF`` to 8 bytes;
  VERIFY without data ``00 20 00 81`` asks for the tries left without spending one;
- MSE SET ``00 22 41 B6 06 84 01 81 80 01 42`` (key 81, algorithm 42 = RSA PKCS#1 v1.5 with
  SHA-256 computed outside the card), then PSO COMPUTE DIGITAL SIGNATURE
  ``00 2A 9E 9A 20 <SHA-256 digest> 00``: the card builds the DigestInfo, pads and signs.

The PIN only lives in local variables of :func:`verify_pin`; it is never logged (the APDU trace
masks VERIFY data) nor kept anywhere.
"""

from __future__ import annotations

import hashlib

from tuibill.hardware.cards import tlv
from tuibill.hardware.cards.apdu import SW_OK, CardChannel
from tuibill.hardware.cards.data import CardInfo, CardType, CpsHolder, Signature
from tuibill.hardware.cards.errors import (
    CardBlockedError,
    CardCommandError,
    CardDataError,
    PinFormatError,
    PinRequiredError,
    UnsupportedCardError,
    WrongPinError,
)

# "F0" + "TUIBILLCPS": an unregistered proprietary AID (ISO 7816-5 category F).
CPS_AID = bytes.fromhex("F0") + b"TUIBILLCPS"
HOLDER_SFI = 1
CERTIFICATE_SFI = 2
PIN_REFERENCE = 0x81  # local PIN of the application
KEY_REFERENCE = 0x81
ALGORITHM_RSA_SHA256 = 0x42
PIN_LENGTH = 8
PIN_PADDING = 0xFF
MAX_PIN_TRIES = 3
SIGNATURE_ALGORITHM = "sha256WithRSAEncryption"

TAG_HOLDER = 0x70
TAG_CARD_TYPE = 0x80
TAG_NAME = 0x81
TAG_PS_NUMBER = 0x82
TAG_SPECIALTY = 0x83

SW_SECURITY_NOT_SATISFIED = 0x6982
SW_BLOCKED = 0x6983


def select(channel: CardChannel) -> None:
    response = channel.select_aid(CPS_AID)
    if response.sw != SW_OK:
        raise UnsupportedCardError("Ce n'est pas une carte CPS ou CPE (application absente).")


def read_holder(channel: CardChannel, card: CardInfo) -> CpsHolder:
    select(channel)
    return parse_holder(channel.read_binary_sfi(HOLDER_SFI, "lecture du porteur"), card)


def parse_holder(content: bytes, card: CardInfo) -> CpsHolder:
    holder = next((item for item in tlv.parse(content) if item.tag == TAG_HOLDER), None)
    if holder is None:
        raise CardDataError("Carte CPS : fichier du porteur illisible.")

    def text(tag: int, what: str) -> str:
        found = holder.find(tag)
        value = found.value.decode("latin-1").replace("\x00", " ").strip() if found else ""
        if not value:
            raise CardDataError(f"Carte CPS : {what} absent(e) de la carte.")
        return value

    written_type = text(TAG_CARD_TYPE, "le type de carte").lower()
    if written_type not in (CardType.CPS, CardType.CPE):
        raise CardDataError(f"Carte CPS : type de carte inattendu « {written_type.upper()} ».")
    ps_number = text(TAG_PS_NUMBER, "le numéro de professionnel")
    if not (ps_number.isascii() and ps_number.isdigit()):
        raise CardDataError("Carte CPS : numéro de professionnel invalide.")
    return CpsHolder(
        name=text(TAG_NAME, "le nom du porteur"),
        ps_number=ps_number,
        specialty=text(TAG_SPECIALTY, "la spécialité"),
        card_type=CardType(written_type),
    )


def read_certificate(channel: CardChannel) -> bytes:
    """The signing certificate (DER), filler after it cut off and the DER checked."""
    select(channel)
    content = channel.read_binary_sfi(CERTIFICATE_SFI, "lecture du certificat")
    return check_certificate(content)


def check_certificate(content: bytes) -> bytes:
    from cryptography import x509

    item, size = tlv.parse_one(content)
    if item.tag != 0x30:
        raise CardDataError("Certificat de la carte illisible (structure DER attendue).")
    der = bytes(content[:size])
    try:
        x509.load_der_x509_certificate(der)
    except ValueError:
        raise CardDataError("Certificat de la carte illisible (X.509 invalide).") from None
    return der


def _status(sw: int) -> int | None:
    """Tries left for a VERIFY status word, or None if the word is not about the PIN."""
    if sw == SW_OK:
        return MAX_PIN_TRIES
    if sw == SW_BLOCKED or sw == 0x63C0:
        raise CardBlockedError()
    if sw & 0xFFF0 == 0x63C0:
        return sw & 0x0F
    return None


def pin_tries_left(channel: CardChannel) -> int:
    """Tries left before blocking, asked without presenting a PIN (VERIFY with no data)."""
    select(channel)
    sw = channel.send(bytes([0x00, 0x20, 0x00, PIN_REFERENCE])).sw
    tries = _status(sw)
    if tries is None:
        raise CardCommandError("état du code porteur", sw)
    return tries


def verify_pin(channel: CardChannel, pin: str) -> int:
    """Present the PIN; returns the tries left (the full count after a success).

    Wrong PIN → :class:`WrongPinError` (tries left in the message); blocked →
    :class:`CardBlockedError`.
    """
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= PIN_LENGTH):
        raise PinFormatError(f"Code porteur invalide : de 4 à {PIN_LENGTH} chiffres attendus.")
    select(channel)
    command = bytearray([0x00, 0x20, 0x00, PIN_REFERENCE, PIN_LENGTH])
    command += pin.encode("ascii").ljust(PIN_LENGTH, bytes([PIN_PADDING]))
    try:
        sw = channel.send(bytes(command)).sw
    finally:
        command[5:] = bytes(PIN_LENGTH)  # do not leave the PIN in this buffer
    if sw == SW_OK:
        return MAX_PIN_TRIES
    tries = _status(sw)
    if tries is None:
        raise CardCommandError("vérification du code porteur", sw)
    raise WrongPinError(tries)


def sign(channel: CardChannel, data: bytes) -> Signature:
    """Sign SHA-256(data) with the card's key; the PIN must have been verified."""
    certificate = read_certificate(channel)  # also selects the application
    digest = hashlib.sha256(data).digest()
    mse = bytes([0x00, 0x22, 0x41, 0xB6, 0x06, 0x84, 0x01, KEY_REFERENCE, 0x80, 0x01])
    channel.expect(mse + bytes([ALGORITHM_RSA_SHA256]), "préparation de la signature (MSE)")
    response = channel.send(bytes([0x00, 0x2A, 0x9E, 0x9A, len(digest)]) + digest + b"\x00")
    if response.sw == SW_SECURITY_NOT_SATISFIED:
        raise PinRequiredError()
    if response.sw == SW_BLOCKED:
        raise CardBlockedError()
    if response.sw != SW_OK:
        raise CardCommandError("signature (PSO CDS)", response.sw)
    if not response.data:
        raise CardDataError("La carte n'a renvoyé aucune signature.")
    return Signature(
        value=response.data, certificate_der=certificate, algorithm=SIGNATURE_ALGORITHM
    )


def verify_signature(data: bytes, signature: Signature) -> bool:
    """True when ``signature`` is a valid signature of ``data`` by its certificate's key."""
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    if signature.algorithm != SIGNATURE_ALGORITHM:
        return False
    try:
        key = x509.load_der_x509_certificate(signature.certificate_der).public_key()
    except ValueError:
        return False
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(signature.value, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def certificate_summary(der: bytes) -> dict[str, str]:
    """Subject, issuer, serial and validity of a certificate, for display."""
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial_number": format(certificate.serial_number, "X"),
        "not_before": certificate.not_valid_before_utc.date().isoformat(),
        "not_after": certificate.not_valid_after_utc.date().isoformat(),
    }
