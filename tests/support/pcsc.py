"""A private pcscd with the vpcd virtual reader, for tests outside tests/hardware/cards.

It reuses ``tests.hardware.cards.cards_stack`` (same daemon set-up: own socket, own ports, a
private ``/run``), with one difference: **this process never talks PC/SC itself**. libpcsclite
reads ``PCSCLITE_CSOCK_NAME`` once per process, and the card tests may already have bound this
process to their own daemon (or may do so later in the same session). So the PC/SC client here
is always a subprocess (``tuibill …``) given the socket in its environment, while the emulated
cards run in threads of this process (they talk to vpcd over TCP, not through libpcsclite).
"""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from tests.hardware.cards.cards_stack import READER_PREFIX, VPCD_DRIVER, PcscStack, start_pcscd
from tuibill.hardware.cards.emulator_cards import EmulatedCard

CARD_TIMEOUT = 20.0


def unavailable_reason() -> str | None:
    """Why the PC/SC stack cannot run here, or None."""
    if shutil.which("pcscd") is None:
        return "pcscd absent (paquet Debian « pcscd ») : tests PC/SC impossibles"
    if not VPCD_DRIVER.exists():
        return f"pilote vpcd absent ({VPCD_DRIVER}, paquet « vsmartcard-vpcd »)"
    if importlib.util.find_spec("smartcard") is None:
        return "pyscard absent (pip install 'tuibill[pcsc]')"
    return None


class VpcdCards:
    """The two vpcd slots of a private pcscd: put an emulated card in, take it out."""

    def __init__(self, stack: PcscStack) -> None:
        self.stack = stack
        self._emulators: dict[int, object] = {}

    def insert(self, card: EmulatedCard, slot: int) -> None:
        from tuibill.hardware.cards.vpcd_emulator import VpcdEmulator

        self.remove(slot)
        emulator = VpcdEmulator(card, port=self.stack.port + slot)
        emulator.insert(timeout=CARD_TIMEOUT)
        self._emulators[slot] = emulator

    def remove(self, slot: int) -> None:
        emulator = self._emulators.pop(slot, None)
        if emulator is not None:
            emulator.remove()

    def env(self) -> dict[str, str]:
        """The environment of a subprocess that must use this pcscd."""
        return self.stack.env()

    def config(self) -> str:
        """The TOML ``[devices]`` table that points tuibill at these virtual readers."""
        return f'[devices]\ncard_reader = "pcsc"\ncard_reader_name = "{READER_PREFIX}"\n'


@contextmanager
def private_pcsc() -> Iterator[VpcdCards]:
    stack = start_pcscd()
    cards = VpcdCards(stack)
    try:
        yield cards
    finally:
        for slot in list(cards._emulators):
            cards.remove(slot)
        stack.stop()
