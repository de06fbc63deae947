"""« Recommencer la FSE »: the corrections the motif asks for, applied and re-validated at once.

The prescripteur (its number, as in Données › Prescripteurs), the prescription date, the date of
each act; the motif's field is focused first. The service runs in one transaction: a correction
that breaks a rule (an act after the death, before the prescription) is shown at its field and
nothing is saved. Dismisses with the invoice's number, or None (Échap).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.formatting import format_day
from tuibill.widgets.forms import FormBaseline


class CorrectionsDialog(FormBaseline, ModalScreen[str | None]):
    CSS = """
    CorrectionsDialog .dialog { max-height: 22; }
    CorrectionsDialog Input {
        margin: 0; height: 1; border: none !important; padding: 0 1; background: $boost;
    }
    CorrectionsDialog .field-error { color: $error; height: auto; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="corrections_annuler"),
        Binding("ctrl+s", "save", "Recommencer", id="corrections_valider"),
        Binding("ctrl+p", "prescribers", "Prescripteurs", id="corrections_prescripteurs"),
    ]

    def __init__(self, view) -> None:
        super().__init__()
        self.view = view

    def compose(self) -> ComposeResult:
        view = self.view
        with Vertical(classes="dialog"):
            yield Static(f"Recommencer la FSE n° {view.number} (même numéro)", classes="title")
            yield Static(view.what_to_do, classes="hint", markup=False)
            with VerticalScroll():
                yield Static("N° du prescripteur (vide : inchangé)")
                yield Input(
                    placeholder=view.prescriber or "9 chiffres", id="fix-prescriber", classes="form-value"
                )
                yield Static("", id="err-prescriber", classes="field-error")
                yield Static("Date de prescription (JJ/MM/AAAA)")
                yield Input(
                    format_day(view.prescription_date), id="fix-prescription-date", classes="form-value"
                )
                yield Static("", id="err-prescription_date", classes="field-error")
                for rank, line in enumerate(view.lines, 1):
                    if line["type"] != "act":
                        continue
                    yield Static(f"Acte {rank} : {line['code']} {line['coefficient']}")
                    yield Input(
                        format_day(line["date"]), id=f"fix-act-{rank}", classes="act-date form-value"
                    )
                yield Static("", id="err-act_date", classes="field-error")
                yield Static("Motif (ce qui a été corrigé)")
                yield Input(placeholder="Motif", id="fix-reason", classes="form-value")
                yield Static("", id="err-reason", classes="field-error")
            yield Static(
                "Ctrl+S : recommencer et revalider — Ctrl+P : prescripteurs — Échap : annuler",
                classes="hint",
            )

    def on_mount(self) -> None:
        first = {
            "prescripteur": "#fix-prescriber",
            "date_prescription": "#fix-prescription-date",
        }.get(self.view.field)
        if first is None and self.view.field == "dates_actes":
            acts = list(self.query(".act-date"))
            first = f"#{acts[0].id}" if acts else None
        self.query_one(first or "#fix-reason", Input).focus()
        self.mark_saved()

    def unsaved_text(self) -> str:
        return f"les corrections de la FSE n° {self.view.number}"

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def _show(self, field: str | None, message: str) -> None:
        for error in self.query(".field-error"):
            error.update("")  # type: ignore[attr-defined]
        target = {
            "prescriber": "err-prescriber", "prescription": "err-prescription_date",
            "prescription_date": "err-prescription_date", "reason": "err-reason",
        }.get(field or "", "err-act_date")  # fmt: skip
        self.query_one(f"#{target}", Static).update(message)

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.domain.errors import TuibillError, ValidationError
        from tuibill.services.patients import find_prescriber
        from tuibill.services.rejections import Corrections, restart

        reason = self.query_one("#fix-reason", Input).value.strip()
        try:
            if not reason:
                raise ValidationError("Le motif est obligatoire.", field="reason")
            number = self.query_one("#fix-prescriber", Input).value.strip()
            prescriber = find_prescriber(number).id if number else None
            text = self.query_one("#fix-prescription-date", Input).value.strip()
            day = parse_date(text) if text else None
            if day == self.view.prescription_date:
                day = None
            dates = {}
            for field in self.query(".act-date"):
                rank = int(str(field.id).rsplit("-", 1)[1])
                value = parse_date(field.value.strip())  # type: ignore[attr-defined]
                if value != self.view.lines[rank - 1]["date"]:
                    dates[self._act_rank(rank)] = value
            invoice = restart(
                self.view.invoice_id, user=self.app.user, reason=reason, validate=True,
                corrections=Corrections(prescriber, day, dates or None),
            )  # fmt: skip
        except ValidationError as problem:
            field = problem.field
            if field in ("date", None) and "prescription" in str(problem).lower():
                field = "prescription_date"
            self._show(field, str(problem))
            return
        except TuibillError as problem:
            self._show("act_date", str(problem))
            return
        self.dismiss(f"{invoice.number:09d}")

    def _act_rank(self, line_rank: int) -> int:
        """The act's rank among the acts (majorations and travel lines are not acts)."""
        acts = [i for i, line in enumerate(self.view.lines, 1) if line["type"] == "act"]
        return acts.index(line_rank) + 1

    def action_prescribers(self) -> None:
        """Données › Prescripteurs, to pick (or create) the right one."""

        def chosen(row) -> None:
            if row is not None:
                self.query_one("#fix-prescriber", Input).value = row.number

        self.app.open_prescribers(chosen)

    def action_cancel(self) -> None:
        leave_form(self)
