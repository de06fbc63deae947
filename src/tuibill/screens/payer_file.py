"""A tiers-payeur's file (seed 004), in tabs: Définition, Paramétrage (bordereau type, « Aide
versée directement au client », default plan values), Plans d'aide, Bordereaux, Règlements,
Documents, Notes, Envois.

A new payer (``payer_id=None``) has Définition and Paramétrage only, until saved (Ctrl+S).
Every check is the services' own; errors show at the field they name (``widgets.forms``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Checkbox, DataTable, Input, Select, Static, TabbedContent, TabPane

from tuibill.dialogs.unsaved import confirm_leaving
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents, format_rate, format_short_day, format_when
from tuibill.services.payers import PayerInput
from tuibill.widgets.cells import money, right
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.forms import clear_error, clear_errors, field, form_state, show_error
from tuibill.widgets.screen_frames import DrawnOnce

TABS = [
    ("tab-definition", "Définition"),
    ("tab-parametrage", "Paramétrage"),
    ("tab-plans", "Plans"),
    ("tab-bordereaux", "Bordereaux"),
    ("tab-reglements", "Règlements"),
    ("tab-documents", "Documents"),
    ("tab-notes", "Notes"),
    ("tab-envois", "Envois"),
]
TAB_IDS = [tab for tab, _ in TABS]
RECORD_TABS = TAB_IDS[2:]  # need a saved payer
FIELD_TAB = {"slip_kind": "tab-parametrage", "aid_paid_to_client": "tab-parametrage"}
FIRST_OF_TAB = {
    "tab-definition": "#name",
    "tab-parametrage": "#slip_kind",
    "tab-plans": "#plans",
    "tab-bordereaux": "#slips",
    "tab-reglements": "#payments",
    "tab-documents": "#documents",
    "tab-notes": "#note-input",
    "tab-envois": "#mails",
}
TEXT_FIELDS = [
    ("name", "Nom", 80), ("address", "Adresse", 120), ("postcode", "Code postal", 10),
    ("city", "Ville", 60), ("email", "E-mail", 120), ("phone", "Téléphone", 20),
    ("siret", "SIRET", 17), ("account", "Compte comptable", 20),
    ("service_code", "Code service Chorus Pro", 40),
]  # fmt: skip


class PayerFileScreen(DrawnOnce[None]):
    CSS_PATH = "../styles/tiers.tcss"
    AUTO_FOCUS = "#name"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Enregistrer", id="payeur_enregistrer"),
        Binding("ctrl+t,f12", "next_tab", "Onglet suivant", id="payeur_onglet_suivant"),
        Binding("f11", "previous_tab", "Onglet précédent", id="payeur_onglet_precedent", show=False),
        Binding("ctrl+n", "new_plan", "Nouveau plan", id="payeur_nouveau_plan"),
        Binding("f10", "validate_plan", "Valider le plan", id="payeur_valider_plan"),
        Binding("ctrl+b", "slips", "Bordereaux", id="payeur_bordereaux"),
        Binding("ctrl+r", "record_payment", "Règlement", id="payeur_reglement"),
        Binding("ctrl+a", "auto_allocate", "Automatiser association", id="payeur_associer"),
        Binding("escape", "leave", "Retour", id="payeur_retour"),
    ]

    def __init__(self, payer_id: int | None) -> None:
        super().__init__()
        self.payer_id = payer_id
        self._baseline: tuple[Any, ...] | None = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with TabbedContent(id="tabs", initial="tab-definition"):
            with TabPane("Définition", id="tab-definition"), VerticalScroll(classes="line-form"):
                for name, label, length in TEXT_FIELDS:
                    yield field(label, Input(id=name, compact=True, classes="form-value", max_length=length))
                yield field("Public (Chorus, Factur-X)", self._checkbox("public"))
            with TabPane("Paramétrage", id="tab-parametrage"):
                with VerticalScroll(classes="line-form"):
                    yield field(
                        "Type de bordereau",
                        Select([("Individuelle", "INDIVIDUELLE"), ("Globale", "GLOBALE")],
                               allow_blank=False, value="INDIVIDUELLE", compact=True,
                               id="slip_kind", classes="form-value"),
                    )  # fmt: skip
                    yield field("Aide versée au client", self._checkbox("aid_paid_to_client"))
                    yield Static("Valeurs plan d'aide défaut", classes="subtitle")
                    yield DataTable(id="defaults", cursor_type="row", zebra_stripes=True)
            with TabPane("Plans", id="tab-plans"):
                yield DataTable(id="plans", cursor_type="row", zebra_stripes=True)
                yield Static("", id="plans-hint", classes="hint", markup=False)
            with TabPane("Bordereaux", id="tab-bordereaux"):
                yield DataTable(id="slips", cursor_type="row", zebra_stripes=True)
                yield Static("", id="slips-hint", classes="hint", markup=False)
            with TabPane("Règlements", id="tab-reglements"):
                yield DataTable(id="payments", cursor_type="row", zebra_stripes=True)
                yield Static("", id="payments-hint", classes="hint", markup=False)
            with TabPane("Documents", id="tab-documents"):
                yield DataTable(id="documents", cursor_type="row", zebra_stripes=True)
            with TabPane("Notes", id="tab-notes"):
                yield DataTable(id="notes", cursor_type="row", zebra_stripes=True)
                yield Input(placeholder="Nouvelle note — Entrée : l'ajouter", id="note-input", max_length=500)
            with TabPane("Envois", id="tab-envois"):
                yield DataTable(id="mails", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    @staticmethod
    def _checkbox(widget_id: str) -> Checkbox:
        return Checkbox("non", compact=True, id=widget_id, classes="form-value")

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.set_class(bool(getattr(self.app, "ascii_borders", False)), "-ascii")
        columns = {
            "#defaults": ("Prest.", "Heures", "Base", "Samedi", "Dim./JF", "PEC", "PEC dim.", "Plafond", "Mode"),
            "#plans": ("Bénéficiaire", "Prest.", "Du", "Au", "Plan", "État"),
            "#slips": ("Numéro", "Bénéficiaire", "Date", "État", "Montant", "Réglé"),
            "#payments": ("Date", "Montant", "Non associé", "Mode", "Référence", "État"),
            "#documents": ("Date", "Type", "Nom", "Octets"),
            "#notes": ("Date", "Par", "Note"),
            "#mails": ("Date", "Type", "Destinataire", "Objet", "Statut"),
        }  # fmt: skip
        for selector, names in columns.items():
            self.query_one(selector, DataTable).add_columns(*names)
        if self.payer_id is not None:
            from tuibill.services.payers import get_payer, payer_input

            self._fill(payer_input(get_payer(self.payer_id)))
        self._refresh_header()
        self.call_after_refresh(self._mark_clean)

    def on_screen_resume(self) -> None:
        self._load_records()

    # --- form ---

    def _fill(self, data: PayerInput) -> None:
        for name, _, _ in TEXT_FIELDS:
            self.query_one(f"#{name}", Input).value = getattr(data, name)
        self.query_one("#public", Checkbox).value = data.public
        self.query_one("#slip_kind", Select).value = data.slip_kind
        self.query_one("#aid_paid_to_client", Checkbox).value = data.aid_paid_to_client

    def _collect(self) -> PayerInput:
        values = {name: self.query_one(f"#{name}", Input).value.strip() for name, _, _ in TEXT_FIELDS}
        return PayerInput(
            **values,
            public=self.query_one("#public", Checkbox).value,
            slip_kind=str(self.query_one("#slip_kind", Select).value),
            aid_paid_to_client=self.query_one("#aid_paid_to_client", Checkbox).value,
        )

    def _mark_clean(self) -> None:
        self._baseline = form_state(self)

    @property
    def dirty(self) -> bool:
        return self._baseline is not None and form_state(self) != self._baseline

    def has_unsaved_changes(self) -> bool:
        """For the guard of every way out (``dialogs.unsaved``): F-keys, Ctrl+Q, Ctrl+C."""
        return self.dirty

    def unsaved_text(self) -> str:
        name = self.query_one("#name", Input).value.strip()
        return f"la fiche du tiers-payeur {name}" if name else "la fiche d'un nouveau tiers-payeur"

    def _refresh_header(self) -> None:
        tabs = self.query_one(TabbedContent)
        if self.payer_id is None:
            self.title = "Nouveau tiers-payeur"
            for tab in RECORD_TABS:
                tabs.disable_tab(tab)
        else:
            self.title = f"Tiers-payeur — {self.query_one('#name', Input).value}"
            for tab in RECORD_TABS:
                tabs.enable_tab(tab)

    @on(Input.Changed, ".line-form Input")
    def _changed(self, event: Input.Changed) -> None:
        clear_error(self, event.input)

    @on(Checkbox.Changed)
    def _checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.checkbox.label = "oui" if event.value else "non"

    @on(Input.Submitted, ".line-form Input")
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        self.focus_next()

    def action_save(self) -> None:
        from tuibill.services.payers import create_payer, payer_input, update_payer

        clear_errors(self)
        try:
            data = self._collect()
            payer = create_payer(data) if self.payer_id is None else update_payer(self.payer_id, data)
        except TuibillError as error:
            widget = show_error(self, error)
            if widget is not None and widget.id in FIELD_TAB:
                self.query_one(TabbedContent).active = FIELD_TAB[widget.id]
            return
        created = self.payer_id is None
        self.payer_id = payer.id
        self._fill(payer_input(payer))
        self._refresh_header()
        self._load_records()
        self.call_after_refresh(self._mark_clean)
        self.notify("Tiers-payeur créé." if created else "Tiers-payeur enregistré.", title=payer.name, markup=False)

    # --- the record tabs ---

    def _load_records(self) -> None:
        from tuibill.domain.aid_plans import BillingMode
        from tuibill.services import aid_plans, payers, payments, slips

        tables = {name: self.query_one(f"#{name}", DataTable) for name in
                  ("defaults", "plans", "slips", "payments", "documents", "notes", "mails")}  # fmt: skip
        for table in tables.values():
            table.clear()
        if self.payer_id is None:
            return
        for code, v in sorted(payers.defaults_of(self.payer_id).items()):
            cap = "tous" if v.sunday_cap_minutes is None else f"{v.sunday_cap_minutes // 60} h"
            tables["defaults"].add_row(
                code, f"{v.monthly_minutes // 60} h", money(v.rates.base_cents),
                money(v.rates.saturday_cents), money(v.rates.sunday_holiday_cents),
                format_rate(v.pec_bp), format_rate(v.sunday_pec_bp) if v.sunday_pec_bp is not None else "",
                cap, "base PEC" if v.billing_mode == BillingMode.PLAN_RATES.value else "prestation",
            )  # fmt: skip
        plans = aid_plans.list_plans(payer_id=self.payer_id)
        for row in plans:
            tables["plans"].add_row(
                Text(row.client), row.prestation, format_short_day(row.valid_from),
                format_short_day(row.valid_until), row.summary, row.state_label, key=str(row.id),
            )  # fmt: skip
        self.query_one("#plans-hint", Static).update(
            f"{len(plans)} plan(s) — Ctrl+N : nouveau plan ; F10 : valider le plan (seul un plan "
            "validé finance)"
        )
        rows = slips.list_slips(payer_id=self.payer_id)
        for row in rows:
            paid = Text(format_cents(row.paid_cents), justify="right",
                        style="bold red" if row.partly_paid else "")  # fmt: skip
            tables["slips"].add_row(
                row.number or "(créé)", Text(row.beneficiary), format_short_day(row.slip_date),
                row.state_label, money(row.total_cents), paid, key=str(row.id),
            )  # fmt: skip
        self.query_one("#slips-hint", Static).update(
            f"{len(rows)} bordereau(x) — en rouge : réglé en partie — Ctrl+B : créer, valider, "
            "envoyer les bordereaux de ce tiers-payeur"
        )
        for row in payments.list_payments(payer_id=self.payer_id):
            tables["payments"].add_row(
                format_short_day(row.day), money(row.amount_cents), money(row.unallocated_cents),
                row.mode.capitalize(), Text(row.reference), row.state_label, key=str(row.id),
            )  # fmt: skip
        self.query_one("#payments-hint", Static).update(
            "Ctrl+R : enregistrer un règlement — Ctrl+A : Automatiser association (ligne choisie)"
        )
        for doc in payers.documents_of(self.payer_id):
            tables["documents"].add_row(format_when(doc.at), doc.kind, Text(doc.name), right(str(doc.size)))
        for note in payers.notes_of(self.payer_id):
            tables["notes"].add_row(
                format_when(note.at), note.user, Text(("↳ " if note.reply else "") + note.text)
            )
        for mail in payers.mails_of(self.payer_id):
            tables["mails"].add_row(
                format_when(mail.at), mail.kind, Text(mail.recipient), Text(mail.subject), mail.status
            )

    @on(Input.Submitted, "#note-input")
    def _add_note(self, event: Input.Submitted) -> None:
        from tuibill.services.payers import add_note

        event.stop()
        if self.payer_id is None or not event.value.strip():
            return
        try:
            add_note(self.payer_id, event.value, user=self.app.user)
        except TuibillError as error:
            self.notify(str(error), severity="error", markup=False)
            return
        event.input.value = ""
        self._load_records()

    def _cursor(self, selector: str) -> int | None:
        table = self.query_one(selector, DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if (
            action in ("new_plan", "validate_plan", "record_payment", "auto_allocate", "slips")
            and self.payer_id is None
        ):
            return None
        return True

    def action_new_plan(self) -> None:
        from tuibill.dialogs.aid_plan_entry import AidPlanDialog
        from tuibill.services.aid_plans import prestations_offered
        from tuibill.services.homecare import search_clients

        if self.payer_id is None:
            return
        offered = prestations_offered(self.payer_id)
        if not offered:
            self.notify(
                "Renseignez d'abord les valeurs par défaut d'une prestation (Paramétrage).",
                severity="warning",
            )
            return
        clients = [(c.display_name, c.id) for c in search_clients(limit=1000)]

        def done(plan_id: int | None) -> None:
            if plan_id is not None:
                self._load_records()
                self.query_one(TabbedContent).active = "tab-plans"
                self.notify("Plan d'aide enregistré (Saisi) : F10 pour le valider.")

        self.app.push_screen(AidPlanDialog(self.payer_id, clients, offered), done)

    def action_validate_plan(self) -> None:
        from tuibill.services.aid_plans import validate_plan

        plan_id = self._cursor("#plans")
        if plan_id is None:
            self.notify("Aucun plan choisi (onglet Plans).", severity="warning")
            return
        try:
            validate_plan(plan_id)
        except TuibillError as error:
            self.notify(str(error), severity="error", title="Refusé", markup=False)
            return
        self._load_records()
        self.notify("Plan d'aide validé.")

    def action_slips(self) -> None:
        from tuibill.screens.slips import SlipsScreen

        if self.payer_id is not None:
            name = self.query_one("#name", Input).value
            self.app.push_screen(SlipsScreen(self.payer_id, name))

    def action_record_payment(self) -> None:
        from tuibill.dialogs.payment_entry import PaymentDialog

        if self.payer_id is None:
            return

        def done(payment_id: int | None) -> None:
            if payment_id is not None:
                self._load_records()
                self.query_one(TabbedContent).active = "tab-reglements"

        self.app.push_screen(PaymentDialog(self.payer_id), done)

    def action_auto_allocate(self) -> None:
        from tuibill.services.payments import auto_allocate

        payment_id = self._cursor("#payments")
        if payment_id is None:
            self.notify("Aucun règlement choisi (onglet Règlements).", severity="warning")
            return
        try:
            done = auto_allocate(payment_id, user=self.app.user)
        except TuibillError as error:
            self.notify(str(error), severity="error", title="Refusé", markup=False)
            return
        self._load_records()
        total = sum(a.cents for a in done)
        self.notify(f"{len(done)} facture(s) associée(s), {format_cents(total)} €.")

    # --- tabs ---

    def _move_tab(self, step: int) -> None:
        tabs = self.query_one(TabbedContent)
        enabled = TAB_IDS if self.payer_id is not None else TAB_IDS[:2]
        current = enabled.index(tabs.active) if tabs.active in enabled else 0
        target = enabled[(current + step) % len(enabled)]
        tabs.active = target
        self.call_after_refresh(self.query_one(FIRST_OF_TAB[target]).focus)

    def action_next_tab(self) -> None:
        self._move_tab(1)

    def action_previous_tab(self) -> None:
        self._move_tab(-1)

    def action_leave(self) -> None:
        confirm_leaving(self.app, [self], lambda: self.dismiss(None))


