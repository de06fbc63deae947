"""« Données › Utilisateurs »: the practice's accounts, their roles; create, change, disable.

Only an administrateur opens it (``app.open_users`` checks first; the services check again).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_day
from tuibill.services import users
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce


class UsersScreen(DrawnOnce):
    TITLE = "Données › Utilisateurs"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new", "Nouveau compte", id="utilisateurs_nouveau"),
        Binding("enter", "edit", "Modifier", id="utilisateurs_modifier", key_display="Entrée"),
        Binding("ctrl+d", "toggle_active", "Désactiver/réactiver", id="utilisateurs_activer"),
    ]

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("Données › Utilisateurs", classes="title")
        yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
        yield Static(
            "Ctrl+N : nouveau compte — Entrée : rôle, mot de passe, PIN — Ctrl+D : désactiver "
            "ou réactiver",
            classes="hint",
        )
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Identifiant", "Nom", "Rôle", "État", "PIN", "Praticien", "Créé le")
        self.reload()
        table.focus()

    def reload(self, select: str | None = None) -> None:
        table = self.query_one(DataTable)
        table.clear()
        self._rows = users.list_users()
        for row in self._rows:
            table.add_row(
                row.login, row.name, row.role.label, "actif" if row.active else "désactivé",
                "oui" if row.has_pin else "non", row.practitioner, format_day(row.created_at.date()),
                key=row.login,
            )  # fmt: skip
        if select is not None:
            for index, row in enumerate(self._rows):
                if row.login == select:
                    table.move_cursor(row=index)

    def _current(self) -> users.UserRow | None:
        table = self.query_one(DataTable)
        if not self._rows or table.cursor_row >= len(self._rows):
            return None
        return self._rows[table.cursor_row]

    def _saved(self, row: users.UserRow | None) -> None:
        if row is not None:
            self.reload(select=row.login)
            self.notify(f"Compte « {row.login} » enregistré.")

    def action_new(self) -> None:
        from tuibill.dialogs.user_account import UserAccountDialog

        self.app.push_screen(UserAccountDialog(None, by=self.app.user), self._saved)

    def action_edit(self) -> None:
        from tuibill.dialogs.user_account import UserAccountDialog

        row = self._current()
        if row is not None:
            self.app.push_screen(UserAccountDialog(row, by=self.app.user), self._saved)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def action_toggle_active(self) -> None:
        row = self._current()
        if row is None:
            return
        try:
            saved = users.set_active(row.login, not row.active, by=self.app.user)
        except TuibillError as error:
            self.notify(str(error), severity="error", title="Refusé", markup=False)
            return
        self.reload(select=saved.login)
        self.notify(f"Compte « {saved.login} » {'réactivé' if saved.active else 'désactivé'}.")
