"""tuibill's ARL file: round trips, refusals, reason catalogue, mail conventions."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from format_samples import AM, arls, from_records, patch, records_of, reseal, sample_arl
from hypothesis import given, settings

from tuibill.domain.errors import ConfigError
from tuibill.formats import arl as arl_format
from tuibill.formats import get_arl_codec
from tuibill.formats.arl import (
    ARL_REASONS,
    MAX_DETAIL_LENGTH,
    TRAILER,
    TuibillArlCodec,
    fit_detail,
)
from tuibill.formats.codec import ArlCodec, ArlStatus
from tuibill.formats.errors import ChecksumError, FormatError, UnsupportedVersionError
from tuibill.transport.envelopes import (
    arl_attachment_name,
    arl_mail_subject,
    build_arl_message,
    find_arl_attachment,
)

CODEC = TuibillArlCodec()
POSITIVE = CODEC.write(sample_arl())
NEGATIVE = CODEC.write(sample_arl(positive=False))


def refused(data: bytes, cls: type[FormatError] = FormatError) -> str:
    with pytest.raises(cls) as caught:
        CODEC.read(data)
    return str(caught.value)


def test_round_trips():
    assert CODEC.read(POSITIVE) == sample_arl()
    assert CODEC.read(NEGATIVE) == sample_arl(positive=False)
    assert CODEC.read(POSITIVE).positive
    assert not CODEC.read(NEGATIVE).positive
    assert len(records_of(POSITIVE)) == 4
    assert len(records_of(NEGATIVE)) == 6  # two detail records


@settings(max_examples=80, deadline=None)
@given(arls())
def test_generated_arls_round_trip(arl):
    data = CODEC.write(arl)
    assert CODEC.read(data) == arl


def test_unknown_sender_is_blank():
    arl = replace(sample_arl(positive=False), sender_id=None)
    assert CODEC.read(CODEC.write(arl)).sender_id is None


def test_detail_boundaries():
    base = sample_arl(positive=False)
    for detail in ("x" * 120, "x" * 121, "a" + " " * 118 + "bc", "y" * MAX_DETAIL_LENGTH):
        arl = replace(base, detail=detail)
        assert CODEC.read(CODEC.write(arl)) == arl
    with pytest.raises(FormatError, match="1080 au plus"):
        CODEC.write(replace(base, detail="z" * (MAX_DETAIL_LENGTH + 1)))
    with pytest.raises(FormatError, match="espace"):
        CODEC.write(replace(base, detail="trailing "))


@pytest.mark.parametrize(
    ("arl", "words"),
    [
        (replace(sample_arl(), reason_code="001"), ["code motif", "positif"]),
        (replace(sample_arl(), detail="x"), ["détail", "positif"]),
        (replace(sample_arl(positive=False), reason_label=None), ["libellé du motif", "négatif"]),
        (replace(sample_arl(positive=False), reason_code=None), ["code motif", "négatif"]),
        (replace(sample_arl(positive=False), reason_code="1"), ["code motif"]),
        (replace(sample_arl(), lot_checksum="ABC"), ["empreinte SHA-256 du fichier de lot"]),
        (replace(sample_arl(), lot_number=1000), ["numéro de lot"]),
        (replace(sample_arl(), practitioner_am="12345678"), ["numéro AM du PS"]),
        (
            replace(sample_arl(), created_at=datetime(2025, 1, 1, 0, 0, 0, 1)),
            ["date et heure de l'ARL"],
        ),
    ],
)
def test_writer_refusals(arl, words):
    with pytest.raises(FormatError) as caught:
        CODEC.write(arl)
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize(
    ("record", "position", "text", "words"),
    [
        (3, 3, "X", ["Enregistrement 3 (type 20, statut)", "statut"]),
        (3, 3, "P", ["code motif", "positif"]),
        (3, 4, "   ", ["code motif", "négatif"]),
        (3, 87, "01", ["Enregistrement 5 (type « 21 »)", "fin d'ARL (type 90) attendue"]),
        (3, 87, "03", ["Enregistrement 6 (type « 90 »)", "détail 3"]),
        (4, 3, "02", ["numéro d'ordre", "au lieu de 1"]),
        (4, 5, " ", ["commence par une espace"]),
        (4, 10, "\x7f", ["texte", "non imprimable"]),
        (2, 29, "G", ["empreinte SHA-256 du fichier de lot"]),
        (1, 10, "1A", ["régime émetteur"]),
        (6, 3, "07", ["nombre d'enregistrements", "7 annoncé, 6 dans le fichier"]),
        (6, 128, "x", ["réservé"]),
    ],
)
def test_reader_refuses_each_defect(record, position, text, words):
    message = refused(patch(NEGATIVE, record, position, text, TRAILER))
    for word in words:
        assert word in message, message


def test_last_detail_piece_cannot_be_blank():
    records = records_of(NEGATIVE)
    records[4] = records[4][:4] + " " * 120 + records[4][124:]
    assert "dernier morceau de détail vide" in refused(reseal(from_records(records), TRAILER))


def test_missing_records_and_framing():
    records = records_of(POSITIVE)
    assert "le statut (type 20) attendu" in refused(
        reseal(from_records([records[0], records[1], records[3]]), TRAILER)
    )
    assert "référence du lot" in refused(
        reseal(from_records([records[0], records[2], records[3]]), TRAILER)
    )
    assert "fin d'ARL" in refused(POSITIVE[:-129])
    assert "fichier vide" in refused(b"")
    assert "CR LF" in refused(POSITIVE.replace(b"\n", b"\r\n"))


def test_checksum_and_version():
    refused(POSITIVE[:150] + b"9" + POSITIVE[151:], ChecksumError)
    message = refused(POSITIVE[:7] + b"07" + POSITIVE[9:], UnsupportedVersionError)
    assert "version 07" in message


def test_reason_catalogue():
    assert ARL_REASONS[arl_format.REASON_UNREADABLE] == "Fichier illisible"
    assert ARL_REASONS[arl_format.REASON_CHECKSUM] == "Checksum faux"
    assert ARL_REASONS[arl_format.REASON_UNKNOWN_SENDER] == "Émetteur inconnu"
    assert ARL_REASONS[arl_format.REASON_DUPLICATE] == "Lot en double"
    for code, label in ARL_REASONS.items():
        arl = replace(sample_arl(positive=False), reason_code=code, reason_label=label, detail=None)
        assert CODEC.read(CODEC.write(arl)) == arl


def test_fit_detail():
    assert fit_detail("  Ligne 1\nligne\t2  ") == "Ligne 1 ligne 2"
    assert fit_detail("Œuvre → fin") == "?uvre ? fin"
    assert len(fit_detail("x" * 5000) or "") == MAX_DETAIL_LENGTH
    assert fit_detail(" \n ") is None


def test_codec_registry():
    codec = get_arl_codec()
    assert isinstance(codec, TuibillArlCodec)
    assert isinstance(codec, ArlCodec)
    with pytest.raises(ConfigError, match="format d'ARL"):
        get_arl_codec("inconnu")


def test_arl_mail_round_trip():
    from email import policy
    from email.parser import BytesParser

    arl = sample_arl(positive=False)
    message = build_arl_message(
        NEGATIVE,
        arl,
        sender="caisse@cpam.example",
        recipient="cabinet@example.org",
        sent_at=datetime(2025, 3, 5, 19, 4),
        in_reply_to="<lot-695@example.org>",
    )
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Subject"] == "TUIBILL ARL 123456789 695 01281 NEGATIF 002"
    assert parsed["Subject"] == arl_mail_subject(arl)
    assert parsed["X-Tuibill-Arl"] == "NEGATIF 002"
    assert parsed["X-Tuibill-Lot"] == "123456789 695 01281"
    assert parsed["In-Reply-To"] == "<lot-695@example.org>"
    assert find_arl_attachment(parsed) == ("ARL_123456789_695.arl", NEGATIVE)
    assert "Checksum faux" in parsed.get_body(("plain",)).get_content()
    assert arl_attachment_name(AM, 5) == "ARL_123456789_005.arl"


def test_status_enum_values():
    assert ArlStatus("positive") is ArlStatus.POSITIVE
    assert ArlStatus("negative") is ArlStatus.NEGATIVE


def test_an_arl_written_in_utf8_is_refused_not_garbled():
    """Issue 13 #24: the format is Latin-1; a label written in UTF-8 would read « Ã‰metteur »."""
    records = records_of(NEGATIVE)
    records[3] = records[3][:4] + "Réseau" + records[3][10:]  # one Latin-1 byte, two in UTF-8
    latin1 = from_records(records)
    assert b"R\xe9seau" in latin1
    message = refused("".join(r + "\n" for r in records).encode("utf-8"))
    assert "encodé en UTF-8" in message and "Latin-1 (ISO-8859-1" in message
    assert "« é »" in message and "enregistrement 4" in message
