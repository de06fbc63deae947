"""Fixtures for the TLA tests: emulators served on a pseudo-terminal or TCP, clients, invoices."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tuibill.hardware.tla.client import TlaClient
from tuibill.hardware.tla.emulator import TlaDevice
from tuibill.hardware.tla.emulator_server import Misbehaviour, PtyLine, TcpLine, TlaEmulator


@dataclass
class Served:
    url: str
    device: TlaDevice
    emulator: TlaEmulator
    line: PtyLine | TcpLine


@pytest.fixture
def state_file(tmp_path: Path) -> Path:
    return tmp_path / "tla.json"


@pytest.fixture
def serve(state_file: Path) -> Iterator[Callable[..., Served]]:
    """serve("pty" | "tcp", misbehaviour=None, **device options): an emulator in a thread,
    on the test's state file. Every line is stopped at the end, and must not have crashed."""
    lines: list[PtyLine | TcpLine] = []

    def start(kind: str, misbehaviour: Misbehaviour | None = None, **options) -> Served:
        device = TlaDevice(state_file, **options)
        emulator = TlaEmulator(device, misbehaviour)
        if kind == "pty":
            line: PtyLine | TcpLine = PtyLine(emulator)
            url = line.port
        else:
            line = TcpLine(emulator)
            url = line.url
        lines.append(line)
        return Served(url, device, emulator, line)

    yield start
    for line in lines:
        line.stop()
    assert all(line.error is None for line in lines), [line.error for line in lines]


@pytest.fixture
def connect() -> Iterator[Callable[..., TlaClient]]:
    """connect(url, timeout=2.0, retries=2): a client closed at the end of the test."""
    clients: list[TlaClient] = []

    def open_client(url: str, timeout: float = 2.0, retries: int = 2) -> TlaClient:
        client = TlaClient(url, timeout=timeout, retries=retries)
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        client.close()
