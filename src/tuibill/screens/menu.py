"""The main menu: the F-key menus as a list, and today's work at a glance."""

from __future__ import annotations

from datetime import date, timedelta
from time import monotonic

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tuibill.widgets.footer import AppFooter, AppHeader

# (binding id, key, mode, footer label, menu label) — the menus of the seeds, in F-key order.
# The application binds the F-keys from these entries; this screen lists them. Footer labels
# are short so that the F-keys fit the footer of a small terminal.
MENU: list[tuple[str, str, str, str, str]] = [
    ("facturer", "f2", "facturer", "Facturer", "Facturer"),
    ("transmettre", "f3", "transmettre", "Transmettre", "Transmettre"),
    ("lecteur", "f4", "lecteur", "Lecteur", "Lecteur"),
    ("journal_factures", "f5", "journal", "Factures", "Journal des factures"),
    ("journal_lots", "f6", "lots", "Lots", "Journal des lots"),
    ("retours", "f7", "retours", "Retours", "Retours et rejets"),
    ("tiers_payeurs", "f8", "tiers", "Tiers", "Tiers-payeurs"),
    ("patients", "f9", "patients", "Patients", "Patients"),
]


class MenuScreen(Screen):
    _counted_at = -1.0  # monotonic time of the last count
    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Vertical(id="menu-body"):
            yield Static("Menu principal", classes="title")
            yield OptionList(
                *[Option(f"{key.upper():>3}  {label}", id=mode) for _, key, mode, _, label in MENU],
                Option(" F1  Aide (toutes les touches de l'écran)", id="aide"),
                id="menu",
            )
            yield Static(id="counts")
        yield AppFooter()

    def on_screen_resume(self) -> None:
        # Also the first display: Textual may send it twice then, one count is enough.
        if monotonic() - self._counted_at > 0.2:
            self.refresh_counts()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def refresh_counts(self) -> None:
        from tuibill.services.dashboard import state_counts

        self._counted_at = monotonic()
        since = date.today() - timedelta(days=61)
        counts = state_counts(since)
        lines = ["Factures des 2 derniers mois :"]
        lines += [f"  {label:<22} {count:>6}" for label, count in counts]
        self.query_one("#counts", Static).update("\n".join(lines))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "aide":
            self.app.action_help()
        else:
            self.app.action_open_menu(event.option.id)
