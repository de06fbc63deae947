"""The application's header and footer, tuned for slow links and the Linux console."""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer, Header


class AppFooter(Footer):
    """A Footer rebuilt only when the keys it shows change.

    Textual's Footer rebuilds all its keys (here ~20, with the global F-keys) at every focus
    move; in a form that is most of the cost of a Tab press on a slow desk or link.
    """

    _shown: tuple[tuple[str, str, str, bool], ...] | None = None

    def __init__(self) -> None:
        super().__init__(compact=True)  # one space between keys: more of them fit in 80 columns

    def bindings_changed(self, screen: Screen) -> None:
        shown = tuple(
            (key, active.binding.action, active.binding.description, active.enabled)
            for key, active in screen.active_bindings.items()
            if active.binding.show
        )
        if self._bindings_ready and shown == self._shown:
            return
        if screen.app.app_focus and self.is_attached and screen is self.screen:
            self._shown = shown  # what the rebuild below will show
        super().bindings_changed(screen)


class AppHeader(Header):
    """Textual's header with an icon the Linux console's font has (no round « ⭘ »)."""

    def __init__(self) -> None:
        super().__init__(icon="≡")

    def on_mount(self) -> None:
        if getattr(self.app, "ascii_borders", False):
            self.icon = "="
