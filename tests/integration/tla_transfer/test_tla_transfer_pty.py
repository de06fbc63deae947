"""Load and unload with the database over a real serial line: the emulator on a
pseudo-terminal, the desk through pyserial (``TlaClient``), the line hung up mid-transfer."""

from __future__ import annotations

import pytest

from tests.support.sesam import fresh, through_a_lot, transitions_of
from tuibill.cli.main import main
from tuibill.hardware.tla import CardType, TlaError, invoice_key
from tuibill.services import securing, tla_transfer


def keys_of(invoices) -> list[str]:
    return [invoice_key(i.practitioner.am_number, i.number) for i in invoices]


def test_round_trip_over_a_pty(prepared, serve_pty, connect, state_file, monkeypatch) -> None:
    served = serve_pty()
    keys = keys_of(prepared)
    with connect(served.port) as client:
        outcome = tla_transfer.load_prepared(client, "anne")
    assert outcome.loaded == keys

    # At the patient's home, as the command a tester types does it.
    monkeypatch.setenv("TUIBILL_CONFIG", "")
    emulate = ["emulate", "tla", "secure", "--state", str(state_file)]
    assert main([*emulate, "--key", keys[0], "--key", keys[1]]) == 0
    assert main([*emulate, "--key", keys[2], "--cpe", "--signer", "Julie PETIT"]) == 0

    with connect(served.port) as client:
        outcome = tla_transfer.unload(client, "anne")
    assert (outcome.validated, outcome.to_secure, outcome.not_secured) == (
        keys[:2],
        keys[2:3],
        keys[3:],
    )
    assert [fresh(i).state for i in prepared] == [
        "VALIDEE",
        "VALIDEE",
        "A_SECURISER",
        "CHARGEE_TLA",
    ]
    semi = fresh(prepared[2])
    assert semi.signing_card.startswith("CPE ") and " (TLA EMU" in semi.signing_card
    assert semi.signer == "Julie PETIT (281234567)"
    assert [s.key for s in served.device.stored()] == keys[3:]
    # Protocol version 2 over the line: the device's signatures came back and verify.
    assert all(securing.verify_invoice_signature(fresh(i)) for i in prepared[:3])
    through_a_lot(fresh(prepared[0]))

    # The other nurse, with her own CPS in the device.
    other = prepared[3].practitioner.am_number
    assert main([*emulate, "--key", keys[3], "--signer", "Karim BRUNET", "--ps-number", other]) == 0
    with connect(served.port) as client:
        outcome = tla_transfer.unload(client, "anne")
    assert outcome.validated == keys[3:] and served.device.stored() == []
    assert fresh(prepared[3]).signer == f"Karim BRUNET ({other})"
    through_a_lot(fresh(prepared[3]))


def test_hang_up_mid_unload_then_rerun_without_duplicate(prepared, serve_pty, connect) -> None:
    served = serve_pty()
    keys = keys_of(prepared)
    with connect(served.port) as client:
        tla_transfer.load_prepared(client, "anne")
    served.device.secure(keys[:3], CardType.CPS)

    # IDENTIFY, LIST, FETCH, FETCH answered; the third FETCH's answer cut, the line hung up.
    served.emulator.misbehaviour.hangup_after = served.emulator.answers_sent + 4
    with connect(served.port) as client, pytest.raises(TlaError):
        tla_transfer.unload(client, "anne")
    assert {fresh(i).state for i in prepared} == {"CHARGEE_TLA"}  # nothing committed
    assert len(served.device.stored()) == 4  # nothing erased

    # The device is plugged in again: a new line, the same memory.
    served.line.stop()
    served = serve_pty()
    with connect(served.port) as client:
        outcome = tla_transfer.unload(client, "anne")
    assert outcome.validated == keys[:3] and outcome.erased == keys[:3]
    assert [s.key for s in served.device.stored()] == keys[3:]
    for invoice in prepared[:3]:
        assert [t[2] for t in transitions_of(invoice)].count("unload_secured") == 1


def test_answer_to_erase_lost_then_rerun_finds_nothing_to_redo(
    prepared, serve_pty, connect
) -> None:
    served = serve_pty()
    keys = keys_of(prepared)
    with connect(served.port) as client:
        tla_transfer.load_prepared(client, "anne")
    served.device.secure(keys[:2], CardType.CPS)

    # IDENTIFY, LIST, 4 × FETCH answered; ERASE executed (and saved), its answer cut.
    served.emulator.misbehaviour.hangup_after = served.emulator.answers_sent + 6
    with connect(served.port) as client:
        outcome = tla_transfer.unload(client, "anne")
    assert outcome.validated == keys[:2]
    assert outcome.erase_error is not None and "relancez « Décharger »" in outcome.erase_error
    assert [s.key for s in served.device.stored()] == keys[2:]  # the erase was done

    served.line.stop()
    served = serve_pty()
    with connect(served.port) as client:
        outcome = tla_transfer.unload(client, "anne")
    assert outcome.committed == [] and outcome.erased == []
    assert outcome.not_secured == keys[2:]
    for invoice in prepared[:2]:
        assert [t[2] for t in transitions_of(invoice)].count("unload_secured") == 1


def test_device_full_over_the_line_changes_nothing(prepared, serve_pty, connect) -> None:
    served = serve_pty(capacity=2)
    with connect(served.port) as client, pytest.raises(TlaError, match="pleine"):
        tla_transfer.load_prepared(client, "anne")
    assert served.device.stored() == []
    assert {fresh(i).state for i in prepared} == {"A_CHARGER"}
