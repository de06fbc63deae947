"""The card layer without pcscd: ATRs, APDU rules, parsers, the emulated backend, the vpcd
protocol (against a fake vpcd) and the CLI with the emulated backend."""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
from stdnum.fr import nir as stdnum_nir

import tuibill.hardware.cards as cards
from tuibill.config import DeviceSettings
from tuibill.hardware.cards import (
    CardBlockedError,
    CardDataError,
    CardRemovedError,
    CardType,
    CpsHolder,
    EmulatedCardReader,
    NoCardError,
    PinFormatError,
    Signature,
    Vitale1Error,
    WrongPinError,
    open_card_reader,
    tlv,
    verify_signature,
    vitale2,
)
from tuibill.hardware.cards.apdu import CardChannel, masked, with_le
from tuibill.hardware.cards.atr import ATR_TABLE, EMULATED_ATRS, identify_atr
from tuibill.hardware.cards.emulator_cards import (
    CardPerson,
    Quirks,
    SilentCard,
    demo_cps,
    demo_vitale,
    load_people,
    make_card,
)
from tuibill.hardware.cards.vpcd_emulator import VpcdEmulator, build_parser, card_from_args

# --- ATR --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "atr, kind",
    [
        ("3B 75 13 00 00 43 09 EA 90 00", CardType.VITALE_2),
        ("3B 75 13 00 00 49 09 EA 90 00", CardType.VITALE_2),
        ("3B 75 13 00 00 45 09 FA 90 00", CardType.VITALE_2),
        ("3F 65 25 00 22 09 69 90 00", CardType.VITALE_1),
        ("3F 65 25 00 A4 09 6A 90 00", CardType.VITALE_1),
        ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", CardType.CPS),
        ("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00", CardType.CPS),
        ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 1E 00 90 00", CardType.CPE),
        ("3B 75 13 00 00 47 09 EA 90", CardType.UNKNOWN),  # one byte short
        ("3B 02 14 50", CardType.UNKNOWN),
    ],
)
def test_atr_identification(atr, kind):
    assert identify_atr(bytes.fromhex(atr)) is kind


def test_emulated_atrs_match_the_table():
    assert all(identify_atr(atr) is kind for kind, atr in EMULATED_ATRS.items())
    assert len({pattern for pattern, _ in ATR_TABLE}) == len(ATR_TABLE)


# --- APDU rules -------------------------------------------------------------------------------


def test_with_le_for_every_case():
    assert with_le(bytes.fromhex("00B0820000"), 0x2C) == bytes.fromhex("00B082002C")
    assert with_le(bytes.fromhex("00C00000"), 0x10) == bytes.fromhex("00C0000010")
    assert with_le(bytes.fromhex("00A4040002AABB"), 0x05) == bytes.fromhex("00A4040002AABB05")
    assert with_le(bytes.fromhex("002A9E9A02AABB00"), 0x80) == bytes.fromhex("002A9E9A02AABB80")


def test_verify_data_is_masked_in_traces():
    assert masked(bytes.fromhex("00200081083132333400000000")) == "00 20 00 81 08 " + " ".join(
        ["**"] * 8
    )
    assert masked(bytes.fromhex("00A40000023F00")) == "00 A4 00 00 02 3F 00"


class ScriptedTransport:
    def __init__(self, replies):
        self.replies = list(replies)
        self.sent = []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.replies.pop(0)


def test_6c_then_61_chains():
    transport = ScriptedTransport(
        [
            bytes.fromhex("6C05"),
            bytes.fromhex("6103"),
            b"ABC" + bytes.fromhex("6102"),
            b"DE" + bytes.fromhex("9000"),
        ]
    )

    response = CardChannel(transport).send(bytes.fromhex("00B0820000"))

    assert response.data == b"ABCDE" and response.sw == 0x9000
    assert transport.sent == [
        bytes.fromhex(h) for h in ("00B0820000", "00B0820005", "00C0000003", "00C0000002")
    ]


def test_no_status_word_means_the_card_is_gone():
    with pytest.raises(CardRemovedError):
        CardChannel(ScriptedTransport([b"\x90"])).send(bytes.fromhex("00A40000023F00"))


def test_endless_61_is_refused():
    transport = ScriptedTransport([bytes.fromhex("6101")] * 1000)
    with pytest.raises(CardDataError, match="sans fin"):
        CardChannel(transport).send(bytes.fromhex("00B0820000"))


# --- Vitale parsing ---------------------------------------------------------------------------


def person(last=b"NOM", first=b"PRENOM", birth=b"19800101", extra=b""):
    fields = tlv.encode(0x80, last) + tlv.encode(0x81, first) + tlv.encode(0x82, birth) + extra
    return tlv.encode(0x65, fields)


def nir_file(*numbers: str) -> bytes:
    return b"".join(tlv.encode(0x65, tlv.encode(0x93, n.encode())) for n in numbers)


GOOD_NIR = "1800175056123" + stdnum_nir.calc_check_digits("1800175056123")


def test_corsican_nir_and_nul_padding_are_accepted():
    corsica = "180012A012345"
    nir = corsica + stdnum_nir.calc_check_digits(corsica)

    (beneficiary,) = vitale2.parse_beneficiaries(
        person(last=b"CASANOVA\x00\x00  ", first="ANDRÉ".encode("latin-1")), nir_file(nir)
    )

    assert (beneficiary.last_name, beneficiary.first_name, beneficiary.nir) == (
        "CASANOVA",
        "ANDRÉ",
        nir,
    )
    assert beneficiary.birth_date == date(1980, 1, 1) and beneficiary.rank is None


@pytest.mark.parametrize(
    "identity, nirs, message",
    [
        (person(birth=b"19851332"), nir_file(GOOD_NIR), "date de naissance invalide"),
        (person(birth=b"1985-1-1"), nir_file(GOOD_NIR), "date de naissance illisible"),
        (person(birth="1985²101".encode("latin-1")), nir_file(GOOD_NIR), "illisible"),
        (
            tlv.encode(0x65, tlv.encode(0x80, b"NOM") + tlv.encode(0x82, b"19800101")),
            nir_file(GOOD_NIR),
            "le prénom absent",
        ),
        (person(first=b"   "), nir_file(GOOD_NIR), "le prénom vide"),
        (person() + person(), nir_file(GOOD_NIR), "2 bénéficiaire"),
        (bytes(20), b"", "sans bénéficiaire"),
        (person(), nir_file(GOOD_NIR[:-2] + "00"), "NIR invalide"),
        (person(), nir_file("12345"), "NIR invalide"),
        (person(extra=tlv.encode(0x83, b"X")), nir_file(GOOD_NIR), "rang de naissance invalide"),
        (person()[:-3], nir_file(GOOD_NIR), "illisibles"),
    ],
)
def test_bad_vitale_data_gives_an_error_never_a_partial_patient(identity, nirs, message):
    with pytest.raises(CardDataError, match=message):
        vitale2.parse_beneficiaries(identity, nirs)


def test_nir_stays_out_of_error_messages():
    bad = GOOD_NIR[:-2] + "00"
    with pytest.raises(CardDataError) as raised:
        vitale2.parse_beneficiaries(person(), nir_file(bad))
    assert bad not in str(raised.value)


# --- Emulated backend -------------------------------------------------------------------------


def test_demo_vitale_holds_one_family_with_valid_nirs():
    reader = EmulatedCardReader.demo()

    data = reader.read_vitale()

    assert len(data.beneficiaries) == 3
    assert {b.last_name for b in data.beneficiaries} == {"MARTIN"}
    assert all(stdnum_nir.is_valid(b.nir) for b in data.beneficiaries)
    assert data.card.card_type is CardType.VITALE_2


def test_demo_cps_signs_with_a_real_key():
    reader = EmulatedCardReader.demo()

    holder = reader.read_cps_holder()
    signature = reader.sign(b"FSE", pin="1234")

    assert holder.card_type is CardType.CPS and holder.specialty == "24"
    assert verify_signature(b"FSE", signature)
    assert not verify_signature(b"FSe", signature)
    assert not verify_signature(b"FSE", Signature(signature.value, b"garbage", signature.algorithm))
    assert not verify_signature(
        b"FSE", Signature(signature.value, signature.certificate_der, "ecdsa")
    )


def test_read_dispatches_on_the_first_card_present():
    reader = EmulatedCardReader.demo()
    assert isinstance(reader.read(), cards.VitaleData)
    reader.remove(0)
    assert isinstance(reader.read(), CpsHolder)
    reader.insert(SilentCard(CardType.VITALE_1), 0)
    with pytest.raises(Vitale1Error):
        reader.read()


def test_insert_and_remove_from_another_thread():
    reader = EmulatedCardReader()
    timer = threading.Timer(0.1, lambda: reader.insert(demo_vitale()))
    timer.start()
    try:
        card = reader.wait_for_card(10)
    finally:
        timer.join()
    assert card.card_type is CardType.VITALE_2

    timer = threading.Timer(0.1, reader.remove)
    timer.start()
    try:
        assert reader.wait_for_removal(10) is True
    finally:
        timer.join()
    with pytest.raises(NoCardError, match="délai"):
        reader.wait_for_card(0.05, kinds={CardType.CPS})


def test_pulled_mid_read_returns_nothing():
    reader = EmulatedCardReader()
    reader.insert(demo_vitale(quirks=Quirks(get_response=True)), pull_after=4)

    with pytest.raises(CardRemovedError):
        reader.read_vitale()
    assert reader.card_in(0) is None


def test_pin_counter_survives_removal_like_a_real_card():
    reader = EmulatedCardReader()
    card = demo_cps()
    reader.insert(card, 1)
    with pytest.raises(WrongPinError):
        reader.verify_pin("0000")
    reader.remove(1)
    reader.insert(card, 1)
    assert reader.pin_tries_left() == 2
    for _ in range(2):
        with pytest.raises((WrongPinError, CardBlockedError)):
            reader.verify_pin("0000")
    with pytest.raises(CardBlockedError):
        reader.verify_pin("1234")


@pytest.mark.parametrize("pin", ["123", "12345678901", "12a4", "１２３４", ""])
def test_pin_format_checked_before_anything_is_sent(pin):
    reader = EmulatedCardReader()
    card = demo_cps()
    reader.insert(card, 1)
    with pytest.raises(PinFormatError):
        reader.verify_pin(pin)
    assert card.tries_left == 3


def test_pin_is_never_logged_nor_kept(caplog):
    reader = EmulatedCardReader()
    reader.insert(demo_cps(), 1)
    caplog.set_level(logging.DEBUG, logger="tuibill")

    with pytest.raises(WrongPinError):
        reader.verify_pin("4321")
    reader.sign(b"x", pin="1234")

    text = caplog.text
    assert "00 20 00 81 08 ** ** ** ** ** ** ** **" in text
    for secret in ("4321", "1234", "34 33 32 31", "31 32 33 34"):
        assert secret not in text
    assert "4321" not in repr(vars(reader)) and "1234" not in repr(vars(reader))


def test_factory_and_config():
    emulated = open_card_reader(DeviceSettings(card_reader="emulated", card_reader_name="Ignoré"))
    assert isinstance(emulated, EmulatedCardReader) and emulated.reader_name == ""
    assert emulated.state is cards.demo_card_reader().state  # one demo bench per process
    assert (
        open_card_reader(DeviceSettings(), "Lecteur émulé tuibill 00 01").identify().card_type
        is CardType.CPS
    )

    from tuibill.hardware.cards.pcsc_backend import PcscCardReader

    pcsc = open_card_reader(DeviceSettings(card_reader="pcsc", card_reader_name="ACS"))
    assert isinstance(pcsc, PcscCardReader) and pcsc.reader_name == "ACS"
    assert (
        open_card_reader(
            DeviceSettings(card_reader="pcsc", card_reader_name="ACS"), "X"
        ).reader_name
        == "X"
    )


def test_importing_the_package_does_not_import_pyscard():
    code = (
        "import sys, tuibill.hardware.cards, tuibill.cli.card; "
        "assert 'smartcard' not in sys.modules; assert 'cryptography' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --- vpcd protocol (against a fake vpcd) ------------------------------------------------------


class FakeVpcd:
    """The vpcd side: a TCP server sending framed controls and APDUs."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.conn = None

    def accept(self):
        self.server.settimeout(10)
        self.conn, _ = self.server.accept()
        self.conn.settimeout(10)

    def send(self, payload: bytes):
        self.conn.sendall(len(payload).to_bytes(2, "big") + payload)

    def receive(self) -> bytes | None:
        header = self._exact(2)
        return None if header is None else self._exact(int.from_bytes(header, "big"))

    def _exact(self, size):
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def close(self):
        if self.conn:
            self.conn.close()
        self.server.close()


def test_vpcd_protocol_framing_controls_and_apdus():
    vpcd = FakeVpcd()
    emulator = VpcdEmulator(demo_vitale(), port=vpcd.port)
    emulator.insert()
    try:
        vpcd.accept()
        vpcd.send(b"\x04")
        assert vpcd.receive() == EMULATED_ATRS[CardType.VITALE_2]
        vpcd.send(b"\x01")  # power on: no reply
        vpcd.send(b"\x02")  # reset: no reply
        vpcd.send(bytes.fromhex("00A40000023F00"))
        assert vpcd.receive() == bytes.fromhex("9000")
        vpcd.send(bytes.fromhex("00B0820000"))
        identity = vpcd.receive()
        assert identity[-2:] == b"\x90\x00" and identity[0] == 0x65
        vpcd.send(b"\x00")  # power off: no reply
        vpcd.send(b"\x04")
        assert vpcd.receive() == EMULATED_ATRS[CardType.VITALE_2]
    finally:
        vpcd.close()
        emulator.remove()
    assert len(emulator.apdus) == 2


def test_vpcd_pull_closes_without_answer():
    vpcd = FakeVpcd()
    emulator = VpcdEmulator(demo_vitale(), port=vpcd.port, pull_after=1)
    emulator.insert()
    try:
        vpcd.accept()
        vpcd.send(bytes.fromhex("00A40000023F00"))
        assert vpcd.receive() == bytes.fromhex("9000")
        vpcd.send(bytes.fromhex("00B0820000"))
        assert vpcd.receive() is None  # connection closed: the card is gone
        assert emulator.pulled.wait(10)
    finally:
        vpcd.close()
        emulator.remove()


def test_emulator_options(tmp_path):
    people = tmp_path / "p.json"
    people.write_text(
        json.dumps(
            [
                {
                    "last_name": "A",
                    "first_name": "B",
                    "birth_date": "2001-02-03",
                    "nir": "1010275056123",
                    "rank": 2,
                }
            ]
        )
    )
    parser = build_parser()

    vitale = card_from_args(
        parser.parse_args(
            [
                "--card",
                "vitale2",
                "--beneficiaries",
                str(people),
                "--wrong-length",
                "--long-lengths",
            ]
        )
    )
    cps = card_from_args(parser.parse_args(["--card", "cps", "--name", "X Y", "--tries-left", "0"]))
    cpe = card_from_args(parser.parse_args(["--card", "cpe"]))

    assert vitale.people[0].nir == "1010275056123" + stdnum_nir.calc_check_digits("1010275056123")
    assert vitale.quirks.wrong_length and vitale.people[0].rank == 2
    assert cps.blocked and cps.holder_name == "X Y" and cps.card_type is CardType.CPS
    assert cpe.card_type is CardType.CPE
    assert {make_card(kind).card_type for kind in ("unknown", "vitale1")} == {
        CardType.UNKNOWN,
        CardType.VITALE_1,
    }
    assert load_people(people)[0] == CardPerson("A", "B", "20010203", vitale.people[0].nir, 2)


def test_emulator_program_refuses_a_bad_json(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    result = subprocess.run(
        [sys.executable, "-m", "tuibill.hardware.cards.vpcd_emulator", "--beneficiaries", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "impossible à préparer" in result.stderr


# --- CLI with the emulated backend ------------------------------------------------------------


@pytest.fixture
def fresh_demo(monkeypatch, tmp_path):
    monkeypatch.setattr(cards, "_demo", None)
    config = tmp_path / "config.toml"
    config.write_text('[devices]\ncard_reader = "emulated"\n')
    monkeypatch.setenv("TUIBILL_CONFIG", str(config))
    return cards.demo_card_reader()


def test_cli_read_and_status_with_the_emulated_reader(fresh_demo, capsys):
    from tuibill.cli.main import main

    assert main(["card", "read", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [b["first_name"] for b in data["beneficiaries"]] == ["SOPHIE", "LUC", "LEA"]
    assert data["beneficiaries"][0]["birth_date"] == "1982-03-14"

    assert main(["card", "read", "--reader", "Lecteur émulé tuibill 00 01"]) == 0
    out = capsys.readouterr().out
    assert "Claire DUBOIS" in out and "Essais du code porteur  3" in out

    assert main(["card", "status"]) == 0
    out = capsys.readouterr().out
    assert "Carte Vitale 2" in out and "Carte CPS" in out


def test_cli_errors_are_french_and_exit_1(fresh_demo, capsys):
    from tuibill.cli.main import main

    fresh_demo.insert(SilentCard(CardType.VITALE_1), 0)
    assert main(["card", "read"]) == 1
    assert "mode dégradé" in capsys.readouterr().err

    fresh_demo.remove(0)
    fresh_demo.remove(1)
    assert main(["card", "read", "--wait", "0.05"]) == 1
    assert "Aucune carte" in capsys.readouterr().err

    assert main(["card", "read", "--reader", "Absent"]) == 1
    assert "Aucun lecteur dont le nom commence par « Absent »" in capsys.readouterr().err


def test_cli_waits_for_a_card(fresh_demo, capsys):
    from tuibill.cli.main import main

    fresh_demo.remove(0)
    fresh_demo.remove(1)
    timer = threading.Timer(0.2, lambda: fresh_demo.insert(demo_vitale(), 0))
    timer.start()
    started = time.monotonic()
    try:
        assert main(["card", "read", "--wait", "30", "--json"]) == 0
    finally:
        timer.join()
    assert time.monotonic() - started < 25
    assert len(json.loads(capsys.readouterr().out)["beneficiaries"]) == 3


def test_the_card_is_the_vitale_whatever_slot_the_cps_is_in(fresh_demo, capsys):
    """Issue 13 #19: the usual French desk reader holds the CPS in slot 0 and the patient's
    Vitale in slot 1: « tuibill card read » reads the Vitale; « --cps » reads the CPS."""
    from tuibill.cli.main import main

    fresh_demo.remove(0)
    fresh_demo.remove(1)
    fresh_demo.insert(demo_cps(), 0)
    fresh_demo.insert(demo_vitale(), 1)
    assert main(["card", "read", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [b["first_name"] for b in data["beneficiaries"]] == ["SOPHIE", "LUC", "LEA"]
    assert main(["card", "read", "--cps"]) == 0
    assert "Claire DUBOIS" in capsys.readouterr().out
    fresh_demo.remove(1)  # no Vitale: « the card » is the CPS
    assert main(["card", "read"]) == 0
    assert "Claire DUBOIS" in capsys.readouterr().out
