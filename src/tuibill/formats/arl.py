"""tuibill's own ARL file (accusé de réception logique): writer, strict reader, reasons.

The layout is specified in ``docs/formats/arl.md``; it is written on the record kit of
``tuibill.formats.records`` (fixed-width 128-character Latin-1 records, one per line) with the
header and trailer conventions of ``tuibill.formats.lot_family``. How an ARL travels by e-mail
is ``tuibill.transport.envelopes``'.
"""

from __future__ import annotations

from typing import Any

from tuibill.formats.codec import Arl, ArlStatus, CaisseCode
from tuibill.formats.errors import FormatError
from tuibill.formats.lot_family import (
    AM_NUMBER,
    SENDER_ID_OR_NONE,
    SHA256,
    caisse_fields,
    caisse_from,
    check_version,
    checksum_field,
    continuation_record,
    format_fields,
    open_sealed,
    read_continuation,
)
from tuibill.formats.records import (
    PRINTABLE,
    Choice,
    Code,
    Field,
    Filler,
    Number,
    Raw,
    RecordSpec,
    Text,
    Timestamp,
    expect_record,
    record_error,
    seal,
    utf8_problem,
)

ARL_FORMAT_ID = "TBARL"
ARL_FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({ARL_FORMAT_VERSION})
DETAIL_CHUNK = 120
MAX_DETAIL_RECORDS = 9
MAX_DETAIL_LENGTH = DETAIL_CHUNK * MAX_DETAIL_RECORDS

# The reasons of a negative ARL. The reader accepts any well-formed code (a caisse may add
# some): the label travels with the code, so the user always reads why.
REASON_UNREADABLE = "001"
REASON_CHECKSUM = "002"
REASON_UNKNOWN_SENDER = "003"
REASON_DUPLICATE = "004"
REASON_VERSION = "005"
REASON_WRONG_DESTINATION = "006"
REASON_NO_ATTACHMENT = "007"
REASON_UNKNOWN_PRACTITIONER = "008"

ARL_REASONS: dict[str, str] = {
    REASON_UNREADABLE: "Fichier illisible",
    REASON_CHECKSUM: "Checksum faux",
    REASON_UNKNOWN_SENDER: "Émetteur inconnu",
    REASON_DUPLICATE: "Lot en double",
    REASON_VERSION: "Version de format non prise en charge",
    REASON_WRONG_DESTINATION: "Lot adressé à une autre caisse",
    REASON_NO_ATTACHMENT: "Pièce jointe absente",
    REASON_UNKNOWN_PRACTITIONER: "Professionnel de santé inconnu",
}

HEADER = RecordSpec(
    "00",
    "en-tête d'ARL",
    [
        *format_fields(ARL_FORMAT_ID),
        *caisse_fields("emitter", "régime émetteur", "caisse émettrice", "centre émetteur"),
        Field("created_at", "date et heure de l'ARL", 14, Timestamp()),
        Field("filler", "réservé", 96, Filler()),
    ],
)

LOT_REFERENCE = RecordSpec(
    "10",
    "référence du lot",
    [
        Field(
            "sender_id",
            "identifiant de l'émetteur du lot",
            14,
            SENDER_ID_OR_NONE,
        ),
        Field("practitioner_am", "numéro AM du PS", 9, AM_NUMBER),
        Field("lot_number", "numéro de lot", 3, Number(1, 999)),
        Field("lot_checksum", "empreinte SHA-256 du fichier de lot", 64, SHA256),
        Field("filler", "réservé", 36, Filler()),
    ],
)

STATUS = RecordSpec(
    "20",
    "statut",
    [
        Field(
            "status",
            "statut",
            1,
            Choice([("P", ArlStatus.POSITIVE, "positif"), ("N", ArlStatus.NEGATIVE, "négatif")]),
        ),
        Field(
            "reason_code",
            "code motif",
            3,
            Code(r"[0-9A-Z]{3}", "3 de 0-9 A-Z, ARL négatif seulement", optional=True),
        ),
        Field("reason_label", "libellé du motif", 80, Text(optional=True)),
        Field(
            "detail_count", "nombre d'enregistrements de détail", 2, Number(0, MAX_DETAIL_RECORDS)
        ),
        Field("filler", "réservé", 40, Filler()),
    ],
)

DETAIL = continuation_record(
    "21", "détail du motif", MAX_DETAIL_RECORDS, Field("text", "texte", DETAIL_CHUNK, Raw())
)

TRAILER = RecordSpec(
    "90",
    "fin d'ARL",
    [
        Field("record_count", "nombre d'enregistrements", 2, Number(4, 4 + MAX_DETAIL_RECORDS)),
        checksum_field(),
        Field("filler", "réservé", 60, Filler()),
    ],
)

ARL_RECORDS = (HEADER, LOT_REFERENCE, STATUS, DETAIL, TRAILER)


def _check(arl: Arl, *, writing: bool) -> None:
    """The rules between the fields of the status, the same for writer and reader."""

    def fail(name: str, reason: str) -> FormatError:
        return STATUS.error(3, name, reason, writing=writing)

    if arl.status == ArlStatus.POSITIVE:
        for name, value in (
            ("reason_code", arl.reason_code),
            ("reason_label", arl.reason_label),
            ("detail_count", arl.detail),
        ):
            if value is not None:
                raise fail(name, "renseigné alors que l'ARL est positif")
    else:
        if arl.reason_code is None:
            raise fail("reason_code", "absent alors que l'ARL est négatif")
        if arl.reason_label is None:
            raise fail("reason_label", "absent alors que l'ARL est négatif")
    if arl.detail is not None and writing:
        if not isinstance(arl.detail, str) or not arl.detail or arl.detail != arl.detail.strip(" "):
            raise fail("detail_count", "détail vide, ou commençant ou finissant par une espace")
        if len(arl.detail) > MAX_DETAIL_LENGTH:
            raise fail(
                "detail_count",
                f"détail de {len(arl.detail)} caractères, {MAX_DETAIL_LENGTH} au plus",
            )
        if problem := utf8_problem(arl.detail):  # a pair across two detail records, too
            raise fail("detail_count", problem)


def fit_detail(text: str) -> str | None:
    """*text* made fit for ``Arl.detail``: one line, printable Latin-1, cut to the maximum."""
    flat = " ".join(text.split())
    flat = "".join(char if PRINTABLE.fullmatch(char) else "?" for char in flat)
    return flat[:MAX_DETAIL_LENGTH].strip(" ") or None


class TuibillArlCodec:
    """tuibill's own ARL file; see docs/formats/arl.md."""

    name = "tuibill"

    def write(self, arl: Arl) -> bytes:
        if not isinstance(arl, Arl) or not isinstance(arl.emitter, CaisseCode):
            raise FormatError(
                "Écriture impossible : un Arl avec un émetteur CaisseCode est attendu."
            )
        records = [
            HEADER.encode(
                {
                    "format_version": arl.format_version,
                    "emitter_regime": arl.emitter.regime,
                    "emitter_caisse": arl.emitter.caisse,
                    "emitter_centre": arl.emitter.centre,
                    "created_at": arl.created_at,
                },
                1,
            )
        ]
        check_version(HEADER, arl.format_version, SUPPORTED_VERSIONS, writing=True)
        records.append(
            LOT_REFERENCE.encode(
                {
                    "sender_id": arl.sender_id,
                    "practitioner_am": arl.practitioner_am,
                    "lot_number": arl.lot_number,
                    "lot_checksum": arl.lot_checksum,
                },
                2,
            )
        )
        _check(arl, writing=True)
        detail = arl.detail or ""
        chunks = [detail[i : i + DETAIL_CHUNK] for i in range(0, len(detail), DETAIL_CHUNK)]
        records.append(
            STATUS.encode(
                {
                    "status": arl.status,
                    "reason_code": arl.reason_code,
                    "reason_label": arl.reason_label,
                    "detail_count": len(chunks),
                },
                3,
            )
        )
        for sequence, chunk in enumerate(chunks, 1):
            records.append(DETAIL.encode({"sequence": sequence, "text": chunk}, 3 + sequence))
        return seal(records, TRAILER, {"record_count": len(records) + 1})

    def read(self, data: bytes) -> Arl:
        records = open_sealed(data, "Fichier ARL", HEADER, TRAILER, SUPPORTED_VERSIONS)
        last = len(records) - 1
        header = HEADER.decode(records[0], 1)
        # records[last] is the trailer: each expectation below stops there at the latest.
        values: dict[str, Any] = {
            **expect_record(records, 1, LOT_REFERENCE, "la référence du lot"),
            **expect_record(records, 2, STATUS, "le statut"),
        }
        count: int = values["detail_count"]
        chunks = []
        for sequence in range(1, count + 1):
            index = 2 + sequence
            text = read_continuation(records, index, DETAIL, sequence, f"le détail {sequence}")
            if sequence == count:
                text = text.rstrip(" ")
                if not text:
                    raise DETAIL.error(index + 1, "text", "dernier morceau de détail vide")
            if sequence == 1 and text[0] == " ":
                raise DETAIL.error(index + 1, "text", "le détail commence par une espace")
            chunks.append(text)
        if 3 + count != last:
            raise record_error(
                4 + count, records[3 + count][:2], "fin d'ARL (type 90) attendue ici"
            )
        trailer = TRAILER.decode(records[last], last + 1)
        if trailer["record_count"] != len(records):
            raise TRAILER.error(
                last + 1,
                "record_count",
                f"{trailer['record_count']} annoncé, {len(records)} dans le fichier",
            )
        arl = Arl(
            emitter=caisse_from(header, "emitter"),
            created_at=header["created_at"],
            sender_id=values["sender_id"],
            practitioner_am=values["practitioner_am"],
            lot_number=values["lot_number"],
            lot_checksum=values["lot_checksum"],
            status=values["status"],
            reason_code=values["reason_code"],
            reason_label=values["reason_label"],
            detail="".join(chunks) or None,
            format_version=header["format_version"],
        )
        _check(arl, writing=False)
        return arl
