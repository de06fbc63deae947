"""The emulated device and the protocol's payloads, without any line: the in-process reader,
the device's rules (idempotent LOAD, capacity, conflicts, securing), its memory file, and its
frame layer (answer cache, versions, error frames)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tla_support import FakeDesk, make_invoices

from tuibill.config import DeviceSettings
from tuibill.domain.errors import ConfigError, RefusedOperation, ValidationError
from tuibill.hardware.tla import emulated_state_file, open_portable_reader
from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.hardware.tla.emulator_server import TlaEmulator
from tuibill.hardware.tla.errors import (
    TlaConflict,
    TlaDeviceError,
    TlaDeviceFull,
    TlaEmulatorError,
    TlaError,
    TlaUnknownInvoice,
    TlaVersionError,
)
from tuibill.hardware.tla.frames import Frame, decode
from tuibill.hardware.tla.interface import EmulatedPortableReader, PortableReader
from tuibill.hardware.tla.protocol import (
    ERROR_RESPONSE,
    CardType,
    Command,
    DeviceInvoiceState,
    ErrorCode,
    InvoiceToLoad,
    PayloadError,
    StoredInvoice,
    decode_payload,
    device_error,
    encode_payload,
    parse_error,
)


def test_in_process_reader_full_cycle(state_file: Path) -> None:
    reader = EmulatedPortableReader(state_file, capacity=10)
    assert isinstance(reader, PortableReader)
    identity = reader.identify()
    assert (identity.capacity, identity.stored, identity.protocol_version) == (10, 0, 2)

    invoices = make_invoices(3)
    assert reader.load(invoices) == [i.key for i in invoices]
    assert reader.load(invoices) == [i.key for i in invoices]  # again: not a duplicate
    assert [s.state for s in reader.contents()] == [DeviceInvoiceState.LOADED] * 3
    assert reader.identify().stored == 3

    assert reader.device.secure([invoices[0].key], CardType.CPS, "DURAND Marie")
    assert reader.device.secure([invoices[1].key], CardType.CPE)
    fetched = {f.key: f for f in reader.fetch_all()}
    first = fetched[invoices[0].key]
    assert first.state is DeviceInvoiceState.SECURED and first.securing is not None
    assert first.securing.card_type is CardType.CPS and first.securing.signer == "DURAND Marie"
    assert first.content == invoices[0].content
    assert fetched[invoices[1].key].state is DeviceInvoiceState.SEMI_SECURED
    assert fetched[invoices[2].key].securing is None

    assert reader.erase([invoices[0].key, invoices[1].key, "591234567-999999999"]) == [
        invoices[0].key,
        invoices[1].key,
    ]
    assert [s.key for s in reader.contents()] == [invoices[2].key]
    assert reader.erase_all() == 1 and reader.contents() == []


def test_memory_survives_a_restart_and_external_changes(state_file: Path) -> None:
    first = EmulatedPortableReader(state_file)
    invoices = make_invoices(2)
    first.load(invoices)
    serial = first.identify().serial

    # "tuibill emulate tla secure" in another process works on the same file.
    TlaDevice(state_file).secure(None, CardType.CPE)

    again = EmulatedPortableReader(state_file)
    assert again.identify().serial == serial
    assert [s.state for s in again.contents()] == [DeviceInvoiceState.SEMI_SECURED] * 2
    assert [s.state for s in first.contents()] == [DeviceInvoiceState.SEMI_SECURED] * 2
    # A CPS can then secure them fully; a CPE cannot do it twice.
    with pytest.raises(TlaEmulatorError, match="déjà semi-sécurisée"):
        again.device.secure([invoices[0].key], CardType.CPE)
    assert again.device.secure([invoices[0].key], CardType.CPS) == [invoices[0].key]
    with pytest.raises(TlaEmulatorError, match="absente du lecteur"):
        again.device.secure(["591234567-000000042"], CardType.CPS)


def test_unreadable_memory_is_a_french_error(state_file: Path) -> None:
    state_file.write_text("{pas du json", encoding="utf-8")
    with pytest.raises(TlaEmulatorError, match="Mémoire du lecteur émulé illisible"):
        EmulatedPortableReader(state_file).identify()


def test_load_is_all_or_nothing_when_full(state_file: Path) -> None:
    reader = EmulatedPortableReader(state_file, capacity=3)
    reader.load(make_invoices(2))
    too_many = make_invoices(3, first=2)  # n°2 is there already; n°3 and n°4 are new: 4 > 3
    with pytest.raises(TlaDeviceFull) as caught:
        reader.load(too_many)
    message = str(caught.value)
    assert "Mémoire du lecteur pleine" in message and "2 facture(s) à ajouter" in message
    assert "capacité de 3" in message
    assert len(reader.contents()) == 2

    # The device itself refuses too (a desk that skipped the pre-check): nothing stored.
    with pytest.raises(TlaDeviceFull) as caught:
        reader.device.execute(Command.LOAD, {"invoices": [i.to_payload() for i in too_many]})
    assert caught.value.details == {"capacity": 3, "stored": 2, "requested": 2}
    assert len(reader.contents()) == 2
    assert reader.load(make_invoices(1, first=3)) == ["591234567-000000003"]


def test_load_replaces_a_changed_loaded_invoice_but_never_a_secured_one(state_file: Path) -> None:
    device = TlaDevice(state_file)
    invoice = make_invoices(1)[0]
    changed = InvoiceToLoad(invoice.key, invoice.number, invoice.patient, 999, invoice.content)

    def load(*items: InvoiceToLoad) -> dict:
        return device.execute(Command.LOAD, {"invoices": [i.to_payload() for i in items]})

    assert load(invoice)["stored"] == [invoice.key]
    assert load(invoice)["already"] == [invoice.key]
    assert load(changed)["replaced"] == [invoice.key]
    device.secure([invoice.key])
    assert load(changed)["already"] == [invoice.key]  # same content as stored: fine
    with pytest.raises(TlaConflict, match="déjà sécurisée avec un autre contenu"):
        load(invoice)
    with pytest.raises(TlaDeviceError, match="en double"):
        load(changed, changed)
    assert device.stored()[0].amount_cents == 999
    assert device.executed[Command.LOAD] == 4  # refused commands are not counted as executed


def test_desk_side_validation_before_anything_is_sent(state_file: Path) -> None:
    with pytest.raises(PayloadError, match="Clé de facture invalide"):
        InvoiceToLoad("591234567 000000001", "000000001", "X", 1, {})
    with pytest.raises(PayloadError, match="amount_cents"):
        InvoiceToLoad("K-1", "1", "X", -5, {})
    with pytest.raises(PayloadError, match="JSON"):
        InvoiceToLoad("K-1", "1", "X", 5, {"when": datetime.now()})
    reader = EmulatedPortableReader(state_file)
    twice = make_invoices(1) * 2
    with pytest.raises(ValidationError, match="en double"):
        reader.load(twice)
    big = InvoiceToLoad("K-1", "1", "X", 5, {"blob": "x" * 40000})
    with pytest.raises(TlaError, match="trop volumineuse"):
        reader.load([big])
    assert reader.contents() == []


def test_device_refuses_bad_payloads_with_bad_payload_errors(state_file: Path) -> None:
    device = TlaDevice(state_file)
    for command, payload in [
        (Command.FETCH, {"key": 12}),
        (Command.LOAD, {"invoices": "no"}),
        (Command.LOAD, {"invoices": [{"key": "K-1"}]}),
        (Command.SET_CLOCK, {"time": "demain"}),
        (Command.ERASE, {"keys": ["with space"]}),
        (Command.LIST, {"start": -1}),
    ]:
        with pytest.raises(TlaDeviceError) as caught:
            device.execute(command, payload)
        assert caught.value.code == ErrorCode.BAD_PAYLOAD
        assert str(caught.value).startswith("Données de la commande invalides (code 02) : ")
    with pytest.raises(TlaUnknownInvoice, match="« K-404 » absente du lecteur portable"):
        device.execute(Command.FETCH, {"key": "K-404"})
    with pytest.raises(TlaDeviceError, match="Commande inconnue"):
        device.execute(0x7E, {})


def test_every_error_code_has_a_french_meaning() -> None:
    for code in ErrorCode:
        error = device_error(code, {}, "détail")
        assert isinstance(error, TlaDeviceError) and isinstance(error, RefusedOperation)
        assert str(error).startswith(code.meaning)
    assert "code 2A" in str(device_error(0x2A, {}, "inconnu"))


def test_stored_invoice_must_be_consistent() -> None:
    good = {
        "key": "K-1",
        "number": "1",
        "state": "secured",
        "patient": "X",
        "amount_cents": 1,
        "loaded_at": "2026-11-23T08:00:00",
        "content": {},
        "securing": {"card": "CPS", "secured_at": "2026-11-23T09:00:00", "signer": "S"},
    }
    assert StoredInvoice.from_payload(good, 1).securing is not None
    with pytest.raises(PayloadError, match="incohérents"):
        StoredInvoice.from_payload({**good, "state": "semi-secured"}, 1)
    with pytest.raises(PayloadError, match="incohérents"):
        StoredInvoice.from_payload({**good, "securing": None}, 1)
    # Version 2: the PS number and the signature (null when there is none) are required.
    with pytest.raises(PayloadError, match="« signature » absent"):
        StoredInvoice.from_payload(good, 2)
    signed = {**good["securing"], "ps_number": "281234567", "signature": None}
    assert StoredInvoice.from_payload({**good, "securing": signed}, 2).securing.signature is None
    with pytest.raises(PayloadError, match="JSON UTF-8"):
        decode_payload(b"\xff\xfe")
    with pytest.raises(PayloadError, match="objet JSON"):
        decode_payload(b"[1]")


# --- The frame layer of the emulator ---------------------------------------------------------------


def _ask(emulator: TlaEmulator, seq: int, command: int, payload: dict, version: int = 1) -> Frame:
    answer = emulator.respond(Frame(version, seq, command, encode_payload(payload)))
    assert answer is not None
    return decode(answer)


def test_a_repeated_request_is_replayed_not_executed_again(state_file: Path) -> None:
    device = TlaDevice(state_file)
    emulator = TlaEmulator(device)
    invoices = make_invoices(2)
    device.execute(Command.LOAD, {"invoices": [i.to_payload() for i in invoices]})
    erase = {"keys": [invoices[0].key]}
    first = _ask(emulator, 40, Command.ERASE, erase)
    again = _ask(emulator, 40, Command.ERASE, erase)
    assert first == again and decode_payload(again.payload)["erased"] == [invoices[0].key]
    assert device.executed[Command.ERASE] == 1 and emulator.replays == 1

    # Another sequence number is a new request: executed (and idempotent).
    third = _ask(emulator, 41, Command.ERASE, erase)
    assert decode_payload(third.payload) == {"erased": [], "absent": [invoices[0].key]}
    assert device.executed[Command.ERASE] == 2

    # The same request after the device's memory changed (secured at the patient's home) is
    # executed afresh: the cached answer would be stale.
    listing = _ask(emulator, 42, Command.LIST, {"start": 0})
    device.secure([invoices[1].key])
    fresh = _ask(emulator, 42, Command.LIST, {"start": 0})
    assert listing != fresh
    assert decode_payload(fresh.payload)["invoices"][0]["state"] == "secured"


def test_versions_and_error_frames(state_file: Path) -> None:
    emulator = TlaEmulator(TlaDevice(state_file, versions=(1, 2)))
    identity = decode_payload(_ask(emulator, 1, Command.IDENTIFY, {"versions": [1]}).payload)
    assert identity["version"] == 1 and identity["versions"] == [1, 2]

    unknown_version = _ask(emulator, 2, Command.GET_CLOCK, {}, version=9)
    assert (unknown_version.version, unknown_version.code) == (1, ERROR_RESPONSE)
    with pytest.raises(TlaVersionError, match="parle la version 1, 2"):
        raise parse_error(decode_payload(unknown_version.payload))

    newer_only = TlaEmulator(TlaDevice(state_file, versions=(3,)))
    refused = _ask(newer_only, 3, Command.IDENTIFY, {"versions": [1]})
    with pytest.raises(TlaVersionError, match="Mettez à jour"):
        raise parse_error(decode_payload(refused.payload))

    not_json = emulator.respond(Frame(1, 4, Command.LOAD, b"\x80 pas du JSON"))
    assert not_json is not None
    error = parse_error(decode_payload(decode(not_json).payload))
    assert error.code == ErrorCode.BAD_PAYLOAD and "JSON UTF-8" in str(error)

    full = TlaEmulator(TlaDevice(state_file, capacity=1))
    answer = _ask(full, 5, Command.LOAD, {"invoices": [i.to_payload() for i in make_invoices(2)]})
    assert answer.code == ERROR_RESPONSE and answer.seq == 5
    with pytest.raises(TlaDeviceFull, match="Mémoire du lecteur pleine"):
        raise parse_error(decode_payload(answer.payload))


def test_memory_file_format(state_file: Path) -> None:
    device = TlaDevice(state_file, capacity=7)
    device.execute(Command.LOAD, {"invoices": [make_invoices(1)[0].to_payload()]})
    data = json.loads(state_file.read_text(encoding="utf-8"))
    assert data["format"] == 2 and data["capacity"] == 7 and data["generation"] >= 2
    assert data["invoices"][0]["state"] == "loaded" and data["invoices"][0]["securing"] is None
    assert not state_file.with_name(state_file.name + ".tmp").exists()


def test_clock_set_and_read(state_file: Path) -> None:
    reader = EmulatedPortableReader(state_file)
    target = datetime(2030, 1, 2, 3, 4, 5)
    assert abs(reader.set_clock(target) - target) <= timedelta(seconds=1)
    assert abs(reader.get_clock() - target) <= timedelta(seconds=2)
    now = datetime.now()
    assert abs(reader.set_clock() - now) <= timedelta(seconds=2)


def test_factory_chooses_the_in_process_reader(tmp_path: Path) -> None:
    path = tmp_path / "demo.json"
    reader = open_portable_reader(DeviceSettings(tla_url=f"emulated:{path}"))
    assert isinstance(reader, EmulatedPortableReader)
    with reader:
        reader.load(make_invoices(1))
    assert path.exists()
    assert emulated_state_file("emulated") is not None
    assert emulated_state_file("/dev/ttyUSB0") is None
    with pytest.raises(ConfigError, match="devices.tla_url"):
        open_portable_reader(DeviceSettings(tla_url=" "))


def test_two_phase_transfers_in_process(state_file: Path) -> None:
    invoices = make_invoices(4)
    desk = FakeDesk(invoices)
    reader = EmulatedPortableReader(state_file)
    desk.load(reader)
    desk.load(reader)  # nothing left to load: a no-op
    assert set(desk.states.values()) == {"CHARGEE_TLA"}
    reader.device.secure([invoices[0].key, invoices[1].key], CardType.CPS)
    reader.device.secure([invoices[2].key], CardType.CPE)
    assert sorted(desk.unload(reader)) == sorted(i.key for i in invoices[:3])
    assert desk.states == {
        invoices[0].key: "VALIDEE",
        invoices[1].key: "VALIDEE",
        invoices[2].key: "A_SECURISER",
        invoices[3].key: "CHARGEE_TLA",
    }
    assert desk.unload(reader) == []
    assert [s.key for s in reader.contents()] == [invoices[3].key]
