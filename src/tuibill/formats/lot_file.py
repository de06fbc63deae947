"""tuibill's own lot file (« fichier de lot », B2-like): the file-level writer and strict reader.

The layout is specified in ``docs/formats/lot-file.md``; the tables there are rendered from the
record specs (``describe_layout``) and a test keeps them equal. A lot file is a header (type 00),
one record group per FSE (``tuibill.formats.fse_records``) and a trailer (type 90) that states
the counts and amounts and seals the file with a SHA-256. It is written on the record kit of
``tuibill.formats.records`` (fixed-width 128-character Latin-1 records, one per line), as the
ARL and the SCOR manifest are. How a lot travels by e-mail is ``tuibill.transport.envelopes``'.
"""

from __future__ import annotations

from typing import Any

from tuibill.formats.codec import CaisseCode, FseRecord, LotFile, LotHeader
from tuibill.formats.errors import FormatError
from tuibill.formats.fse_records import (
    FSE_IDENTITY,
    FSE_RECORDS,
    check_fse,
    read_fse,
    signing_payload,
    write_fse,
)
from tuibill.formats.lot_family import (
    check_version,
    checksum_field,
    lot_header_fields,
    lot_header_values,
    lot_heading_from,
    open_sealed,
)
from tuibill.formats.records import (
    Choice,
    Field,
    Filler,
    Number,
    RecordSpec,
    Text,
    Timestamp,
    record_error,
    seal,
)

LOT_FORMAT_ID = "TBLOT"
LOT_FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({LOT_FORMAT_VERSION})

HEADER = RecordSpec(
    "00",
    "en-tête de lot",
    [
        *lot_header_fields(LOT_FORMAT_ID),
        Field("created_at", "date et heure de création", 14, Timestamp()),
        Field("software_name", "logiciel", 20, Text()),
        Field("software_version", "version du logiciel", 10, Text()),
        # A lot of DRE (seed 003: the AMC part in tiers payant, to the mutuelle or its
        # concentrator) carries « D »; a lot of FSE leaves it blank (the files before it read).
        Field(
            "kind",
            "nature du lot",
            1,
            Choice([("D", "DRE", "DRE (part AMC en tiers payant)")], optional=True),
        ),
        Field("filler", "réservé", 9, Filler()),
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
        checksum_field(),
        Field("filler", "réservé", 2, Filler()),
    ],
)

LOT_RECORDS = (HEADER, *FSE_RECORDS, TRAILER)


def _header_values(header: object) -> dict[str, object]:
    if not isinstance(header, LotHeader) or not isinstance(header.destination, CaisseCode):
        raise HEADER.error(
            1, "type", "un LotHeader avec une destination CaisseCode est attendu", writing=True
        )
    return {
        **lot_header_values(header),
        "created_at": header.created_at,
        "software_name": header.software_name,
        "software_version": header.software_version,
        "kind": "DRE" if header.kind == "DRE" else None,
    }


def _header_from(values: dict[str, Any]) -> LotHeader:
    return LotHeader(
        **lot_heading_from(values),
        created_at=values["created_at"],
        software_name=values["software_name"],
        software_version=values["software_version"],
        kind=values.get("kind") or "FSE",
    )


def _check_unique(fse: FseRecord, seen: set[int], first: int, *, writing: bool) -> None:
    if fse.invoice_number in seen:
        raise FSE_IDENTITY.error(
            first, "invoice_number", "facture déjà présente dans le lot", writing=writing
        )
    seen.add(fse.invoice_number)


class TuibillLotCodec:
    """tuibill's own lot file; see docs/formats/lot-file.md."""

    name = "tuibill"

    def write(self, lot: LotFile) -> bytes:
        if not isinstance(lot, LotFile):
            raise FormatError("Écriture impossible : un LotFile est attendu.")
        header = lot.header
        records = [HEADER.encode(_header_values(header), 1)]
        check_version(HEADER, header.format_version, SUPPORTED_VERSIONS, writing=True)
        fses = tuple(lot.fses)
        if not fses:
            raise FormatError("Écriture impossible : un lot contient au moins une FSE.")
        seen: set[int] = set()
        destination = header.destination
        for fse in fses:
            first = len(records) + 1
            write_fse(records, fse, first)
            check_fse(fse, destination, first, writing=True)
            _check_unique(fse, seen, first, writing=True)
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
        records = open_sealed(data, "Fichier de lot", HEADER, TRAILER, SUPPORTED_VERSIONS)
        last = len(records) - 1
        header = _header_from(HEADER.decode(records[0], 1))

        fses: list[FseRecord] = []
        seen: set[int] = set()
        index = 1
        while records[index][:2] != TRAILER.code:
            first = index + 1
            fse, index = read_fse(records, index)
            check_fse(fse, header.destination, first, writing=False)
            _check_unique(fse, seen, first, writing=False)
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

    def signing_payload(self, fse: FseRecord) -> bytes:
        """The FSE's records 10, 11 and 20 as this file carries them (see fse_records)."""
        return signing_payload(fse)
