from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

from tuibill.simulator.caisse import CaisseSimulator, SmtpCaisse
from tuibill.simulator.scenarios import Answer, FixedScenario, Scenario


@pytest.fixture
def logs() -> list[str]:
    return []


@pytest.fixture
def start_caisse(tmp_path, logs) -> Iterator[Callable[..., SmtpCaisse]]:
    """Start the simulated caisse in-process on a free port; stopped after the test."""
    servers: list[SmtpCaisse] = []

    def start(
        scenario: Scenario | None = None,
        *,
        delay: float = 0.0,
        outbox: Path | None = None,
        **options: object,
    ) -> SmtpCaisse:
        simulator = CaisseSimulator(
            outbox or tmp_path / "Maildir",
            scenario or FixedScenario((Answer("positive"),)),
            clock=lambda: datetime(2025, 3, 5, 19, 0, 0),
            log=logs.append,
            **options,  # type: ignore[arg-type]
        )
        server = SmtpCaisse(simulator, port=0, delay=delay)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
