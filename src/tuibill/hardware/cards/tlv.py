"""A strict BER-TLV parser (ISO 7816-4 / ISO 8825-1 subset used by smart cards).

Supported: one- and multi-byte tags (``1F``-style low bits, e.g. ``7F21``, ``5F37``), short
lengths and the long forms ``81``…``84``, constructed tags parsed recursively, and padding: a
``00`` (or ``FF``) byte where a tag is expected ends the list (cards pad their files).

Anything else malformed (a length running past the end, a truncated tag or length, the
indefinite form ``80``) raises :class:`CardDataError` with a French message: callers never get a
partial tree, so never a partial patient.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tuibill.hardware.cards.errors import CardDataError

MAX_DEPTH = 16  # real card files nest 2–3 levels; a bound keeps random data from recursing deep
_PADDING = (0x00, 0xFF)


@dataclass(frozen=True)
class Tlv:
    tag: int  # the tag bytes as a number: 0x65, 0x7F21, 0x5F37
    value: bytes
    children: tuple[Tlv, ...] = ()

    @property
    def constructed(self) -> bool:
        return is_constructed(self.tag)

    def find(self, tag: int) -> Tlv | None:
        """The first direct child with this tag."""
        return next((child for child in self.children if child.tag == tag), None)

    def find_all(self, tag: int) -> list[Tlv]:
        return [child for child in self.children if child.tag == tag]

    def walk(self) -> Iterator[Tlv]:
        yield self
        for child in self.children:
            yield from child.walk()


def is_constructed(tag: int) -> bool:
    first = tag
    while first > 0xFF:
        first >>= 8
    return bool(first & 0x20)


def _fail(reason: str, offset: int) -> CardDataError:
    return CardDataError(f"Données de la carte illisibles : {reason} (octet {offset}).")


def _read_tag(data: bytes, pos: int, end: int) -> tuple[int, int]:
    start = pos
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        while True:
            if pos >= end:
                raise _fail("étiquette tronquée", start)
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            if not byte & 0x80:
                break
            if pos - start >= 4:
                raise _fail("étiquette trop longue", start)
    return tag, pos


def _read_length(data: bytes, pos: int, end: int) -> tuple[int, int]:
    if pos >= end:
        raise _fail("longueur absente", pos)
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    if first == 0x80:
        raise _fail("longueur indéfinie non admise", pos - 1)
    count = first & 0x7F
    if count > 4:
        raise _fail("longueur sur plus de 4 octets", pos - 1)
    if pos + count > end:
        raise _fail("longueur tronquée", pos - 1)
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def _parse(data: bytes, pos: int, end: int, depth: int) -> tuple[Tlv, ...]:
    if depth > MAX_DEPTH:
        raise _fail("imbrication trop profonde", pos)
    items: list[Tlv] = []
    while pos < end:
        if data[pos] in _PADDING:
            break  # padding: the rest of the file is filler
        tag, pos = _read_tag(data, pos, end)
        length, pos = _read_length(data, pos, end)
        if pos + length > end:
            raise _fail(f"longueur {length} au-delà de la fin des données", pos)
        value = data[pos : pos + length]
        children = _parse(data, pos, pos + length, depth + 1) if is_constructed(tag) else ()
        items.append(Tlv(tag, value, children))
        pos += length
    return tuple(items)


def parse(data: bytes) -> tuple[Tlv, ...]:
    """Parse a run of TLVs (a whole card file); stops at padding."""
    return _parse(bytes(data), 0, len(data), 0)


def parse_one(data: bytes) -> tuple[Tlv, int]:
    """Parse the first TLV only; returns it and the number of bytes it spans.

    Used for files holding one DER object followed by filler (a certificate).
    """
    data = bytes(data)
    if not data or data[0] in _PADDING:
        raise _fail("fichier vide", 0)
    tag, pos = _read_tag(data, 0, len(data))
    length, pos = _read_length(data, pos, len(data))
    if pos + length > len(data):
        raise _fail(f"longueur {length} au-delà de la fin des données", pos)
    value = data[pos : pos + length]
    children = _parse(data, pos, pos + length, 1) if is_constructed(tag) else ()
    return Tlv(tag, value, children), pos + length


def encode_tag(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def encode_length(length: int, *, long_form: bool = False) -> bytes:
    """BER length; ``long_form`` writes ``81 xx`` even below 128, as some cards do."""
    if length < 0x80 and not long_form:
        return bytes([length])
    if length <= 0xFF:
        return bytes([0x81, length])
    if length <= 0xFFFF:
        return bytes([0x82]) + length.to_bytes(2, "big")
    return bytes([0x83]) + length.to_bytes(3, "big")


def encode(tag: int, value: bytes, *, long_form: bool = False) -> bytes:
    return encode_tag(tag) + encode_length(len(value), long_form=long_form) + bytes(value)
