"""Match a « non rapprochée » invoice of a return to the desk's invoice, by its number."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents
from tuibill.services.return_lists import EntryRow
from tuibill.widgets.forms import FormBaseline


class MatchEntryDialog(FormBaseline, ModalScreen[str | None]):
    """Ask for the desk's invoice (9-digit number or id); dismiss with what was done."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="rapprocher_annuler"),
    ]

    def __init__(self, row: EntryRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        row = self.row
        with Vertical(classes="dialog"):
            yield Static("Rapprocher une facture du retour", classes="title")
            yield Static(
                f"Retour : n° {row.number or '?'} — {row.patient or '?'} — "
                f"{format_cents(row.paid_cents)} € payés\n{row.note}",
                classes="hint",
                markup=False,
            )
            yield Static("Facture du cabinet (numéro à 9 chiffres ou identifiant) :")
            yield Input(id="match-invoice", restrict=r"[0-9]*", max_length=9, classes="form-value")
            yield Static("", id="match-error", classes="error")
            yield Static("Entrée : rapprocher — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        typed = self.query_one("#match-invoice", Input).value.strip()
        return f"le rapprochement du retour n° {self.row.number or '?'} avec la facture {typed}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        from tuibill.services.invoices import invoice_by_reference
        from tuibill.services.returns import match_entry

        text = event.value.strip()
        error = self.query_one("#match-error", Static)
        if not text:
            error.update("Indiquez le numéro de la facture.")
            return
        try:
            if len(text) == 9:
                invoice = invoice_by_reference(None, int(text))
            else:
                invoice = invoice_by_reference(int(text), None)
            report = match_entry(self.row.id, invoice.id, user=self.app.user)
        except TuibillError as problem:
            error.update(str(problem))
            return
        state = report.as_dict()["etat"] or ""
        self.dismiss(f"Rapprochée de la facture n° {report.number} ({report.patient}) : {state}.")

    def action_cancel(self) -> None:
        leave_form(self)
