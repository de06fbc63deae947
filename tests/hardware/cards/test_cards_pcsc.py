"""The card layer against the real stack: pcscd + vpcd + tuibill's vpcd card emulator."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import date

import pytest
from cards_stack import READER_PREFIX, start_pcscd, wait_reader
from stdnum.fr import nir as stdnum_nir

from tuibill.hardware.cards import (
    CardBlockedError,
    CardDataError,
    CardRemovedError,
    CardType,
    CpsHolder,
    NoCardError,
    NoReaderError,
    PinRequiredError,
    UnsupportedCardError,
    Vitale1Error,
    VitaleData,
    WrongPinError,
    verify_signature,
)
from tuibill.hardware.cards.emulator_cards import (
    CardPerson,
    Quirks,
    SilentCard,
    VitaleLayout,
    demo_cpe,
    demo_cps,
    demo_vitale,
)

pytestmark = pytest.mark.pcsc

SELECT_MF = bytes.fromhex("00A40000023F00")
READ_SFI2 = bytes.fromhex("00B0820000")
SELECT_VITALE = bytes.fromhex("00A404000BD250000002564954414C45")

FAMILY = [
    CardPerson.make("DURAND", "PIERRE", date(1975, 4, 9), "1750428085123", rank=1),
    CardPerson.make("DURAND", "HÉLÈNE", date(1977, 12, 30), "2771275056045", rank=1),
    CardPerson.make("DURAND", "NOÉ", date(2010, 2, 1), "1100228085777", rank=1),
    CardPerson.make("DURAND", "ZOÉ", date(2010, 2, 1), "2100228085778", rank=2),  # twins: rang 2
]


def pcsc_reader(name: str = READER_PREFIX):
    from tuibill.hardware.cards.pcsc_backend import PcscCardReader

    return PcscCardReader(name)


def expected(people: list[CardPerson]) -> list[tuple]:
    return [
        (
            p.last_name,
            p.first_name,
            date(int(p.birth_date[:4]), int(p.birth_date[4:6]), int(p.birth_date[6:])),
            p.nir,
            p.rank,
        )
        for p in people
    ]


def as_tuples(data: VitaleData) -> list[tuple]:
    return [(b.last_name, b.first_name, b.birth_date, b.nir, b.rank) for b in data.beneficiaries]


# --- Vitale 2 ---------------------------------------------------------------------------------


def test_vitale2_several_beneficiaries(slot):
    emulator = slot.insert(demo_vitale(FAMILY, layout=VitaleLayout(name_width=20)))
    reader = pcsc_reader(slot.reader)

    card = reader.identify()
    data = reader.read_vitale()

    assert card.card_type is CardType.VITALE_2 and card.reader == slot.reader
    assert as_tuples(data) == expected(FAMILY)  # Latin-1 decoded, space padding stripped
    assert all(stdnum_nir.is_valid(b.nir) for b in data.beneficiaries)
    # Exactly the sequence of the public readers (Rufus, cardpeek).
    assert emulator.apdus == [SELECT_MF, READ_SFI2, SELECT_VITALE, READ_SFI2]


def test_get_response_61xx_is_followed(slot):
    emulator = slot.insert(demo_vitale(FAMILY, quirks=Quirks(get_response=True)))

    data = pcsc_reader(slot.reader).read_vitale()

    assert as_tuples(data) == expected(FAMILY)
    get_responses = [apdu for apdu in emulator.apdus if apdu[1] == 0xC0]
    assert len(get_responses) >= 2  # one per file at least (and the SELECTs' FCI)
    assert all(apdu[:4] == bytes.fromhex("00C00000") for apdu in get_responses)


def test_wrong_length_6cxx_resends_with_the_right_le(slot):
    emulator = slot.insert(demo_vitale(FAMILY, quirks=Quirks(wrong_length=True)))

    data = pcsc_reader(slot.reader).read_vitale()

    assert as_tuples(data) == expected(FAMILY)
    reads = [apdu for apdu in emulator.apdus if apdu[1] == 0xB0]
    # Each file: first asked with Le=00, then again with the exact length the card gave.
    assert reads[0] == READ_SFI2 and reads[1][:4] == READ_SFI2[:4] and reads[1][4] != 0


@pytest.mark.parametrize(
    "layout, quirks",
    [
        (VitaleLayout(long_lengths=True), Quirks()),
        (VitaleLayout(zero_padding=100), Quirks()),
        (
            VitaleLayout(long_lengths=True, zero_padding=300, name_width=40),
            Quirks(get_response=True),
        ),
        (
            VitaleLayout(long_lengths=True, zero_padding=300, name_width=40),
            Quirks(wrong_length=True),
        ),
    ],
    ids=["long-lengths", "zero-padding", "big-file-61xx", "big-file-6cxx"],
)
def test_real_world_layouts(slot, layout, quirks):
    # 6 bénéficiaires with wide names and padding: files beyond 256 bytes, read by offsets.
    people = [
        *FAMILY,
        CardPerson.make("DURAND", "JULES", "20150707", "1150728085001"),
        CardPerson.make("DURAND", "INÈS", "20170303", "2170328085002"),
    ]
    slot.insert(demo_vitale(people, layout=layout, quirks=quirks))

    assert as_tuples(pcsc_reader(slot.reader).read_vitale()) == expected(people)


def test_vitale_with_a_bad_nir_key_gives_nothing(slot):
    people = [FAMILY[0], CardPerson("DURAND", "ANNE", "19800101", "280017505604599")]
    slot.insert(demo_vitale(people))

    with pytest.raises(CardDataError, match="NIR invalide"):
        pcsc_reader(slot.reader).read_vitale()


# --- CPS / CPE --------------------------------------------------------------------------------


def test_cps_good_pin_and_signature_verifies(slot0, slot1):
    slot0.insert(demo_vitale())  # a two-slot reader: Vitale in one slot, CPS in the other
    slot1.insert(demo_cps(name="Marc LEROY", ps_number="281111111", specialty="26"))
    reader = pcsc_reader()  # every "Virtual PCD" reader: the CPS is found in slot 1

    holder = reader.read_cps_holder()
    assert holder == CpsHolder("Marc LEROY", "281111111", "26", CardType.CPS)
    assert reader.pin_tries_left() == 3
    assert reader.verify_pin("1234") == 3

    invoice = b"FSE 000123 | 2024-05-02 | AMI 1 | 3,15 EUR"
    signature = reader.sign(invoice)

    assert signature.algorithm == "sha256WithRSAEncryption"
    assert len(signature.value) == 256  # RSA-2048: 256 bytes through GET RESPONSE-free APDU
    assert verify_signature(invoice, signature)
    assert not verify_signature(invoice + b" ", signature)
    assert reader.read_certificate() == signature.certificate_der

    from cryptography import x509

    certificate = x509.load_der_x509_certificate(signature.certificate_der)
    assert (
        certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
        == "Marc LEROY"
    )
    # The Vitale in slot 0 is still read from the same reader object.
    assert len(reader.read_vitale().beneficiaries) == 3


def test_cps_sign_with_pin_in_one_go_through_61xx(slot):
    slot.insert(demo_cps(quirks=Quirks(get_response=True)))
    reader = pcsc_reader(slot.reader)

    signature = reader.sign(b"lot 695", pin="1234")

    assert verify_signature(b"lot 695", signature)


def test_sign_without_pin_is_refused(slot):
    slot.insert(demo_cps())

    with pytest.raises(PinRequiredError, match="Code porteur requis"):
        pcsc_reader(slot.reader).sign(b"x")


def test_wrong_pin_shows_tries_left(slot):
    card = demo_cps()
    slot.insert(card)
    reader = pcsc_reader(slot.reader)

    with pytest.raises(WrongPinError) as first:
        reader.verify_pin("0000")
    assert first.value.tries_left == 2
    assert str(first.value) == "Code porteur erroné, il reste 2 essai(s)."
    with pytest.raises(WrongPinError, match="il reste 1 essai"):
        reader.verify_pin("9999")
    assert reader.pin_tries_left() == 1
    assert reader.verify_pin("1234") == 3  # a good PIN resets the counter
    assert reader.pin_tries_left() == 3


def test_blocked_after_three_wrong_pins(slot):
    slot.insert(demo_cps())
    reader = pcsc_reader(slot.reader)

    for _ in range(2):
        with pytest.raises(WrongPinError):
            reader.verify_pin("0000")
    with pytest.raises(CardBlockedError, match="Carte bloquée"):
        reader.verify_pin("0000")
    with pytest.raises(CardBlockedError):
        reader.verify_pin("1234")  # even the right PIN: the card is blocked
    with pytest.raises(CardBlockedError):
        reader.pin_tries_left()
    with pytest.raises(CardBlockedError):
        reader.sign(b"x", pin="1234")


def test_cpe_is_recognised(slot):
    slot.insert(demo_cpe())
    reader = pcsc_reader(slot.reader)

    assert reader.identify().card_type is CardType.CPE
    holder = reader.read()
    assert isinstance(holder, CpsHolder) and holder.card_type is CardType.CPE
    assert verify_signature(b"x", reader.sign(b"x", pin="1234"))


# --- Other cards, errors ----------------------------------------------------------------------


def test_unknown_card(slot):
    slot.insert(SilentCard(CardType.UNKNOWN))
    reader = pcsc_reader(slot.reader)

    assert reader.identify().card_type is CardType.UNKNOWN
    with pytest.raises(UnsupportedCardError, match="Carte non reconnue"):
        reader.read()
    with pytest.raises(UnsupportedCardError, match="pas une carte Vitale"):
        reader.read_vitale()


def test_vitale1_is_recognised_without_any_apdu(slot):
    emulator = slot.insert(SilentCard(CardType.VITALE_1))
    reader = pcsc_reader(slot.reader)

    assert reader.identify().card_type is CardType.VITALE_1
    with pytest.raises(Vitale1Error, match="mode dégradé") as raised:
        reader.read()
    assert "bibliothèque officielle" in str(raised.value)
    with pytest.raises(Vitale1Error):
        reader.read_vitale()
    assert emulator.apdus == []


@pytest.mark.parametrize("pull_after", [0, 1, 3])
def test_card_pulled_mid_read(slot, pull_after):
    emulator = slot.insert(demo_vitale(FAMILY), pull_after=pull_after)
    reader = pcsc_reader(slot.reader)

    result = None
    with pytest.raises(CardRemovedError, match="retirée"):
        result = reader.read_vitale()

    assert result is None
    assert emulator.pulled.is_set() and len(emulator.apdus) == pull_after
    assert wait_reader(slot.reader, None)


def test_card_pulled_during_get_response(slot):
    # SELECT MF (+1 GET RESPONSE), READ (+1), SELECT VITALE: pulled at its GET RESPONSE.
    slot.insert(demo_vitale(FAMILY, quirks=Quirks(get_response=True)), pull_after=5)

    with pytest.raises(CardRemovedError):
        pcsc_reader(slot.reader).read_vitale()


def test_no_card_and_no_matching_reader(slot0, slot1):
    slot0.wait_empty()
    slot1.wait_empty()
    reader = pcsc_reader(slot0.reader)

    with pytest.raises(NoCardError, match="Aucune carte"):
        reader.read()
    with pytest.raises(NoCardError, match="Aucune carte Vitale"):
        reader.read_vitale()
    with pytest.raises(NoCardError):
        reader.wait_for_card(0.3)
    with pytest.raises(NoReaderError, match="« Lecteur inexistant »"):
        pcsc_reader("Lecteur inexistant").read()
    assert [status.card for status in reader.reader_status()] == [None, None]


def test_wait_for_card_then_removal(slot):
    reader = pcsc_reader(slot.reader)
    card = demo_vitale()
    inserter = threading.Thread(target=lambda: (time.sleep(0.2), slot.insert(card)))
    inserter.start()
    try:
        info = reader.wait_for_card(30, kinds={CardType.VITALE_2})
    finally:
        inserter.join()
    assert info.card_type is CardType.VITALE_2

    assert reader.wait_for_removal(0.2) is False  # still there
    remover = threading.Thread(target=slot.remove)
    remover.start()
    try:
        assert reader.wait_for_removal(30, reader=slot.reader) is True
    finally:
        remover.join()


def test_cps_card_is_not_read_as_vitale(slot):
    slot.insert(demo_cps())

    with pytest.raises(NoCardError, match="Carte présente : Carte CPS"):
        pcsc_reader(slot.reader).read_vitale()


# --- The command line, as its own process -----------------------------------------------------


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tuibill", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def pcsc_config(tmp_path, pcsc_stack):
    config = tmp_path / "config.toml"
    config.write_text(f'[devices]\ncard_reader = "pcsc"\ncard_reader_name = "{READER_PREFIX}"\n')
    return {**pcsc_stack.env(), "TUIBILL_CONFIG": str(config)}


def test_cli_card_read_json_through_pcscd(tmp_path, slot0, slot1, pcsc_config):
    slot1.wait_empty()
    people = tmp_path / "famille.json"
    people.write_text(
        json.dumps(
            [
                {
                    "last_name": "GIRARD",
                    "first_name": "CÉLINE",
                    "birth_date": "1988-09-21",
                    "nir": "2880928085321",
                    "rank": 1,
                },
                {
                    "last_name": "GIRARD",
                    "first_name": "TOM",
                    "birth_date": "20160510",
                    "nir": "1160528085654",
                },
            ]
        ),
        encoding="utf-8",
    )
    emulator = slot0.insert_process(
        "--card",
        "vitale2",
        "--beneficiaries",
        str(people),
        "--get-response",
        "--long-lengths",
        "--zero-padding",
        "32",
    )
    try:
        assert wait_reader(slot0.reader, demo_vitale().atr)

        status = run_cli(pcsc_config, "card", "status", "--json")
        result = run_cli(pcsc_config, "card", "read", "--json")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    assert status.returncode == 0, status.stderr
    readers = json.loads(status.stdout)["readers"]
    assert [(r["name"], r["card_type"]) for r in readers] == [
        (f"{READER_PREFIX} 00 00", "vitale2"),
        (f"{READER_PREFIX} 00 01", None),
    ]

    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["card_type"] == "vitale2" and data["reader"] == f"{READER_PREFIX} 00 00"
    assert data["beneficiaries"] == [
        {
            "last_name": "GIRARD",
            "first_name": "CÉLINE",
            "birth_date": "1988-09-21",
            "nir": "2880928085321" + stdnum_nir.calc_check_digits("2880928085321"),
            "rank": 1,
        },
        {
            "last_name": "GIRARD",
            "first_name": "TOM",
            "birth_date": "2016-05-10",
            "nir": "1160528085654" + stdnum_nir.calc_check_digits("1160528085654"),
            "rank": None,
        },
    ]


def test_cli_card_read_cps_and_errors(slot0, slot1, pcsc_config):
    slot0.wait_empty()  # the command reads the first card of every "Virtual PCD" reader
    emulator = slot1.insert_process("--card", "cps", "--name", "Anne ROUX", "--tries-left", "2")
    try:
        assert wait_reader(slot1.reader, demo_cps().atr)
        cps = run_cli(pcsc_config, "card", "read", "--json")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    assert cps.returncode == 0, cps.stderr
    data = json.loads(cps.stdout)
    assert data["holder"]["name"] == "Anne ROUX" and data["pin_tries_left"] == 2
    assert data["reader"] == slot1.reader

    slot1.wait_empty()
    empty = run_cli(pcsc_config, "card", "read")
    assert empty.returncode == 1 and "Aucune carte" in empty.stderr


def test_cli_without_pcscd(tmp_path, pcsc_config):
    env = {**pcsc_config, "PCSCLITE_CSOCK_NAME": str(tmp_path / "absent.comm")}

    result = run_cli(env, "card", "status")

    assert result.returncode == 1
    assert "pcscd injoignable" in result.stderr and "Traceback" not in result.stderr


def test_cli_with_no_reader(pcsc_config):
    bare = start_pcscd(with_vpcd=False)  # a second private pcscd with no reader at all
    try:
        env = {**pcsc_config, "PCSCLITE_CSOCK_NAME": str(bare.socket_path)}
        status = run_cli(env, "card", "status")
        read = run_cli(env, "card", "read", "--json")
    finally:
        bare.stop()
    assert status.returncode == 1 and "Aucun lecteur" in status.stderr
    assert read.returncode == 1 and "Aucun lecteur" in read.stderr and read.stdout == ""
