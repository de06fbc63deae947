"""Fixtures of the card tests: one private pcscd per test process (see cards_stack.py)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from cards_stack import VPCD_DRIVER, PcscStack, Slot, start_pcscd


@pytest.fixture(scope="session")
def pcsc_stack() -> Iterator[PcscStack]:
    if shutil.which("pcscd") is None:
        pytest.skip("pcscd absent (paquet Debian « pcscd ») : tests PC/SC impossibles")
    if not VPCD_DRIVER.exists():
        pytest.skip(f"pilote vpcd absent ({VPCD_DRIVER}, paquet « vsmartcard-vpcd »)")
    pytest.importorskip("smartcard", reason="pyscard absent (pip install 'tuibill[pcsc]')")
    stack = start_pcscd()
    # Before the first pyscard call of this process: libpcsclite reads it once.
    os.environ["PCSCLITE_CSOCK_NAME"] = str(stack.socket_path)
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def _slots(pcsc_stack: PcscStack) -> list[Slot]:
    return [Slot(pcsc_stack, 0), Slot(pcsc_stack, 1)]


@pytest.fixture
def slot0(_slots: list[Slot]) -> Iterator[Slot]:
    yield _slots[0]
    _slots[0].remove()


@pytest.fixture
def slot1(_slots: list[Slot]) -> Iterator[Slot]:
    yield _slots[1]
    _slots[1].remove()


@pytest.fixture
def slot(_slots: list[Slot]) -> Iterator[Slot]:
    """Whichever slot was emptied first: pcscd has had the most time to notice."""
    chosen = min(_slots, key=lambda candidate: candidate.removed_at)
    yield chosen
    chosen.remove()
