"""The serial client against the emulator through a real pseudo-terminal (``os.openpty()``, raw,
emulator thread on the master side) and through ``socket://``: round trips, hang-ups and re-runs,
noise, slowness, silence, a full device, retries that must not execute twice."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from tla_support import FakeDesk, make_invoices

from tuibill.hardware.tla.client import TlaClient
from tuibill.hardware.tla.emulator_server import Misbehaviour
from tuibill.hardware.tla.errors import (
    TlaChecksumError,
    TlaDeviceFull,
    TlaLineLost,
    TlaNoAnswer,
    TlaPortError,
    TlaProtocolError,
    TlaTransmissionError,
    TlaUnknownInvoice,
)
from tuibill.hardware.tla.protocol import CardType, Command, DeviceInvoiceState

LINES = ["pty", "tcp"]


@pytest.mark.parametrize("kind", LINES)
def test_full_round_trip(kind, serve, connect) -> None:
    served = serve(kind, capacity=20)
    client = connect(served.url)

    identity = client.identify()
    assert identity.model == "TLA émulé tuibill" and identity.serial.startswith("EMU")
    assert (identity.protocol_version, identity.capacity, identity.stored) == (2, 20, 0)

    target = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    assert abs(client.set_clock(target) - target) <= timedelta(seconds=2)
    assert abs(client.get_clock() - target) <= timedelta(seconds=3)

    invoices = make_invoices(4)
    assert client.load(invoices) == [i.key for i in invoices]
    assert client.load(invoices[:2]) == [i.key for i in invoices[:2]]  # idempotent
    assert [s.key for s in client.contents()] == [i.key for i in invoices]

    # At the patient's home, on the device.
    served.device.secure([invoices[0].key, invoices[1].key], CardType.CPS, "DURAND Marie")
    served.device.secure([invoices[2].key], CardType.CPE, "LEROY Paul")

    states = {s.key: s.state for s in client.contents()}
    assert list(states.values()) == [
        DeviceInvoiceState.SECURED,
        DeviceInvoiceState.SECURED,
        DeviceInvoiceState.SEMI_SECURED,
        DeviceInvoiceState.LOADED,
    ]
    fetched = client.fetch_all()
    assert [f.content for f in fetched] == [i.content for i in invoices]
    assert fetched[0].securing is not None and fetched[0].securing.signer == "DURAND Marie"
    assert fetched[2].securing is not None and fetched[2].securing.card_type is CardType.CPE
    assert abs(fetched[0].securing.secured_at - target) <= timedelta(seconds=5)
    assert fetched[3].securing is None

    committed = [f.key for f in fetched if f.state is not DeviceInvoiceState.LOADED]
    assert client.erase(committed) == committed
    assert [s.key for s in client.contents()] == [invoices[3].key]
    with pytest.raises(TlaUnknownInvoice, match="absente du lecteur portable"):
        client.fetch(invoices[0].key)
    assert client.erase_all() == 1
    assert client.identify().stored == 0


def test_many_invoices_are_paged_and_batched(serve, connect) -> None:
    # A small device: version 1 only (a version-2 answer needs room for a certificate).
    served = serve("pty", capacity=200, max_payload=2048, versions=(1,))
    client = connect(served.url)
    invoices = make_invoices(60)
    client.load(invoices)
    assert served.device.executed[Command.LOAD] > 1  # split to fit max_payload
    assert [s.key for s in client.contents()] == [i.key for i in invoices]
    assert served.device.executed[Command.LIST] > 2  # one page could not hold them all
    assert len(client.erase([i.key for i in invoices])) == 60


@pytest.mark.parametrize("kind", LINES)
def test_hang_up_mid_fetch_then_the_rerun_completes(kind, serve, connect) -> None:
    invoices = make_invoices(4)
    desk = FakeDesk(invoices)
    served = serve(kind)
    with connect(served.url) as client:  # one desk at a time on a line: close it
        desk.load(client)
    served.device.secure([i.key for i in invoices[:3]], CardType.CPS)

    # IDENTIFY, LIST, FETCH, FETCH are answered; the third FETCH's answer is cut in half.
    served.emulator.misbehaviour.hangup_after = served.emulator.answers_sent + 4
    with connect(served.url) as client, pytest.raises(TlaLineLost, match="Liaison perdue"):
        desk.unload(client)
    assert set(desk.states.values()) == {"CHARGEE_TLA"}  # nothing committed
    assert len(served.device.stored()) == 4  # nothing erased

    if kind == "pty":  # the device was unplugged: it comes back on a new line, same memory
        served.line.stop()
        served = serve("pty")
    with connect(served.url) as client:
        erased = desk.unload(client)
    assert sorted(erased) == sorted(i.key for i in invoices[:3])
    assert [key for key, _ in desk.journal].count(invoices[0].key) == 2  # loaded, then unloaded
    assert desk.states[invoices[0].key] == "VALIDEE"
    assert [s.key for s in served.device.stored()] == [invoices[3].key]


def test_hang_up_after_erase_then_the_rerun_finds_nothing_to_redo(serve, connect) -> None:
    invoices = make_invoices(3)
    desk = FakeDesk(invoices)
    served = serve("tcp")
    with connect(served.url) as client:
        desk.load(client)
    served.device.secure(None, CardType.CPS)
    # IDENTIFY, LIST, 3 × FETCH answered; ERASE executed (and saved), its answer cut.
    served.emulator.misbehaviour.hangup_after = served.emulator.answers_sent + 5
    with connect(served.url) as client, pytest.raises(TlaLineLost):
        desk.unload(client)
    assert set(desk.states.values()) == {"VALIDEE"}  # committed before the erase
    assert served.device.stored() == []  # the erase was done
    with connect(served.url) as client:
        assert desk.unload(client) == []  # re-run: nothing lost, nothing twice
    assert len(desk.journal) == 6  # 3 loads + 3 unloads, once each


def test_an_interrupted_load_rerun_stores_nothing_twice(serve, connect) -> None:
    invoices = make_invoices(30)
    desk = FakeDesk(invoices)
    served = serve("tcp", max_payload=1024, versions=(1,))
    client = connect(served.url)
    client.identify()
    # IDENTIFY and LIST answered, the first LOAD batch stored, its answer cut.
    served.emulator.misbehaviour.hangup_after = served.emulator.answers_sent + 1
    with client, pytest.raises(TlaLineLost):
        desk.load(client)
    partly = len(served.device.stored())
    assert 0 < partly < 30 and set(desk.states.values()) == {"A_CHARGER"}
    with connect(served.url) as client:
        desk.load(client)
    assert [s.key for s in served.device.stored()] == [i.key for i in invoices]
    assert set(desk.states.values()) == {"CHARGEE_TLA"}


@pytest.mark.parametrize("kind", LINES)
def test_garbage_on_the_line_is_skipped(kind, serve, connect) -> None:
    served = serve(kind, Misbehaviour(garbage=True))
    client = connect(served.url)
    invoices = make_invoices(3)
    assert client.load(invoices) == [i.key for i in invoices]
    assert [f.key for f in client.fetch_all()] == [i.key for i in invoices]
    assert served.emulator.replays == 0  # resynchronised on the spot, no retry needed


def test_slow_device_within_the_timeout(serve, connect) -> None:
    served = serve("pty", Misbehaviour(slow=0.25))
    client = connect(served.url, timeout=2.0, retries=0)
    started = time.monotonic()
    client.identify()
    client.get_clock()
    assert time.monotonic() - started >= 0.5


def test_silent_device_gives_a_french_timeout(serve, connect) -> None:
    served = serve("pty", Misbehaviour(silent=True))
    client = connect(served.url, timeout=0.2, retries=1)
    started = time.monotonic()
    with pytest.raises(TlaNoAnswer) as caught:
        client.identify()
    elapsed = time.monotonic() - started
    assert 0.35 <= elapsed < 3
    message = str(caught.value)
    assert "Le lecteur portable ne répond pas (2 essai(s), 0,2 s d'attente chacun" in message
    assert served.url in message and "recommencez" in message


def test_device_full_is_refused_before_sending_anything(serve, connect) -> None:
    served = serve("tcp", capacity=3)
    client = connect(served.url)
    client.load(make_invoices(2))
    with pytest.raises(TlaDeviceFull, match="Mémoire du lecteur pleine") as caught:
        client.load(make_invoices(2, first=3))
    assert "Déchargez le lecteur portable" in str(caught.value)
    assert served.device.executed[Command.LOAD] == 1
    assert len(client.contents()) == 2


@pytest.mark.parametrize("fault", ["corrupt_crc_once", "drop"])
def test_a_retried_request_is_not_executed_twice(fault, serve, connect) -> None:
    served = serve("pty")
    invoices = make_invoices(2)
    client = connect(served.url, timeout=0.3, retries=2)
    client.load(invoices)
    if fault == "drop":
        served.emulator.misbehaviour.drop = 1  # executed, answer never sent: the desk times out
    else:
        served.emulator.misbehaviour.corrupt_crc_once = True  # answer damaged on the way
    # Executed twice, the ERASE would answer "absent" the second time: erase() would return [].
    assert client.erase([invoices[0].key]) == [invoices[0].key]
    assert served.device.executed[Command.ERASE] == 1
    assert served.emulator.replays == 1


def test_damaged_answers_every_time_give_a_transmission_error(serve, connect) -> None:
    served = serve("pty")
    client = connect(served.url, timeout=0.5, retries=1)
    client.identify()
    misbehaviour = served.emulator.misbehaviour
    original = served.emulator.respond

    def always_corrupt(frame):  # every answer arrives with a bad CRC
        misbehaviour.corrupt_crc_once = True
        return original(frame)

    served.emulator.respond = always_corrupt
    with pytest.raises(TlaChecksumError, match="somme de contrôle fausse après 2 essai") as caught:
        client.get_clock()
    assert isinstance(caught.value, TlaTransmissionError)
    assert served.device.executed[Command.GET_CLOCK] == 1  # the retry was a replay


def test_ports_that_cannot_be_opened(tmp_path) -> None:
    with pytest.raises(TlaPortError, match="Impossible d'ouvrir la liaison"):
        TlaClient(str(tmp_path / "ttyUSB9"))
    with pytest.raises(TlaPortError, match="dialout"):
        TlaClient("socket://127.0.0.1:1")


def test_loop_url_opens_but_an_echo_is_not_an_answer() -> None:
    with TlaClient("loop://", timeout=0.2, retries=0) as client:
        with pytest.raises(TlaProtocolError, match="Réponse inattendue"):
            client.identify()
