"""Create or edit a Saisie invoice, keyboard only.

Acts are typed one per line in the notation shared with the CLI
(« 20/11/2026 08:30 AMI 1,5 MAU IFD IK=4 »). Each line is priced as it is typed, by the same
domain pricing the services use; saving goes through ``invoice_service.create_invoice`` /
``invoice_service.update_invoice`` (one transaction: on any error nothing is saved) and every refusal is
shown at the field it concerns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Label, Select, Static

from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.act_notation import parse_act, parse_date
from tuibill.domain.acts import Act
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import (
    format_cents,
    format_coefficient,
    format_day,
    format_invoice_number,
)
from tuibill.widgets.act_line import ACT_NOTATION, ActLine, act_text
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.forms import DATE_CHARS, PickField, show_message
from tuibill.widgets.screen_frames import DrawnOnce

# ValidationError.field values that belong to one act line, then to the acts as a whole.
LINE_FIELDS = frozenset({"act_date", "act_time", "code", "coefficient", "majorations", "ik"})
ACTS_FIELDS = LINE_FIELDS | {"acts"}


@dataclass(frozen=True)
class InvoiceDraft:
    """What the form starts from when creating (from a prescription, isolated acts, or free)."""

    practitioner_id: int
    patient_id: int
    acts: Sequence = ()  # Act
    prescription_id: int | None = None


class InvoiceFormScreen(DrawnOnce[int | None]):
    """Dismissed with the saved invoice's id, or None when left without saving."""

    CSS_PATH = "../styles/facturer.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="facture_enregistrer"),
        Binding("ctrl+n", "add_line", "Ajouter un acte", id="facture_ajouter_acte"),
        Binding("ctrl+y", "remove_line", "Supprimer l'acte", id="facture_supprimer_acte"),
        Binding("ctrl+p", "change_patient", "Patient", id="facture_patient"),
        Binding("escape", "leave", "Retour", id="facture_retour"),
        Binding("down", "app.focus_next", "Champ suivant", show=False, id="facture_suivant"),
        Binding("up", "app.focus_previous", "Champ précédent", show=False, id="facture_precedent"),
    ]

    def __init__(self, *, draft: InvoiceDraft | None = None, invoice_id: int | None = None) -> None:
        if (draft is None) == (invoice_id is None):
            raise ValueError("InvoiceFormScreen: give either a draft or an invoice_id")
        super().__init__()
        self.invoice_id = invoice_id
        self.draft = draft
        self._line_counter = 0
        self._preview = None
        self._loaded_texts: list[str] = []
        self._load()
        self._load_prescription()
        # The header says where the user is, briefly; the title line says the rest.
        self.title = (
            "Nouvelle facture"
            if invoice_id is None
            else f"Facture n° {format_invoice_number(self.number) or 'non numérotée'}"
        )

    # --- loading ---------------------------------------------------------------------------

    def _load(self) -> None:
        from tuibill.services import acts as act_service
        from tuibill.services import invoices as invoice_service

        if self.invoice_id is not None:
            invoice = invoice_service.get_invoice(self.invoice_id)
            self.practitioner_id = invoice.practitioner_id
            self.patient_id = invoice.patient_id
            self.prescription_id = invoice.prescription_id
            self.billing_date = invoice.billing_date
            self.number = invoice.number
            self.acts = act_service.lines_as_acts(invoice)
        else:
            self.practitioner_id = self.draft.practitioner_id
            self.patient_id = self.draft.patient_id
            self.prescription_id = self.draft.prescription_id
            self.billing_date = date.today()
            self.number = None
            self.acts = list(self.draft.acts)

    def _load_prescription(self) -> None:
        """The prescripteur and date of the invoice's prescription (corrected in this form)."""
        self.prescriber_id: int | None = None
        self.prescriber_text = ""
        self.prescribed_on: date | None = None
        if self.prescription_id is None:
            return
        from tuibill.services.prescriptions import get_prescription

        prescription = get_prescription(self.prescription_id)
        self.prescribed_on = prescription.date
        if prescription.prescriber_id is not None:
            self.prescriber_id = prescription.prescriber_id
            self.prescriber_text = (
                f"{prescription.prescriber.display_name} — {prescription.prescriber.number}"
            )

    @property
    def is_free(self) -> bool:
        """A free invoice: no prescription, no isolated act, so the patient may change."""
        return (
            self.invoice_id is None
            and self.prescription_id is None
            and not any(getattr(a, "isolated_act_id", None) for a in self.acts)
        )

    def _title(self) -> str:
        if self.invoice_id is None:
            origin = (
                "depuis une prescription"
                if self.prescription_id
                else ("libre" if self.is_free else "depuis des actes isolés")
            )
            return f"Nouvelle facture {origin}"
        number = format_invoice_number(self.number) or "non numérotée"
        return f"Modifier la facture {number} (saisie)"

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        practitioners = [(p.display_name, p.id) for p in list_practitioners()]
        if self.practitioner_id not in {pid for _, pid in practitioners}:
            # An inactive practitioner's prescription or acts: keep them selectable here.
            from tuibill.services.practice import get_practitioner

            practitioner = get_practitioner(self.practitioner_id)
            practitioners.append((practitioner.display_name, practitioner.id))
        yield AppHeader()
        with Vertical(id="invoice-form"):
            yield Static(self._title(), classes="title", id="form-title")
            with Horizontal(classes="form-row"):
                yield Label("Praticien :", classes="form-label")
                if self.invoice_id is None:
                    yield Select(
                        practitioners,
                        value=self.practitioner_id,
                        allow_blank=False,
                        compact=True,
                        id="form-practitioner",
                    )
                else:
                    yield Label("", id="form-practitioner-name", markup=False)
            yield Static("", id="practitioner-error", classes="error field-error", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Patient :", classes="form-label")
                yield Label("", id="form-patient", markup=False)
            yield Static("", id="patient-error", classes="error field-error", markup=False)
            if self.prescription_id is not None:
                # Seed 000: « Prescripteur inconnu », « Date de prescription erronée » are
                # corrected here, on the invoice, and saved with it.
                with Horizontal(classes="form-row"):
                    yield Label("Prescripteur :", classes="form-label")
                    prescriber = PickField(
                        "(à choisir) — Entrée : liste des prescripteurs", id="form-prescriber"
                    )
                    prescriber.set_value(self.prescriber_id, self.prescriber_text)
                    yield prescriber
                    yield Label(" du ", classes="form-label")
                    yield Input(
                        format_day(self.prescribed_on),
                        compact=True,
                        id="prescription-date",
                        placeholder="JJ/MM/AAAA",
                        restrict=DATE_CHARS,
                        max_length=10,
                    )
            yield Static("", id="form-prescription", classes="hint", markup=False)
            yield Static("", id="prescription-error", classes="error field-error", markup=False)
            with Horizontal(classes="form-row"):
                yield Label("Date de facturation :", classes="form-label")
                yield Input(
                    format_day(self.billing_date),
                    compact=True,
                    id="billing-date",
                    placeholder="JJ/MM/AAAA",
                )
            yield Static("", id="billing-date-error", classes="error field-error", markup=False)
            with VerticalScroll(id="acts") as acts:
                acts.can_focus = False  # the act lines take the focus, not their frame
                acts.border_title = Content(f"Actes : {ACT_NOTATION}")  # plain text, not markup
                acts.border_subtitle = "Ctrl+N ajouter · Ctrl+Y supprimer"
                texts = [(act_text(a), getattr(a, "isolated_act_id", None)) for a in self.acts]
                for text, isolated in texts or [(f"{format_day(self.billing_date)} ", None)]:
                    yield self._new_line(text, isolated)
            yield Static("", id="acts-error", classes="error field-error", markup=False)
            yield Static("", id="form-totals")
            yield Static("", id="form-error", classes="error field-error", markup=False)
        yield AppFooter()

    def _new_line(self, text: str, isolated_act_id: int | None = None) -> ActLine:
        self._line_counter += 1
        line = ActLine(text, self._line_counter, isolated_act_id)
        line.id = f"act-line-{self._line_counter}"
        return line

    def on_mount(self) -> None:
        for widget in self.query(".field-error"):
            widget.display = False  # each shows itself when it has something to say
        self._loaded_texts = self._texts()
        self._describe()
        self._reset_preview()
        self._recompute()
        lines = self._lines()
        # Straight to the first act: that is what the desk edits most.
        if lines:
            line_input = lines[0].input
            line_input.focus()
            line_input.cursor_position = len(line_input.value)

    def _describe(self) -> None:
        """The fixed parts: patient, prescription (and practitioner when editing)."""
        from tuibill.services.patients import get_patient

        patient = get_patient(self.patient_id)
        details = [patient.display_name, f"né(e) le {format_day(patient.birth_date)}"]
        if patient.organism_id:
            details.append(patient.organism.name)
        if patient.mutuelle_id:
            details.append(patient.mutuelle.name)
        if patient.ald:
            details.append("ALD")
        self.query_one("#form-patient", Label).update(" · ".join(details))
        if self.invoice_id is not None:
            from tuibill.services.practice import get_practitioner

            name = get_practitioner(self.practitioner_id).display_name
            self.query_one("#form-practitioner-name", Label).update(name)
        prescription_text = "Sans prescription."
        if self.prescription_id is not None:
            from tuibill.services.prescriptions import items

            left = ", ".join(
                f"{item.code} {format_coefficient(item.coefficient_x100)} × {item.remaining}"
                for item in items(self.prescription_id)
            )
            prescription_text = f"Prescription : reste {left}"
        self.query_one("#form-prescription", Static).update(prescription_text)

    # --- live preview ----------------------------------------------------------------------

    def _lines(self) -> list[ActLine]:
        return list(self.query(ActLine))

    def _texts(self) -> list[str]:
        texts = [self.query_one("#billing-date", Input).value.strip()]
        if self.prescription_id is not None:
            texts += [
                str(self.query_one("#form-prescriber", PickField).value),
                self.query_one("#prescription-date", Input).value.strip(),
            ]
        return texts + [line.text for line in self._lines()]

    def has_unsaved_changes(self) -> bool:
        return self.is_mounted and self._texts() != self._loaded_texts

    def unsaved_text(self) -> str:
        return self._title().replace("Nouvelle facture", "la nouvelle facture").replace(
            "Modifier la facture", "la facture"
        )

    def _reset_preview(self) -> None:
        from tuibill.services.acts import ActPreview

        try:
            self._preview = ActPreview(self.practitioner_id, self.patient_id, self.prescription_id)
        except ValidationError as error:
            self._preview = None
            self._field_error(error)
            return
        if self.prescription_id is not None:
            typed = self._parse_prescription_date()  # the date being corrected, if any
            if typed is not None:
                self._preview.use_prescription_date(typed)

    def _parse_billing_date(self) -> date | None:
        widget = self.query_one("#billing-date", Input)
        try:
            value = parse_date(widget.value, "billing_date")
        except ValidationError as error:
            widget.add_class("-invalid")
            show_message(self.query_one("#billing-date-error", Static), str(error))
            return None
        widget.remove_class("-invalid")
        show_message(self.query_one("#billing-date-error", Static), "")
        return value

    def _recompute(self) -> list[tuple[ActLine, Act]] | None:
        """Parse, check and price every line; show each result at its line.

        Returns the parsed acts when every line is good, else None. Empty lines are ignored.
        """
        billing_date = self._parse_billing_date()
        good: list[tuple[ActLine, Act]] = []
        totals = [0, 0, 0, 0]
        failures = 0
        for line in self._lines():
            if not line.text:
                line.show(None)
                continue
            try:
                spec = parse_act(line.text)
                if billing_date is None or self._preview is None:
                    line.show(None)
                    failures += 1
                    continue
                priced = self._preview.price(spec, billing_date)
            except ValidationError as error:
                line.show(None, str(error))
                failures += 1
                continue
            line.show(priced.total_cents)
            good.append((line, spec))
            for index, value in enumerate(
                (priced.total_cents, priced.amo_cents, priced.amc_cents, priced.patient_cents)
            ):
                totals[index] += value
        summary = self.query_one("#form-totals", Static)
        if failures:
            summary.update(f"Total : —  ({failures} acte(s) à corriger)")
        else:
            total, amo, amc, patient = (format_cents(v) for v in totals)
            summary.update(
                f"Total {total} €  ·  Caisse {amo}  ·  Mutuelle {amc}  ·  Assuré {patient}"
            )
        return None if failures or billing_date is None else good

    def _parse_prescription_date(self) -> date | None:
        """The prescription date typed (acts are checked against it), None if not a date."""
        widget = self.query_one("#prescription-date", Input)
        try:
            value = parse_date(widget.value, "prescription_date")
        except ValidationError as error:
            widget.add_class("-invalid")
            show_message(self.query_one("#prescription-error", Static), str(error))
            return None
        widget.remove_class("-invalid")
        show_message(self.query_one("#prescription-error", Static), "")
        return value

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "prescription-date":
            typed = self._parse_prescription_date()
            if typed is not None and self._preview is not None:
                self._preview.use_prescription_date(typed)
        show_message(self.query_one("#form-error", Static), "")
        show_message(self.query_one("#acts-error", Static), "")
        self._recompute()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        # Entrée moves on, like a paper form; on the last filled act it opens the next one, so
        # a week of visits is typed act, Entrée, act, Entrée… then Ctrl+S.
        event.stop()
        lines = self._lines()
        if not lines or event.input is not lines[-1].input:
            self.focus_next()
        elif lines[-1].text and not event.input.has_class("-invalid"):
            await self.action_add_line()
        else:
            self.app.bell()  # fix this act first: its error is shown under it

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "form-practitioner" and event.value != self.practitioner_id:
            self.practitioner_id = int(event.value)
            show_message(self.query_one("#practitioner-error", Static), "")
            self._reset_preview()
            self._recompute()

    def on_pick_field_requested(self, event: PickField.Requested) -> None:
        event.stop()

        def chosen(prescriber) -> None:
            if prescriber is None:
                return
            event.pick_field.set_value(
                prescriber.id, f"{prescriber.display_name} — {prescriber.number}"
            )
            show_message(self.query_one("#prescription-error", Static), "")
            self.set_focus(self.query_one("#prescription-date"))

        self.app.open_prescribers(chosen)

    # --- line editing ----------------------------------------------------------------------

    def _focused_line(self) -> ActLine | None:
        if self.focused is None:
            return None
        for node in self.focused.ancestors_with_self:
            if isinstance(node, ActLine):
                return node
        return None

    async def action_add_line(self) -> None:
        current = self._focused_line()
        lines = self._lines()
        source = current or (lines[-1] if lines else None)
        # A copy of the current act: the next visit is usually the same act another day.
        text = source.text if source and source.text else f"{format_day(date.today())} "
        new = self._new_line(text)
        container = self.query_one("#acts", VerticalScroll)
        if current is not None:
            await container.mount(new, after=current)
        else:
            await container.mount(new)
        self._renumber()
        new.input.focus()
        new.input.cursor_position = len(new.input.value)
        new.scroll_visible()
        self._recompute()

    async def action_remove_line(self) -> None:
        current = self._focused_line()
        if current is None:
            self.app.bell()
            return
        lines = self._lines()
        if len(lines) == 1:
            # Keep one line to type in: clear it down to today's date.
            current.input.value = f"{format_day(date.today())} "
            current.isolated_act_id = None
            return
        index = lines.index(current)
        neighbour = lines[index + 1] if index + 1 < len(lines) else lines[index - 1]
        await current.remove()
        neighbour.input.focus()
        self._renumber()
        self._recompute()

    def _renumber(self) -> None:
        for number, line in enumerate(self._lines(), start=1):
            line.renumber(number)

    # --- patient ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "change_patient":
            return self.is_free
        return True

    def action_change_patient(self) -> None:
        from tuibill.dialogs.pick_patient import PickPatientDialog

        def chosen(patient_id: int | None) -> None:
            if patient_id is None:
                return
            self.patient_id = patient_id
            show_message(self.query_one("#patient-error", Static), "")
            self._describe()
            self._reset_preview()
            self._recompute()

        self.app.push_screen(PickPatientDialog("Patient de la facture"), chosen)

    # --- saving ----------------------------------------------------------------------------

    def _clear_errors(self) -> None:
        for widget in self.query(".field-error"):
            show_message(widget, "")

    def _field_error(self, error: ValidationError) -> None:
        """Show *error* where it belongs and put the cursor there."""
        field = error.field or ""
        targets = {
            "billing_date": ("#billing-date-error", "#billing-date"),
            "date": ("#billing-date-error", "#billing-date"),
            "practitioner": ("#practitioner-error", "#form-practitioner"),
            "patient": ("#patient-error", None),
            "prescription": ("#prescription-error", None),
            "prescriber": ("#prescription-error", "#form-prescriber"),
            "prescription_date": ("#prescription-error", "#prescription-date"),
        }
        if field in ACTS_FIELDS:
            target, focus = "#acts-error", None
        else:
            target, focus = targets.get(field, ("#form-error", None))
        show_message(self.query_one(target, Static), str(error))
        if focus:
            widgets = self.query(focus)
            if widgets:
                widgets.first().focus()

    def action_save(self) -> None:

        from tuibill.services import invoices as invoice_service
        self._clear_errors()
        checked = self._recompute()
        if checked is None:
            bad = [line for line in self._lines() if line.input.has_class("-invalid")]
            if bad:
                bad[0].input.focus()
            elif self.query_one("#billing-date", Input).has_class("-invalid"):
                self.query_one("#billing-date", Input).focus()
            self.app.bell()
            return
        billing_date = parse_date(self.query_one("#billing-date", Input).value, "billing_date")
        try:
            corrections = self._prescription_corrections()
            acts = self._acts_to_save(checked)
            if self.invoice_id is None:
                invoice = invoice_service.create_invoice(
                    self.practitioner_id,
                    self.patient_id,
                    acts,
                    user=self.app.user,
                    billing_date=billing_date,
                    prescription_id=self.prescription_id,
                    **corrections,
                )
            else:
                invoice = invoice_service.update_invoice(
                    self.invoice_id,
                    acts,
                    user=self.app.user,
                    billing_date=billing_date,
                    **corrections,
                )
        except ValidationError as error:
            self._field_error(error)
            self.app.bell()
            return
        except TuibillError as error:
            show_message(self.query_one("#form-error", Static), str(error))
            self.app.bell()
            return
        self.notify(
            f"Facture enregistrée en saisie : {format_cents(invoice.total_cents)} €.",
            title="Facturer",
            markup=False,
        )
        self.dismiss(invoice.id)

    def _prescription_corrections(self) -> dict:
        """The prescripteur and date to save with the invoice, when changed here."""
        if self.prescription_id is None:
            return {}
        prescriber_id = self.query_one("#form-prescriber", PickField).value
        if prescriber_id is None:
            raise ValidationError(
                "Choisissez le prescripteur (Entrée sur le champ).", field="prescriber"
            )
        prescribed_on = parse_date(
            self.query_one("#prescription-date", Input).value, "prescription_date"
        )
        changes: dict = {}
        if prescriber_id != self.prescriber_id:
            changes["prescriber_id"] = prescriber_id
        if prescribed_on != self.prescribed_on:
            changes["prescribed_on"] = prescribed_on
        return changes

    def _acts_to_save(self, checked: list[tuple[ActLine, Act]]) -> list:
        """Tie the acts to what they consume: prescribed items, or the isolated acts."""
        from tuibill.services import acts as act_service

        specs = [spec for _, spec in checked]
        if self.prescription_id is not None:
            return act_service.link_to_prescription(
                self.prescription_id, specs, replacing_invoice=self.invoice_id
            )
        return [
            Act(**{**spec.__dict__, "isolated_act_id": line.isolated_act_id})
            for line, spec in checked
        ]

    # --- leaving ---------------------------------------------------------------------------

    def action_leave(self) -> None:
        leave_form(self, "Abandonner cette facture ?")
