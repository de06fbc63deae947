"""The PC/SC backend (pcscd through pyscard's low-level ``smartcard.scard`` API).

pyscard is imported when a :class:`PcscCardReader` is created, never when the package is: it
is an optional dependency (``pip install 'tuibill[pcsc]'``) that compiles against libpcsclite.

Each operation opens its own PC/SC context and closes it afterwards: no state survives between
calls (a restarted pcscd is simply found again), and threads never share a context. Cards are
connected shared, inside a transaction, and left as they are on disconnect so that a PIN
verified by one call still holds for the next (the card resets when it is pulled).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tuibill.hardware.cards.errors import (
    CardError,
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
)
from tuibill.hardware.cards.interface import CardReader

log = logging.getLogger(__name__)

# PC/SC return codes (winscard), compared on 32 bits: pyscard may hand them back signed.
_NO_SERVICE = (0x8010001D, 0x8010001E)  # SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED
_NO_READERS = 0x8010002E
_TIMEOUT = 0x8010000A
_UNKNOWN_READER = (0x80100009, 0x80100017)  # SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE
_NO_CARD = (0x8010000C, 0x80100069)  # SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD
_UNRESPONSIVE = (0x80100066, 0x80100067)  # SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD
_SHARING_VIOLATION = 0x8010000B


def _code(hresult: int) -> int:
    return hresult & 0xFFFFFFFF


class _PcscTransport:
    def __init__(self, scard: Any, hcard: int, protocol: int) -> None:
        self._scard = scard
        self._hcard = hcard
        self._pci = (
            scard.SCARD_PCI_T0 if protocol == scard.SCARD_PROTOCOL_T0 else scard.SCARD_PCI_T1
        )

    def transmit(self, apdu: bytes) -> bytes:
        hresult, response = self._scard.SCardTransmit(self._hcard, self._pci, list(apdu))
        code = _code(hresult)
        if code in _NO_SERVICE:
            raise PcscUnavailableError()
        if code != 0:
            # Pulled, reset by someone else, or gone mute: in every case nothing was read.
            log.info("échange avec la carte interrompu (PC/SC %08X)", code)
            raise CardRemovedError()
        return bytes(response)


class PcscCardReader(CardReader):
    backend = "pcsc"

    def __init__(self, reader_name: str = "") -> None:
        super().__init__(reader_name)
        try:
            from smartcard import scard
        except ImportError:
            raise CardError(
                "Le module pyscard n'est pas installé : installez « tuibill[pcsc] » "
                "(pip install 'tuibill[pcsc]') ou choisissez le lecteur émulé."
            ) from None
        self._scard = scard

    @contextmanager
    def _context(self) -> Iterator[int]:
        scard = self._scard
        hresult, hcontext = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if _code(hresult) != 0:
            raise PcscUnavailableError(f"code {_code(hresult):08X}")
        try:
            yield hcontext
        finally:
            scard.SCardReleaseContext(hcontext)

    def _fail(self, hresult: int, reader: str = "") -> CardError:
        code = _code(hresult)
        if code in _NO_SERVICE:
            return PcscUnavailableError()
        if code in _UNKNOWN_READER:
            return NoReaderError(f"Le lecteur « {reader} » a été débranché.")
        if code in _NO_CARD:
            return NoCardError(f"Aucune carte dans le lecteur « {reader} ».")
        if code in _UNRESPONSIVE:
            return CardError("La carte ne répond pas : vérifiez son sens d'insertion.")
        if code == _SHARING_VIOLATION:
            return CardError("Le lecteur est utilisé par une autre application.")
        return CardError(
            f"Erreur du service des cartes : {self._scard.SCardGetErrorMessage(hresult)} "
            f"(code {code:08X})."
        )

    def list_readers(self) -> list[str]:
        with self._context() as hcontext:
            hresult, readers = self._scard.SCardListReaders(hcontext, [])
        if _code(hresult) == _NO_READERS:
            return []
        if _code(hresult) != 0:
            raise self._fail(hresult)
        return list(readers)

    def _states(self, hcontext: int, readers: list[str]) -> list[tuple[str, int, list[int]]]:
        scard = self._scard
        hresult, states = scard.SCardGetStatusChange(
            hcontext, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in readers]
        )
        if _code(hresult) not in (0, _TIMEOUT):
            raise self._fail(hresult, ", ".join(readers))
        return states

    def _atrs(self, readers: list[str]) -> dict[str, bytes | None]:
        scard = self._scard
        with self._context() as hcontext:
            states = self._states(hcontext, readers)
        result: dict[str, bytes | None] = {}
        for name, event, atr in states:
            present = event & scard.SCARD_STATE_PRESENT and not event & scard.SCARD_STATE_MUTE
            result[name] = bytes(atr) if present and atr else None
        return result

    def _wait_change(self, readers: list[str], timeout: float) -> None:
        scard = self._scard
        with self._context() as hcontext:
            states = self._states(hcontext, readers)
            known = [(name, event & ~scard.SCARD_STATE_CHANGED) for name, event, _atr in states]
            hresult, _ = scard.SCardGetStatusChange(hcontext, max(1, int(timeout * 1000)), known)
        if _code(hresult) in _NO_SERVICE:
            raise PcscUnavailableError()
        # Timeout, change or a transient error: the caller looks at the readers again.

    @contextmanager
    def _session(self, reader: str) -> Iterator[tuple[bytes, _PcscTransport]]:
        scard = self._scard
        with self._context() as hcontext:
            hresult, hcard, protocol = scard.SCardConnect(
                hcontext,
                reader,
                scard.SCARD_SHARE_SHARED,
                scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1,
            )
            if _code(hresult) != 0:
                raise self._fail(hresult, reader)
            try:
                hresult = scard.SCardBeginTransaction(hcard)
                if _code(hresult) != 0:
                    error = self._fail(hresult, reader)
                    raise CardRemovedError() if isinstance(error, NoCardError) else error
                try:
                    hresult, _name, _state, _protocol, atr = scard.SCardStatus(hcard)
                    if _code(hresult) != 0:
                        raise CardRemovedError()
                    yield bytes(atr), _PcscTransport(scard, hcard, protocol)
                finally:
                    scard.SCardEndTransaction(hcard, scard.SCARD_LEAVE_CARD)
            finally:
                scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
