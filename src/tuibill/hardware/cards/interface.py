"""The card reader interface: what screens and services call, whatever the backend.

A backend supplies four primitives (list readers, ATRs of the cards present, an APDU session
on one reader, waiting for a change); everything else — identification, the Vitale 2 read, the
CPS PIN and signature — is written once here on top of them.

A reader object is bound to a reader-name prefix (``devices.card_reader_name``; empty: every
reader). Practices use two-slot readers (one slot for the Vitale, one for the CPS), which PC/SC
shows as two readers: each operation picks, among the matching readers, the one holding the
right kind of card.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from typing import TypeVar

from tuibill.hardware.cards import cps, vitale2
from tuibill.hardware.cards.apdu import CardChannel, Transport
from tuibill.hardware.cards.atr import identify_atr
from tuibill.hardware.cards.data import (
    CardInfo,
    CardType,
    CpsHolder,
    ReaderStatus,
    Signature,
    VitaleData,
)
from tuibill.hardware.cards.errors import (
    NoCardError,
    NoReaderError,
    UnsupportedCardError,
    Vitale1Error,
)

T = TypeVar("T")
_WAIT_SLICE = 0.5  # waits re-check the readers at least this often (no lost events)
_VITALE_KINDS = (CardType.VITALE_2,)
_CPS_KINDS = (CardType.CPS, CardType.CPE)


class CardReader(ABC):
    """One or more card readers (the ones whose name starts with ``reader_name``)."""

    backend: str = ""

    def __init__(self, reader_name: str = "") -> None:
        self.reader_name = reader_name

    # --- backend primitives -------------------------------------------------------------------

    @abstractmethod
    def list_readers(self) -> list[str]:
        """Every reader the backend sees (empty list: none)."""

    @abstractmethod
    def _atrs(self, readers: list[str]) -> dict[str, bytes | None]:
        """The ATR of the card in each reader, None for an empty reader; no APDU sent."""

    @abstractmethod
    def _session(self, reader: str) -> AbstractContextManager[tuple[bytes, Transport]]:
        """An exclusive APDU session on the card of ``reader``: yields its ATR and a transport."""

    @abstractmethod
    def _wait_change(self, readers: list[str], timeout: float) -> None:
        """Block until a card arrives or leaves one of ``readers``, or ``timeout`` seconds."""

    # --- readers and cards --------------------------------------------------------------------

    def matches(self, reader: str) -> bool:
        return reader.startswith(self.reader_name)

    def readers(self) -> list[str]:
        """The readers this object uses; :class:`NoReaderError` if there is none."""
        every = self.list_readers()
        if not every:
            raise NoReaderError("Aucun lecteur de cartes détecté : branchez le lecteur.")
        chosen = [name for name in every if self.matches(name)]
        if not chosen:
            raise NoReaderError(
                f"Aucun lecteur dont le nom commence par « {self.reader_name} » "
                f"(lecteurs vus : {', '.join(every)})."
            )
        return chosen

    def reader_status(self) -> list[ReaderStatus]:
        """Every reader the backend sees (not only the matching ones), with its card."""
        every = self.list_readers()
        atrs = self._atrs(every) if every else {}
        return [
            ReaderStatus(name, _info(name, atr) if (atr := atrs.get(name)) else None)
            for name in every
        ]

    def cards(self) -> list[CardInfo]:
        """The cards present in the matching readers, in reader order."""
        readers = self.readers()
        atrs = self._atrs(readers)
        return [_info(name, atr) for name in readers if (atr := atrs.get(name))]

    def identify(self) -> CardInfo:
        """The card in the first matching reader that holds one."""
        found = self.cards()
        if not found:
            raise NoCardError("Aucune carte dans le lecteur : insérez la carte.")
        return found[0]

    def wait_for_card(self, timeout: float, kinds: Collection[CardType] | None = None) -> CardInfo:
        """Wait up to ``timeout`` seconds for a card (of one of ``kinds``, if given)."""
        deadline = time.monotonic() + timeout
        while True:
            for card in self.cards():
                if kinds is None or card.card_type in kinds:
                    return card
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                labels = [k.label[0].lower() + k.label[1:] for k in kinds] if kinds else ["carte"]
                what = " ou ".join(labels)
                raise NoCardError(f"Aucune {what} insérée dans le délai imparti.")
            self._wait_change(self.readers(), min(remaining, _WAIT_SLICE))

    def wait_for_removal(self, timeout: float, reader: str | None = None) -> bool:
        """Wait up to ``timeout`` seconds until ``reader`` (default: every matching reader)
        is empty. True if it is, False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            readers = self.readers() if reader is None else [reader]
            atrs = self._atrs(readers)
            if not any(atrs.get(name) for name in readers):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._wait_change(readers, min(remaining, _WAIT_SLICE))

    # --- operations ---------------------------------------------------------------------------

    def preferred_card(self) -> CardInfo:
        """The card « the card » means: the usual French desk reader holds the CPS in one slot
        and the patient's Vitale in the other, so a Vitale present is the one; else the first
        card present."""
        found = self.cards()
        if not found:
            raise NoCardError("Aucune carte dans le lecteur : insérez la carte.")
        for kinds in (_VITALE_KINDS, (CardType.VITALE_1,)):
            for card in found:
                if card.card_type in kinds:
                    return card
        return found[0]

    def read(self) -> VitaleData | CpsHolder:
        """Read « the card »: the Vitale when one is present (:meth:`preferred_card`), else the
        CPS/CPE or the unknown card present."""
        card = self.preferred_card()
        if card.card_type is CardType.VITALE_1:
            raise Vitale1Error()
        if card.card_type in _CPS_KINDS:
            return self._run(card.reader, cps.read_holder)
        if card.card_type is CardType.VITALE_2:
            return self._run(card.reader, vitale2.read)
        return self._run(card.reader, _read_unknown)

    def read_vitale(self) -> VitaleData:
        """The bénéficiaires of the Vitale card present (never a partial list)."""
        card = self._find(_VITALE_KINDS, "Aucune carte Vitale dans le lecteur.")
        return self._run(card.reader, vitale2.read)

    def read_cps_holder(self) -> CpsHolder:
        card = self._find(_CPS_KINDS, "Aucune carte CPS ou CPE dans le lecteur.")
        return self._run(card.reader, cps.read_holder)

    def read_certificate(self) -> bytes:
        """The CPS/CPE signing certificate, DER."""
        card = self._find(_CPS_KINDS, "Aucune carte CPS ou CPE dans le lecteur.")
        return self._run(card.reader, lambda channel, _card: cps.read_certificate(channel))

    def pin_tries_left(self) -> int:
        """Tries left on the CPS/CPE PIN, asked without spending one."""
        card = self._find(_CPS_KINDS, "Aucune carte CPS ou CPE dans le lecteur.")
        return self._run(card.reader, lambda channel, _card: cps.pin_tries_left(channel))

    def verify_pin(self, pin: str) -> int:
        """Present the CPS/CPE PIN; returns the tries left. The PIN is not kept."""
        card = self._find(_CPS_KINDS, "Aucune carte CPS ou CPE dans le lecteur.")
        return self._run(card.reader, lambda channel, _card: cps.verify_pin(channel, pin))

    def sign(self, data: bytes, pin: str | None = None) -> Signature:
        """Sign ``data`` (SHA-256, RSA PKCS#1 v1.5) with the CPS/CPE.

        With ``pin``, it is verified first in the same session; without, it must have been
        verified before (:class:`PinRequiredError` otherwise).
        """
        card = self._find(_CPS_KINDS, "Aucune carte CPS ou CPE dans le lecteur.")

        def operation(channel: CardChannel, _card: CardInfo) -> Signature:
            if pin is not None:
                cps.verify_pin(channel, pin)
            return cps.sign(channel, data)

        return self._run(card.reader, operation)

    # --- helpers ------------------------------------------------------------------------------

    def _find(self, kinds: tuple[CardType, ...], missing: str) -> CardInfo:
        """The first card of one of ``kinds``; else an unknown card (it may still answer);
        else a clear error naming what is in the reader."""
        present = self.cards()
        for card in present:
            if card.card_type in kinds:
                return card
        for card in present:
            if card.card_type is CardType.UNKNOWN:
                return card
        if any(card.card_type is CardType.VITALE_1 for card in present) and kinds == _VITALE_KINDS:
            raise Vitale1Error()
        if present:
            found = ", ".join(card.label for card in present)
            raise NoCardError(f"{missing} Carte présente : {found}.")
        raise NoCardError(missing)

    def _run(self, reader: str, operation: Callable[[CardChannel, CardInfo], T]) -> T:
        with self._session(reader) as (atr, transport):
            card = _info(reader, atr)
            if card.card_type is CardType.VITALE_1:
                raise Vitale1Error()  # swapped for a Vitale 1 meanwhile: still no APDU
            return operation(CardChannel(transport), card)


def _info(reader: str, atr: bytes) -> CardInfo:
    return CardInfo(reader=reader, atr=bytes(atr), card_type=identify_atr(atr))


def _read_unknown(channel: CardChannel, card: CardInfo) -> VitaleData | CpsHolder:
    # An ATR outside the table may still be a newer Vitale or CPS: ask the card itself.
    try:
        return vitale2.read(channel, card)
    except UnsupportedCardError:
        pass
    try:
        return cps.read_holder(channel, card)
    except UnsupportedCardError:
        raise UnsupportedCardError(
            f"Carte non reconnue (ATR {card.atr_hex}) : ce n'est ni une carte Vitale ni une "
            "carte CPS/CPE."
        ) from None
