"""The Linux console (``TERM=linux``): what its fonts can draw. The one place that decides.

A console font holds 256 or 512 glyphs: ASCII, Latin-1 and Latin-9 (the French letters, « »,
€, œ) and the line and block characters of code page 437. Textual and Rich draw more than that —
the header's « ⭘ », the scrollbar's eighth blocks « ▆▇▋ », the cut text's « … », the list's
« ▼ », rounded corners — which come out as diamonds. So on such a terminal (or with
``[ui] ascii_borders = true``):

- the frames are drawn in ASCII (the ``$frame`` CSS variable, ``TuibillApp.get_css_variables``);
- every other glyph is replaced, one cell for one cell, on its way to the terminal
  (:class:`ConsoleDriver`): whatever widget drew it, the layout stays the same.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping

from rich.cells import cell_len
from textual.drivers.linux_driver import LinuxDriver

# Terminals whose fonts are the console's (the Linux and BSD consoles, serial terminals).
PLAIN_TERMS = frozenset({"linux", "vt100", "vt102", "vt220", "cons25"})


def is_plain_console(ascii_setting: bool = False, environ: Mapping[str, str] = os.environ) -> bool:
    """Whether to draw for a console font: asked in the settings, or told by ``TERM``."""
    return ascii_setting or environ.get("TERM", "") in PLAIN_TERMS


# One cell each: the layout Textual computed must not move.
REPLACEMENTS: dict[str, str] = {
    "…": ".",  # a cut text reads as an abbreviation: « Traitement manu. »
    "—": "-",
    "–": "-",
    "‐": "-",
    "−": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "›": ">",
    "‹": "<",
    "•": "*",
    "⭘": "o",
    "▼": "v",
    "▲": "^",
    "▶": ">",
    "◀": "<",
    "↑": "^",
    "↓": "v",
    "→": ">",
    "←": "<",
    "✓": "v",
    "✔": "v",
    "✗": "x",
    "⚠": "!",  # a warning (no e-mail, a refused item…)
    "≥": ">",
    "≤": "<",
    "╭": "+",
    "╮": "+",
    "╰": "+",
    "╯": "+",
    "━": "─",
    "╸": "─",
    "╺": "─",
    "╼": "─",
    "╾": "─",
    "┃": "│",
    "╹": "│",
    "╻": "│",
    "\u202f": " ",  # the narrow no-break space of French numbers
}
# The scrollbar's eighth blocks and a button's thin top and bottom lines: drawn in colour, a
# blank cell keeps their place.
REPLACEMENTS.update(dict.fromkeys("▁▂▃▅▆▇▉▊▋▍▎▏▔▕", " "))


def console_char(char: str) -> str:
    """*char* if a console font has it, else a stand-in of the same width in cells."""
    if char.isascii() or "\xa0" <= char <= "\xff" or char in "€ŒœŠšŽžŸ":
        return char
    if char in REPLACEMENTS:
        return REPLACEMENTS[char]
    try:
        char.encode("cp437")  # box drawing, blocks, shades: in every console font
    except UnicodeEncodeError:
        pass
    else:
        return char
    width = cell_len(char)
    base = unicodedata.normalize("NFKD", char)[:1]
    stand_in = base if base.isascii() and base.isprintable() and base.strip() else "?"
    return stand_in * width  # a combining accent (no cell) draws nothing, a wide glyph two


class _Translation(dict):
    """A ``str.translate`` table filled as characters come (each is looked at once)."""

    def __missing__(self, code: int) -> str:
        replacement = console_char(chr(code))
        self[code] = replacement
        return replacement


_TABLE = _Translation()


def for_console(text: str) -> str:
    """*text* with every glyph a console font lacks replaced, cell for cell."""
    return text if text.isascii() else text.translate(_TABLE)


class ConsoleDriver(LinuxDriver):
    """Textual's Linux driver, writing only what a console font can draw."""

    def write(self, data: str) -> None:
        super().write(for_console(data))
