"""tuibill's lot file: round trips, the writer's refusals, the reader's strictness per defect."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from format_samples import (
    AM,
    from_records,
    lots,
    make_fse,
    make_line,
    patch,
    records_of,
    reseal,
    sample_lot,
)
from hypothesis import given, settings

from tuibill import config, formats
from tuibill.domain.errors import ConfigError, TuibillError
from tuibill.formats import get_lot_codec, register_lot_codec
from tuibill.formats.codec import FseMode, FseSignature, LotFile, LotFileCodec
from tuibill.formats.errors import ChecksumError, FormatError, UnsupportedVersionError
from tuibill.formats.lot_file import TRAILER, TuibillLotCodec
from tuibill.transport.envelopes import (
    LotEnvelope,
    build_lot_message,
    find_lot_attachment,
    lot_attachment_name,
    parse_lot_attachment_name,
    parse_lot_reference,
)

CODEC = TuibillLotCodec()
VALID = CODEC.write(sample_lot())


def refused(data: bytes, cls: type[FormatError] = FormatError) -> FormatError:
    with pytest.raises(cls) as caught:
        CODEC.read(data)
    return caught.value


# --- round trips ----------------------------------------------------------------------------


def test_sample_lot_round_trip():
    lot = sample_lot()
    assert CODEC.read(VALID) == lot
    assert CODEC.write(CODEC.read(VALID)) == VALID


def test_every_record_is_128_latin1_characters_and_a_line_feed():
    assert len(VALID) % 129 == 0
    for record in VALID.split(b"\n")[:-1]:
        assert len(record) == 128
    assert "Épars".encode("latin-1") in VALID


def test_trailer_is_derived_from_the_fses():
    trailer = sample_lot().trailer
    assert trailer.fse_count == 2
    assert trailer.line_count == 4
    assert trailer.total_cents == trailer.amo_cents + trailer.amc_cents + trailer.patient_cents


@settings(max_examples=40, deadline=None)
@given(lots())
def test_generated_lots_round_trip(lot):
    data = CODEC.write(lot)
    assert CODEC.read(data) == lot
    assert CODEC.write(CODEC.read(data)) == data


def test_reader_takes_bytearray_and_memoryview():
    assert CODEC.read(bytearray(VALID)) == sample_lot()
    assert CODEC.read(memoryview(VALID)) == sample_lot()


def test_plain_string_mode_is_written_like_the_enum():
    lot = sample_lot()
    plain = replace(lot, fses=(replace(lot.fses[0], mode="degrade"), lot.fses[1]))
    assert CODEC.write(plain) == VALID


def test_signing_payload_is_the_fse_records_10_11_20():
    fse = sample_lot().fses[0]
    assert CODEC.signing_payload(fse) == from_records(records_of(VALID)[1:6])


def test_format_error_is_a_tuibill_error():
    assert issubclass(FormatError, TuibillError)
    assert issubclass(ChecksumError, FormatError)
    assert issubclass(UnsupportedVersionError, FormatError)


# --- the writer refuses what the reader would refuse ----------------------------------------


def _with_first_fse(**changes: object) -> LotFile:
    lot = sample_lot()
    return replace(lot, fses=(replace(lot.fses[0], **changes), lot.fses[1]))


@pytest.mark.parametrize(
    ("lot", "words"),
    [
        (
            _with_first_fse(patient_last_name="X" * 41),
            ["enregistrement 2 (type 10", "nom du bénéficiaire", "41 caractères"],
        ),
        (_with_first_fse(patient_first_name="Œdipe"), ["prénom du bénéficiaire", "hors Latin-1"]),
        (_with_first_fse(patient_first_name=" Alain"), ["prénom du bénéficiaire", "espace"]),
        (_with_first_fse(rank=True), ["rang de naissance", "un entier est attendu"]),
        (_with_first_fse(amo_rate=101), ["taux AMO", "hors de l'intervalle"]),
        (_with_first_fse(amc_number=""), ["numéro AMC"]),
        (
            _with_first_fse(total_cents=1),
            ["enregistrement 3 (type 11", "montant total de la FSE", "somme des lignes"],
        ),
        (_with_first_fse(prescription_date=None), ["date de prescription", "absent"]),
        (
            _with_first_fse(mode=FseMode.SESAM_VITALE),
            ["enregistrement 7 (type 30", "doit être signée"],
        ),
        (_with_first_fse(lines=()), ["nombre de lignes d'acte"]),
        (
            _with_first_fse(signature=FseSignature("AUCUNE", AM, None, b"")),
            ["signataire", "AUCUNE"],
        ),
        (_with_first_fse(invoice_number=7434), ["enregistrement 8 (type 10", "déjà présente"]),
        (replace(sample_lot(), fses=()), ["au moins une FSE"]),
        (
            replace(
                sample_lot(),
                header=replace(sample_lot().header, created_at=datetime(2025, 3, 5, 18, 42, 7, 5)),
            ),
            ["date et heure de création", "secondes entières"],
        ),
        (
            replace(
                sample_lot(),
                header=replace(sample_lot().header, created_at=datetime(2025, 3, 5, tzinfo=UTC)),
            ),
            ["sans fuseau"],
        ),
    ],
)
def test_writer_refuses_content_outside_the_format(lot, words):
    with pytest.raises(FormatError) as caught:
        CODEC.write(lot)
    message = str(caught.value)
    assert message.startswith("Écriture impossible")
    for word in words:
        assert word in message


def test_writer_refuses_a_line_whose_total_is_not_the_tariff():
    line = make_line("AMI", 315, coefficient=300)
    wrong = replace(line, total_cents=line.total_cents + 1, patient_cents=line.patient_cents + 1)
    lot = replace(sample_lot(), fses=(make_fse(1, (wrong,)),))
    with pytest.raises(FormatError, match="prix unitaire × coefficient × quantité"):
        CODEC.write(lot)


def test_writer_refuses_an_unknown_version_and_other_objects():
    lot = sample_lot()
    with pytest.raises(UnsupportedVersionError):
        CODEC.write(replace(lot, header=replace(lot.header, format_version=2)))
    with pytest.raises(FormatError):
        CODEC.write("not a lot")  # type: ignore[arg-type]
    with pytest.raises(FormatError):
        CODEC.write(replace(lot, fses=("not an FSE",)))  # type: ignore[arg-type]


# --- the reader's strictness, one kind of defect at a time -----------------------------------
# Sample file: 1 header · 2-7 FSE 7433 (10, 11, 20×3, 30) · 8-14 FSE 7434 (10, 11, 20, 30, 31×3) · 15 trailer.


@pytest.mark.parametrize(
    ("record", "position", "text", "words"),
    [
        (
            4,
            44,
            "00000A945",
            ["Enregistrement 4 (type 20, ligne d'acte)", "montant total", "positions 44 à 52"],
        ),
        (4, 44, "²", ["montant total", "n'est pas un nombre"]),
        (4, 44, " 00000945", ["montant total", "n'est pas un nombre"]),
        (2, 13, "20250230", ["Enregistrement 2 (type 10", "date de facturation", "calendrier"]),
        (2, 91, "18991231", ["date de naissance", "année 1899"]),
        (4, 14, "2460", ["heure de l'acte"]),
        (2, 112, "99", ["NIR", "clé"]),
        (2, 12, "X", ["mode de la FSE", "code prévu"]),
        (2, 115, "07", ["qualité du bénéficiaire"]),
        (2, 21, " DUPUIS", ["nom du bénéficiaire", "cadré à gauche"]),
        (2, 23, "\x01", ["nom du bénéficiaire", "non imprimable", "\\x01"]),
        (2, 23, "\xa0", ["nom du bénéficiaire", "non imprimable"]),
        (2, 128, "X", ["réservé", "espaces"]),
        (3, 22, "2", ["tiers payant AMO"]),
        (3, 24, "101", ["taux AMO", "hors de l'intervalle"]),
        (1, 3, "TBLOX", ["Enregistrement 1 (type 00", "identifiant du format"]),
        (1, 10, "abc", ["identifiant de l'émetteur"]),
        (1, 24, " ", ["nom de l'émetteur"]),
        (5, 3, "003", ["Enregistrement 5 (type 20", "numéro de ligne", "au lieu de 2"]),
        (4, 53, "000000568", ["Enregistrement 4", "montant total", "AMO + AMC + patient"]),
        (
            3,
            46,
            "000001641",
            ["Enregistrement 3 (type 11", "montant total de la FSE", "somme des lignes"],
        ),
        (
            15,
            3,
            "0003",
            ["Enregistrement 15 (type 90", "nombre de FSE", "3 annoncé, 2 dans le lot"],
        ),
        (15, 13, "000016", ["nombre d'enregistrements"]),
        (15, 19, "00000002114", ["montant total du lot"]),
        (3, 5, "282", ["caisse AMO", "destination du lot"]),
        (3, 38, "        ", ["date de prescription", "absent"]),
        (3, 12, "          ", ["tiers payant AMC sans numéro AMC"]),
        (2, 12, "V", ["Enregistrement 7 (type 30", "doit être signée"]),
        (7, 3, "CPS", ["type de carte", "AUCUNE"]),
        (11, 33, "02", ["Enregistrement 11 (type 30", "nombre d'enregistrements de suite"]),
        (11, 29, "0255", ["Enregistrement 14 (type 31", "255 annoncés"]),
        (11, 18, "           ", ["signataire", "absent alors que la FSE est signée"]),
        (12, 5, "!", ["Enregistrement 12 (type 31", "morceau de signature"]),
        (8, 3, "000007433", ["Enregistrement 8 (type 10", "déjà présente"]),
    ],
)
def test_reader_refuses_each_defect_with_record_and_field(record, position, text, words):
    error = refused(patch(VALID, record, position, text, TRAILER))
    message = str(error)
    for word in words:
        assert word in message, message
    assert error.record_number is not None


def test_unknown_and_misplaced_record_types():
    error = refused(patch(VALID, 5, 1, "25", TRAILER))
    assert "Enregistrement 5 (type « 25 »)" in str(error)
    assert "ligne d'acte 2 (type 20) attendu" in str(error)
    # One act line fewer announced: the third line stands where the signature is expected.
    error = refused(patch(VALID, 3, 82, "002", TRAILER))
    assert "Enregistrement 6 (type « 20 »)" in str(error)
    assert "signature" in str(error)


def test_non_canonical_base64_is_refused():
    records = records_of(VALID)
    last_piece = records[13]
    assert "Bg==" in last_piece
    records[13] = last_piece.replace("Bg==", "Bh==")
    error = refused(reseal(from_records(records), TRAILER))
    assert "non canonique" in str(error)
    assert base64.b64decode("Bg==") == base64.b64decode("Bh==")  # same bytes, two spellings


def test_records_after_the_trailer_or_no_fse():
    records = records_of(VALID)
    error = refused(reseal(from_records([*records, records[-1]]), TRAILER))
    assert "fin de lot suivie d'autres enregistrements" in str(error)
    error = refused(reseal(from_records([records[0], records[-1]]), TRAILER))
    assert "au moins une FSE" in str(error)


def test_checksum_mismatch_is_a_checksum_error():
    altered = VALID[:200] + b"X" + VALID[201:]
    error = refused(altered, ChecksumError)
    assert error.record_type == "90"
    assert error.field == "checksum"
    assert "empreinte SHA-256" in str(error)
    upper = patch(VALID, 15, 63, "A", TRAILER, sealed=False)
    assert not isinstance(refused(upper), ChecksumError)


def test_unknown_version_is_reported_before_anything_else():
    error = refused(VALID[:7] + b"02" + VALID[9:], UnsupportedVersionError)
    assert "version 02 non prise en charge" in str(error)
    error = refused(VALID[:7] + b"0A" + VALID[9:])
    assert not isinstance(error, UnsupportedVersionError)


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", ["fichier vide"]),
        (VALID.replace(b"\n", b"\r\n"), ["CR LF"]),
        (VALID[:-1], ["enregistrement 15", "incomplet", "tronqué"]),
        (VALID[:300], ["enregistrement 3", "incomplet"]),
        (VALID[:-129], ["Enregistrement 14 (type « 31 »)", "fin de lot (type 90)"]),
        (VALID[:129], ["Enregistrement 1", "fin de lot"]),
        (VALID[129:], ["Enregistrement 1 (type « 10 »)", "en-tête de lot"]),
        (VALID[:100] + b"\n" + VALID[101:], ["100 caractères avant le saut de ligne"]),
    ],
)
def test_framing_defects(data, words):
    message = str(refused(data))
    for word in words:
        assert word in message, message


def test_reader_refuses_text_input():
    with pytest.raises(FormatError, match="des octets sont attendus"):
        CODEC.read(VALID.decode("latin-1"))  # type: ignore[arg-type]


# --- codecs registry ------------------------------------------------------------------------


def test_default_codec_and_protocol():
    codec = get_lot_codec()
    assert isinstance(codec, TuibillLotCodec)
    assert isinstance(codec, LotFileCodec)
    assert codec.name == "tuibill"


def test_unknown_codec_is_a_config_error():
    with pytest.raises(ConfigError, match="format de lot « sesam-vitale » inconnu.*tuibill"):
        get_lot_codec("sesam-vitale")


def test_registered_codec(monkeypatch):
    monkeypatch.setattr(formats.LOT_CODECS, "registered", {})

    class Recorder(TuibillLotCodec):
        name = "recorder"

    register_lot_codec("recorder", Recorder)
    assert isinstance(get_lot_codec("recorder"), Recorder)


def test_entry_point_codec(monkeypatch):
    import importlib.metadata

    point = importlib.metadata.EntryPoint(
        name="certifie",
        value="tuibill.formats.lot_file:TuibillLotCodec",
        group=formats.LOT_CODEC_ENTRY_POINTS,
    )

    def fake_entry_points(*, group: str):
        return [point] if group == formats.LOT_CODEC_ENTRY_POINTS else []

    monkeypatch.setattr(importlib.metadata, "entry_points", fake_entry_points)
    assert isinstance(get_lot_codec("certifie"), TuibillLotCodec)
    # The setting selects it: accepted at load, then passed to the registry by every caller.
    settings = config.parse('[transmission]\nlot_codec = "certifie"\n', "cabinet.toml")
    assert settings.transmission.lot_codec == "certifie"
    assert isinstance(get_lot_codec(settings.transmission.lot_codec), TuibillLotCodec)
    assert formats.available_lot_codecs() == ["certifie", "tuibill"]


# --- mail conventions -----------------------------------------------------------------------


def test_lot_mail_round_trip():
    from email import policy
    from email.parser import BytesParser

    envelope = LotEnvelope(AM, 695, "01281")
    message = build_lot_message(
        VALID,
        envelope,
        sender="cabinet@example.org",
        recipient="lots@cpam.example",
        sent_at=datetime(2025, 3, 5, 18, 45),
    )
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Subject"] == "TUIBILL LOT 123456789 695 01281"
    assert parsed["X-Tuibill-Lot"] == "123456789 695 01281"
    assert find_lot_attachment(parsed) == ("LOT_123456789_695.b2t", VALID)
    assert parse_lot_reference(parsed["Subject"]) == ("123456789", 695, "01281")
    assert envelope.subject == parsed["Subject"]
    assert "Lot 695 du PS 123456789 pour la caisse 01 281." in parsed.get_body().get_content()


def test_a_lot_mail_is_addressed_from_the_envelope_alone():
    """The file is opaque: any codec's bytes travel, under the name the lot was given."""
    message = build_lot_message(
        b"certified bytes",
        LotEnvelope(AM, 7, "01594", file_name="LOT_123456789_007.b2t"),
        sender="cabinet@example.org",
        recipient="lots@cpam.example",
        sent_at=datetime(2025, 3, 5, 18, 45),
        message_id="<lot-7@example.org>",
    )
    assert message["Subject"] == "TUIBILL LOT 123456789 007 01594"
    assert message["Message-ID"] == "<lot-7@example.org>"
    assert find_lot_attachment(message) == ("LOT_123456789_007.b2t", b"certified bytes")


@pytest.mark.parametrize(
    ("envelope", "data", "words"),
    [
        (LotEnvelope(AM, 7, "01281"), b"", "Fichier du lot vide"),
        (LotEnvelope("12345678", 7, "01281"), b"x", "Numéro AM du PS « 12345678 » : 9 chiffres"),
        (LotEnvelope(AM, 0, "01281"), b"x", "Numéro de lot 0 hors de 1 à 999"),
        (LotEnvelope(AM, 7, ""), b"x", "Caisse destinataire «  » : régime"),
        (LotEnvelope(AM, 7, "01281", kind="NOEMIE"), b"x", "Nature de lot « NOEMIE » inconnue"),
    ],
)
def test_a_lot_mail_no_caisse_could_recognise_is_refused(envelope, data, words):
    with pytest.raises(FormatError, match=words):
        build_lot_message(
            data, envelope, sender="a@b.c", recipient="d@e.f", sent_at=datetime(2025, 3, 5)
        )


def test_attachment_names():
    assert lot_attachment_name(AM, 7) == "LOT_123456789_007.b2t"
    assert parse_lot_attachment_name("LOT_123456789_007.b2t") == (AM, 7)
    assert parse_lot_attachment_name("LOT_12345678_007.b2t") is None
    assert parse_lot_reference("nothing here") is None


@settings(max_examples=30, deadline=None)
@given(lots())
def test_an_fse_of_its_fields_is_the_fse_its_init_makes(lot):
    import dataclasses

    from tuibill.formats.codec import FseRecord

    for fse in lot.fses:
        values = {item.name: getattr(fse, item.name) for item in dataclasses.fields(fse)}
        made = FseRecord.of_fields(**values)
        assert made == fse and hash(made) == hash(fse) and repr(made) == repr(fse)
        assert CODEC.write(replace(lot, fses=(made,))) == CODEC.write(replace(lot, fses=(fse,)))
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.nir = "X"  # type: ignore[misc]


@settings(max_examples=30, deadline=None)
@given(lots())
def test_a_line_of_its_fields_is_the_line_its_init_makes(lot):
    import dataclasses

    from tuibill.formats.codec import FseLine

    for line in (line for fse in lot.fses for line in fse.lines):
        values = {item.name: getattr(line, item.name) for item in dataclasses.fields(line)}
        made = FseLine.of_fields(**values)
        assert made == line and hash(made) == hash(line) and repr(made) == repr(line)
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.code = "X"  # type: ignore[misc]
    values = {item.name: getattr(line, item.name) for item in dataclasses.fields(line)}
    del values["code"]
    with pytest.raises(TypeError, match="code"):
        FseLine.of_fields(**values)


def test_an_fse_of_missing_or_unknown_fields_is_refused_by_its_init():
    import dataclasses

    from tuibill.formats.codec import FseRecord

    fse = sample_lot().fses[0]
    values = {item.name: getattr(fse, item.name) for item in dataclasses.fields(fse)}
    del values["nir"]
    with pytest.raises(TypeError, match="nir"):
        FseRecord.of_fields(**values)
    with pytest.raises(TypeError, match="colour"):
        FseRecord.of_fields(**values, nir="1" * 15, colour="bleu")
