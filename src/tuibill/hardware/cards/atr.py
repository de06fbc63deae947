"""Identify a card by its ATR. The mapping is data: one pattern per line, first match wins.

Patterns are hex bytes separated by spaces; ``x`` stands for any nibble (``4x``, ``xx``).
Sources: pcsc-tools' smartcard_list.txt (Vitale 1, Vitale 2, CPS). The CPE line is a project
choice (*unverified*: no public list gives a CPE ATR; real CPE cards may share the CPS ATR, in
which case the holder file's card type still tells them apart): the CPS ATR with historical
byte 10 changed from ``10`` to ``1E``.
"""

from __future__ import annotations

from tuibill.hardware.cards.data import CardType

ATR_TABLE: tuple[tuple[str, CardType], ...] = (
    ("3B 75 13 00 00 4x 09 EA 90 00", CardType.VITALE_2),
    ("3B 75 13 00 00 4x 09 FA 90 00", CardType.VITALE_2),
    ("3F 65 25 00 xx 09 xx 90 00", CardType.VITALE_1),
    ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 1E 00 90 00", CardType.CPE),
    ("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00", CardType.CPS),
    ("3B AC 00 40 2A 00 12 25 00 64 80 82 02 12 00 90 00", CardType.CPS),
    ("3B DC 18 FF 00 00 12 25 00 64 80 00 04 01 00 90 00", CardType.CPS),
)

# ATRs the emulators present (one per type, taken from the table above).
EMULATED_ATRS: dict[CardType, bytes] = {
    CardType.VITALE_2: bytes.fromhex("3B 75 13 00 00 47 09 EA 90 00"),
    CardType.VITALE_1: bytes.fromhex("3F 65 25 00 52 09 6A 90 00"),
    CardType.CPS: bytes.fromhex("3B AC 00 40 2A 00 12 25 00 64 80 00 03 10 00 90 00"),
    CardType.CPE: bytes.fromhex("3B AC 00 40 2A 00 12 25 00 64 80 00 03 1E 00 90 00"),
    # Any ATR outside the table; this one is a Schlumberger Multiflex (T=0).
    CardType.UNKNOWN: bytes.fromhex("3B 02 14 50"),
}


def _compile(pattern: str) -> tuple[bytes, bytes]:
    value, mask = bytearray(), bytearray()
    for token in pattern.split():
        high, low = token[0], token[1]
        value.append(
            (0 if high == "x" else int(high, 16) << 4) | (0 if low == "x" else int(low, 16))
        )
        mask.append((0x00 if high == "x" else 0xF0) | (0x00 if low == "x" else 0x0F))
    return bytes(value), bytes(mask)


_COMPILED = tuple((_compile(pattern), card_type) for pattern, card_type in ATR_TABLE)


def identify_atr(atr: bytes) -> CardType:
    for (value, mask), card_type in _COMPILED:
        if len(atr) == len(value) and all(
            (a & m) == v for a, v, m in zip(atr, value, mask, strict=True)
        ):
            return card_type
    return CardType.UNKNOWN
