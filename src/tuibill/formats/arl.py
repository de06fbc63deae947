"""tuibill's own ARL file (accusé de réception logique): writer, strict reader, mail naming.

The layout is specified in ``docs/formats/arl.md``; it uses the record layer of
``tuibill.formats.lot_file`` (fixed-width 128-character Latin-1 records, one per line).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from tuibill.formats.errors import FormatError, UnsupportedVersionError
from tuibill.formats.interface import (
    Arl,
    ArlStatus,
    CaisseCode,
)
from tuibill.formats.lot_file import (
    attachments,
    lot_reference,
)
from tuibill.formats.records import (
    PRINTABLE,
    Choice,
    Code,
    Field,
    Filler,
    Literal,
    Number,
    Raw,
    RecordSpec,
    Text,
    Timestamp,
    record_error,
    seal,
    split_records,
    verify_checksum,
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
        Field("format_id", "identifiant du format", 5, Literal(ARL_FORMAT_ID)),
        Field("format_version", "version du format", 2, Number(1, 99)),
        Field("emitter_regime", "régime émetteur", 2, Code(r"[0-9]{2}", "2 chiffres")),
        Field("emitter_caisse", "caisse émettrice", 3, Code(r"[0-9]{3}", "3 chiffres")),
        Field("emitter_centre", "centre émetteur", 4, Code(r"[0-9]{4}", "4 chiffres")),
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
            Code(r"[A-Z0-9]{1,14}", "1 à 14 de A-Z 0-9", optional=True),
        ),
        Field("practitioner_am", "numéro AM du PS", 9, Code(r"[0-9]{9}", "9 chiffres")),
        Field("lot_number", "numéro de lot", 3, Number(1, 999)),
        Field(
            "lot_checksum",
            "empreinte SHA-256 du fichier de lot",
            64,
            Code(r"[0-9a-f]{64}", "64 chiffres hexadécimaux minuscules"),
        ),
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

DETAIL = RecordSpec(
    "21",
    "détail du motif",
    [
        Field("sequence", "numéro d'ordre", 2, Number(1, MAX_DETAIL_RECORDS)),
        Field("text", "texte", DETAIL_CHUNK, Raw()),
        Field("filler", "réservé", 4, Filler()),
    ],
)

TRAILER = RecordSpec(
    "90",
    "fin d'ARL",
    [
        Field("record_count", "nombre d'enregistrements", 2, Number(4, 4 + MAX_DETAIL_RECORDS)),
        Field(
            "checksum",
            "empreinte SHA-256",
            64,
            Code(r"[0-9a-f]{64}", "64 chiffres hexadécimaux minuscules"),
        ),
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


def fit_detail(text: str) -> str | None:
    """*text* made fit for ``Arl.detail``: one line, printable Latin-1, cut to the maximum."""
    flat = " ".join(text.split())
    flat = "".join(char if PRINTABLE.fullmatch(char) else "?" for char in flat)
    return flat[:MAX_DETAIL_LENGTH].strip(" ") or None


class TuibillArlCodec:
    """tuibill's own ARL file; see docs/formats/arl.md."""

    name = "tuibill"
    file_extension = ".arl"

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
        if arl.format_version not in SUPPORTED_VERSIONS:
            raise HEADER.error(
                1,
                "format_version",
                f"version {arl.format_version} non prise en charge",
                writing=True,
                cls=UnsupportedVersionError,
            )
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
        records = split_records(data, "Fichier ARL")
        data = bytes(data)
        if records[0][:2] != HEADER.code:
            raise record_error(
                1, records[0][:2], "un fichier ARL commence par un en-tête d'ARL (type 00)"
            )
        version = HEADER.decode(records[0], 1, ("format_id", "format_version"))["format_version"]
        if version not in SUPPORTED_VERSIONS:
            raise HEADER.error(
                1,
                "format_version",
                f"version {version:02d} non prise en charge (versions lues : "
                f"{', '.join(f'{v:02d}' for v in sorted(SUPPORTED_VERSIONS))})",
                cls=UnsupportedVersionError,
            )
        last = len(records) - 1
        if last == 0 or records[last][:2] != TRAILER.code:
            raise record_error(
                last + 1,
                records[last][:2],
                "un fichier ARL finit par une fin d'ARL (type 90) : fichier tronqué ?",
            )
        verify_checksum(data, records, TRAILER)
        header = HEADER.decode(records[0], 1)
        expected = [(LOT_REFERENCE, "la référence du lot"), (STATUS, "le statut")]
        values: dict[str, Any] = {}
        for index, (spec, what) in enumerate(expected, 1):
            if index >= last or records[index][:2] != spec.code:
                raise record_error(
                    index + 1, records[index][:2], f"{what} (type {spec.code}) attendu ici"
                )
            values.update(spec.decode(records[index], index + 1))
        count: int = values["detail_count"]
        chunks = []
        for sequence in range(1, count + 1):
            index = 2 + sequence
            # records[last] is the trailer: the check below stops there at the latest.
            if index >= last or records[index][:2] != DETAIL.code:
                raise record_error(
                    index + 1, records[index][:2], f"le détail {sequence} (type 21) attendu ici"
                )
            part = DETAIL.decode(records[index], index + 1)
            if part["sequence"] != sequence:
                raise DETAIL.error(
                    index + 1, "sequence", f"{part['sequence']} au lieu de {sequence}"
                )
            text: str = part["text"]
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
            emitter=CaisseCode(
                header["emitter_regime"],
                header["emitter_caisse"],
                header["emitter_centre"],
            ),
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


# --- ARL by e-mail --------------------------------------------------------------------------

ARL_SUBJECT_PREFIX = "TUIBILL ARL"
ARL_STATUS_HEADER = "X-Tuibill-Arl"
_ATTACHMENT = re.compile(r"ARL_([0-9]{9})_([0-9]{3})\.arl")


def arl_attachment_name(practitioner_am: str, lot_number: int) -> str:
    return f"ARL_{practitioner_am}_{lot_number:03d}.arl"


def parse_arl_attachment_name(name: str) -> tuple[str, int] | None:
    """(AM number, lot number) from ``ARL_<am>_<lot>.arl``, or None."""
    match = _ATTACHMENT.fullmatch(name or "")
    return (match.group(1), int(match.group(2))) if match else None


def arl_status_text(arl: Arl) -> str:
    """``POSITIF`` or ``NEGATIF <code>``: the X-Tuibill-Arl value and the subject's end."""
    return "POSITIF" if arl.positive else f"NEGATIF {arl.reason_code}"


def arl_mail_subject(arl: Arl) -> str:
    reference = lot_reference(arl.practitioner_am, arl.lot_number, arl.emitter.destination)
    return f"{ARL_SUBJECT_PREFIX} {reference} {arl_status_text(arl)}"


def build_arl_message(
    data: bytes,
    arl: Arl,
    *,
    sender: str,
    recipient: str,
    sent_at: datetime,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """The RFC 5322 message that carries an ARL file back to the practice."""
    from tuibill.formats.lot_file import LOT_REFERENCE_HEADER

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = arl_mail_subject(arl)
    message["Date"] = format_datetime(sent_at if sent_at.tzinfo else sent_at.astimezone())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "tuibill.invalid")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message[LOT_REFERENCE_HEADER] = lot_reference(
        arl.practitioner_am, arl.lot_number, arl.emitter.destination
    )
    message[ARL_STATUS_HEADER] = arl_status_text(arl)
    if arl.positive:
        text = (
            f"Le lot {arl.lot_number:03d} du PS {arl.practitioner_am} a été reçu : ARL positif.\n"
        )
    else:
        text = (
            f"Le lot {arl.lot_number:03d} du PS {arl.practitioner_am} est refusé : ARL négatif, "
            f"motif {arl.reason_code} « {arl.reason_label} ».\n"
        )
        if arl.detail:
            text += f"\n{arl.detail}\n"
    message.set_content(text)
    message.add_attachment(
        data,
        maintype="application",
        subtype="octet-stream",
        filename=arl_attachment_name(arl.practitioner_am, arl.lot_number),
    )
    return message


def find_arl_attachment(message: EmailMessage) -> tuple[str, bytes] | None:
    """The ARL file of a message: the attachment named ``*.arl``, else its only attachment."""
    found = attachments(message)
    for name, payload in found:
        if name.lower().endswith(TuibillArlCodec.file_extension):
            return name, payload
    return found[0] if len(found) == 1 else None
