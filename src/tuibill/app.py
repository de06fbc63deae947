"""The Textual application: modes per menu, global F-keys, theme and keymap. Nothing else.

Every screen is a thin client of ``tuibill.services``; the F-keys F1–F9 are global (priority)
bindings with ids, so a user's ``[ui.keymap]`` can rebind them. Screens use letters,
ctrl+letters, Enter/Space/Insert/Delete and F10–F12 for their own actions.
"""

from __future__ import annotations

import os
from typing import ClassVar

from textual.app import App
from textual.binding import Binding, BindingType

from tuibill.config import Settings


def _facturer():
    from tuibill.screens.facturer import FacturerScreen

    return FacturerScreen()


def _journal():
    from tuibill.screens.journal import JournalScreen

    return JournalScreen()


def _patients():
    from tuibill.screens.patients import PatientsScreen

    return PatientsScreen()


def _lecteur():
    from tuibill.screens.lecteur import LecteurScreen

    return LecteurScreen()


def _transmettre():
    from tuibill.screens.transmettre import TransmettreScreen

    return TransmettreScreen()


def _lots():
    from tuibill.screens.lots_journal import LotsJournalScreen

    return LotsJournalScreen()


def _pending(key: str):
    def build():
        from tuibill.screens.pending import PendingScreen

        return PendingScreen(key)

    return build


def _menu():
    from tuibill.screens.menu import MenuScreen

    return MenuScreen()


# (binding id, key, mode, footer label, menu label) — the menus of the seeds, in F-key order.
# Footer labels are short so that the F-keys fit the footer of a small terminal.
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


class TuibillApp(App[int]):
    TITLE = "tuibill"
    CSS_PATH = "styles/app.tcss"
    ENABLE_COMMAND_PALETTE = False

    MODES: ClassVar = {
        "menu": _menu,
        "facturer": _facturer,
        "transmettre": _transmettre,
        "lecteur": _lecteur,
        "journal": _journal,
        "lots": _lots,
        "retours": _pending("retours"),
        "tiers": _pending("tiers"),
        "patients": _patients,
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", "Aide", id="aide", priority=True),
        *[
            Binding(key, f"open_menu('{mode}')", label, id=binding_id, priority=True)
            for binding_id, key, mode, label, _ in MENU
        ],
        Binding("escape", "back", "Retour", id="retour"),
        Binding("ctrl+q", "quit", "Quitter", id="quitter", priority=True, show=False),
    ]

    def __init__(
        self, settings: Settings | None = None, user: str = "", demo: bool = False
    ) -> None:
        self.settings = settings or Settings()
        self.user = user or self.settings.user_name()
        self.demo = demo
        self.ascii_borders = self.settings.ui.ascii_borders or os.environ.get("TERM") == "linux"
        super().__init__()
        if self.settings.ui.keymap:
            self.set_keymap(self.settings.ui.keymap)

    def get_css_variables(self) -> dict[str, str]:
        variables = super().get_css_variables()
        # The Linux console has no rounded box glyphs: ASCII frames there or on request.
        variables["frame"] = "ascii" if self.ascii_borders else "round"
        return variables

    def on_mount(self) -> None:
        theme = self.settings.ui.theme
        if os.environ.get("TERM") == "linux" and theme == "textual-dark":
            theme = "ansi-dark"  # 16 colours: use the console's own palette
        if theme in self.available_themes:
            self.theme = theme
        from tuibill.services.practice import get_practice

        practice = get_practice()
        self.title = practice.name if practice else "tuibill"
        self.sub_title = f"{self.user}" + (" — DÉMONSTRATION" if self.demo else "")
        self.switch_mode("menu")

    def get_system_commands(self, screen):  # kiosk: no palette, no screenshot-to-file
        return iter(())

    def action_open_menu(self, mode: str) -> None:
        # A form with unsaved changes (« dirty ») is never left silently by an F-key.
        if getattr(self.screen, "dirty", False):
            from tuibill.dialogs.confirm import ConfirmDialog

            def leave(confirmed: bool | None) -> None:
                if confirmed:
                    self._open_menu(mode)

            self.push_screen(
                ConfirmDialog(
                    "Des modifications ne sont pas enregistrées.",
                    "Quitter cet écran sans les enregistrer ?",
                ),
                leave,
            )
            return
        self._open_menu(mode)

    def _open_menu(self, mode: str) -> None:
        if self.current_mode == mode:
            # Back to the root of that menu, as a fresh start.
            while len(self.screen_stack) > 1:
                self.pop_screen()
            return
        self.switch_mode(mode)

    def action_back(self) -> None:
        if len(self.screen_stack) > 1:
            self.pop_screen()
        elif self.current_mode != "menu":
            self.switch_mode("menu")

    def action_help(self) -> None:
        from tuibill.dialogs.help import HelpDialog

        if isinstance(self.screen, HelpDialog):
            return
        self.push_screen(HelpDialog(self.screen))
