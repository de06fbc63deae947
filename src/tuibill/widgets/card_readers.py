"""The card readers and the cards in them, shown live.

A worker thread polls the readers (cards come and go) while the panel is in view, and tells
what it sees when it changes; a CPS shows its holder and its PIN tries (asked without spending
one, on that reader only).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, ClassVar

from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from tuibill.domain.errors import TuibillError

if TYPE_CHECKING:
    from tuibill.services.devices import ReaderStatus

READER_WIDTH = 22  # characters of a reader's name shown before its card (80 columns)


def reader_name(name: str) -> str:
    """A reader's name in READER_WIDTH characters: its start (the make) and its end (the slot,
    « 00 01 »), which tell two readers apart."""
    if len(name) <= READER_WIDTH:
        return name
    return f"{name[: READER_WIDTH - 7]}…{name[-6:]}"


def describe_readers(statuses: list[ReaderStatus], devices: Any) -> list[str]:
    """One line per reader: its name and its card."""
    from tuibill.services.devices import CardType, open_card_reader

    if not statuses:
        return ["Aucun lecteur de cartes détecté : branchez le lecteur (câble USB)."]
    lines = []
    for status in statuses:
        card = status.card
        if card is None:
            text = "aucune carte"
        elif card.card_type.is_professional:
            view = open_card_reader(devices, status.name)
            try:
                holder = view.read_cps_holder()
                tries = view.pin_tries_left()
                text = (
                    f"{holder.card_type.label} {holder.name} n° {holder.ps_number} · "
                    f"{tries} essai(s)"
                )
            except TuibillError as error:
                text = f"{card.label} illisible : {error}"
        elif card.card_type is CardType.VITALE_2:
            text = "Carte Vitale 2 — v : lire les bénéficiaires"
        elif card.card_type is CardType.VITALE_1:
            text = "Carte Vitale 1 : illisible ici, facturez en mode dégradé"
        else:
            text = f"{card.label} (ATR {card.atr_hex})"
        lines.append(f"{reader_name(status.name):<{READER_WIDTH}} {text}")
    return lines


class CardReaders(Static):
    """The readers' lines; :meth:`pause` behind another menu, :meth:`poll_now` to re-read."""

    POLL_SECONDS: ClassVar[float] = 0.5

    class Changed(Message):
        """Posted by the polling thread: what the card readers hold now."""

        def __init__(self, lines: list[str], error: bool = False) -> None:
            super().__init__()
            self.lines = lines
            self.error = error

    def __init__(self, *, id: str) -> None:
        super().__init__("Recherche des lecteurs de cartes…", id=id, markup=False)
        self._stop = threading.Event()
        self._visible = threading.Event()
        self._visible.set()
        self._force = threading.Event()

    def on_mount(self) -> None:
        self.run_worker(self._poll, thread=True, group="lecteur-cartes", exit_on_error=False)

    def on_unmount(self) -> None:
        self._stop.set()
        self._visible.set()  # wake the polling thread so that it ends

    def pause(self) -> None:
        """No polling behind another menu."""
        self._visible.clear()

    def resume(self) -> None:
        self._visible.set()
        self._force.set()

    def poll_now(self) -> None:
        """Say what the readers hold at the next poll, changed or not (a PIN counter may have
        moved)."""
        self._force.set()

    def _poll(self) -> None:
        from tuibill.services.devices import open_card_reader

        worker = get_current_worker()
        devices = self.app.settings.devices
        reader = None
        last: tuple | None = None
        while not self._stop.is_set() and not worker.is_cancelled:
            if not self._visible.wait(self.POLL_SECONDS):
                continue
            try:
                reader = reader or open_card_reader(devices)
                statuses = reader.reader_status()
                seen = tuple((s.name, s.card.atr if s.card else None) for s in statuses)
                if seen != last or self._force.is_set():
                    self._force.clear()
                    self.post_message(self.Changed(describe_readers(statuses, devices)))
                    last = seen
            except TuibillError as error:
                if last != ("erreur", str(error)):  # say it once, not at every poll
                    self.post_message(self.Changed([str(error)], error=True))
                last = ("erreur", str(error))
                reader = None  # pcscd restarted, reader plugged in: start afresh
            self._stop.wait(self.POLL_SECONDS)

    def on_card_readers_changed(self, message: Changed) -> None:
        self.set_class(message.error, "error")
        self.update("\n".join(message.lines))
