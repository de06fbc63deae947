"""What may be written to a log or a terminal trace: NIRs masked.

A NIR (13 digits, 15 with its key, sometimes spaced « 1 85 05 78 006 084 36 ») identifies a
person and their health cover: only its first digit (sex) survives in a log line.
"""

from __future__ import annotations

import re

# 13 or 15 digits, optionally grouped by spaces as on the card; a Corsican department
# (2A / 2B) at positions 6-7. Not part of a longer number.
_NIR = re.compile(
    r"(?<![\dA-Za-z])([12])((?:\s?\d){4}\s?(?:\d{2}|2[AaBb])(?:\s?\d){6}(?:(?:\s?\d){2})?)(?![\dA-Za-z])"
)


def mask_nir(text: str) -> str:
    """*text* with every NIR-like number reduced to its first digit and stars."""
    return _NIR.sub(lambda m: m.group(1) + re.sub(r"[\dA-Za-z]", "*", m.group(2)), text)
