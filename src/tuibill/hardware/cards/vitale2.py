"""Read the public data of a Vitale 2 card, at APDU level, as Rufus and cardpeek do.

1. SELECT MF ``00 A4 00 00 02 3F 00`` (not 9000: not a Vitale);
2. READ BINARY short file 2 of the MF ``00 B0 82 00 00``: the identity file, one ``65`` template
   per bénéficiaire with ``80`` nom, ``81`` prénom, ``82`` date de naissance (AAAAMMJJ);
3. SELECT the VITALE application ``00 A4 04 00 0B D2 50 00 00 02 56 49 54 41 4C 45``;
4. READ BINARY short file 2 of VITALE: one ``65`` template per bénéficiaire with ``93`` NIR.

Everything is read before anything is parsed, and parsed before anything is returned: a card
pulled or a malformed field gives an error, never a partial patient.
"""

from __future__ import annotations

from datetime import date

from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fr import nir as stdnum_nir

from tuibill.hardware.cards import tlv
from tuibill.hardware.cards.apdu import SW_OK, CardChannel
from tuibill.hardware.cards.data import Beneficiary, CardInfo, VitaleData
from tuibill.hardware.cards.errors import CardCommandError, CardDataError, UnsupportedCardError

VITALE_AID = bytes.fromhex("D2 50 00 00 02 56 49 54 41 4C 45")  # "VITALE"
IDENTITY_SFI = 2
NIR_SFI = 2

TAG_BENEFICIARY = 0x65
TAG_LAST_NAME = 0x80
TAG_FIRST_NAME = 0x81
TAG_BIRTH_DATE = 0x82
# Rang de naissance: project-defined tag, written by tuibill's emulators only (*unverified*:
# public readers document no rank at APDU level). Absent on real cards → rank None.
TAG_RANK = 0x83
TAG_NIR = 0x93


def read(channel: CardChannel, card: CardInfo) -> VitaleData:
    if channel.select_mf().sw != SW_OK:
        raise UnsupportedCardError("Ce n'est pas une carte Vitale (fichier maître absent).")
    identity = channel.read_binary_sfi(IDENTITY_SFI, "lecture de l'identité")
    response = channel.select_aid(VITALE_AID)
    if response.sw != SW_OK:
        raise CardCommandError("sélection de l'application VITALE", response.sw)
    nirs = channel.read_binary_sfi(NIR_SFI, "lecture des NIR")
    return VitaleData(card=card, beneficiaries=parse_beneficiaries(identity, nirs))


def parse_beneficiaries(identity: bytes, nirs: bytes) -> tuple[Beneficiary, ...]:
    people = [item for item in tlv.parse(identity) if item.tag == TAG_BENEFICIARY]
    numbers = [item for item in tlv.parse(nirs) if item.tag == TAG_BENEFICIARY]
    if not people:
        raise CardDataError("Carte Vitale sans bénéficiaire lisible.")
    if len(numbers) != len(people):
        raise CardDataError(
            f"Carte Vitale incohérente : {len(people)} bénéficiaire(s) mais {len(numbers)} NIR."
        )
    return tuple(
        _beneficiary(index, person, number)
        for index, (person, number) in enumerate(zip(people, numbers, strict=True), start=1)
    )


def _field(item: tlv.Tlv, tag: int, what: str, index: int) -> str:
    found = item.find(tag)
    if found is None:
        raise CardDataError(f"Bénéficiaire n° {index} : {what} absent(e) de la carte.")
    # Latin-1, padded with spaces (sometimes NULs) up to the field's size.
    text = found.value.decode("latin-1").replace("\x00", " ").strip()
    if not text:
        raise CardDataError(f"Bénéficiaire n° {index} : {what} vide sur la carte.")
    return text


def parse_birth_date(text: str, index: int = 1) -> date:
    if len(text) != 8 or not (text.isascii() and text.isdigit()):
        raise CardDataError(f"Bénéficiaire n° {index} : date de naissance illisible « {text} ».")
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise CardDataError(
            f"Bénéficiaire n° {index} : date de naissance invalide « {text} »."
        ) from None


def _beneficiary(index: int, person: tlv.Tlv, number: tlv.Tlv) -> Beneficiary:
    last_name = _field(person, TAG_LAST_NAME, "le nom", index)
    first_name = _field(person, TAG_FIRST_NAME, "le prénom", index)
    birth_date = parse_birth_date(
        _field(person, TAG_BIRTH_DATE, "la date de naissance", index), index
    )
    rank: int | None = None
    rank_tlv = person.find(TAG_RANK)
    if rank_tlv is not None:
        text = rank_tlv.value.decode("latin-1").strip()
        if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 9):
            raise CardDataError(f"Bénéficiaire n° {index} : rang de naissance invalide.")
        rank = int(text)
    raw_nir = _field(number, TAG_NIR, "le NIR", index)
    try:
        nir = stdnum_nir.validate(raw_nir)
    except StdnumValidationError:
        # The NIR itself stays out of the message: it is shown at the desk and may be logged.
        raise CardDataError(
            f"Bénéficiaire n° {index} : NIR invalide sur la carte (clé de contrôle incorrecte "
            "ou format inattendu)."
        ) from None
    return Beneficiary(
        last_name=last_name, first_name=first_name, birth_date=birth_date, nir=nir, rank=rank
    )
