"""Record a payment from a tiers-payeur (seed 004): date, amount, mode, reference, and whether
to spread it at once (« Automatiser association »)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_cents, format_day
from tuibill.widgets.forms import DATE_CHARS, FormBaseline, clear_errors, field, show_error

MODES = [("Virement", "VIREMENT"), ("Chèque", "CHEQUE"), ("Espèces", "ESPECES"),
         ("Prélèvement", "PRELEVEMENT"), ("CESU", "CESU")]  # fmt: skip


def parse_euros(text: str, field_name: str = "amount") -> int:
    """« 12,50 » → 1250 (the form's own reading; the service checks the rest)."""
    value = text.strip().replace(" ", "").replace("€", "").replace(".", ",")
    whole, _, cents = value.partition(",")
    if not whole.isdigit() or (cents and not (cents.isdigit() and len(cents) <= 2)):
        raise ValidationError(f"Montant « {text} » invalide (12,50).", field=field_name)
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


class PaymentDialog(FormBaseline, ModalScreen[int | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="reglement_enregistrer"),
        Binding("escape", "cancel", "Annuler", id="reglement_annuler"),
    ]

    def __init__(self, payer_id: int) -> None:
        super().__init__()
        self.payer_id = payer_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Nouveau règlement du tiers-payeur", classes="title")
            with Vertical(classes="line-form"):
                yield field("Date", Input(format_day(date.today()), id="date", compact=True, classes="form-value",
                                          restrict=DATE_CHARS, max_length=10))  # fmt: skip
                yield field("Montant (€)", Input(id="amount", compact=True, restrict=r"[0-9,. ]*", max_length=14,
                                                 classes="form-value"))  # fmt: skip
                yield field("Mode", Select(MODES, allow_blank=False, value="VIREMENT", compact=True, id="mode",
                                           classes="form-value"))  # fmt: skip
                yield field("Référence", Input(id="reference", compact=True, max_length=60, classes="form-value"))
                yield field("Automatiser association", Checkbox("oui", True, compact=True, id="auto",
                                                                classes="form-value"))  # fmt: skip
            yield Static("Ctrl+S : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.query_one("#amount", Input).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        text = self.query_one("#amount", Input).value.strip()
        if not text:
            return "la saisie d'un règlement"
        try:
            amount = format_cents(parse_euros(text))
        except ValidationError:
            amount = text  # named as typed
        return f"la saisie d'un règlement de {amount} €"

    @on(Input.Submitted)
    def _next(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "reference":
            self.action_save()
        else:
            self.focus_next()

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.payments import auto_allocate, record_payment

        clear_errors(self)
        try:
            payment = record_payment(
                emitter="PAYEUR", payer_id=self.payer_id,
                amount_cents=parse_euros(self.query_one("#amount", Input).value),
                day=parse_date(self.query_one("#date", Input).value, "date"),
                mode=str(self.query_one("#mode", Select).value),
                reference=self.query_one("#reference", Input).value, user=self.app.user,
            )  # fmt: skip
            if self.query_one("#auto", Checkbox).value:
                auto_allocate(payment.id, user=self.app.user)
        except TuibillError as error:
            show_error(self, error)
            return
        self.dismiss(payment.id)

    def action_cancel(self) -> None:
        leave_form(self)
