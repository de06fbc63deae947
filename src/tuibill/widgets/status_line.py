"""A status line whose texts recur, drawn once for each."""

from __future__ import annotations

from typing import ClassVar

from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import Static

from tuibill.widgets.recent import Recent


class StatusLine(Static):
    """One line of status text (Textual's ``Static``), changed without a relayout.

    A journal's status says « Recherche… » then « Compte… » at every search, the same words
    each time: the lines drawn for the last few texts are kept and shown again, not made again
    (~0.3 ms of a frame, and a line left to the collector each time: Textual's strips, once cut
    by the screen, refer to themselves)."""

    KEPT: ClassVar[int] = 4  # texts whose line is kept

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(text, id=id)
        self._text = text
        self._kept = Recent(self.KEPT)

    @property
    def text(self) -> str:
        return self._text

    def show(self, text: str) -> None:
        """Show *text*; the same text again draws nothing."""
        if text != self._text:
            self._text = text
            self.update(text, layout=False)  # one line of a set size: no relayout

    def render_lines(self, crop: Region) -> list[Strip]:
        look = (
            self._text, crop, self.size, self.rich_style, self.app.ansi_theme,
            tuple(self.get_line_filters()),
        )  # fmt: skip
        lines = self._kept.get(look)
        if lines is None:
            lines = self._kept[look] = super().render_lines(crop)
        return lines
