"""Fixtures of the TLA transfer tests: a practice with « À charger » invoices, and emulated
portable readers — in-process, or served on a pseudo-terminal and reached through pyserial."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.sesam import Practice, add_patient, card_person, draft, make_practice
from tuibill.hardware.tla.client import TlaClient
from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.hardware.tla.emulator_server import Misbehaviour, PtyLine, TlaEmulator
from tuibill.models import Invoice
from tuibill.services import invoices as invoice_service


@pytest.fixture
def setup(db_url) -> Practice:
    return make_practice()


@pytest.fixture
def prepared(setup) -> list[Invoice]:
    """Four « À charger » invoices: three of the CPS's nurse, one of the other nurse."""
    patient = add_patient(card_person(0), setup.organism)
    invoices = [draft(setup, patient, days_ago=days) for days in (2, 3, 4)]
    invoices.append(draft(setup, patient, practitioner=setup.other, days_ago=5))
    for invoice in invoices:
        invoice_service.prepare(invoice.id, user="anne")
    return [Invoice.get_by_id(invoice.id) for invoice in invoices]


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "tla.json"


@dataclass
class Served:
    port: str
    device: TlaDevice
    emulator: TlaEmulator
    line: PtyLine


@pytest.fixture
def serve_pty(state_file: Path) -> Iterator[Callable[..., Served]]:
    """serve_pty(misbehaviour=None, **device options): the emulator on a new pseudo-terminal,
    on the test's state file (the device's memory survives a new line)."""
    lines: list[PtyLine] = []

    def start(misbehaviour: Misbehaviour | None = None, **options) -> Served:
        device = TlaDevice(state_file, **options)
        emulator = TlaEmulator(device, misbehaviour)
        line = PtyLine(emulator)
        lines.append(line)
        return Served(line.port, device, emulator, line)

    yield start
    for line in lines:
        line.stop()
    assert all(line.error is None for line in lines), [line.error for line in lines]


@pytest.fixture
def connect() -> Iterator[Callable[[str], TlaClient]]:
    clients: list[TlaClient] = []

    def open_client(port: str) -> TlaClient:
        client = TlaClient(port, timeout=1.0, retries=1)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()
