"""The Linux console (issue 13 #16): one place decides from TERM, and only what a console font
draws reaches the terminal, cell for cell."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len

from tuibill.widgets.console import ConsoleDriver, console_char, for_console, is_plain_console


def drawable(char: str) -> bool:
    """In a Linux console font: ASCII, Latin-1/Latin-9, or code page 437's lines and blocks."""
    if char.isascii() or "\xa0" <= char <= "\xff" or char in "€ŒœŠšŽžŸ":
        return True
    try:
        char.encode("cp437")
    except UnicodeEncodeError:
        return False
    return True


def test_the_glyphs_seen_on_the_console_become_ascii() -> None:
    # The header's icon, the scrollbar's blocks, a cut text, a list's arrow, a rounded corner.
    assert for_console("⭘ ▆▇▋ Chargée da… ▼ ╭─╮") == "o     Chargée da. v +─+"
    assert for_console("Données › Praticiens — n° 3") == "Données > Praticiens - n° 3"
    # A warning mark reads as one, not as a question (F8's « ⚠ aucune » e-mail).
    assert for_console("⚠ aucune — ≥ 2 s") == "! aucune - > 2 s"


def test_french_text_and_ascii_frames_pass_unchanged() -> None:
    text = "« Défacturer » à l'état Validée : 12,50 € — œuvre, çà, ÉÈÀ +--+ |"
    assert for_console(text) == text.replace("—", "-")


@given(st.text())
def test_every_glyph_out_is_drawable_and_the_layout_does_not_move(text: str) -> None:
    out = for_console(text)
    assert all(drawable(char) for char in out)
    assert cell_len(out) == cell_len(text)


def test_one_place_decides_from_term() -> None:
    assert is_plain_console(environ={"TERM": "linux"})
    assert not is_plain_console(environ={"TERM": "xterm-256color"})
    assert is_plain_console(True, environ={"TERM": "xterm-256color"})  # [ui] ascii_borders
    assert console_char("é") == "é" and console_char("▼") == "v"


def test_the_app_writes_through_the_console_driver_on_the_console(monkeypatch) -> None:
    from tuibill.app import TuibillApp

    monkeypatch.setenv("TERM", "linux")
    assert TuibillApp(user="test").driver_class is ConsoleDriver
    monkeypatch.setenv("TERM", "xterm-256color")
    assert TuibillApp(user="test").driver_class is not ConsoleDriver
