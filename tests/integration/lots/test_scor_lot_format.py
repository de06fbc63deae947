"""The SCOR lot archive: writer and strict reader (docs/formats/scor-lot.md)."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tuibill.formats.codec import CaisseCode
from tuibill.formats.errors import ChecksumError, FormatError
from tuibill.formats.scor_lot import (
    MANIFEST_NAME,
    ScorHeader,
    ScorLot,
    ScorLotCodec,
    ScorPiece,
    ScorPieceKind,
    describe_manifest,
    manifest_bytes,
)
from tuibill.transport.envelopes import SCOR_KIND, LotEnvelope, build_lot_message

DOC = Path(__file__).resolve().parents[3] / "docs" / "formats" / "scor-lot.md"
HEADER = ScorHeader(
    sender_id="123456789",
    sender_name="Cabinet infirmier des Épars",
    practitioner_am="123456789",
    destination=CaisseCode("01", "281", "0000"),
    lot_number=696,
    fse_lot_number=695,
    created_at=datetime(2025, 3, 5, 18, 42, 7),
)
LOT = ScorLot(
    HEADER,
    (
        ScorPiece(7433, ScorPieceKind.PRESCRIPTION, b"%PDF-1.4\nprescription\n%%EOF\n"),
        ScorPiece(7433, ScorPieceKind.FEUILLE, b"%PDF-1.4\nfeuille\n%%EOF\n"),
        ScorPiece(7435, ScorPieceKind.AUTRE, b"%PDF-1.7\nautre\n%%EOF\n"),
    ),
)
codec = ScorLotCodec()


def rezip(
    entries: list[tuple[zipfile.ZipInfo, bytes]], compression: int = zipfile.ZIP_STORED
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in entries:
            info.compress_type = compression
            archive.writestr(info, data)
    return buffer.getvalue()


def entries(data: bytes) -> list[tuple[zipfile.ZipInfo, bytes]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    return [(info, archive.read(info)) for info in archive.infolist()]


def test_round_trip_is_byte_identical_and_deterministic():
    data = codec.write(LOT)
    assert codec.read(data) == LOT
    assert codec.write(codec.read(data)) == data == codec.write(LOT)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert names == [MANIFEST_NAME, "000007433_01.pdf", "000007433_02.pdf", "000007435_01.pdf"]
    manifest = manifest_bytes(LOT).decode("latin-1").splitlines()
    assert manifest[0].startswith("00TBSCR01123456789     Cabinet infirmier des Épars")
    assert manifest[1][:20] == "10000100000743301PRE"
    assert all(len(line) == 128 for line in manifest)


def test_the_reader_refuses_anything_the_writer_would_not_write():
    data = codec.write(LOT)
    parts = entries(data)
    cases = {
        "compressed": rezip(parts, zipfile.ZIP_DEFLATED),
        "extra entry": rezip(parts + [(zipfile.ZipInfo("notes.txt"), b"x")]),
        "missing piece": rezip(parts[:-1]),
        "order": rezip([parts[0], parts[2], parts[1], parts[3]]),
        "other dates": rezip([(zipfile.ZipInfo(i.filename), d) for i, d in parts]),
        "trailing bytes": data + b"\0",
        "not a zip": b"%PDF-1.4 not an archive",
    }
    messages = {}
    for name, bad in cases.items():
        with pytest.raises(FormatError) as caught:
            codec.read(bad)
        messages[name] = str(caught.value)
    assert "compressée" in messages["compressed"]
    assert "annonce 3 pièces, l'archive en contient 4" in messages["extra entry"]
    assert "entrée 2 : « 000007433_02.pdf » au lieu de « 000007433_01.pdf »" in messages["order"]
    assert "non canonique" in messages["other dates"]
    assert "signature" in messages["not a zip"]
    assert all(message.startswith(("Lot SCOR", "Enregistrement")) for message in messages.values())


def test_an_altered_piece_or_manifest_is_named():
    parts = entries(codec.write(LOT))
    info, pdf = parts[2]
    altered = rezip(parts[:2] + [(info, pdf.replace(b"feuille", b"FEUILLE"))] + parts[3:])
    with pytest.raises(
        FormatError, match="pièce « 000007433_02.pdf » : empreinte .* \\(pièce altérée\\)"
    ):
        codec.read(altered)
    manifest_info, manifest = parts[0]
    tampered = manifest.replace(b"PRE", b"AUT", 1)
    with pytest.raises(ChecksumError, match="fichier altéré ou tronqué"):
        codec.read(rezip([(manifest_info, tampered)] + parts[1:]))


def test_writer_rules():
    def write(*pieces: ScorPiece) -> None:
        codec.write(ScorLot(HEADER, pieces))

    with pytest.raises(FormatError, match="au moins une pièce"):
        write()
    with pytest.raises(FormatError, match="ce n'est pas un PDF"):
        write(ScorPiece(1, ScorPieceKind.AUTRE, b"GIF89a"))
    with pytest.raises(FormatError, match="ne se suivent pas"):
        write(
            ScorPiece(1, ScorPieceKind.AUTRE, b"%PDF-a"),
            ScorPiece(2, ScorPieceKind.AUTRE, b"%PDF-b"),
            ScorPiece(1, ScorPieceKind.AUTRE, b"%PDF-c"),
        )
    assert ScorPieceKind.of("ordonnance") is ScorPieceKind.AUTRE


def test_mutated_archives_only_ever_raise_format_error():
    data = codec.write(LOT)
    rng = random.Random(2026)
    accepted = 0
    for _ in range(400):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        if rng.random() < 0.2:
            mutated = mutated[: rng.randrange(len(mutated))]
        try:
            result = codec.read(bytes(mutated))
        except FormatError:
            continue
        # Accepted only if it is canonical: written back, the same bytes.
        assert codec.write(result) == bytes(mutated)
        accepted += 1
    assert accepted < 40


def test_mail_conventions():
    message = build_lot_message(
        codec.write(LOT), LotEnvelope("123456789", 696, "01281", SCOR_KIND),
        sender="cabinet@example.org", recipient="lots@caisse.example",
        sent_at=datetime(2025, 3, 5, 18, 45, 0),
    )  # fmt: skip
    assert str(message["Subject"]) == "TUIBILL SCOR 123456789 696 01281"
    assert str(message["X-Tuibill-Lot"]) == "123456789 696 01281"
    assert str(message["X-Tuibill-Kind"]) == "SCOR"
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "SCOR_123456789_696.zip"
    assert attachment.get_content_type() == "application/zip"


def test_the_specification_shows_the_code_s_tables():
    text = DOC.read_text(encoding="utf-8")
    assert describe_manifest() in text


def test_the_specification_s_example_is_the_writer_s():
    import re

    (block,) = re.findall(r"```text\n(.*?)\n```", DOC.read_text(encoding="utf-8"), flags=re.DOTALL)
    padded = "".join(line.ljust(128) + "\n" for line in block.split("\n")).encode("latin-1")
    assert padded == manifest_bytes(LOT)
