"""TLA framing: round trips, the spec's examples, every corruption detected, resynchronisation."""

from __future__ import annotations

import binascii

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuibill.hardware.tla.errors import (
    FrameChecksumError,
    FrameError,
    FrameFormatError,
    FrameGarbageError,
    FrameLengthError,
)
from tuibill.hardware.tla.frames import (
    CRC_INIT,
    DLE,
    ETX,
    STX,
    Frame,
    FrameDecoder,
    decode,
    encode,
)

SAMPLES = [
    Frame(1, 0x2A, 0x01, b'{"versions":[1]}'),
    Frame(1, 0x02, 0x14, b""),  # seq needs escaping
    Frame(1, 0x10, 0xFF, bytes(range(256))),  # every byte value
    Frame(2, 0x03, 0x82, b"\x02\x03\x10" * 7),  # only special bytes
    Frame(1, 0xFF, 0x10, "Élodie Ñuñez — 25,30 €".encode()),
]


def _unescaped_with_crc(version: int, seq: int, code: int, length: int, payload: bytes) -> bytes:
    body = bytes((version, seq, code)) + length.to_bytes(2, "big") + payload
    body += _crc_ccitt_false(body).to_bytes(2, "big")
    out = bytearray((STX,))
    for byte in body:
        out += bytes((DLE, byte ^ 0x20)) if byte in (STX, ETX, DLE) else bytes((byte,))
    return bytes(out + bytes((ETX,)))


def _crc_ccitt_false(data: bytes) -> int:
    """CRC-16/CCITT-FALSE bit by bit, as the specification states it: independent of the code."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def test_crc_is_ccitt_false() -> None:
    # The specification's check value, and the frames' CRC (binascii.crc_hqx from CRC_INIT).
    assert _crc_ccitt_false(b"123456789") == 0x29B1
    assert binascii.crc_hqx(b"123456789", CRC_INIT) == 0x29B1
    assert binascii.crc_hqx(b"", CRC_INIT) == 0xFFFF


@given(st.binary(max_size=300))
def test_the_frame_crc_is_the_specification_s(data: bytes) -> None:
    assert binascii.crc_hqx(data, CRC_INIT) == _crc_ccitt_false(data)


@pytest.mark.parametrize("frame", SAMPLES, ids=lambda f: f"seq{f.seq:02X}-code{f.code:02X}")
def test_round_trip_and_no_raw_special_byte_inside(frame: Frame) -> None:
    raw = encode(frame)
    assert raw[0] == STX and raw[-1] == ETX
    assert STX not in raw[1:-1] and ETX not in raw[1:-1]
    assert decode(raw) == frame


def test_the_specification_examples() -> None:
    assert encode(Frame(1, 0x2A, 0x01, b'{"versions":[1]}')) == bytes.fromhex(
        "02012A01001030" + b'{"versions":[1]}'.hex() + "149D03"
    )
    assert encode(Frame(1, 0x2B, 0x02, b"")) == bytes.fromhex("02012B10220000FC6C03")
    assert encode(Frame(1, 0x02, 0x14, b"")) == bytes.fromhex("02011022140000C99603")


@pytest.mark.parametrize("frame", SAMPLES, ids=lambda f: f"seq{f.seq:02X}-code{f.code:02X}")
def test_every_single_byte_corruption_is_detected(frame: Frame) -> None:
    raw = encode(frame)
    for position in range(len(raw)):
        for mask in (0x01, 0x20, 0x80, 0xFF):
            damaged = bytearray(raw)
            damaged[position] ^= mask
            with pytest.raises(FrameError):
                decode(bytes(damaged))


def test_every_truncation_is_detected() -> None:
    raw = encode(SAMPLES[0])
    for end in range(len(raw)):
        with pytest.raises(FrameFormatError):
            decode(raw[:end])


def test_errors_are_precise_and_french() -> None:
    payload = b'{"a":1}'
    lying_length = _unescaped_with_crc(1, 7, 0x11, len(payload) + 3, payload)
    with pytest.raises(FrameLengthError, match="longueur annoncée 10 octet\\(s\\), reçue 7"):
        decode(lying_length)

    raw = bytearray(encode(Frame(1, 7, 0x11, payload)))
    raw[-2] ^= 0x01  # CRC low byte (not special here)
    with pytest.raises(FrameChecksumError, match="somme de contrôle incorrecte") as caught:
        decode(bytes(raw))
    assert caught.value.received != caught.value.computed

    with pytest.raises(FrameFormatError, match="échappement 10 41 invalide"):
        decode(bytes((STX, 1, 7, DLE, 0x41, ETX)))
    with pytest.raises(FrameFormatError, match="non échappé"):
        decode(bytes((STX, 1, STX, 7, ETX)))
    with pytest.raises(FrameFormatError, match="trop courte"):
        decode(bytes((STX, 1, 7, 0x11, ETX)))
    with pytest.raises(FrameFormatError, match="STX"):
        decode(b"hello\x03")
    with pytest.raises(FrameFormatError, match="vide"):
        decode(b"")
    with pytest.raises(FrameLengthError, match="trop longues"):
        encode(Frame(1, 1, 1, bytes(0x10000)))


def test_stream_resynchronises_after_garbage_and_broken_frames() -> None:
    first, second, third = (encode(Frame(1, n, 0x81, b'{"n":%d}' % n)) for n in (1, 2, 3))
    corrupted = bytearray(encode(Frame(1, 9, 0x81, b"{}")))
    corrupted[3] ^= 0x04  # code byte: the CRC no longer matches
    stream = (
        b"\x00\xffnoise"
        + first
        + second[: len(second) // 2]  # cut short: interrupted by the next STX
        + third
        + bytes(corrupted)
        + bytes((STX, 1, DLE, 0x55, 7, 8, ETX))  # bad escape: skipped up to its ETX
        + b"tail"
        + second
    )
    events = FrameDecoder().feed(stream)
    kinds = [type(event) for event in events]
    assert kinds == [
        FrameGarbageError,
        Frame,
        FrameFormatError,
        Frame,
        FrameChecksumError,
        FrameFormatError,
        FrameGarbageError,
        Frame,
    ]
    assert [e.seq for e in events if isinstance(e, Frame)] == [1, 3, 2]
    assert events[0].count == len(b"\x00\xffnoise")

    # Byte by byte, the same frames come out.
    decoder = FrameDecoder()
    frames = [e for b in stream for e in decoder.feed(bytes((b,))) if isinstance(e, Frame)]
    assert [f.seq for f in frames] == [1, 3, 2]


def test_stream_refuses_endless_frames() -> None:
    decoder = FrameDecoder()
    events = decoder.feed(bytes((STX,)) + b"A" * (0x10000 + 8))
    assert any(isinstance(e, FrameLengthError) for e in events)
    assert not decoder.in_frame
    assert decoder.feed(encode(SAMPLES[0])) == [SAMPLES[0]]


frames_strategy = st.builds(
    Frame,
    version=st.integers(0, 255),
    seq=st.integers(0, 255),
    code=st.integers(0, 255),
    payload=st.binary(max_size=300),
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_only_frame_errors(data: bytes) -> None:
    try:
        decode(data)
    except FrameError:
        pass
    for event in FrameDecoder().feed(data):
        assert isinstance(event, Frame | FrameError)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200), st.binary(max_size=200))
def test_random_bytes_around_a_stx_raise_only_frame_errors(before: bytes, after: bytes) -> None:
    data = before + bytes((STX,)) + after  # reach the inside-a-frame paths more often
    try:
        decode(data)
    except FrameError:
        pass
    for event in FrameDecoder().feed(data + bytes((ETX,))):
        assert isinstance(event, Frame | FrameError)


@settings(max_examples=150, deadline=None)
@given(frames_strategy)
def test_random_frames_round_trip(frame: Frame) -> None:
    assert decode(encode(frame)) == frame


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(frames_strategy, st.binary(max_size=30).map(lambda b: b.replace(b"\x02", b""))),
        max_size=5,
    )
)
def test_frames_survive_noise_between_them(items: list[tuple[Frame, bytes]]) -> None:
    stream = b"".join(noise + encode(frame) for frame, noise in items)
    found = [e for e in FrameDecoder().feed(stream) if isinstance(e, Frame)]
    assert found == [frame for frame, _ in items]
