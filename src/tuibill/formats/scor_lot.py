"""tuibill's SCOR lot: the scanned PDF pieces of mode-dégradé FSE, in their own lot.

Specified in ``docs/formats/scor-lot.md``. A SCOR lot is a ZIP archive, *stored* (no
compression: PDFs are compressed already, and a stored archive cannot hide a decompression bomb),
holding a manifest ``MANIFEST.TXT`` — fixed-width 128-character Latin-1 records, on the record kit
and the header and trailer conventions of the lot file — then one entry per piece, in the
manifest's order. How a SCOR lot travels by e-mail is ``tuibill.transport.envelopes``'.

The writer is deterministic (entry times are the lot's creation time, fixed attributes), so the
strict reader can demand the canonical archive: after checking the manifest and every piece, it
writes the content back and compares, byte for byte. Like the other readers it returns the whole
content or raises :class:`FormatError`, never a partial result nor another exception.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tuibill.formats import lot_family
from tuibill.formats.codec import CaisseCode
from tuibill.formats.errors import FormatError
from tuibill.formats.records import (
    Choice,
    Field,
    Filler,
    Number,
    RecordSpec,
    Timestamp,
    describe_layout,
    record_error,
    seal,
    show,
)

SCOR_FORMAT_ID = "TBSCR"
SCOR_FORMAT_VERSION = 1
SUPPORTED_VERSIONS = frozenset({SCOR_FORMAT_VERSION})
MANIFEST_NAME = "MANIFEST.TXT"
PDF_MAGIC = b"%PDF-"
MAX_PIECE_BYTES = 20_000_000  # a scanned prescription is far smaller; bounds a hostile archive
MAX_PIECES = 9_999
MAX_PIECES_PER_INVOICE = 99
_ZIP_EPOCH = datetime(1980, 1, 1)


class ScorPieceKind(StrEnum):
    """What a piece is; the values are those of ``InvoicePiece.kind`` (others → AUTRE)."""

    PRESCRIPTION = "prescription"
    FEUILLE = "feuille"  # the mode-dégradé sheet signed by the patient
    AUTRE = "autre"

    @classmethod
    def of(cls, value: str) -> ScorPieceKind:
        try:
            return cls(value)
        except ValueError:
            return cls.AUTRE


@dataclass(frozen=True)
class ScorHeader:
    sender_id: str  # as in the lot file: 1–14 of A–Z 0–9
    sender_name: str
    practitioner_am: str
    destination: CaisseCode
    lot_number: int  # this SCOR lot's number (1–999)
    fse_lot_number: int  # the FSE lot whose invoices the pieces support
    created_at: datetime  # local time, whole seconds
    format_version: int = SCOR_FORMAT_VERSION


@dataclass(frozen=True)
class ScorPiece:
    invoice_number: int
    kind: ScorPieceKind
    data: bytes  # the PDF

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class ScorLot:
    header: ScorHeader
    pieces: tuple[ScorPiece, ...]  # the pieces of one invoice are consecutive

    @property
    def invoice_numbers(self) -> tuple[int, ...]:
        seen: list[int] = []
        for piece in self.pieces:
            if not seen or seen[-1] != piece.invoice_number:
                seen.append(piece.invoice_number)
        return tuple(seen)

    def entry_names(self) -> list[str]:
        """The archive name of each piece: ``<invoice, 9 digits>_<piece of the invoice>.pdf``."""
        names: list[str] = []
        previous, rank = None, 0
        for piece in self.pieces:
            rank = rank + 1 if piece.invoice_number == previous else 1
            previous = piece.invoice_number
            names.append(f"{piece.invoice_number:09d}_{rank:02d}.pdf")
        return names


# --- the manifest ---------------------------------------------------------------------------

_KINDS = [
    ("PRE", ScorPieceKind.PRESCRIPTION, "prescription"),
    ("FDS", ScorPieceKind.FEUILLE, "feuille de soins du mode dégradé"),
    ("AUT", ScorPieceKind.AUTRE, "autre pièce"),
]

HEADER = RecordSpec(
    "00",
    "en-tête de lot SCOR",
    [
        *lot_family.lot_header_fields(SCOR_FORMAT_ID, "numéro de lot SCOR"),
        Field("fse_lot_number", "numéro du lot de FSE accompagné", 3, Number(1, 999)),
        Field("created_at", "date et heure de création", 14, Timestamp()),
        Field("filler", "réservé", 37, Filler()),
    ],
)

PIECE = RecordSpec(
    "10",
    "pièce",
    [
        Field("sequence", "numéro d'ordre de la pièce", 4, Number(1, MAX_PIECES)),
        Field("invoice_number", "numéro de facture", 9, Number(1, 999_999_999)),
        Field("rank", "numéro de la pièce dans la facture", 2, Number(1, MAX_PIECES_PER_INVOICE)),
        Field("kind", "nature de la pièce", 3, Choice(_KINDS)),
        Field("size", "taille du PDF (octets)", 9, Number(len(PDF_MAGIC), MAX_PIECE_BYTES)),
        Field("sha256", "empreinte SHA-256 du PDF", 64, lot_family.SHA256),
        Field("filler", "réservé", 35, Filler()),
    ],
)

TRAILER = RecordSpec(
    "90",
    "fin de manifeste",
    [
        Field("piece_count", "nombre de pièces", 4, Number(1, MAX_PIECES)),
        Field("invoice_count", "nombre de factures", 4, Number(1, MAX_PIECES)),
        Field("total_size", "taille totale des PDF (octets)", 12, Number(1, 999_999_999_999)),
        lot_family.checksum_field(),
        Field("filler", "réservé", 42, Filler()),
    ],
)

SCOR_RECORDS = (HEADER, PIECE, TRAILER)


def _fail(message: str) -> FormatError:
    return FormatError(f"Lot SCOR : {message}")


def _manifest(lot: ScorLot) -> bytes:
    header = lot.header
    if not isinstance(header, ScorHeader) or not isinstance(header.destination, CaisseCode):
        raise _fail(
            "Écriture impossible : un ScorHeader avec une destination CaisseCode est attendu."
        )
    lot_family.check_version(HEADER, header.format_version, SUPPORTED_VERSIONS, writing=True)
    values = {
        **lot_family.lot_header_values(header),
        "fse_lot_number": header.fse_lot_number,
        "created_at": header.created_at,
    }
    records = [HEADER.encode(values, 1)]
    pieces = tuple(lot.pieces)
    if not pieces:
        raise _fail("Écriture impossible : un lot SCOR contient au moins une pièce.")
    if len(pieces) > MAX_PIECES:
        raise _fail(f"Écriture impossible : {len(pieces)} pièces, {MAX_PIECES} au plus.")
    _check_pieces(pieces, writing=True)
    names = lot.entry_names()
    for sequence, (piece, name) in enumerate(zip(pieces, names, strict=True), 1):
        records.append(
            PIECE.encode(
                {
                    "sequence": sequence,
                    "invoice_number": piece.invoice_number,
                    "rank": int(name[10:12]),
                    "kind": piece.kind,
                    "size": len(piece.data),
                    "sha256": piece.sha256,
                },
                sequence + 1,
            )
        )
    return seal(
        records,
        TRAILER,
        {
            "piece_count": len(pieces),
            "invoice_count": len(lot.invoice_numbers),
            "total_size": sum(len(piece.data) for piece in pieces),
        },
    )


def _check_pieces(pieces: tuple[ScorPiece, ...], *, writing: bool) -> None:
    """Rules between pieces, the same for writer and reader."""
    prefix = "Écriture impossible : " if writing else ""
    done: set[int] = set()
    previous = None
    rank = 0
    for sequence, piece in enumerate(pieces, 1):
        if not isinstance(piece, ScorPiece) or not isinstance(piece.data, bytes):
            raise _fail(f"{prefix}pièce {sequence} : une ScorPiece faite d'octets est attendue.")
        if piece.invoice_number != previous:
            if piece.invoice_number in done:
                raise _fail(
                    f"{prefix}pièce {sequence} : les pièces de la facture {piece.invoice_number:09d} "
                    "ne se suivent pas."
                )
            if previous is not None:
                done.add(previous)
            previous, rank = piece.invoice_number, 0
        rank += 1
        if rank > MAX_PIECES_PER_INVOICE:
            raise _fail(
                f"{prefix}facture {piece.invoice_number:09d} : plus de "
                f"{MAX_PIECES_PER_INVOICE} pièces."
            )
        if not piece.data.startswith(PDF_MAGIC):
            raise _fail(
                f"{prefix}pièce {sequence} (facture {piece.invoice_number:09d}) : ce n'est pas un "
                "PDF (il commence par « %PDF- »)."
            )
        if len(piece.data) > MAX_PIECE_BYTES:
            raise _fail(
                f"{prefix}pièce {sequence} (facture {piece.invoice_number:09d}) : "
                f"{len(piece.data)} octets, {MAX_PIECE_BYTES} au plus."
            )


def _zip_time(created_at: datetime) -> tuple[int, int, int, int, int, int]:
    # ZIP times start in 1980 and count seconds by two: the entries only need to be constant.
    moment = max(created_at, _ZIP_EPOCH)
    return (
        moment.year,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second // 2 * 2,
    )


def _entry(name: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when)
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = 3  # Unix: the attributes below mean the same everywhere
    info.external_attr = 0o100644 << 16
    return info


class ScorLotCodec:
    """The SCOR lot archive; see docs/formats/scor-lot.md."""

    name = "tuibill"

    def write(self, lot: ScorLot) -> bytes:
        if not isinstance(lot, ScorLot):
            raise _fail("Écriture impossible : un ScorLot est attendu.")
        manifest = _manifest(lot)
        when = _zip_time(lot.header.created_at)
        buffer = io.BytesIO()
        with zipfile.ZipFile(
            buffer, "w", compression=zipfile.ZIP_STORED, allowZip64=False
        ) as archive:
            archive.writestr(_entry(MANIFEST_NAME, when), manifest)
            for piece, name in zip(lot.pieces, lot.entry_names(), strict=True):
                archive.writestr(_entry(name, when), piece.data)
        return buffer.getvalue()

    def read(self, data: bytes) -> ScorLot:
        if isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if not isinstance(data, bytes):
            raise _fail("des octets sont attendus.")
        if not data.startswith(b"PK\x03\x04"):
            raise _fail("ce n'est pas une archive ZIP (signature « PK\\x03\\x04 » absente).")
        try:
            lot = self._read(data)
            canonical = self.write(lot)
        except FormatError:
            raise
        except Exception as error:  # zipfile raises many kinds on hostile input: one is ours
            raise _fail(f"archive ZIP illisible ({type(error).__name__} : {error}).") from None
        if canonical != data:
            raise _fail(
                "archive non canonique (ordre, dates, attributs ou octets en trop différents de "
                "ce qu'écrit tuibill) : fichier altéré ?"
            )
        return lot

    def _read(self, data: bytes) -> ScorLot:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
        if not entries or entries[0].filename != MANIFEST_NAME:
            raise _fail(f"la première entrée de l'archive doit être « {MANIFEST_NAME} ».")
        for info in entries:
            if info.compress_type != zipfile.ZIP_STORED:
                raise _fail(
                    f"entrée « {show(info.filename)} » compressée : les entrées sont stockées telles quelles."
                )
            if info.flag_bits & 0x1:
                raise _fail(f"entrée « {show(info.filename)} » chiffrée.")
            if info.file_size > MAX_PIECE_BYTES + 1_000_000:
                raise _fail(
                    f"entrée « {show(info.filename)} » trop grande ({info.file_size} octets)."
                )
        manifest = archive.read(entries[0])
        header, rows, trailer = _read_manifest(manifest)
        names = [info.filename for info in entries[1:]]
        if len(names) != len(rows):
            raise _fail(
                f"le manifeste annonce {len(rows)} pièces, l'archive en contient {len(names)}."
            )
        pieces: list[ScorPiece] = []
        for sequence, (row, info) in enumerate(zip(rows, entries[1:], strict=True), 1):
            expected = f"{row['invoice_number']:09d}_{row['rank']:02d}.pdf"
            if info.filename != expected:
                raise _fail(
                    f"entrée {sequence + 1} : « {show(info.filename)} » au lieu de « {expected} »."
                )
            if info.file_size != row["size"]:
                raise _fail(
                    f"pièce « {expected} » : {info.file_size} octets, le manifeste en annonce "
                    f"{row['size']}."
                )
            content = archive.read(info)
            digest = hashlib.sha256(content).hexdigest()
            if digest != row["sha256"]:
                raise _fail(
                    f"pièce « {expected} » : empreinte {digest[:16]}..., le manifeste annonce "
                    f"{row['sha256'][:16]}... (pièce altérée)."
                )
            pieces.append(ScorPiece(row["invoice_number"], row["kind"], content))
        lot = ScorLot(header=header, pieces=tuple(pieces))
        _check_pieces(lot.pieces, writing=False)
        for sequence, (row, name) in enumerate(zip(rows, lot.entry_names(), strict=True), 1):
            if int(name[10:12]) != row["rank"]:
                raise PIECE.error(
                    sequence + 1, "rank", f"{row['rank']} au lieu de {int(name[10:12])}"
                )
        for name, value in (
            ("piece_count", len(pieces)),
            ("invoice_count", len(lot.invoice_numbers)),
            ("total_size", sum(len(piece.data) for piece in pieces)),
        ):
            if trailer[name] != value:
                raise TRAILER.error(
                    len(rows) + 2, name, f"{trailer[name]} annoncé, {value} dans le lot"
                )
        return lot


def _read_manifest(data: bytes) -> tuple[ScorHeader, list[dict[str, Any]], dict[str, Any]]:
    records = lot_family.open_sealed(data, "Manifeste SCOR", HEADER, TRAILER, SUPPORTED_VERSIONS)
    last = len(records) - 1
    values = HEADER.decode(records[0], 1)
    header = ScorHeader(
        **lot_family.lot_heading_from(values),
        fse_lot_number=values["fse_lot_number"],
        created_at=values["created_at"],
    )
    rows = []
    for index in range(1, last):
        if records[index][:2] != PIECE.code:
            raise record_error(
                index + 1, records[index][:2], "une pièce (type 10) est attendue ici"
            )
        row = PIECE.decode(records[index], index + 1)
        if row["sequence"] != index:
            raise PIECE.error(index + 1, "sequence", f"{row['sequence']} au lieu de {index}")
        rows.append(row)
    if not rows:
        raise TRAILER.error(last + 1, "piece_count", "un lot SCOR contient au moins une pièce")
    return header, rows, TRAILER.decode(records[last], last + 1)


def manifest_bytes(lot: ScorLot) -> bytes:
    """The manifest alone, as written in the archive (for display and tests)."""
    return _manifest(lot)


def describe_manifest() -> str:
    """The manifest's record tables, as published in docs/formats/scor-lot.md."""
    return "\n\n".join(
        f"### `{spec.code}` — {spec.label}\n\n{describe_layout(spec)}" for spec in SCOR_RECORDS
    )
