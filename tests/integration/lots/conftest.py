"""Fixtures of the lot tests: a small practice with invoices, a simulated caisse on SMTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from lots_support import Caisse, Office, make_office, transmission

from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse
from tuibill.simulator.scenarios import Answer, FixedScenario, Scenario


@pytest.fixture
def office(db_url) -> Office:
    """Two practitioners, two caisses (01 281, 01 595), one patient per caisse."""
    return make_office()


@pytest.fixture
def start_caisse(tmp_path) -> Iterator[Callable[..., Caisse]]:
    """Start the simulated caisse in-process on a free port (stopped after the test)."""
    servers: list[SmtpCaisse] = []

    def start(
        scenario: Scenario | None = None,
        *,
        outbox: Path | None = None,
        lot_codec: object | None = None,
        **overrides: object,
    ) -> Caisse:
        outbox = outbox or tmp_path / "Maildir"
        simulator = CaisseSimulator(
            outbox,
            scenario or FixedScenario((Answer("positive"),)),
            lot_codec=lot_codec,  # type: ignore[arg-type]
        )
        server = SmtpCaisse(simulator, port=0)
        server.start()
        servers.append(server)
        return Caisse(server, simulator, outbox, transmission(tmp_path, server.port, **overrides))

    yield start
    for server in servers:
        server.stop()
