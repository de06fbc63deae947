"""What tuibill's own transmission files share: the lot file, the ARL and the SCOR manifest.

Each is a run of 128-character records (``tuibill.formats.records``) that opens with a header
naming the format and its version and closes with a trailer sealing a SHA-256 of everything
before it; each names the practice, the PS, the caisse and the lot with the same fields. They are
defined once here, so that the three specifications spell them alike.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Protocol, cast

from tuibill.formats.codec import CaisseCode
from tuibill.formats.errors import UnsupportedVersionError
from tuibill.formats.records import (
    RECORD_WIDTH,
    Code,
    Field,
    Filler,
    Literal,
    Number,
    RecordSpec,
    Text,
    expect_record,
    record_error,
    split_records,
    verify_checksum,
)

SENDER_ID = Code(r"[A-Z0-9]{1,14}", "1 à 14 de A-Z 0-9")
SENDER_ID_OR_NONE = Code(r"[A-Z0-9]{1,14}", "1 à 14 de A-Z 0-9", optional=True)
AM_NUMBER = Code(r"[0-9]{9}", "9 chiffres")
PS_NUMBER_PATTERN = r"[0-9]{9}|[0-9]{11}"  # AM (9 digits) or RPPS (11)
SHA256 = Code(r"[0-9a-f]{64}", "64 chiffres hexadécimaux minuscules")


def _digits(count: int) -> Code:
    return Code(f"[0-9]{{{count}}}", f"{count} chiffres")


def format_fields(format_id: str) -> list[Field]:
    """The header's first fields: which format, which version of it."""
    return [
        Field("format_id", "identifiant du format", 5, Literal(format_id)),
        Field("format_version", "version du format", 2, Number(1, 99)),
    ]


def checksum_field() -> Field:
    """The trailer's seal: SHA-256 of every byte before it (see ``records.seal``)."""
    return Field("checksum", "empreinte SHA-256", 64, SHA256)


def caisse_fields(prefix: str, regime: str, caisse: str, centre: str) -> list[Field]:
    """Régime, caisse, centre of an organism: ``<prefix>_regime``… with their French labels."""
    return [
        Field(f"{prefix}_regime", regime, 2, _digits(2)),
        Field(f"{prefix}_caisse", caisse, 3, _digits(3)),
        Field(f"{prefix}_centre", centre, 4, _digits(4)),
    ]


def caisse_from(values: dict[str, Any], prefix: str) -> CaisseCode:
    return CaisseCode(
        values[f"{prefix}_regime"], values[f"{prefix}_caisse"], values[f"{prefix}_centre"]
    )


def lot_header_fields(format_id: str, number_label: str = "numéro de lot") -> list[Field]:
    """The header fields of a lot (FSE or SCOR): format, sender, PS, destination, number."""
    return [
        *format_fields(format_id),
        Field("sender_id", "identifiant de l'émetteur", 14, SENDER_ID),
        Field("sender_name", "nom de l'émetteur", 30, Text()),
        Field("practitioner_am", "numéro AM du PS", 9, AM_NUMBER),
        *caisse_fields(
            "destination", "régime destinataire", "caisse destinataire", "centre destinataire"
        ),
        Field("lot_number", number_label, 3, Number(1, 999)),
    ]


class LotHeading(Protocol):
    """What the headers of an FSE lot and of a SCOR lot both say."""

    sender_id: str
    sender_name: str
    practitioner_am: str
    destination: CaisseCode
    lot_number: int
    format_version: int


def lot_heading_from(values: dict[str, Any]) -> dict[str, Any]:
    """The :class:`LotHeading` attributes decoded from :func:`lot_header_fields`."""
    return {
        "sender_id": values["sender_id"],
        "sender_name": values["sender_name"],
        "practitioner_am": values["practitioner_am"],
        "destination": caisse_from(values, "destination"),
        "lot_number": values["lot_number"],
        "format_version": values["format_version"],
    }


def lot_header_values(header: LotHeading) -> dict[str, object]:
    """The values of :func:`lot_header_fields` for *header*."""
    return {
        "format_version": header.format_version,
        "sender_id": header.sender_id,
        "sender_name": header.sender_name,
        "practitioner_am": header.practitioner_am,
        "destination_regime": header.destination.regime,
        "destination_caisse": header.destination.caisse,
        "destination_centre": header.destination.centre,
        "lot_number": header.lot_number,
    }


def check_version(
    header: RecordSpec, version: int, supported: Collection[int], *, writing: bool = False
) -> None:
    """:class:`UnsupportedVersionError` on record 1 if *version* is not one of *supported*."""
    if version in supported:
        return
    if writing:
        reason = f"version {version} non prise en charge"
    else:
        known = ", ".join(f"{v:02d}" for v in sorted(supported))
        reason = f"version {version:02d} non prise en charge (versions lues : {known})"
    raise header.error(1, "format_version", reason, writing=writing, cls=UnsupportedVersionError)


def open_sealed(
    data: object, what: str, header: RecordSpec, trailer: RecordSpec, supported: Collection[int]
) -> list[str]:
    """The records of a sealed file (*what*: « Fichier de lot »), its frame checked in the order
    that explains best: framing, then the header (type, format, version: the format is known
    before the rest of the layout, the trailer included, is trusted), then the trailer's type,
    then the checksum. The records between are the caller's to read.
    """
    records = split_records(data, what)
    noun = f"un {what[0].lower()}{what[1:]}"
    if records[0][:2] != header.code:
        reason = f"{noun} commence par un {header.label} (type {header.code})"
        raise record_error(1, records[0][:2], reason)
    version = header.decode(records[0], 1, ("format_id", "format_version"))["format_version"]
    check_version(header, version, supported)
    end = len(records) - 1
    if end == 0 or records[end][:2] != trailer.code:
        reason = f"{noun} finit par une {trailer.label} (type {trailer.code}) : fichier tronqué ?"
        raise record_error(end + 1, records[end][:2], reason)
    verify_checksum(bytes(cast(bytes, data)), records, trailer)
    return records


def continuation_record(code: str, label: str, maximum: int, piece: Field) -> RecordSpec:
    """A record carrying one *piece* of a value too long for one record (a signature, an ARL's
    detail): its sequence number from 1 to *maximum*, the piece, spaces."""
    filler = RECORD_WIDTH - len(code) - 2 - piece.width
    return RecordSpec(
        code,
        label,
        [
            Field("sequence", "numéro d'ordre", 2, Number(1, maximum)),
            piece,
            Field("filler", "réservé", filler, Filler()),
        ],
    )


def read_continuation(
    records: list[str], index: int, spec: RecordSpec, sequence: int, what: str
) -> str:
    """The piece carried by ``records[index]``, which must be *spec*'s record number *sequence*."""
    values = expect_record(records, index, spec, what)
    if values["sequence"] != sequence:
        raise spec.error(index + 1, "sequence", f"{values['sequence']} au lieu de {sequence}")
    piece = spec.fields[2]  # after the type and the sequence
    return cast(str, values[piece.name])
