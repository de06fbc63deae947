"""« Création d'un nouveau plan d'aide » (seed 004): a beneficiary, a prestation among those the
payer has default values for, then the plan's definition — its values taken from the defaults
and changed here if needed. Saved « Saisi »; F10 in the payer file validates it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.widgets.forms import DATE_CHARS, FormBaseline, clear_errors, field, show_error


def _percent(text: str, name: str) -> int:
    value = text.strip().replace("%", "").replace(".", ",")
    whole, _, part = value.partition(",")
    if not whole.isdigit() or (part and not (part.isdigit() and len(part) <= 2)):
        raise ValidationError(f"Taux « {text} » invalide (80 ou 33,33).", field=name)
    return int(whole) * 100 + int(part.ljust(2, "0") or 0)


def _hours(text: str, name: str) -> int:
    value = text.strip().lower().replace("h", ":")
    hours, _, minutes = value.partition(":")
    if not hours.isdigit() or (minutes and not minutes.isdigit()):
        raise ValidationError(f"Durée « {text} » invalide (10 ou 10:30).", field=name)
    return int(hours) * 60 + int(minutes or 0)


class AidPlanDialog(FormBaseline, ModalScreen[int | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="plan_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="plan_annuler"),
    ]

    def __init__(self, payer_id: int, clients: list[tuple[str, int]], prestations: list[str]) -> None:
        super().__init__()
        self.payer_id = payer_id
        self.clients = clients
        self.prestations = prestations

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Nouveau plan d'aide", classes="title")
            with Vertical(classes="line-form"):
                yield field("Bénéficiaire", Select(self.clients, prompt="(choisir)", compact=True, id="client",
                                                   classes="form-value"))  # fmt: skip
                yield field("Prestation", Select([(p, p) for p in self.prestations], prompt="(choisir)",
                                                 compact=True, id="prestation", classes="form-value"))  # fmt: skip
                yield field("Début de validité", Input(id="valid_from", compact=True, classes="form-value",
                                                       placeholder="JJ/MM/AAAA", restrict=DATE_CHARS))  # fmt: skip
                yield field("Fin de validité", Input(id="valid_until", compact=True, classes="form-value",
                                                     placeholder="(aucune)", restrict=DATE_CHARS))  # fmt: skip
                yield field("Heures accordées/mois", Input(id="monthly_minutes", compact=True, classes="form-value"))
                yield field("Taux de PEC (%)", Input(id="pec_bp", compact=True, classes="form-value"))
                yield field("Référence du plan", Input(id="reference", compact=True, max_length=40,
                                                       classes="form-value"))  # fmt: skip
            yield Static(
                "Seules les prestations ayant des valeurs par défaut (Paramétrage) sont proposées.",
                classes="hint",
            )
            yield Static("Ctrl+S : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.query_one("#client", Select).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        client = self.query_one("#client", Select).value
        names = {client_id: name for name, client_id in self.clients}
        if client in names:
            return f"la saisie d'un plan d'aide pour {names[client]}"
        return "la saisie d'un nouveau plan d'aide"

    @on(Select.Changed, "#prestation")
    def _defaults(self, event: Select.Changed) -> None:
        from tuibill.services.payers import defaults_of

        values = defaults_of(self.payer_id).get(str(event.value))
        if values is None:
            return
        minutes = values.monthly_minutes
        self.query_one("#monthly_minutes", Input).value = f"{minutes // 60}:{minutes % 60:02d}"
        bp = values.pec_bp
        self.query_one("#pec_bp", Input).value = f"{bp // 100}" + (f",{bp % 100:02d}" if bp % 100 else "")

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.aid_plans import create_plan

        clear_errors(self)
        try:
            client = self.query_one("#client", Select).value
            prestation = self.query_one("#prestation", Select).value
            if client is Select.NULL:
                raise ValidationError("Choisissez le bénéficiaire.", field="client")
            if prestation is Select.NULL:
                raise ValidationError("Choisissez la prestation.", field="prestation")
            until = self.query_one("#valid_until", Input).value.strip()
            changes = {}
            hours = self.query_one("#monthly_minutes", Input).value.strip()
            if hours:
                changes["monthly_minutes"] = _hours(hours, "monthly_minutes")
            pec = self.query_one("#pec_bp", Input).value.strip()
            if pec:
                changes["pec_bp"] = _percent(pec, "pec_bp")
            plan = create_plan(
                int(client), self.payer_id, str(prestation),
                parse_date(self.query_one("#valid_from", Input).value, "valid_from"),
                valid_until=parse_date(until, "valid_until") if until else None,
                reference=self.query_one("#reference", Input).value, changes=changes,
            )  # fmt: skip
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(plan.id)

    def action_cancel(self) -> None:
        leave_form(self)
