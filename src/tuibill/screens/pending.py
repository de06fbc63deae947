"""Menus whose work arrives with later releases: an honest empty state, and where to go
meanwhile."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tuibill.widgets.footer import AppFooter, AppHeader

TEXTS: dict[str, tuple[str, str]] = {
    "tiers": (
        "Tiers-payeurs",
        "Les plans d'aide, bordereaux et règlements des tiers-payeurs ne sont pas encore "
        "disponibles dans cette version.",
    ),
}


class PendingScreen(Screen):
    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        title, text = TEXTS[self.key]
        yield AppHeader()
        with VerticalScroll():
            yield Static(title, classes="title")
            yield Static(text, classes="hint", id="pending-text")
        yield AppFooter()
