"""TLA frames: encoding, strict single-frame decoding, and a resynchronising stream decoder.

Layout (docs/formats/tla-protocol.md, "Framing")::

    STX | escaped( version seq code length_hi length_lo payload… crc_hi crc_lo ) | ETX

STX (02), ETX (03) and DLE (10) never appear raw inside a frame: they are sent as DLE followed by
the byte XOR 20. A raw STX therefore always starts a frame, which is what lets a reader
resynchronise after noise without knowing anything about what came before.
"""

from __future__ import annotations

import binascii
import struct
from dataclasses import dataclass

from tuibill.hardware.tla.errors import (
    FrameChecksumError,
    FrameError,
    FrameFormatError,
    FrameGarbageError,
    FrameLengthError,
)

STX = 0x02
ETX = 0x03
DLE = 0x10
ESCAPE_XOR = 0x20
_SPECIAL = frozenset((STX, ETX, DLE))
_ESCAPED = frozenset(b ^ ESCAPE_XOR for b in _SPECIAL)  # 22, 23, 30

_HEADER = struct.Struct(">BBBH")  # version, seq, code, payload length
HEADER_SIZE = _HEADER.size  # 5
CRC_SIZE = 2
MAX_PAYLOAD = 0xFFFF
MIN_BODY = HEADER_SIZE + CRC_SIZE
MAX_BODY = MIN_BODY + MAX_PAYLOAD
# The frame's CRC is CRC-16/CCITT-FALSE (poly 1021, init FFFF, no reflection, no final XOR;
# "123456789" → 29B1): the standard library's ``binascii.crc_hqx`` started from FFFF.
CRC_INIT = 0xFFFF


@dataclass(frozen=True)
class Frame:
    version: int
    seq: int
    code: int
    payload: bytes = b""

    def __post_init__(self) -> None:
        for name in ("version", "seq", "code"):
            value = getattr(self, name)
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must fit in one byte, got {value}")


def encode(frame: Frame, *, corrupt_crc: bool = False) -> bytes:
    """The bytes to put on the line for *frame*. *corrupt_crc* sends a wrong CRC on purpose
    (fault injection: the emulator's "corrupt CRC once", tests)."""
    if len(frame.payload) > MAX_PAYLOAD:
        raise FrameLengthError(
            f"Trame TLA : données trop longues ({len(frame.payload)} octets, "
            f"{MAX_PAYLOAD} au maximum)."
        )
    body = _HEADER.pack(frame.version, frame.seq, frame.code, len(frame.payload)) + frame.payload
    crc = binascii.crc_hqx(body, CRC_INIT) ^ (0xFFFF if corrupt_crc else 0)
    body += crc.to_bytes(2, "big")
    out = bytearray((STX,))
    for byte in body:
        if byte in _SPECIAL:
            out += bytes((DLE, byte ^ ESCAPE_XOR))
        else:
            out.append(byte)
    out.append(ETX)
    return bytes(out)


def parse_body(body: bytes) -> Frame:
    """Check and split an unescaped body (header + payload + CRC). Length is checked before the
    CRC so that a truncated frame is reported as such, not as a checksum error."""
    if len(body) < MIN_BODY:
        raise FrameFormatError(
            f"Trame TLA trop courte : {len(body)} octet(s), {MIN_BODY} au minimum."
        )
    version, seq, code, length = _HEADER.unpack_from(body)
    received = len(body) - MIN_BODY
    if received != length:
        raise FrameLengthError(
            f"Trame TLA : longueur annoncée {length} octet(s), reçue {received} octet(s)."
        )
    expected = int.from_bytes(body[-CRC_SIZE:], "big")
    computed = binascii.crc_hqx(body[:-CRC_SIZE], CRC_INIT)
    if expected != computed:
        raise FrameChecksumError(expected, computed)
    return Frame(version, seq, code, bytes(body[HEADER_SIZE:-CRC_SIZE]))


def decode(raw: bytes) -> Frame:
    """Decode exactly one frame, STX to ETX. Anything else raises a :class:`FrameError`."""
    if not raw:
        raise FrameFormatError("Trame TLA vide.")
    if raw[0] != STX:
        raise FrameFormatError(f"Trame TLA : premier octet {raw[0]:02X}, STX (02) attendu.")
    if len(raw) < 2 or raw[-1] != ETX:
        raise FrameFormatError("Trame TLA incomplète : ETX (03) final absent.")
    body = bytearray()
    escaped = False
    for position, byte in enumerate(raw[1:-1], start=1):
        if escaped:
            if byte not in _ESCAPED:
                raise FrameFormatError(
                    f"Trame TLA : séquence d'échappement 10 {byte:02X} invalide (octet {position})."
                )
            body.append(byte ^ ESCAPE_XOR)
            escaped = False
        elif byte == DLE:
            escaped = True
        elif byte in (STX, ETX):
            raise FrameFormatError(
                f"Trame TLA : octet {byte:02X} non échappé à l'intérieur (octet {position})."
            )
        else:
            body.append(byte)
    if escaped:
        raise FrameFormatError("Trame TLA : séquence d'échappement coupée par ETX.")
    return parse_body(bytes(body))


_IDLE, _IN_FRAME, _SKIPPING = range(3)


class FrameDecoder:
    """Incremental decoder for a byte stream that may contain noise and broken frames.

    :meth:`feed` never raises: it returns, in order, the frames found and a :class:`FrameError`
    for each problem, then carries on from the next STX. That is the resynchronisation rule.
    """

    def __init__(self) -> None:
        self._state = _IDLE
        self._body = bytearray()
        self._escaped = False
        self._garbage = 0

    @property
    def in_frame(self) -> bool:
        """True while a frame has started (STX seen) and not ended."""
        return self._state == _IN_FRAME

    def feed(self, data: bytes) -> list[Frame | FrameError]:
        events: list[Frame | FrameError] = []
        for byte in data:
            if byte == STX:
                if self._state == _IN_FRAME:
                    events.append(
                        FrameFormatError(
                            f"Trame TLA interrompue par un nouveau STX après "
                            f"{len(self._body)} octet(s)."
                        )
                    )
                self._flush_garbage(events)
                self._start()
            elif self._state == _IDLE:
                self._garbage += 1
            elif self._state == _SKIPPING:
                if byte == ETX:
                    self._state = _IDLE
            elif byte == ETX:
                self._state = _IDLE
                if self._escaped:
                    events.append(
                        FrameFormatError("Trame TLA : séquence d'échappement coupée par ETX.")
                    )
                else:
                    try:
                        events.append(parse_body(bytes(self._body)))
                    except FrameError as error:
                        events.append(error)
                self._body.clear()
            elif self._escaped:
                self._escaped = False
                if byte in _ESCAPED:
                    self._append(byte ^ ESCAPE_XOR, events)
                else:
                    events.append(
                        FrameFormatError(
                            f"Trame TLA : séquence d'échappement 10 {byte:02X} invalide."
                        )
                    )
                    self._skip()
            elif byte == DLE:
                self._escaped = True
            else:
                self._append(byte, events)
        self._flush_garbage(events)
        return events

    def _start(self) -> None:
        self._state = _IN_FRAME
        self._body.clear()
        self._escaped = False

    def _skip(self) -> None:
        # The rest of a broken frame, up to its ETX, is not noise worth reporting again.
        self._state = _SKIPPING
        self._body.clear()
        self._escaped = False

    def _append(self, byte: int, events: list[Frame | FrameError]) -> None:
        self._body.append(byte)
        if len(self._body) > MAX_BODY:
            events.append(
                FrameLengthError(f"Trame TLA trop longue (plus de {MAX_BODY} octets) : ignorée.")
            )
            self._skip()

    def _flush_garbage(self, events: list[Frame | FrameError]) -> None:
        if self._garbage:
            events.append(FrameGarbageError(self._garbage))
            self._garbage = 0
