"""A new client of the home-care service (seed 004): identity and address, and the first
prestation of the contract with its hourly rates (more with « tuibill client contract »)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from tuibill.dialogs.payment_entry import parse_euros
from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.widgets.forms import FormBaseline, clear_errors, field, show_error

TEXT = [("last_name", "Nom"), ("first_name", "Prénom"), ("address", "Adresse"),
        ("postcode", "Code postal"), ("city", "Ville"), ("email", "E-mail"), ("phone", "Téléphone")]  # fmt: skip
RATES = [("base_cents", "Tarif de base (€/h)"), ("saturday_cents", "Tarif samedi (€/h)"),
         ("sunday_cents", "Tarif dim./JF (€/h)")]  # fmt: skip


class ClientDialog(FormBaseline, ModalScreen[int | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="client_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="client_annuler"),
    ]

    def __init__(self, prestations: list[tuple[str, str]]) -> None:
        super().__init__()
        self.prestations = prestations  # (label, code)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Nouveau client", classes="title")
            with Vertical(classes="line-form"):
                for name, label in TEXT:
                    yield field(label, Input(id=name, compact=True, max_length=80, classes="form-value"))
                yield field("Prestation du contrat", Select(self.prestations, prompt="(aucune)",
                                                            compact=True, id="prestation",
                                                            classes="form-value"))  # fmt: skip
                for name, label in RATES:
                    yield field(label, Input(id=name, compact=True, restrict=r"[0-9,. ]*", max_length=10,
                                             classes="form-value"))  # fmt: skip
            yield Static("Ctrl+S : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.query_one("#last_name", Input).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        parts = [self.query_one(f"#{name}", Input).value.strip() for name in ("last_name", "first_name")]
        name = " ".join(part for part in parts if part)
        return f"la saisie du nouveau client {name}" if name else "la saisie d'un nouveau client"

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        from tuibill.services.homecare import ClientInput, create_client, set_contract_line

        clear_errors(self)
        try:
            values = {name: self.query_one(f"#{name}", Input).value for name, _ in TEXT}
            prestation = self.query_one("#prestation", Select).value
            rates = {}
            if prestation is not Select.NULL:
                base = self.query_one("#base_cents", Input).value
                if not base.strip():
                    raise ValidationError("Indiquez le tarif de base de la prestation.", field="base_cents")
                for name, _ in RATES:
                    text = self.query_one(f"#{name}", Input).value
                    rates[name] = parse_euros(text or base, name)
            client = create_client(ClientInput(**values))
            if rates:
                set_contract_line(client.id, str(prestation), rates["base_cents"],
                                  rates["saturday_cents"], rates["sunday_cents"])  # fmt: skip
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(client.id)

    def action_cancel(self) -> None:
        leave_form(self)
