"""The main menu: the F-key menus as a list, and today's work at a glance."""

from __future__ import annotations

from datetime import date, timedelta

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
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
    def compose(self) -> ComposeResult:
        yield AppHeader()
        # At 80×24 the menu and the counts stand side by side: both whole on screen.
        with Horizontal(id="menu-body"):
            with Vertical(id="menu-left"):
                yield Static("Menu principal", classes="title")
                yield OptionList(
                    *[
                        Option(f"{key.upper():>3}  {label}", id=mode)
                        for _, key, mode, _, label in MENU
                    ],
                    Option("     Données › Praticiens", id="praticiens"),
                    Option("     Données › Prescripteurs", id="prescripteurs"),
                    Option(" F1  Aide (toutes les touches)", id="aide"),
                    id="menu",
                )
            yield Static(id="counts")
        yield AppFooter()

    def on_screen_resume(self) -> None:
        self.refresh_counts()

    def on_mount(self) -> None:
        self.query_one("#counts").border_title = "Factures, 2 derniers mois"
        self.query_one(OptionList).focus()
        self.refresh_counts()

    def refresh_counts(self) -> None:
        from tuibill.services.dashboard import state_counts

        since = date.today() - timedelta(days=61)
        counts = state_counts(since)
        lines = [f"{label:<21}{count:>6}" for label, count in counts]
        self.query_one("#counts", Static).update("\n".join(lines))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id == "aide":
            self.app.action_help()
        elif event.option.id == "praticiens":
            self.app.open_practitioners()
        elif event.option.id == "prescripteurs":
            self.app.open_prescribers()
        else:
            self.app.action_open_menu(event.option.id)
