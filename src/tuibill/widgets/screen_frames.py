"""A screen drawn once when it is shown, not twice (issue 12: light over a slow SSH link).

Textual lays a screen out and draws it when it is shown, yet keeps the layouts and the repaint
its widgets asked for while they mounted — all done by that whole layout and that whole draw —
and at its next update lays the screen out and draws it again: a second frame of the whole
screen (7–9 KB at 80×24) just after the first, at the desk's start and at a screen's first
display. :class:`DrawnOnce`, first among a screen's bases, forgets what a whole layout or a whole
draw has done; what is asked afterwards still happens.
"""

from __future__ import annotations

from textual.geometry import Size
from textual.screen import Screen, ScreenResultType


class DrawnOnce(Screen[ScreenResultType]):
    """A screen that forgets the layouts and repaints its whole layout and draw have done."""

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        # A whole layout (not a scroll's) places every widget: the layouts asked before are
        # done by it. Asked again meanwhile (a widget resized by it), it still happens.
        whole = size or self.outer_size
        if not scroll and whole:
            self._layout_required = False
            if self._repaint_required and self.is_current:
                # A repaint of the whole screen is asked too: the layout draws the whole
                # screen, once. Textual would draw what the layout moved, then all of it again.
                self._compositor._dirty_regions.add(whole.region)
        super()._refresh_layout(size, scroll)

    def _compositor_refresh(self) -> None:
        app = self.app
        whole = (
            self is app.screen
            and not app.is_inline
            and self._compositor.size.region in self._compositor._dirty_regions
        )
        super()._compositor_refresh()
        if whole:
            # The whole screen was just drawn: a repaint asked before it is done.
            self._repaint_required = False
