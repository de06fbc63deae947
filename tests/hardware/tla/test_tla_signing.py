"""Protocol version 2: the device signs the bytes the desk put in the content, with the card used
at the patient's home, and FETCH gives the signature back. Payloads and frames round trip; a
version-1 desk and a version-1 device still work with a version-2 peer (no signature then)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path

import pytest
from tla_support import AM, make_invoices, to_sign

from tuibill.hardware.cards import Signature, verify_signature
from tuibill.hardware.cards.cps import certificate_summary
from tuibill.hardware.cards.emulator_cards import demo_cpe, demo_cps
from tuibill.hardware.tla.client import TlaClient
from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.hardware.tla.emulator_server import TlaEmulator
from tuibill.hardware.tla.errors import TlaDeviceError, TlaError
from tuibill.hardware.tla.frames import Frame, decode, encode
from tuibill.hardware.tla.interface import EmulatedPortableReader
from tuibill.hardware.tla.protocol import (
    SIGNING_PAYLOAD,
    CardType,
    Command,
    DeviceInvoiceState,
    ErrorCode,
    InvoiceToLoad,
    PayloadError,
    Securing,
    StoredInvoice,
    decode_payload,
    encode_payload,
    invoice_key,
)

LINES = ["pty", "tcp"]


def _stored(signature: Signature | None) -> StoredInvoice:
    return StoredInvoice(
        key=invoice_key(AM, 7),
        number="000000007",
        state=DeviceInvoiceState.SECURED,
        patient="MARTIN Louise",
        amount_cents=2835,
        loaded_at=datetime(2026, 11, 23, 8, 2, 11),
        content={"acts": [], SIGNING_PAYLOAD: base64.b64encode(to_sign(7)).decode()},
        securing=Securing(
            datetime(2026, 11, 23, 10, 41, 57),
            CardType.CPS,
            "Claire DUBOIS",
            "281234567",
            signature,
        ),
    )


def _card_signature(data: bytes) -> Signature:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    card = demo_cps()
    value = card.key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    return Signature(value, card.certificate_der, "sha256WithRSAEncryption")


# --- Payloads and frames ----------------------------------------------------------------------


def test_fetch_answer_round_trips_in_a_version_2_frame() -> None:
    stored = _stored(_card_signature(to_sign(7)))
    frame = Frame(2, 0x42, Command.FETCH.response, encode_payload(stored.to_payload(2)))
    received = decode(encode(frame))
    assert received == frame
    back = StoredInvoice.from_payload(decode_payload(received.payload), received.version)
    assert back == stored
    assert verify_signature(to_sign(7), back.securing.signature)

    securing = decode_payload(received.payload)["securing"]
    assert set(securing) == {"card", "secured_at", "signer", "ps_number", "signature"}
    assert set(securing["signature"]) == {"algorithm", "certificate", "value"}
    assert base64.b64decode(securing["signature"]["certificate"]) == demo_cps().certificate_der


def test_version_1_payloads_have_no_signature_and_version_1_readers_ignore_it() -> None:
    stored = _stored(_card_signature(to_sign(7)))
    assert set(stored.to_payload(1)["securing"]) == {"card", "secured_at", "signer"}
    as_v1 = StoredInvoice.from_payload(stored.to_payload(1), 1)
    assert as_v1.securing.signature is None and as_v1.securing.ps_number == ""
    # A version-1 reader ignores what version 2 adds (readers ignore unknown fields).
    assert StoredInvoice.from_payload(stored.to_payload(2), 1) == as_v1
    # No signature (nothing to sign): null in version 2.
    unsigned = _stored(None).to_payload(2)
    assert unsigned["securing"]["signature"] is None
    assert StoredInvoice.from_payload(unsigned, 2).securing.signature is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s["signature"].update(value="pas du base64!"), "base64 attendu"),
        (lambda s: s["signature"].update(value=""), "vide ou trop long"),
        (lambda s: s["signature"].update(value="QUJD" * 200), "512 octets"),
        (lambda s: s["signature"].update(certificate="QUJD" * 800), "2048 octets"),
        (lambda s: s["signature"].pop("algorithm"), "« algorithm » absent"),
        (lambda s: s.update(signature="texte"), "doit être un objet JSON"),
        (lambda s: s.pop("ps_number"), "« ps_number » absent"),
        (lambda s: s.pop("signature"), "« signature » absent"),
    ],
)
def test_bad_version_2_securing_is_a_payload_error(change, message) -> None:
    data = json.loads(json.dumps(_stored(_card_signature(to_sign(7))).to_payload(2)))
    change(data["securing"])
    with pytest.raises(PayloadError, match=message):
        StoredInvoice.from_payload(data, 2)


def test_a_malformed_signing_payload_is_refused_on_both_sides(tmp_path: Path) -> None:
    good = make_invoices(1, signed=True)[0]
    bad = {**good.to_payload(), "content": {SIGNING_PAYLOAD: "*** pas du base64 ***"}}
    with pytest.raises(PayloadError, match="signing_payload"):
        InvoiceToLoad.from_payload(bad)  # the desk checks before sending
    device = TlaDevice(tmp_path / "tla.json")
    with pytest.raises(TlaDeviceError) as refused:
        device.execute(Command.LOAD, {"invoices": [bad]}, 2)
    assert refused.value.code == ErrorCode.BAD_PAYLOAD and device.stored() == []


# --- The device signs with the card's real key -----------------------------------------------------


def test_the_device_card_signs_the_content_signing_payload(state_file: Path) -> None:
    reader = EmulatedPortableReader(state_file)
    assert reader.identify().protocol_version == 2
    signed = make_invoices(3, signed=True)
    plain = make_invoices(1, first=9)  # loaded without a signing payload (a version-1 desk)
    reader.load(signed + plain)
    reader.device.secure([signed[0].key, plain[0].key], CardType.CPS)
    reader.device.secure([signed[1].key], CardType.CPE)
    reader.device.secure([signed[2].key], CardType.CPE, "Paul LEROY", "281999999")

    fetched = {invoice.key: invoice for invoice in reader.fetch_all()}
    cps = fetched[signed[0].key].securing
    assert (cps.signer, cps.ps_number) == ("Claire DUBOIS", "281234567")  # the demo CPS
    assert cps.signature.certificate_der == demo_cps().certificate_der
    assert verify_signature(to_sign(1), cps.signature)
    assert not verify_signature(to_sign(2), cps.signature)
    cpe = fetched[signed[1].key].securing
    assert (cpe.card_type, cpe.signer, cpe.signature.certificate_der) == (
        CardType.CPE,
        "Julie PETIT",
        demo_cpe().certificate_der,
    )
    assert verify_signature(to_sign(2), cpe.signature)
    other = fetched[signed[2].key].securing
    assert (other.signer, other.ps_number) == ("Paul LEROY", "281999999")
    assert "CN=Paul LEROY" in certificate_summary(other.signature.certificate_der)["subject"]
    assert verify_signature(to_sign(3), other.signature)
    assert fetched[plain[0].key].securing.signature is None  # nothing to sign

    # A semi-secured invoice secured later with the CPS: the CPS signature replaces the CPE's.
    reader.device.secure([signed[1].key], CardType.CPS)
    again = reader.fetch(signed[1].key).securing
    assert again.card_type is CardType.CPS and again.signer == "Claire DUBOIS"
    assert verify_signature(to_sign(2), again.signature) and again.signature != cpe.signature


def test_auto_secure_signs_too(state_file: Path) -> None:
    reader = EmulatedPortableReader(
        state_file, auto_secure_all=True, auto_card=CardType.CPE, auto_signer="Julie MARTIN"
    )
    invoice = make_invoices(1, signed=True)[0]
    reader.load([invoice])
    securing = reader.fetch(invoice.key).securing
    assert securing.signer == "Julie MARTIN" and verify_signature(to_sign(1), securing.signature)


def test_the_frame_version_decides_what_fetch_says(state_file: Path) -> None:
    device = TlaDevice(state_file)
    invoice = make_invoices(1, signed=True)[0]
    device.execute(Command.LOAD, {"invoices": [invoice.to_payload()]}, 2)
    device.secure(None, CardType.CPS)
    emulator = TlaEmulator(device)
    for seq, version in ((1, 1), (2, 2)):
        request = Frame(version, seq, Command.FETCH, encode_payload({"key": invoice.key}))
        answer = decode(emulator.respond(request))
        assert (answer.version, answer.code) == (version, Command.FETCH.response)
        securing = decode_payload(answer.payload)["securing"]
        assert ("signature" in securing) is (version == 2)


def test_the_version_2_reserve_keeps_room_for_the_certificate(state_file: Path) -> None:
    big = InvoiceToLoad(
        key=invoice_key(AM, 1),
        number="000000001",
        patient="MARTIN Louise",
        amount_cents=100,
        content={"notes": "x" * 5000},
    )
    v2 = EmulatedPortableReader(state_file, max_payload=8192)
    with pytest.raises(TlaError, match="trop volumineuse"):
        v2.load([big])
    v1 = EmulatedPortableReader(state_file, max_payload=8192, desk_versions=(1,))
    assert v1.load([big]) == [big.key]


def test_a_format_1_memory_is_still_read(state_file: Path) -> None:
    reader = EmulatedPortableReader(state_file)
    invoice = make_invoices(1)[0]
    reader.load([invoice])
    reader.device.secure(None, CardType.CPS)
    memory = json.loads(state_file.read_text(encoding="utf-8"))
    memory["format"] = 1
    for item in memory["invoices"]:
        item["securing"] = {k: item["securing"][k] for k in ("card", "secured_at", "signer")}
    state_file.write_text(json.dumps(memory), encoding="utf-8")
    securing = EmulatedPortableReader(state_file).fetch(invoice.key).securing
    assert securing.signer == "Claire DUBOIS" and securing.signature is None


# --- Mixed versions over a real line ----------------------------------------------------------------


@pytest.mark.parametrize("kind", LINES)
def test_version_2_on_both_sides_over_a_line(kind, serve, connect) -> None:
    served = serve(kind)
    client = connect(served.url)
    assert client.identify().protocol_version == 2
    invoices = make_invoices(2, signed=True)
    client.load(invoices)
    served.device.secure([invoices[0].key], CardType.CPS)
    served.device.secure([invoices[1].key], CardType.CPE)
    first, second = client.fetch_all()
    assert verify_signature(to_sign(1), first.securing.signature)
    assert verify_signature(to_sign(2), second.securing.signature)
    assert second.securing.card_type is CardType.CPE and second.securing.ps_number == "281234567"


@pytest.mark.parametrize("kind", LINES)
def test_version_1_desk_with_a_version_2_device(kind, serve) -> None:
    served = serve(kind)
    with TlaClient(served.url, timeout=2.0, retries=2, versions=(1,)) as client:
        identity = client.identify()
        assert (identity.protocol_version, identity.protocol_versions) == (1, (1, 2))
        invoices = make_invoices(1, signed=True)
        client.load(invoices)
        served.device.secure(None, CardType.CPS)
        [fetched] = client.fetch_all()
    # The device signed (it speaks version 2), but a version-1 session does not carry it.
    assert served.device.stored()[0].securing.signature is not None
    assert fetched.state is DeviceInvoiceState.SECURED
    assert fetched.securing.signature is None and fetched.securing.ps_number == ""
    assert fetched.securing.signer == "Claire DUBOIS"


@pytest.mark.parametrize("kind", LINES)
def test_version_2_desk_with_a_version_1_device(kind, serve, connect) -> None:
    served = serve(kind, versions=(1,))
    client = connect(served.url)
    identity = client.identify()
    assert (identity.protocol_version, identity.protocol_versions) == (1, (1,))
    invoices = make_invoices(1, signed=True)
    client.load(invoices)  # the content is stored as is: the device does not read it
    served.device.secure(None, CardType.CPS)
    [fetched] = client.fetch_all()
    assert fetched.content == invoices[0].content
    assert fetched.securing.signature is None  # a version-1 device never signs
    assert served.device.stored()[0].securing.signature is None
