"""tuibill's own lot file (« fichier de lot », B2-like): writer, strict reader, mail naming.

The layout is specified in ``docs/formats/lot-file.md``; the tables there are rendered from the
record specs below (``describe_layout``) and a test keeps them equal.

It is written on the record kit of ``tuibill.formats.records`` (fixed-width 128-character
Latin-1 records, one per line), as the ARL and the SCOR manifest are.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from tuibill.domain.patients import QUALITIES
from tuibill.formats.errors import FormatError, UnsupportedVersionError
from tuibill.formats.interface import (
    SIGNATURE_ALGORITHMS,
    SIGNATURE_NONE,
    CaisseCode,
    CardType,
    FseLine,
    FseMode,
    FseRecord,
    FseSignature,
    LotFile,
    LotHeader,
)
from tuibill.formats.records import (
    Choice,
    Code,
    DateKind,
    Field,
    Filler,
    Flag,
    Literal,
    Number,
    RecordSpec,
    Text,
    TimeKind,
    Timestamp,
    join_records,
    record_error,
    seal,
    split_records,
    verify_checksum,
)

# --- the lot file ---------------------------------------------------------------------------

LOT_FORMAT_ID = "TBLOT"
LOT_FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({LOT_FORMAT_VERSION})
MAX_SIGNATURE_BYTES = 1024
SIGNATURE_CHUNK = 120


def _signature_chunk_count(length: int) -> int:
    """Records 31 needed for *length* bytes: ⌈⌈length ÷ 3⌉ × 4 ÷ 120⌉ base64 pieces."""
    base64_length = -(-length // 3) * 4
    return -(-base64_length // SIGNATURE_CHUNK)


MAX_SIGNATURE_CHUNKS = _signature_chunk_count(MAX_SIGNATURE_BYTES)

_AM = r"[0-9]{9}"
_PS_NUMBER = r"[0-9]{9}|[0-9]{11}"


def _nir_key_problem(value: str) -> str | None:
    number = int(value[:13].replace("2A", "19").replace("2B", "18"))
    expected = 97 - number % 97
    if int(value[13:]) != expected:
        return f"clé du NIR {value[13:]} fausse (attendue : {expected:02d})"
    return None


def _amounts(prefix: str = "") -> list[Field]:
    return [
        Field("total_cents", f"montant total{prefix}", 9, Number(0, 999_999_999)),
        Field("amo_cents", f"part AMO{prefix}", 9, Number(0, 999_999_999)),
        Field("amc_cents", f"part AMC{prefix}", 9, Number(0, 999_999_999)),
        Field("patient_cents", f"part patient{prefix}", 9, Number(0, 999_999_999)),
    ]


HEADER = RecordSpec(
    "00",
    "en-tête de lot",
    [
        Field("format_id", "identifiant du format", 5, Literal(LOT_FORMAT_ID)),
        Field("format_version", "version du format", 2, Number(1, 99)),
        Field(
            "sender_id",
            "identifiant de l'émetteur",
            14,
            Code(r"[A-Z0-9]{1,14}", "1 à 14 de A-Z 0-9"),
        ),
        Field("sender_name", "nom de l'émetteur", 30, Text()),
        Field("practitioner_am", "numéro AM du PS", 9, Code(_AM, "9 chiffres")),
        Field("destination_regime", "régime destinataire", 2, Code(r"[0-9]{2}", "2 chiffres")),
        Field("destination_caisse", "caisse destinataire", 3, Code(r"[0-9]{3}", "3 chiffres")),
        Field("destination_centre", "centre destinataire", 4, Code(r"[0-9]{4}", "4 chiffres")),
        Field("lot_number", "numéro de lot", 3, Number(1, 999)),
        Field("created_at", "date et heure de création", 14, Timestamp()),
        Field("software_name", "logiciel", 20, Text()),
        Field("software_version", "version du logiciel", 10, Text()),
        Field("filler", "réservé", 10, Filler()),
    ],
)

FSE_IDENTITY = RecordSpec(
    "10",
    "en-tête de FSE, bénéficiaire",
    [
        Field("invoice_number", "numéro de facture", 9, Number(1, 999_999_999)),
        Field(
            "mode",
            "mode de la FSE",
            1,
            Choice(
                [("V", FseMode.SESAM_VITALE, "SESAM-Vitale"), ("D", FseMode.DEGRADE, "dégradé")]
            ),
        ),
        Field("billing_date", "date de facturation", 8, DateKind()),
        Field("patient_last_name", "nom du bénéficiaire", 40, Text()),
        Field("patient_first_name", "prénom du bénéficiaire", 30, Text()),
        Field("birth_date", "date de naissance", 8, DateKind()),
        Field(
            "nir",
            "NIR",
            15,
            Code(
                r"[0-9]{5}(?:[0-9]{2}|2A|2B)[0-9]{8}",
                "13 caractères (chiffres, 2A/2B pour la Corse) et une clé de 2 chiffres juste",
                check=_nir_key_problem,
            ),
        ),
        Field("rank", "rang de naissance", 1, Number(1, 9)),
        Field(
            "quality",
            "qualité du bénéficiaire",
            2,
            Choice([(code, code, label) for code, label in QUALITIES.items()]),
        ),
        Field("filler", "réservé", 12, Filler()),
    ],
)

FSE_COVERAGE = RecordSpec(
    "11",
    "en-tête de FSE, prise en charge",
    [
        Field("amo_regime", "régime AMO", 2, Code(r"[0-9]{2}", "2 chiffres")),
        Field("amo_caisse", "caisse AMO", 3, Code(r"[0-9]{3}", "3 chiffres")),
        Field("amo_centre", "centre AMO", 4, Code(r"[0-9]{4}", "4 chiffres")),
        Field(
            "amc_number",
            "numéro AMC",
            10,
            Code(r"[A-Z0-9]{1,10}", "1 à 10 de A-Z 0-9", optional=True),
        ),
        Field("amo_tiers_payant", "tiers payant AMO", 1, Flag()),
        Field("amc_tiers_payant", "tiers payant AMC", 1, Flag()),
        Field("amo_rate", "taux AMO", 3, Number(0, 100)),
        Field(
            "prescriber_number",
            "numéro du prescripteur",
            11,
            Code(_PS_NUMBER, "9 chiffres (AM) ou 11 (RPPS)", optional=True),
        ),
        Field("prescription_date", "date de prescription", 8, DateKind(optional=True)),
        *_amounts(" de la FSE"),
        Field("line_count", "nombre de lignes d'acte", 3, Number(1, 999)),
        Field("filler", "réservé", 44, Filler()),
    ],
)

ACT_LINE = RecordSpec(
    "20",
    "ligne d'acte",
    [
        Field("line_number", "numéro de ligne", 3, Number(1, 999)),
        Field("act_date", "date de l'acte", 8, DateKind()),
        Field("act_time", "heure de l'acte", 4, TimeKind()),
        Field("code", "code acte", 8, Code(r"[A-Z0-9]{1,8}", "1 à 8 de A-Z 0-9")),
        Field("coefficient_x100", "coefficient (centièmes)", 5, Number(1, 99_999)),
        Field("quantity", "quantité", 4, Number(1, 9_999)),
        Field("unit_cents", "prix unitaire", 9, Number(0, 999_999_999)),
        *_amounts(),
        Field("filler", "réservé", 49, Filler()),
    ],
)

SIGNATURE = RecordSpec(
    "30",
    "signature",
    [
        Field(
            "card_type",
            "type de carte",
            3,
            Choice(
                [
                    ("CPS", CardType.CPS, "carte du PS"),
                    ("CPE", CardType.CPE, "carte d'établissement"),
                ],
                optional=True,
            ),
        ),
        Field(
            "algorithm",
            "algorithme",
            12,
            Choice([(name, name, "") for name in SIGNATURE_ALGORITHMS]),
        ),
        Field(
            "signer",
            "signataire",
            11,
            Code(_PS_NUMBER, "9 chiffres (AM) ou 11 (RPPS)", optional=True),
        ),
        Field("length", "longueur de la signature (octets)", 4, Number(0, MAX_SIGNATURE_BYTES)),
        Field(
            "chunk_count", "nombre d'enregistrements de suite", 2, Number(0, MAX_SIGNATURE_CHUNKS)
        ),
        Field("filler", "réservé", 94, Filler()),
    ],
)

SIGNATURE_PART = RecordSpec(
    "31",
    "suite de signature",
    [
        Field("sequence", "numéro d'ordre", 2, Number(1, MAX_SIGNATURE_CHUNKS)),
        Field(
            "chunk",
            "morceau de signature (base64)",
            SIGNATURE_CHUNK,
            Code(
                r"[A-Za-z0-9+/=]{1,120}", "base64 standard, 120 caractères sauf le dernier morceau"
            ),
        ),
        Field("filler", "réservé", 4, Filler()),
    ],
)

TRAILER = RecordSpec(
    "90",
    "fin de lot",
    [
        Field("fse_count", "nombre de FSE", 4, Number(1, 9_999)),
        Field("line_count", "nombre de lignes d'acte", 6, Number(1, 999_999)),
        Field("record_count", "nombre d'enregistrements", 6, Number(1, 999_999)),
        Field("total_cents", "montant total du lot", 11, Number(0, 99_999_999_999)),
        Field("amo_cents", "part AMO du lot", 11, Number(0, 99_999_999_999)),
        Field("amc_cents", "part AMC du lot", 11, Number(0, 99_999_999_999)),
        Field("patient_cents", "part patient du lot", 11, Number(0, 99_999_999_999)),
        Field(
            "checksum",
            "empreinte SHA-256",
            64,
            Code(r"[0-9a-f]{64}", "64 chiffres hexadécimaux minuscules"),
        ),
        Field("filler", "réservé", 2, Filler()),
    ],
)

LOT_RECORDS = (HEADER, FSE_IDENTITY, FSE_COVERAGE, ACT_LINE, SIGNATURE, SIGNATURE_PART, TRAILER)


def line_total(unit_cents: int, coefficient_x100: int, quantity: int) -> int:
    """Tariff × coefficient × quantity, rounded half up to the cent (as pricing does)."""
    return (2 * unit_cents * coefficient_x100 * quantity + 100) // 200


def _header_values(header: object) -> dict[str, object]:
    if not isinstance(header, LotHeader) or not isinstance(header.destination, CaisseCode):
        raise HEADER.error(
            1, "type", "un LotHeader avec une destination CaisseCode est attendu", writing=True
        )
    return {
        "format_version": header.format_version,
        "sender_id": header.sender_id,
        "sender_name": header.sender_name,
        "practitioner_am": header.practitioner_am,
        "destination_regime": header.destination.regime,
        "destination_caisse": header.destination.caisse,
        "destination_centre": header.destination.centre,
        "lot_number": header.lot_number,
        "created_at": header.created_at,
        "software_name": header.software_name,
        "software_version": header.software_version,
    }


def _header_from(values: dict[str, Any]) -> LotHeader:
    return LotHeader(
        sender_id=values["sender_id"],
        sender_name=values["sender_name"],
        practitioner_am=values["practitioner_am"],
        destination=CaisseCode(
            values["destination_regime"],
            values["destination_caisse"],
            values["destination_centre"],
        ),
        lot_number=values["lot_number"],
        created_at=values["created_at"],
        software_name=values["software_name"],
        software_version=values["software_version"],
        format_version=values["format_version"],
    )


def _fse_records(fse: object, first: int) -> list[str]:
    """Encode one FSE's records (field rules only); *first* is the number of its record 10."""
    if not isinstance(fse, FseRecord):
        raise FSE_IDENTITY.error(first, "type", "une FseRecord est attendue", writing=True)
    records = [
        FSE_IDENTITY.encode(
            {
                "invoice_number": fse.invoice_number,
                "mode": fse.mode,
                "billing_date": fse.billing_date,
                "patient_last_name": fse.patient_last_name,
                "patient_first_name": fse.patient_first_name,
                "birth_date": fse.birth_date,
                "nir": fse.nir,
                "rank": fse.rank,
                "quality": fse.quality,
            },
            first,
        )
    ]
    if not isinstance(fse.amo, CaisseCode):
        raise FSE_COVERAGE.error(first + 1, "amo_regime", "un CaisseCode est attendu", writing=True)
    try:
        lines = tuple(fse.lines)
    except TypeError:
        raise FSE_COVERAGE.error(
            first + 1, "line_count", "une suite de FseLine est attendue", writing=True
        ) from None
    records.append(
        FSE_COVERAGE.encode(
            {
                "amo_regime": fse.amo.regime,
                "amo_caisse": fse.amo.caisse,
                "amo_centre": fse.amo.centre,
                "amc_number": fse.amc_number,
                "amo_tiers_payant": fse.amo_tiers_payant,
                "amc_tiers_payant": fse.amc_tiers_payant,
                "amo_rate": fse.amo_rate,
                "prescriber_number": fse.prescriber_number,
                "prescription_date": fse.prescription_date,
                "total_cents": fse.total_cents,
                "amo_cents": fse.amo_cents,
                "amc_cents": fse.amc_cents,
                "patient_cents": fse.patient_cents,
                "line_count": len(lines),
            },
            first + 1,
        )
    )
    for position, line in enumerate(lines, 1):
        number = first + 1 + position
        if not isinstance(line, FseLine):
            raise ACT_LINE.error(number, "type", "une FseLine est attendue", writing=True)
        records.append(
            ACT_LINE.encode(
                {
                    "line_number": position,
                    "act_date": line.act_date,
                    "act_time": line.act_time,
                    "code": line.code,
                    "coefficient_x100": line.coefficient_x100,
                    "quantity": line.quantity,
                    "unit_cents": line.unit_cents,
                    "total_cents": line.total_cents,
                    "amo_cents": line.amo_cents,
                    "amc_cents": line.amc_cents,
                    "patient_cents": line.patient_cents,
                },
                number,
            )
        )
    number = first + 2 + len(lines)
    signature = fse.signature
    if not isinstance(signature, FseSignature):
        raise SIGNATURE.error(number, "type", "une FseSignature est attendue", writing=True)
    if not isinstance(signature.value, bytes):
        raise SIGNATURE.error(
            number, "length", "la signature doit être faite d'octets", writing=True
        )
    text = base64.b64encode(signature.value).decode("ascii")
    chunks = [text[i : i + SIGNATURE_CHUNK] for i in range(0, len(text), SIGNATURE_CHUNK)]
    records.append(
        SIGNATURE.encode(
            {
                "card_type": signature.card_type,
                "algorithm": signature.algorithm,
                "signer": signature.signer,
                "length": len(signature.value),
                "chunk_count": len(chunks),
            },
            number,
        )
    )
    for sequence, chunk in enumerate(chunks, 1):
        records.append(
            SIGNATURE_PART.encode({"sequence": sequence, "chunk": chunk}, number + sequence)
        )
    return records


def _check_fse(fse: FseRecord, header: LotHeader, first: int, *, writing: bool) -> None:
    """The rules between fields and records of one FSE, the same for writer and reader."""
    coverage = first + 1

    def fail(spec: RecordSpec, number: int, name: str, reason: str) -> FormatError:
        return spec.error(number, name, reason, writing=writing)

    if fse.amo.destination != header.destination.destination:
        raise fail(
            FSE_COVERAGE,
            coverage,
            "amo_caisse",
            f"organisme AMO {fse.amo.regime} {fse.amo.caisse} différent de la destination du lot "
            f"{header.destination.regime} {header.destination.caisse}",
        )
    if (fse.prescriber_number is None) != (fse.prescription_date is None):
        missing = (
            "numéro du prescripteur" if fse.prescriber_number is None else "date de prescription"
        )
        name = "prescriber_number" if fse.prescriber_number is None else "prescription_date"
        raise fail(FSE_COVERAGE, coverage, name, f"{missing} absent alors que l'autre est donné")
    if fse.amc_number is None and fse.amc_tiers_payant:
        raise fail(FSE_COVERAGE, coverage, "amc_tiers_payant", "tiers payant AMC sans numéro AMC")
    if fse.amc_number is None and fse.amc_cents:
        raise fail(FSE_COVERAGE, coverage, "amc_cents", "part AMC sans numéro AMC")

    for position, line in enumerate(fse.lines, 1):
        number = coverage + position
        shares = line.amo_cents + line.amc_cents + line.patient_cents
        if shares != line.total_cents:
            raise fail(
                ACT_LINE,
                number,
                "total_cents",
                f"{line.total_cents} différent de AMO + AMC + patient ({shares})",
            )
        expected = line_total(line.unit_cents, line.coefficient_x100, line.quantity)
        if expected != line.total_cents:
            raise fail(
                ACT_LINE,
                number,
                "total_cents",
                f"{line.total_cents} différent de prix unitaire × coefficient × quantité ({expected})",
            )
    for name in ("total_cents", "amo_cents", "amc_cents", "patient_cents"):
        stated = getattr(fse, name)
        summed = sum(getattr(line, name) for line in fse.lines)
        if stated != summed:
            raise fail(
                FSE_COVERAGE,
                coverage,
                name,
                f"{stated} différent de la somme des lignes ({summed})",
            )

    number = coverage + len(fse.lines) + 1
    signature = fse.signature
    if not signature.signed:
        if fse.mode == FseMode.SESAM_VITALE:
            raise fail(SIGNATURE, number, "algorithm", "une FSE SESAM-Vitale doit être signée")
        for name, value in (
            ("card_type", signature.card_type),
            ("signer", signature.signer),
            ("length", signature.value or None),
        ):
            if value is not None:
                raise fail(
                    SIGNATURE,
                    number,
                    name,
                    f"renseigné alors que l'algorithme est {SIGNATURE_NONE}",
                )
    else:
        for name, value in (
            ("card_type", signature.card_type),
            ("signer", signature.signer),
            ("length", signature.value or None),
        ):
            if value is None:
                raise fail(SIGNATURE, number, name, "absent alors que la FSE est signée")


class TuibillLotCodec:
    """tuibill's own lot file; see docs/formats/lot-file.md."""

    name = "tuibill"
    file_extension = ".b2t"

    def write(self, lot: LotFile) -> bytes:
        if not isinstance(lot, LotFile):
            raise FormatError("Écriture impossible : un LotFile est attendu.")
        header = lot.header
        records = [HEADER.encode(_header_values(header), 1)]
        if header.format_version not in SUPPORTED_VERSIONS:
            raise HEADER.error(
                1,
                "format_version",
                f"version {header.format_version} non prise en charge",
                writing=True,
                cls=UnsupportedVersionError,
            )
        fses = tuple(lot.fses)
        if not fses:
            raise FormatError("Écriture impossible : un lot contient au moins une FSE.")
        seen: set[int] = set()
        for fse in fses:
            first = len(records) + 1
            records.extend(_fse_records(fse, first))
            _check_fse(fse, header, first, writing=True)
            if fse.invoice_number in seen:
                raise FSE_IDENTITY.error(
                    first, "invoice_number", "facture déjà présente dans le lot", writing=True
                )
            seen.add(fse.invoice_number)
        trailer = lot.trailer
        return seal(
            records,
            TRAILER,
            {
                "fse_count": trailer.fse_count,
                "line_count": trailer.line_count,
                "record_count": len(records) + 1,
                "total_cents": trailer.total_cents,
                "amo_cents": trailer.amo_cents,
                "amc_cents": trailer.amc_cents,
                "patient_cents": trailer.patient_cents,
            },
        )

    def read(self, data: bytes) -> LotFile:
        records = split_records(data, "Fichier de lot")
        data = bytes(data)
        if records[0][:2] != HEADER.code:
            raise record_error(
                1, records[0][:2], "un fichier de lot commence par un en-tête de lot (type 00)"
            )
        # Identify the format before trusting the rest of the layout (the trailer included).
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
                "un fichier de lot finit par une fin de lot (type 90) : fichier tronqué ?",
            )
        verify_checksum(data, records, TRAILER)
        header = _header_from(HEADER.decode(records[0], 1))

        fses: list[FseRecord] = []
        seen: set[int] = set()
        index = 1
        while records[index][:2] != TRAILER.code:
            first = index + 1
            fse, index = _read_fse(records, index)
            _check_fse(fse, header, first, writing=False)
            if fse.invoice_number in seen:
                raise FSE_IDENTITY.error(
                    first, "invoice_number", "facture déjà présente dans le lot"
                )
            seen.add(fse.invoice_number)
            fses.append(fse)
        if index != last:
            raise record_error(
                index + 1, TRAILER.code, "fin de lot suivie d'autres enregistrements"
            )
        if not fses:
            raise TRAILER.error(index + 1, "fse_count", "un lot contient au moins une FSE")

        lot = LotFile(header=header, fses=tuple(fses))
        stated = TRAILER.decode(records[last], last + 1)
        expected = lot.trailer
        for name, value in (
            ("fse_count", expected.fse_count),
            ("line_count", expected.line_count),
            ("record_count", len(records)),
            ("total_cents", expected.total_cents),
            ("amo_cents", expected.amo_cents),
            ("amc_cents", expected.amc_cents),
            ("patient_cents", expected.patient_cents),
        ):
            if stated[name] != value:
                raise TRAILER.error(last + 1, name, f"{stated[name]} annoncé, {value} dans le lot")
        return lot


def _expect(records: list[str], index: int, spec: RecordSpec, what: str) -> dict[str, Any]:
    found = records[index][:2]
    if found != spec.code:
        raise record_error(index + 1, found, f"{what} (type {spec.code}) attendu ici")
    return spec.decode(records[index], index + 1)


def _read_fse(records: list[str], index: int) -> tuple[FseRecord, int]:
    """Read the FSE whose record 10 is at *index*; return it and the index after it.

    The caller guarantees the last record is a trailer (type 90), so every expectation below
    fails on it at the latest: no index runs past the end.
    """
    identity = _expect(records, index, FSE_IDENTITY, "un en-tête de FSE ou la fin de lot")
    coverage = _expect(records, index + 1, FSE_COVERAGE, "l'en-tête de prise en charge de la FSE")
    index += 2
    lines = []
    for position in range(1, coverage["line_count"] + 1):
        values = _expect(records, index, ACT_LINE, f"la ligne d'acte {position}")
        if values["line_number"] != position:
            raise ACT_LINE.error(
                index + 1, "line_number", f"{values['line_number']} au lieu de {position}"
            )
        lines.append(
            FseLine(
                act_date=values["act_date"],
                act_time=values["act_time"],
                code=values["code"],
                coefficient_x100=values["coefficient_x100"],
                quantity=values["quantity"],
                unit_cents=values["unit_cents"],
                total_cents=values["total_cents"],
                amo_cents=values["amo_cents"],
                amc_cents=values["amc_cents"],
                patient_cents=values["patient_cents"],
            )
        )
        index += 1
    signature, index = _read_signature(records, index)
    fse = FseRecord(
        invoice_number=identity["invoice_number"],
        mode=identity["mode"],
        billing_date=identity["billing_date"],
        patient_last_name=identity["patient_last_name"],
        patient_first_name=identity["patient_first_name"],
        birth_date=identity["birth_date"],
        nir=identity["nir"],
        rank=identity["rank"],
        quality=identity["quality"],
        amo=CaisseCode(coverage["amo_regime"], coverage["amo_caisse"], coverage["amo_centre"]),
        amc_number=coverage["amc_number"],
        amo_tiers_payant=coverage["amo_tiers_payant"],
        amc_tiers_payant=coverage["amc_tiers_payant"],
        amo_rate=coverage["amo_rate"],
        prescriber_number=coverage["prescriber_number"],
        prescription_date=coverage["prescription_date"],
        total_cents=coverage["total_cents"],
        amo_cents=coverage["amo_cents"],
        amc_cents=coverage["amc_cents"],
        patient_cents=coverage["patient_cents"],
        lines=tuple(lines),
        signature=signature,
    )
    return fse, index


def _read_signature(records: list[str], index: int) -> tuple[FseSignature, int]:
    head = _expect(records, index, SIGNATURE, "la signature de la FSE")
    number = index + 1
    length: int = head["length"]
    expected_chunks = _signature_chunk_count(length)
    if head["chunk_count"] != expected_chunks:
        raise SIGNATURE.error(
            number,
            "chunk_count",
            f"{head['chunk_count']} au lieu de {expected_chunks} pour {length} octets",
        )
    chunks = []
    for sequence in range(1, expected_chunks + 1):
        index += 1
        values = _expect(records, index, SIGNATURE_PART, f"la suite de signature {sequence}")
        if values["sequence"] != sequence:
            raise SIGNATURE_PART.error(
                index + 1, "sequence", f"{values['sequence']} au lieu de {sequence}"
            )
        chunk: str = values["chunk"]
        if sequence < expected_chunks and len(chunk) != SIGNATURE_CHUNK:
            raise SIGNATURE_PART.error(
                index + 1, "chunk", f"{len(chunk)} caractères au lieu de {SIGNATURE_CHUNK}"
            )
        chunks.append(chunk)
    text = "".join(chunks)
    value = b""
    if text:
        try:
            value = base64.b64decode(text, validate=True)
        except ValueError:
            raise SIGNATURE_PART.error(index + 1, "chunk", "base64 invalide") from None
        if len(value) != length or base64.b64encode(value).decode("ascii") != text:
            raise SIGNATURE_PART.error(
                index + 1,
                "chunk",
                f"base64 de {len(value)} octets ou non canonique, {length} annoncés",
            )
    signature = FseSignature(
        algorithm=head["algorithm"],
        signer=head["signer"],
        card_type=head["card_type"],
        value=value,
    )
    return signature, index + 1


def fse_signing_payload(fse: FseRecord) -> bytes:
    """The bytes a card signs for *fse*: its records 10, 11 and 20 as this codec writes them.

    They do not depend on the lot, so an FSE can be signed when it is validated, long before it
    is put in a lot. The signature itself stays opaque to the reader (form only).
    """
    records = _fse_records(fse, 1)
    return join_records(records[: 2 + len(tuple(fse.lines))])


# --- « Envoi par messagerie »: how a lot travels by e-mail -----------------------------------

LOT_SUBJECT_PREFIX = "TUIBILL LOT"
LOT_REFERENCE_HEADER = "X-Tuibill-Lot"
_ATTACHMENT = re.compile(r"LOT_([0-9]{9})_([0-9]{3})\.b2t")
_REFERENCE = re.compile(r"([0-9]{9}) ([0-9]{3}) ([0-9]{5})")


def lot_attachment_name(practitioner_am: str, lot_number: int) -> str:
    return f"LOT_{practitioner_am}_{lot_number:03d}.b2t"


def parse_lot_attachment_name(name: str) -> tuple[str, int] | None:
    """(AM number, lot number) from ``LOT_<am>_<lot>.b2t``, or None."""
    match = _ATTACHMENT.fullmatch(name or "")
    return (match.group(1), int(match.group(2))) if match else None


def lot_reference(practitioner_am: str, lot_number: int, destination: str) -> str:
    """``<AM> <lot 3 digits> <régime><caisse>``: the X-Tuibill-Lot value and the subject's tail."""
    return f"{practitioner_am} {lot_number:03d} {destination}"


def parse_lot_reference(text: str) -> tuple[str, int, str] | None:
    """(AM number, lot number, régime+caisse) from a reference or a subject ending with one."""
    match = _REFERENCE.search(text or "")
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def lot_mail_subject(header: LotHeader) -> str:
    reference = lot_reference(
        header.practitioner_am, header.lot_number, header.destination.destination
    )
    return f"{LOT_SUBJECT_PREFIX} {reference}"


def build_lot_message(
    data: bytes,
    header: LotHeader,
    *,
    sender: str,
    recipient: str,
    sent_at: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """The RFC 5322 message that carries a lot file to its caisse (see « Envoi par messagerie »)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = lot_mail_subject(header)
    message["Date"] = format_datetime(sent_at if sent_at.tzinfo else sent_at.astimezone())
    message["Message-ID"] = message_id or make_msgid(
        domain=sender.rpartition("@")[2] or "tuibill.invalid"
    )
    message[LOT_REFERENCE_HEADER] = lot_reference(
        header.practitioner_am, header.lot_number, header.destination.destination
    )
    message.set_content(
        f"Lot {header.lot_number:03d} du PS {header.practitioner_am} pour la caisse "
        f"{header.destination}, émis par {header.sender_name}.\n"
    )
    message.add_attachment(
        data,
        maintype="application",
        subtype="octet-stream",
        filename=lot_attachment_name(header.practitioner_am, header.lot_number),
    )
    return message


def attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every attachment of a parsed message (``policy=default``)."""
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append((part.get_filename() or "", payload))
    return found


def find_lot_attachment(message: EmailMessage) -> tuple[str, bytes] | None:
    """The lot file of a message: the attachment named ``*.b2t``, else its only attachment."""
    found = attachments(message)
    for name, payload in found:
        if name.lower().endswith(TuibillLotCodec.file_extension):
            return name, payload
    return found[0] if len(found) == 1 else None
