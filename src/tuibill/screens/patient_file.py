"""The patient file: identity, coverage, contact details, prescriptions and invoices, in tabs.

Creating (``patient_id=None``) and editing share one form. Every check is the services' own:
the screen only turns text into values and shows each French error at the field it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    DataTable,
    Input,
    Label,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.models import Patient, Prescriber
from tuibill.services.patients import PatientInput
from tuibill.widgets.footer import AppFooter, AppHeader

# --- shared form pieces (also used by the Prescripteurs screen) ---

DATE_FORMAT = "%d/%m/%Y"
DATE_CHARS = r"[0-9/]*"


def format_date(day: date | None, fmt: str = DATE_FORMAT) -> str:
    return day.strftime(fmt) if day else ""


def right(text: str) -> Text:
    """A right-aligned table cell (amounts, counts)."""
    return Text(text, justify="right")


def field(label: str, widget: Widget) -> Horizontal:
    """One labelled line. Compact one-line widgets keep a whole tab readable at 80×24; a line
    for the field's error is added under it only when there is one (fewer widgets to build)."""
    return Horizontal(Label(label, classes="field-label"), widget, classes="field-line")


class PickField(Static, can_focus=True):
    """A value chosen from another screen (an assuré, a prescripteur): Entrée to choose,
    Suppr to clear. The chosen record's id is ``value``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "request", "Choisir", id="choix_choisir", key_display="Entrée"),
        Binding("delete", "clear", "Effacer", id="choix_effacer", key_display="Suppr"),
    ]

    @dataclass
    class Requested(Message):
        pick_field: PickField

        @property
        def control(self) -> PickField:
            return self.pick_field

    def __init__(self, empty_text: str, *, id: str) -> None:
        # A form value like any input: counted when looking for unsaved changes.
        super().__init__(empty_text, id=id, markup=False, classes="form-value -empty")
        self.empty_text = empty_text
        self.value: int | None = None

    def set_value(self, value: int | None, text: str = "") -> None:
        self.value = value
        self.update(text if value is not None else self.empty_text)
        self.set_class(value is None, "-empty")

    def action_request(self) -> None:
        self.post_message(self.Requested(self))

    def action_clear(self) -> None:
        self.set_value(None)


def clear_errors(root: Widget) -> None:
    for message in root.query(".field-error"):
        message.remove_class("-shown")
    for widget in root.query(".-invalid"):
        widget.remove_class("-invalid")


def clear_error(root: Widget, widget: Widget) -> None:
    """Forget a field's error once its value changes."""
    if not widget.has_class("-invalid"):
        return  # the usual case, and it costs no query
    widget.remove_class("-invalid")
    for message in root.query(f"#err-{widget.id}"):
        message.remove_class("-shown")


def show_error(
    root: Widget, error: TuibillError, aliases: dict[str, str] | None = None
) -> Widget | None:
    """Put a service's French message under the field it names and focus that field.

    *aliases* maps a service's field name to the widget id when they differ. An error with no
    field on this form becomes a notification. Returns the field's widget, if any.
    """
    name = getattr(error, "field", None)
    widget_id = (aliases or {}).get(name, name) if name else None
    found = root.query(f"#{widget_id}") if widget_id else None
    line = found.first().parent if found else None
    if line is None or not line.has_class("field-line") or line.parent is None:
        root.notify(str(error), severity="error", title="Refusé", markup=False)
        return None
    widget = found.first()
    existing = root.query(f"#err-{widget_id}")
    if existing:
        message = existing.first(Static)
        message.update(str(error))
        message.add_class("-shown")
    else:
        message = Static(
            str(error), id=f"err-{widget_id}", classes="field-error -shown", markup=False
        )
        line.parent.mount(message, after=line)
    widget.add_class("-invalid")
    widget.focus()
    return widget


def form_state(root: Widget) -> tuple[Any, ...]:
    """The values of every ``.form-value`` widget under *root*: compared to detect changes."""
    return tuple(getattr(widget, "value", None) for widget in root.query(".form-value"))


def select_value(select: Select) -> Any:
    return None if select.value is Select.NULL else select.value


# --- the patient file ---

TAB_IDS = ["tab-assure", "tab-couverture", "tab-coordonnees", "tab-ordonnances", "tab-factures"]

# Where each field lives, to bring its tab forward when it holds an error.
FIELD_TAB = {
    "last_name": "tab-assure",
    "first_name": "tab-assure",
    "birth_date": "tab-assure",
    "nir": "tab-assure",
    "rank": "tab-assure",
    "quality": "tab-assure",
    "insured": "tab-assure",
    "death_date": "tab-assure",
    "organism": "tab-couverture",
    "mutuelle": "tab-couverture",
    "amc_member_number": "tab-couverture",
    "exoneration": "tab-couverture",
    "address": "tab-coordonnees",
    "phone": "tab-coordonnees",
    "sector": "tab-coordonnees",
}

# The widget focused when a tab is brought forward.
FIRST_OF_TAB = {
    "tab-assure": "#last_name",
    "tab-couverture": "#organism",
    "tab-coordonnees": "#address",
    "tab-ordonnances": "#prescriptions",
    "tab-factures": "#invoices",
}

# Tabs that need a saved patient.
RECORD_TABS = ("tab-ordonnances", "tab-factures")


class InvoiceTable(DataTable):
    """The « Factures » list: Entrée opens the invoice (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Ouvrir la facture",
            id="patient_ouvrir_facture",
            key_display="Entrée",
        ),
    ]


class PatientFileScreen(Screen[None]):
    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#last_name"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="patient_enregistrer"),
        Binding("ctrl+t,f12", "next_tab", "Onglet suivant", id="patient_onglet_suivant"),
        Binding(
            "f11", "previous_tab", "Onglet précédent", id="patient_onglet_precedent", show=False
        ),
        Binding("ctrl+n", "new_prescription", "Nouvelle ordonnance", id="patient_ordonnance"),
        Binding("escape", "leave", "Retour", id="patient_retour"),
    ]

    def __init__(self, patient_id: int | None = None, *, initial_name: str = "") -> None:
        super().__init__()
        self.patient_id = patient_id
        self.initial_name = initial_name
        self._baseline: tuple[Any, ...] | None = None

    # --- layout ---

    def compose(self) -> ComposeResult:
        from tuibill.domain.patients import QUALITIES
        from tuibill.services import patients, worklists

        organisms = patients.list_organisms()
        mutuelles = patients.list_mutuelles()
        yield AppHeader()
        with TabbedContent(id="tabs", initial="tab-assure"):
            with TabPane("Assuré", id="tab-assure"), VerticalScroll(classes="line-form"):
                yield field("Nom", self._input("last_name", max_length=60))
                yield field("Prénom", self._input("first_name", max_length=60))
                yield field(
                    "Date de naissance",
                    self._input(
                        "birth_date", placeholder="JJ/MM/AAAA", restrict=DATE_CHARS, max_length=10
                    ),
                )
                yield field(
                    "NIR (15 car.)",
                    self._input(
                        "nir",
                        placeholder="13 caractères + clé",
                        restrict=r"[0-9ABab ]*",
                        max_length=21,
                    ),
                )
                yield Static("", id="nir-hint", classes="field-hint")
                yield field(
                    "Rang de naissance", self._input("rank", restrict=r"[0-9]*", max_length=1)
                )
                yield field(
                    "Qualité",
                    Select(
                        [(f"{code} {label}", code) for code, label in QUALITIES.items()],
                        allow_blank=False,
                        value="00",
                        compact=True,
                        id="quality",
                        classes="form-value",
                    ),
                )
                yield field(
                    "Assuré (ayant droit)",
                    PickField("(lui-même) — Entrée : rattacher à un assuré", id="insured"),
                )
                yield field(
                    "Date de décès",
                    self._input(
                        "death_date", placeholder="JJ/MM/AAAA", restrict=DATE_CHARS, max_length=10
                    ),
                )
            with TabPane("Couverture", id="tab-couverture"), VerticalScroll(classes="line-form"):
                yield field(
                    "Caisse (AMO)",
                    Select(
                        [(f"{o.name} ({o.code})", o.id) for o in organisms],
                        prompt="(aucune)",
                        compact=True,
                        id="organism",
                        classes="form-value",
                    ),
                )
                yield field(
                    "Mutuelle (AMC)",
                    Select(
                        [(f"{m.name} ({m.number})", m.id) for m in mutuelles],
                        prompt="(aucune)",
                        compact=True,
                        id="mutuelle",
                        classes="form-value",
                    ),
                )
                yield field("N° adhérent AMC", self._input("amc_member_number", max_length=20))
                yield field("Tiers payant AMO", self._checkbox("amo_tiers_payant"))
                yield field("Tiers payant AMC", self._checkbox("amc_tiers_payant"))
                yield field("ALD", self._checkbox("ald"))
                yield field("Maternité", self._checkbox("maternity"))
                yield field(
                    "Exonération",
                    self._input("exoneration", placeholder="C2S, AT 12/2025…", max_length=40),
                )
            with TabPane("Coordonnées", id="tab-coordonnees"), VerticalScroll(classes="line-form"):
                yield field("Adresse", self._input("address", max_length=120))
                yield field("Téléphone", self._input("phone", restrict=r"[0-9+ .]*", max_length=20))
                sector = self._input("sector", max_length=20)
                sector.suggester = SuggestFromList(worklists.sectors(), case_sensitive=False)
                yield field("Secteur", sector)
            with TabPane("Ordonnances", id="tab-ordonnances"):
                yield DataTable(id="prescriptions", cursor_type="row", zebra_stripes=True)
                yield Static("", id="prescriptions-hint", classes="hint")
            with TabPane("Factures", id="tab-factures"):
                yield InvoiceTable(id="invoices", cursor_type="row", zebra_stripes=True)
                yield Static("", id="invoices-hint", classes="hint")
        yield AppFooter()

    @staticmethod
    def _input(widget_id: str, **options: Any) -> Input:
        return Input(id=widget_id, compact=True, classes="form-value", **options)

    @staticmethod
    def _checkbox(widget_id: str) -> Checkbox:
        return Checkbox("non", compact=True, id=widget_id, classes="form-value")

    def on_mount(self) -> None:
        from tuibill.services.patients import get_patient, patient_input

        # No box-drawing underline on the Linux console: the active tab is shown reversed.
        self.set_class(bool(getattr(self.app, "ascii_borders", False)), "-ascii")
        table = self.query_one("#prescriptions", DataTable)
        table.add_columns("Date", "Prescripteur", "Exécutant", "Acte", "Presc.", "Fact.", "Reste")
        invoices = self.query_one("#invoices", DataTable)
        invoices.add_columns(
            "Numéro",
            "TP",
            "Etat",
            "Date",
            "Montant",
            "Acte du",
            "au",
            "Caisse",
            "Mutuelle",
            "Patient",
            "Exécutant",
        )
        if self.patient_id is not None:
            self._fill(patient_input(get_patient(self.patient_id)))
        else:
            # A new patient: the name searched for, and the usual case (assuré, rang 1, TP AMO).
            self.query_one("#last_name", Input).value = self.initial_name.upper()
            self.query_one("#rank", Input).value = "1"
            self.query_one("#amo_tiers_payant", Checkbox).value = True
        self._refresh_header()
        self.call_after_refresh(self._mark_clean)

    def _refresh_header(self) -> None:
        tabs = self.query_one(TabbedContent)
        if self.patient_id is None:
            self.title = "Nouveau patient"
            for tab in RECORD_TABS:
                tabs.disable_tab(tab)
        else:
            last = self.query_one("#last_name", Input).value
            first = self.query_one("#first_name", Input).value
            self.title = f"Patient — {last} {first}".strip()
            for tab in RECORD_TABS:
                tabs.enable_tab(tab)

    # --- form values ---

    def _fill(self, data: PatientInput) -> None:
        """Put the editable form of a patient into the widgets."""
        from tuibill.services.patients import get_patient

        self.query_one("#last_name", Input).value = data.last_name
        self.query_one("#first_name", Input).value = data.first_name
        self.query_one("#birth_date", Input).value = format_date(data.birth_date)
        self.query_one("#nir", Input).value = data.nir
        self.query_one("#rank", Input).value = str(data.rank)
        self.query_one("#quality", Select).value = data.quality
        insured = self.query_one("#insured", PickField)
        if data.insured_id is not None:
            insured.set_value(data.insured_id, self._patient_text(get_patient(data.insured_id)))
        else:
            insured.set_value(None)
        self.query_one("#death_date", Input).value = format_date(data.death_date)
        self.query_one("#organism", Select).value = data.organism_id or Select.NULL
        self.query_one("#mutuelle", Select).value = data.mutuelle_id or Select.NULL
        self.query_one("#amc_member_number", Input).value = data.amc_member_number
        for name in ("amo_tiers_payant", "amc_tiers_payant", "ald", "maternity"):
            self.query_one(f"#{name}", Checkbox).value = bool(getattr(data, name))
        self.query_one("#exoneration", Input).value = data.exoneration
        self.query_one("#address", Input).value = data.address
        self.query_one("#phone", Input).value = data.phone
        self.query_one("#sector", Input).value = data.sector

    @staticmethod
    def _patient_text(patient: Patient) -> str:
        return f"{patient.display_name} — NIR {patient.nir}"

    def _collect(self) -> PatientInput:
        """The form as a ``PatientInput``; text that is not a date or a rank is refused here."""
        from tuibill.domain.act_notation import parse_date

        def text(widget_id: str) -> str:
            return self.query_one(f"#{widget_id}", Input).value.strip()

        birth = text("birth_date")
        if not birth:
            raise ValidationError("La date de naissance est obligatoire.", field="birth_date")
        rank = text("rank")
        if not rank.isdigit():
            raise ValidationError("Le rang de naissance va de 1 à 9.", field="rank")
        death = text("death_date")
        return PatientInput(
            last_name=text("last_name"),
            first_name=text("first_name"),
            birth_date=parse_date(birth, "birth_date"),
            nir=text("nir"),
            rank=int(rank),
            quality=self.query_one("#quality", Select).value,
            insured_id=self.query_one("#insured", PickField).value,
            death_date=parse_date(death, "death_date") if death else None,
            organism_id=select_value(self.query_one("#organism", Select)),
            mutuelle_id=select_value(self.query_one("#mutuelle", Select)),
            amc_member_number=text("amc_member_number"),
            amo_tiers_payant=self.query_one("#amo_tiers_payant", Checkbox).value,
            amc_tiers_payant=self.query_one("#amc_tiers_payant", Checkbox).value,
            ald=self.query_one("#ald", Checkbox).value,
            maternity=self.query_one("#maternity", Checkbox).value,
            exoneration=text("exoneration"),
            sector=text("sector"),
            address=text("address"),
            phone=text("phone"),
        )

    def _mark_clean(self) -> None:
        self._baseline = form_state(self)

    @property
    def dirty(self) -> bool:
        return self._baseline is not None and form_state(self) != self._baseline

    # --- prescriptions and invoices ---

    def _load_records(self) -> None:
        from tuibill.domain.formatting import format_cents, format_coefficient
        from tuibill.services.patients import patient_invoices
        from tuibill.services.prescriptions import patient_prescriptions

        table = self.query_one("#prescriptions", DataTable)
        invoices = self.query_one("#invoices", DataTable)
        table.clear()
        invoices.clear()
        if self.patient_id is None:
            return
        prescriptions = patient_prescriptions(self.patient_id)
        for prescription in prescriptions:
            for index, item in enumerate(prescription.items):
                table.add_row(
                    format_date(prescription.prescribed_on, "%d/%m/%y") if index == 0 else "",
                    Text(prescription.prescriber if index == 0 else ""),
                    Text(prescription.practitioner if index == 0 else ""),
                    f"{item.code} {format_coefficient(item.coefficient_x100)}",
                    right(str(item.count)),
                    right(str(item.billed)),
                    right(str(item.remaining)),
                    key=f"{prescription.id}-{index}",
                )
        self.query_one("#prescriptions-hint", Static).update(
            f"{len(prescriptions)} ordonnance(s) — ctrl+n : nouvelle ordonnance"
            if prescriptions
            else "Aucune ordonnance — ctrl+n : nouvelle ordonnance"
        )
        rows = patient_invoices(self.patient_id)
        for row in rows:
            invoices.add_row(
                row.number_text,
                row.tiers_payant,
                row.state_label,
                format_date(row.billing_date, "%d/%m/%y"),
                right(format_cents(row.total_cents)),
                format_date(row.first_act, "%d/%m/%y"),
                format_date(row.last_act, "%d/%m/%y"),
                right(format_cents(row.amo_cents)),
                right(format_cents(row.amc_cents)),
                right(format_cents(row.patient_cents)),
                Text(row.practitioner),
                key=str(row.id),
            )
        self.query_one("#invoices-hint", Static).update(
            f"{len(rows)} facture(s) — Entrée : ouvrir la facture" if rows else "Aucune facture."
        )

    def on_screen_resume(self) -> None:
        # First shown, or back from an invoice or a dialog: what was billed may have changed.
        self._load_records()

    @on(DataTable.RowSelected, "#invoices")
    def _invoice_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_invoice(int(event.row_key.value))

    def open_invoice(self, invoice_id: int) -> None:
        # Imported here: the invoice screen is its own module, loaded only when needed.
        from tuibill.screens.invoice_detail import InvoiceDetailScreen

        self.app.push_screen(InvoiceDetailScreen(invoice_id))

    # --- live feedback ---

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)
        if event.input.id == "nir":
            self._nir_hint(event.value)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        # Spelled out: the box's colour alone does not survive 16 colours or NO_COLOR.
        event.checkbox.label = "oui" if event.value else "non"

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        clear_error(self, event.select)

    def _nir_hint(self, value: str) -> None:
        """The key, computed as the 13 characters are typed (the save checks it again)."""
        from tuibill.domain.patients import nir_key, normalize_nir

        compact = normalize_nir(value)
        hint = ""
        if len(compact) == 13:
            try:
                hint = f"Clé attendue : {nir_key(compact)}"
            except ValueError:
                hint = "Les 13 premiers caractères ne forment pas un NIR."
        elif len(compact) == 15:
            try:
                expected = nir_key(compact[:13])
                if expected != compact[13:]:
                    hint = f"Clé incorrecte : la clé attendue est {expected}."
            except ValueError:
                hint = "Les 13 premiers caractères ne forment pas un NIR."
        self.query_one("#nir-hint", Static).update(hint)
        self.query_one("#nir-hint", Static).set_class(bool(hint), "-shown")

    @on(Input.Submitted, ".line-form Input")
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    @on(PickField.Requested, "#insured")
    def _pick_insured(self, event: PickField.Requested) -> None:
        from tuibill.screens.patients import PatientsScreen

        def chosen(patient: Patient | None) -> None:
            if patient is None:
                return
            if patient.id == self.patient_id:
                self.notify("Un patient ne peut être son propre assuré.", severity="error")
                return
            event.pick_field.set_value(patient.id, self._patient_text(patient))
            clear_error(self, event.pick_field)
            if self.query_one("#quality", Select).value == "00":
                # An ayant droit is not « Assuré »: point at the field to change.
                self.query_one("#quality", Select).focus()

        self.app.push_screen(PatientsScreen(pick=True), chosen)

    # --- actions ---

    def action_save(self) -> None:
        from tuibill.services.patients import create_patient, patient_input, update_patient

        clear_errors(self)
        try:
            data = self._collect()
            if self.patient_id is None:
                patient = create_patient(data)
            else:
                patient = update_patient(self.patient_id, data)
        except TuibillError as error:
            widget = show_error(self, error)
            if widget is not None:
                if widget.id == "nir":  # the error says it all: no live hint under it
                    self.query_one("#nir-hint", Static).remove_class("-shown")
                self._show_tab_of(widget)
            return
        created = self.patient_id is None
        self.patient_id = patient.id
        self._fill(patient_input(patient))  # the stored form: NOM in capitals, compact NIR
        self._refresh_header()
        if created:
            self.refresh_bindings()  # « Nouvelle ordonnance » is now possible
        self._load_records()
        self.call_after_refresh(self._mark_clean)
        self.notify(
            "Patient créé." if created else "Patient enregistré.",
            title=patient.display_name,
            markup=False,
        )

    def _show_tab_of(self, widget: Widget) -> None:
        tab = FIELD_TAB.get(widget.id or "")
        if tab:
            self.query_one(TabbedContent).active = tab
            self.call_after_refresh(widget.focus)

    def _enabled_tabs(self) -> list[str]:
        if self.patient_id is None:
            return [tab for tab in TAB_IDS if tab not in RECORD_TABS]
        return TAB_IDS

    def _move_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        enabled = self._enabled_tabs()
        current = enabled.index(tabs.active) if tabs.active in enabled else 0
        target = enabled[(current + step) % len(enabled)]
        tabs.active = target
        self.call_after_refresh(self.query_one(FIRST_OF_TAB[target]).focus)

    def action_next_tab(self) -> None:
        self._move_tab(1)

    def action_previous_tab(self) -> None:
        self._move_tab(-1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "new_prescription" and self.patient_id is None:
            return None  # shown greyed: the patient must be saved first
        return True

    def action_new_prescription(self) -> None:
        if self.patient_id is None:
            self.notify("Enregistrez d'abord le patient (ctrl+s).", severity="warning")
            return

        def created(prescription_id: int | None) -> None:
            if prescription_id is None:
                return
            self._load_records()
            self.query_one(TabbedContent).active = "tab-ordonnances"
            self.call_after_refresh(self.query_one("#prescriptions").focus)
            self.notify("Ordonnance enregistrée.")

        self.app.push_screen(PrescriptionDialog(self.patient_id), created)

    def action_leave(self) -> None:
        if not self.dirty:
            self.dismiss(None)
            return

        def answer(leave: bool | None) -> None:
            if leave:
                self.dismiss(None)

        from tuibill.dialogs.confirm import ConfirmDialog

        self.app.push_screen(
            ConfirmDialog(
                "Abandonner les modifications ?",
                "Les changements de la fiche ne sont pas enregistrés (ctrl+s pour enregistrer).",
            ),
            answer,
        )


class PrescriptionDialog(ModalScreen[int | None]):
    """A new prescription: prescripteur, exécutant, date and the acts « CODE:NOMBRE[:COEF] »."""

    CSS_PATH = "../styles/patients.tcss"
    AUTO_FOCUS = "#prescriber"

    # create_prescription names these fields; the form has one « Actes » line for them.
    FIELD_ALIASES: ClassVar[dict[str, str]] = {"count": "acts", "coefficient": "acts"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="ordonnance_enregistrer"),
        Binding("ctrl+p", "pick_prescriber", "Prescripteurs", id="ordonnance_prescripteurs"),
        Binding("escape", "cancel", "Annuler", id="ordonnance_annuler"),
    ]

    def __init__(self, patient_id: int) -> None:
        super().__init__()
        self.patient_id = patient_id
        self._baseline: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        self.practitioners = list_practitioners()
        with Vertical(classes="dialog line-form"):
            yield Static("Nouvelle ordonnance", classes="title")
            yield field(
                "Prescripteur",
                PickField("(à choisir) — Entrée : liste des prescripteurs", id="prescriber"),
            )
            yield field(
                "Exécutant",
                Select(
                    [(p.display_name, p.id) for p in self.practitioners],
                    value=self.practitioners[0].id if self.practitioners else Select.NULL,
                    prompt="(à choisir)",
                    compact=True,
                    id="practitioner",
                    classes="form-value",
                ),
            )
            yield field(
                "Date de prescription",
                Input(
                    value=format_date(date.today()),
                    placeholder="JJ/MM/AAAA",
                    restrict=DATE_CHARS,
                    max_length=10,
                    compact=True,
                    id="date",
                    classes="form-value",
                ),
            )
            yield field(
                "Actes",
                Input(
                    placeholder="CODE:NOMBRE[:COEF]  ex. AMI:10 AIS:15:3",
                    compact=True,
                    id="acts",
                    classes="form-value",
                ),
            )
            yield Static("", id="acts-hint", classes="field-hint -shown")
            yield field(
                "Notes", Input(compact=True, id="notes", classes="form-value", max_length=200)
            )
            yield Static(
                "Entrée : champ suivant — ctrl+s : enregistrer — Échap : annuler", classes="hint"
            )

    def on_mount(self) -> None:
        self._codes_hint()
        self.call_after_refresh(self._mark_clean)

    def _mark_clean(self) -> None:
        self._baseline = form_state(self)

    def _codes_hint(self) -> None:
        from tuibill.services.tariffs import TariffBook

        practitioner_id = select_value(self.query_one("#practitioner", Select))
        chosen = [p for p in self.practitioners if p.id == practitioner_id]
        hint = ""
        if chosen:
            codes = TariffBook(chosen[0].specialty).act_codes()
            hint = f"Actes {chosen[0].specialty_label.lower()} : {', '.join(codes)}"
        self.query_one("#acts-hint", Static).update(hint)

    @on(Select.Changed, "#practitioner")
    def _practitioner_changed(self, event: Select.Changed) -> None:
        clear_error(self, event.select)
        self._codes_hint()

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "notes":
            self.action_save()
        else:
            self.focus_next()

    @on(PickField.Requested, "#prescriber")
    def _requested(self, event: PickField.Requested) -> None:
        self.action_pick_prescriber()

    def action_pick_prescriber(self) -> None:
        from tuibill.screens.prescribers import PrescribersScreen

        def chosen(prescriber: Prescriber | None) -> None:
            if prescriber is None:
                return
            self.query_one("#prescriber", PickField).set_value(
                prescriber.id, f"{prescriber.display_name} — {prescriber.number}"
            )
            clear_error(self, self.query_one("#prescriber", PickField))
            self.query_one("#practitioner", Select).focus()

        self.app.push_screen(PrescribersScreen(pick=True), chosen)

    def action_save(self) -> None:
        from tuibill.domain.act_notation import parse_date
        from tuibill.services.prescriptions import create_prescription, parse_prescribed_acts

        clear_errors(self)
        try:
            prescriber_id = self.query_one("#prescriber", PickField).value
            if prescriber_id is None:
                raise ValidationError(
                    "Choisissez le prescripteur (Entrée sur le champ, ou ctrl+p).",
                    field="prescriber",
                )
            practitioner_id = select_value(self.query_one("#practitioner", Select))
            if practitioner_id is None:
                raise ValidationError("Choisissez l'exécutant des soins.", field="practitioner")
            prescribed_on = parse_date(self.query_one("#date", Input).value, "date")
            acts = parse_prescribed_acts(self.query_one("#acts", Input).value)
            prescription = create_prescription(
                self.patient_id,
                prescriber_id,
                practitioner_id,
                prescribed_on,
                acts,
                notes=self.query_one("#notes", Input).value.strip(),
            )
        except TuibillError as error:
            show_error(self, error, self.FIELD_ALIASES)
            return
        self.dismiss(prescription.id)

    def action_cancel(self) -> None:
        if self._baseline is None or form_state(self) == self._baseline:
            self.dismiss(None)
            return

        def answer(leave: bool | None) -> None:
            if leave:
                self.dismiss(None)

        from tuibill.dialogs.confirm import ConfirmDialog

        self.app.push_screen(ConfirmDialog("Abandonner cette ordonnance ?"), answer)
