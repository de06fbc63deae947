"""Create a user account, or change one's role, password or PIN (« Données › Utilisateurs »).

The secrets typed here go straight to ``services.users`` (hashed there) and are never shown,
kept or logged; errors show at their field.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.permissions import Role
from tuibill.services import users
from tuibill.services.users import UserRow
from tuibill.widgets.forms import (
    FormBaseline,
    clear_error,
    clear_errors,
    field,
    select_value,
    show_error,
)


class UserAccountDialog(FormBaseline, ModalScreen[UserRow | None]):
    """A new account (``None``) or an existing one; dismissed with the account saved."""

    CSS_PATH = "../styles/patients.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="utilisateur_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="utilisateur_annuler"),
    ]

    def __init__(self, account: UserRow | None, *, by: str) -> None:
        super().__init__()
        self.account = account
        self.by = by

    def compose(self) -> ComposeResult:
        current = self.account
        roles = [(role.label, role.value) for role in Role]
        practitioners = users.practitioner_choices()
        with Vertical(classes="dialog line-form"):
            yield Static(
                "Nouveau compte" if current is None else f"Compte « {current.login} »",
                classes="title",
            )
            if current is None:
                yield field("Identifiant", self._input("login", "", placeholder="ex. a.gautier"))
                yield field("Nom", self._input("name", ""))
            yield field(
                "Rôle",
                Select(roles, value=current.role.value if current else Role.SECRETARIAT.value,
                       allow_blank=False, id="role", compact=True, classes="form-value"),
            )  # fmt: skip
            yield field(
                "Praticien",
                Select([(name, pid) for pid, name in practitioners], id="practitioner",
                       value=current.practitioner_id if current and current.practitioner_id
                       else Select.NULL, compact=True, classes="form-value",
                       prompt="(aucun)"),
            )  # fmt: skip
            hint = "" if current is None else " (vide : inchangé)"
            yield field("Mot de passe" + hint, self._input("password", "", password=True))
            yield field("PIN" + hint, self._input("pin", "", password=True, restrict=r"[0-9]*",
                                                 max_length=8))  # fmt: skip
            yield Static(
                "Ctrl+S : enregistrer — Échap : annuler. Le PIN (4 à 8 chiffres) déverrouille "
                "le poste.",
                classes="hint",
            )

    @staticmethod
    def _input(widget_id: str, value: str, **options: Any) -> Input:
        options.setdefault("max_length", 60)
        return Input(value=value, id=widget_id, compact=True, classes="form-value", **options)

    def on_mount(self) -> None:
        # The baseline holds the empty secrets only: a typed password is compared, never kept.
        self.mark_saved()

    def unsaved_text(self) -> str:
        if self.account is not None:
            return f"le compte de l'utilisateur {self.account.login}"
        login = self.query_one("#login", Input).value.strip()
        return f"le nouveau compte {login}" if login else "la saisie d'un nouveau compte"

    @on(Input.Changed)
    def _changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        def value(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value

        role = select_value(self.query_one("#role", Select))
        practitioner = select_value(self.query_one("#practitioner", Select))
        clear_errors(self)
        try:
            if self.account is None:
                saved = users.create_user(
                    value("login"), value("name"), role, value("password"), by=self.by,
                    pin=value("pin"), practitioner_id=practitioner,
                )  # fmt: skip
            else:
                login = self.account.login
                if role != self.account.role.value or practitioner != self.account.practitioner_id:
                    users.set_role(login, role, by=self.by, practitioner_id=practitioner)
                if value("password"):
                    users.set_password(login, value("password"), by=self.by)
                if value("pin"):
                    users.set_pin(login, value("pin"), by=self.by)
                saved = users.get_user(login)
        except TuibillError as error:
            if isinstance(error, ValidationError) and error.field in ("password", "pin"):
                self.query_one(f"#{error.field}", Input).value = ""
            show_error(self, error)
            return
        self.dismiss(saved)

    def action_cancel(self) -> None:
        leave_form(self)
