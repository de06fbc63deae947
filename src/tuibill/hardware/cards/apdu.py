"""APDU exchange common to every backend: T=0 status-word rules and ISO 7816-4 commands.

A backend only supplies a :class:`Transport` (raw bytes in, data + SW out). :class:`CardChannel`
adds what the cards need: ``61xx`` → GET RESPONSE ``00 C0 00 00 xx`` (repeated while the card
has more), ``6Cxx`` → the same command again with Le = xx, chunked READ BINARY, and a trace
where the data of VERIFY (the PIN) is always masked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from tuibill.hardware.cards.errors import CardCommandError, CardDataError, CardRemovedError

log = logging.getLogger(__name__)

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le: the end of the file was reached
SW_WRONG_OFFSET = 0x6B00  # offset past the end of the file
SW_NOT_FOUND = 0x6A82
INS_VERIFY = 0x20
_MAX_CHAINED = 256  # GET RESPONSE / 6Cxx rounds before we call the card broken (64 KiB)
_MAX_FILE = 0x7FFF  # READ BINARY offsets are 15 bits


class Transport(Protocol):
    def transmit(self, apdu: bytes) -> bytes:
        """Send one command APDU; return response data + SW1 SW2.

        Raise :class:`CardRemovedError` when the card is gone (a backend maps its own errors).
        """
        ...


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF


def hex_bytes(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def masked(apdu: bytes) -> str:
    """The APDU for a log line; a VERIFY's data (the PIN) is replaced by stars."""
    if len(apdu) > 5 and apdu[1] == INS_VERIFY:
        return hex_bytes(apdu[:5]) + " " + " ".join("**" for _ in apdu[5:])
    return hex_bytes(apdu)


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with its Le byte set (cases 2 and 4) or added (cases 1 and 3)."""
    le &= 0xFF
    if len(apdu) == 4:
        return apdu + bytes([le])
    if len(apdu) == 5:
        return apdu[:4] + bytes([le])
    lc = apdu[4]
    if len(apdu) == 5 + lc:
        return apdu + bytes([le])
    return apdu[: 5 + lc] + bytes([le])


class CardChannel:
    """Commands over one transport (one card session)."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def _raw(self, apdu: bytes) -> Response:
        log.debug("→ %s", masked(apdu))
        reply = self._transport.transmit(apdu)
        if len(reply) < 2:
            # A card pulled mid-command may answer nothing at all: an error, never "no data".
            raise CardRemovedError()
        response = Response(bytes(reply[:-2]), int.from_bytes(reply[-2:], "big"))
        log.debug("← %d octet(s), SW %04X", len(response.data), response.sw)
        return response

    def send(self, apdu: bytes) -> Response:
        """One command, with the 6Cxx and 61xx rules applied."""
        apdu = bytes(apdu)
        response = self._raw(apdu)
        rounds = 0
        while response.sw1 == 0x6C:
            rounds += 1
            if rounds > 2:
                raise CardDataError(
                    "La carte répète « longueur incorrecte » (6Cxx) : lecture abandonnée."
                )
            response = self._raw(with_le(apdu, response.sw2))
        data = response.data
        while response.sw1 == 0x61:
            rounds += 1
            if rounds > _MAX_CHAINED:
                raise CardDataError(
                    "La carte annonce des données sans fin (61xx) : lecture abandonnée."
                )
            response = self._raw(bytes([0x00, 0xC0, 0x00, 0x00, response.sw2]))
            data += response.data
        return Response(data, response.sw)

    def expect(self, apdu: bytes, command: str, ok: tuple[int, ...] = (SW_OK,)) -> bytes:
        response = self.send(apdu)
        if response.sw not in ok:
            raise CardCommandError(command, response.sw)
        return response.data

    def select_mf(self) -> Response:
        return self.send(bytes.fromhex("00 A4 00 00 02 3F 00"))

    def select_aid(self, aid: bytes) -> Response:
        return self.send(bytes([0x00, 0xA4, 0x04, 0x00, len(aid)]) + aid)

    def read_binary_sfi(self, sfi: int, command: str) -> bytes:
        """The whole content of a short-identifier EF of the current DF.

        The first READ BINARY names the file by SFI (``P1 = 80 | sfi``) and makes it current;
        while full 256-byte chunks come back the rest is read by offset, as cardpeek does.
        """
        response = self.send(bytes([0x00, 0xB0, 0x80 | sfi, 0x00, 0x00]))
        if response.sw not in (SW_OK, SW_END_OF_FILE):
            raise CardCommandError(command, response.sw)
        content = response.data
        chunk = response
        while len(chunk.data) == 256 and chunk.sw == SW_OK:
            offset = len(content)
            if offset > _MAX_FILE:
                raise CardDataError("Fichier de la carte trop long : lecture abandonnée.")
            chunk = self.send(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, 0x00]))
            if chunk.sw == SW_WRONG_OFFSET:
                break
            if chunk.sw not in (SW_OK, SW_END_OF_FILE):
                raise CardCommandError(command, chunk.sw)
            content += chunk.data
        return content
