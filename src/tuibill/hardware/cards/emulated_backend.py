"""The in-process emulated backend: no pcscd, for the demo, the UI tests and development.

It shows two readers, like a practice's two-slot reader: slot 0 for the Vitale, slot 1 for the
CPS. Cards come from :mod:`emulator_cards` (the same models the vpcd emulator serves), so every
APDU goes through the same reading code as with a real reader. ``insert`` / ``remove`` (callable
from any thread) simulate the person at the desk; ``pull_after`` pulls the card in the middle
of a read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tuibill.hardware.cards.emulator_cards import EmulatedCard, demo_cps, demo_vitale
from tuibill.hardware.cards.errors import CardRemovedError, NoCardError, NoReaderError
from tuibill.hardware.cards.interface import CardReader

READER_NAMES = ("Lecteur émulé tuibill 00 00", "Lecteur émulé tuibill 00 01")


@dataclass
class _Slot:
    card: EmulatedCard | None = None
    pull_after: int | None = None
    apdu_count: int = 0


@dataclass
class EmulatedSlots:
    """The readers' shared state: several reader objects (views) may look at the same slots."""

    names: tuple[str, ...] = READER_NAMES
    condition: threading.Condition = field(default_factory=threading.Condition)
    slots: dict[str, _Slot] = field(default_factory=dict)
    changes: int = 0

    def __post_init__(self) -> None:
        self.slots = {name: _Slot() for name in self.names}


class _EmulatedTransport:
    def __init__(self, state: EmulatedSlots, reader: str, card: EmulatedCard) -> None:
        self._state = state
        self._reader = reader
        self._card = card

    def transmit(self, apdu: bytes) -> bytes:
        state = self._state
        with state.condition:
            slot = state.slots[self._reader]
            if slot.card is not self._card:
                raise CardRemovedError()
            if slot.pull_after is not None and slot.apdu_count >= slot.pull_after:
                # Pulled while the command was on its way: no status word comes back.
                slot.card, slot.pull_after = None, None
                self._card.power_off()
                state.changes += 1
                state.condition.notify_all()
                return b""
            slot.apdu_count += 1
            return self._card.process(apdu)


class EmulatedCardReader(CardReader):
    backend = "emulated"

    def __init__(self, reader_name: str = "", *, state: EmulatedSlots | None = None) -> None:
        super().__init__(reader_name)
        self.state = state if state is not None else EmulatedSlots()

    @classmethod
    def demo(cls, reader_name: str = "") -> EmulatedCardReader:
        """Two readers: the demo Vitale 2 (3 bénéficiaires) in slot 0, the demo CPS in slot 1."""
        reader = cls(reader_name)
        reader.insert(demo_vitale(), slot=0)
        reader.insert(demo_cps(), slot=1)
        return reader

    def view(self, reader_name: str) -> EmulatedCardReader:
        """Another reader object on the same slots, bound to another name prefix."""
        return EmulatedCardReader(reader_name, state=self.state)

    def _slot_name(self, slot: int | str) -> str:
        name = self.state.names[slot] if isinstance(slot, int) else slot
        if name not in self.state.slots:
            raise NoReaderError(f"Lecteur émulé « {name} » inconnu.")
        return name

    def insert(
        self, card: EmulatedCard, slot: int | str = 0, *, pull_after: int | None = None
    ) -> None:
        """Put ``card`` in a slot (replacing what was there); ``pull_after``: the card is pulled
        when the reading sends its (pull_after + 1)-th APDU."""
        state = self.state
        with state.condition:
            entry = state.slots[self._slot_name(slot)]
            card.power_on()
            entry.card, entry.pull_after, entry.apdu_count = card, pull_after, 0
            state.changes += 1
            state.condition.notify_all()

    def remove(self, slot: int | str = 0) -> EmulatedCard | None:
        """Take the card out of a slot; returns it (it keeps its PIN counter, like a real one)."""
        state = self.state
        with state.condition:
            entry = state.slots[self._slot_name(slot)]
            card, entry.card, entry.pull_after = entry.card, None, None
            if card is not None:
                card.power_off()
            state.changes += 1
            state.condition.notify_all()
            return card

    def card_in(self, slot: int | str = 0) -> EmulatedCard | None:
        with self.state.condition:
            return self.state.slots[self._slot_name(slot)].card

    def list_readers(self) -> list[str]:
        return list(self.state.names)

    def _atrs(self, readers: list[str]) -> dict[str, bytes | None]:
        with self.state.condition:
            result: dict[str, bytes | None] = {}
            for name in readers:
                slot = self.state.slots.get(name)
                result[name] = slot.card.atr if slot is not None and slot.card is not None else None
            return result

    def _wait_change(self, readers: list[str], timeout: float) -> None:
        state = self.state
        with state.condition:
            seen = state.changes
            state.condition.wait_for(lambda: state.changes != seen, timeout)

    @contextmanager
    def _session(self, reader: str) -> Iterator[tuple[bytes, _EmulatedTransport]]:
        with self.state.condition:
            slot = self.state.slots.get(reader)
            if slot is None:
                raise NoReaderError(f"Lecteur émulé « {reader} » inconnu.")
            card = slot.card
        if card is None:
            raise NoCardError(f"Aucune carte dans le lecteur « {reader} ».")
        yield card.atr, _EmulatedTransport(self.state, reader, card)
