"""The patient file: identity, coverage, contact details, prescriptions and invoices, in tabs.

Creating (``patient_id=None``) and editing share one form. Every check is the services' own:
the screen only turns text into values and shows each French error at the field it names
(``widgets.forms``). The assuré of an ayant droit is picked in the patients list, through
``app.pick_patient``; Entrée on an invoice opens it (``app.open_invoice``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import (
    Checkbox,
    DataTable,
    Input,
    Select,
    Static,
    TabbedContent,
    TabPane,
)

from tuibill.dialogs.prescription import PrescriptionDialog
from tuibill.dialogs.unsaved import leave_form
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_day, format_short_day
from tuibill.services.patients import PatientInput
from tuibill.widgets.cells import money, right
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.forms import (
    DATE_CHARS,
    FormBaseline,
    PickField,
    clear_error,
    clear_errors,
    field,
    select_value,
    show_error,
)
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import RowTable

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


class InvoiceTable(RowTable):
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


class PrescriptionTable(RowTable):
    """The « Ordonnances » list: Entrée opens the prescription to correct it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "select_cursor",
            "Modifier l'ordonnance",
            id="patient_modifier_ordonnance",
            key_display="Entrée",
        ),
    ]


class PatientFileScreen(FormBaseline, DrawnOnce[None]):
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
                yield PrescriptionTable(id="prescriptions")
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
        self.mark_saved()

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
        self.query_one("#last_name", Input).value = data.last_name
        self.query_one("#first_name", Input).value = data.first_name
        self.query_one("#birth_date", Input).value = format_day(data.birth_date)
        self.query_one("#nir", Input).value = data.nir
        self.query_one("#rank", Input).value = str(data.rank)
        self.query_one("#quality", Select).value = data.quality
        insured = self.query_one("#insured", PickField)
        if data.insured_id is not None:
            insured.set_value(data.insured_id, self._patient_text(data.insured_id))
        else:
            insured.set_value(None)
        self.query_one("#death_date", Input).value = format_day(data.death_date)
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
    def _patient_text(patient_id: int) -> str:
        from tuibill.services.patients import get_patient

        patient = get_patient(patient_id)
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

    def unsaved_text(self) -> str:
        name = " ".join(
            self.query_one(f"#{field_id}", Input).value.strip()
            for field_id in ("last_name", "first_name")
        ).strip()
        if self.patient_id is None:
            return f"le nouveau patient {name}".strip()
        return f"la fiche du patient {name}"

    # --- prescriptions and invoices ---

    def _load_records(self) -> None:
        from tuibill.domain.formatting import format_coefficient
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
                    format_short_day(prescription.prescribed_on) if index == 0 else "",
                    Text(prescription.prescriber if index == 0 else ""),
                    Text(prescription.practitioner if index == 0 else ""),
                    f"{item.code} {format_coefficient(item.coefficient_x100)}",
                    right(str(item.count)),
                    right(str(item.billed)),
                    right(str(item.remaining)),
                    key=f"{prescription.id}-{index}",
                )
        self.query_one("#prescriptions-hint", Static).update(
            f"{len(prescriptions)} ordonnance(s) — Entrée : corriger — Ctrl+N : nouvelle ordonnance"
            if prescriptions
            else "Aucune ordonnance — Ctrl+N : nouvelle ordonnance"
        )
        rows = patient_invoices(self.patient_id)
        for row in rows:
            invoices.add_row(
                row.number_text,
                row.tiers_payant,
                row.state_label,
                format_short_day(row.billing_date),
                money(row.total_cents),
                format_short_day(row.first_act),
                format_short_day(row.last_act),
                money(row.amo_cents),
                money(row.amc_cents),
                money(row.patient_cents),
                Text(row.practitioner),
                key=str(row.id),
            )
        self.query_one("#invoices-hint", Static).update(
            f"{len(rows)} facture(s) — Entrée : ouvrir la facture" if rows else "Aucune facture."
        )

    def on_screen_resume(self) -> None:
        # First shown, or back from an invoice or a dialog: what was billed may have changed.
        self._load_records()

    @on(DataTable.RowSelected, "#prescriptions")
    def _prescription_selected(self, event: DataTable.RowSelected) -> None:
        """Entrée on a prescription: correct its prescripteur or its date (seed 000)."""
        key = event.row_key.value or ""
        prescription_id = int(key.split("-")[0]) if key[:1].isdigit() else None
        if prescription_id is None or self.patient_id is None:
            return

        def corrected(saved: int | None) -> None:
            if saved is not None:
                self._load_records()
                self.notify("Ordonnance corrigée.")

        self.app.push_screen(PrescriptionDialog(self.patient_id, prescription_id), corrected)

    @on(DataTable.RowSelected, "#invoices")
    def _invoice_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.open_invoice(int(event.row_key.value))

    def open_invoice(self, invoice_id: int) -> None:
        self.app.open_invoice(invoice_id)

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
        def chosen(patient_id: int | None) -> None:
            if patient_id is None:
                return
            if patient_id == self.patient_id:
                self.notify("Un patient ne peut être son propre assuré.", severity="error")
                return
            event.pick_field.set_value(patient_id, self._patient_text(patient_id))
            clear_error(self, event.pick_field)
            if self.query_one("#quality", Select).value == "00":
                # An ayant droit is not « Assuré »: point at the field to change.
                self.query_one("#quality", Select).focus()

        self.app.pick_patient(chosen)

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
        self.mark_saved()
        self.notify(
            "Patient créé." if created else "Patient enregistré.",
            title=patient.display_name,
            markup=False,
        )

    def _show_tab_of(self, widget: Widget) -> None:
        tab = FIELD_TAB.get(widget.id or "")
        if tab:
            self.query_one(TabbedContent).active = tab
            self.set_focus(widget)  # now: a key typed next goes to it (widgets.type_ahead)

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
        self.set_focus(self.query_one(FIRST_OF_TAB[target]))

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
            self.notify("Enregistrez d'abord le patient (Ctrl+S).", severity="warning")
            return

        def created(prescription_id: int | None) -> None:
            if prescription_id is None:
                return
            self._load_records()
            self.query_one(TabbedContent).active = "tab-ordonnances"
            self.set_focus(self.query_one("#prescriptions"))
            self.notify("Ordonnance enregistrée.")

        self.app.push_screen(PrescriptionDialog(self.patient_id), created)

    def action_leave(self) -> None:
        leave_form(self, "Abandonner les modifications de la fiche ?")
