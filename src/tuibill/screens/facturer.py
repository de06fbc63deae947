"""F2 « Facturer » (seed 003): the working lists, and the actions that move invoices along.

A thin client: the rows come from ``services.worklists`` (bounded lists, ``LIST_LIMIT``), every
action goes through ``services.invoices`` and each refusal is shown with the service's own
French message. Which keys apply on a list follows the life cycle (``domain.invoices.can``) from
the states the list holds. Keys are letters, Space, Enter and Delete: F1–F9 belong to the
application.

Why this module runs past 600 lines: it is one screen with some twenty keys, each a short flow
(ask, call the service, say the outcome), and splitting those flows from the list they act on
would only scatter them. What stands on its own is elsewhere: the criteria bar
(``widgets.billing_criteria``), the keys and cells (``widgets.keys``, ``widgets.cells``), the
invoice form (``screens.invoice_form``), its act line and the dialogs (``dialogs/``).
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents, format_invoice_number, format_short_day
from tuibill.domain.invoices import (
    InvoiceAction,
    InvoiceState,
    can,
    is_editable,
    not_editable,
    refusal,
)
from tuibill.services import worklists
from tuibill.services.worklists import (
    LIST_LABELS,
    LIST_ORDER,
    VALIDATED,
    Criteria,
    FacturerRow,
    rows_for,
)
from tuibill.widgets.billing_criteria import BillingCriteria
from tuibill.widgets.cells import mark, money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import (
    delete_binding,
    key_hint,
    number_bindings,
    selection_bindings,
)
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import RowTable

INVOICE_LISTS = frozenset({worklists.UNVALIDATED, worklists.DRE_UNVALIDATED, VALIDATED})
PRESCRIPTION_LISTS = frozenset({worklists.PRESCRIPTIONS_BY_PRACTITIONER, worklists.PRESCRIPTIONS_ALL})

# (key, title, width): designed for 80 columns first — the row's who, what state and how much
# are on screen without scrolling; the split of the amounts and the dates follow to the right
# (→, or a wider terminal). Seed 003's titles.
COLUMNS: list[tuple[str, str, int | None]] = [
    ("mark", "Sél", 3),
    ("cv", "CV", 2),
    ("number", "N°", 9),
    ("patient", "Patient", 18),
    ("detail", "État", 13),
    ("date", "Date", 8),
    ("total", "Total", 8),
    ("first", "Début", 8),
    ("last", "Fin", 8),
    ("amo", "Caisse", 8),
    ("amc", "Mutuelle", 8),
    ("insured", "Assuré", 8),
    ("sector", "Secteur", None),
]

# The keys that move invoices along, and the move each asks of the life cycle: a key applies to
# a list when the domain allows its move from one of the states the list holds.
MOVES: dict[str, InvoiceAction] = {
    "validate": InvoiceAction.VALIDATE,
    "validate_cards": InvoiceAction.VALIDATE,
    "unvalidate": InvoiceAction.UNVALIDATE,
    "prepare": InvoiceAction.PREPARE,
    "cancel_preparation": InvoiceAction.CANCEL_PREPARATION,
}
# What each list offers besides those moves (« marks »: the selection keys); « Supprimer » on
# the lists that hold drafts (a draft is the only editable invoice).
LIST_ACTIONS: dict[str, frozenset[str]] = {
    worklists.PRESCRIPTIONS_BY_PRACTITIONER: frozenset({"new_invoice", "free_invoice"}),
    worklists.PRESCRIPTIONS_ALL: frozenset({"new_invoice", "free_invoice"}),
    worklists.UNVALIDATED: frozenset({"new_invoice", "marks"}),
    worklists.DRE_UNVALIDATED: frozenset({"new_invoice", "marks"}),
    worklists.ISOLATED: frozenset({"new_invoice", "free_invoice", "marks"}),
    VALIDATED: frozenset({"new_invoice", "marks"}),
}
CARD_LISTS = frozenset({worklists.UNVALIDATED})  # « Valider avec les cartes » is offered there
MARK_ACTIONS = frozenset({"toggle_mark", "mark_all", "unmark_all"})
LIST_BOUND_ACTIONS = (
    frozenset({"new_invoice", "free_invoice", "delete_draft"}) | frozenset(MOVES) | MARK_ACTIONS
)


def list_allows(list_name: str, action: str) -> bool:
    """Whether the key of *action* applies on the list *list_name*."""
    states = worklists.LIST_STATES.get(list_name, ())
    if action in MOVES:
        if action == "validate_cards" and list_name not in CARD_LISTS:
            return False
        return any(can(state, MOVES[action]) for state in states)
    if action == "delete_draft":
        return any(is_editable(state) for state in states)
    if action in MARK_ACTIONS:
        action = "marks"
    return action in LIST_ACTIONS[list_name]


MAX_REPORTED = 5  # refusals spelt out in a notification; the others stay marked in the list
MAX_NAMED = 8  # invoices named in a confirmation, then « et n autre(s) »


def row_key(row: FacturerRow) -> str:
    return f"{row.kind}:{row.id}"


class FacturerTable(RowTable):
    """The working list; Enter opens the highlighted row (shown in the footer)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Ouvrir", key_display="Entrée", id="facturer_ouvrir"),
    ]


class FacturerScreen(DrawnOnce):
    CSS_PATH = "../styles/facturer.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "new_invoice", "Nouvelle facture", id="facturer_nouvelle"),
        Binding("v", "validate", "Valider", id="facturer_valider"),
        Binding("V", "validate_cards", "Valider avec les cartes", id="facturer_valider_cartes"),
        Binding("d", "unvalidate", "Défacturer", id="facturer_defacturer"),
        Binding("c", "prepare", "Choisir à charger", id="facturer_preparer"),
        Binding(
            "a", "cancel_preparation", "Annuler préparation", id="facturer_annuler_preparation"
        ),
        delete_binding("delete_draft", "Supprimer", "facturer_supprimer"),
        Binding("i", "isolated_act", "Acte isolé", id="facturer_acte_isole"),
        Binding("l", "free_invoice", "Facture libre", id="facturer_libre"),
        *selection_bindings("facturer"),
        Binding(
            "p",
            "focus_criteria('#crit-patient')",
            "Pour le patient",
            show=False,
            id="facturer_pour_patient",
        ),
        Binding(
            "t",
            "focus_criteria('#crit-practitioner')",
            "Pour le praticien",
            show=False,
            id="facturer_pour_praticien",
        ),
        Binding(
            "s", "focus_criteria('#crit-sector')", "Secteur", show=False, id="facturer_secteur"
        ),
        Binding("r", "reload", "Actualiser", show=False, id="facturer_actualiser"),
        *number_bindings(
            "show_list", {name: LIST_LABELS[name] for name in LIST_ORDER}, "facturer_liste"
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.list_name = LIST_ORDER[0]
        self.rows: dict[str, FacturerRow] = {}
        self.marked: set[str] = set()
        self.notice = ""  # outcome of the last action, shown on the status line
        self._reload_pending = False
        self._pending_focus: str | None = None
        self._loaded_with: tuple[str, Criteria] | None = None

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        practitioners = [(p.display_name, p.id) for p in list_practitioners()]
        yield AppHeader()
        yield BillingCriteria(practitioners, worklists.sectors(), self.list_name)
        yield FacturerTable(id="facturer-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="facturer-hint", classes="hint", markup=False)
        yield Static("", id="facturer-status", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        table = self.query_one(FacturerTable)
        for key, label, width in COLUMNS:
            table.add_column(label, key=key, width=width)
        table.focus()
        self.request_reload()

    def on_screen_resume(self) -> None:
        # Back from another menu or a dialog: another desk or screen may have moved invoices.
        self.request_reload()

    def request_reload(self, focus_key: str | None = None) -> None:
        """Reload once for all the requests of this moment (mount, resume, a form's result)."""
        if focus_key is not None:
            self._pending_focus = focus_key
        if not self._reload_pending:
            self._reload_pending = True
            self.call_after_refresh(self._pending_reload)

    def _pending_reload(self) -> None:
        self._reload_pending = False
        focus_key, self._pending_focus = self._pending_focus, None
        self.reload(focus_key=focus_key)

    # --- criteria --------------------------------------------------------------------------

    @property
    def criteria_bar(self) -> BillingCriteria:
        return self.query_one(BillingCriteria)

    def criteria(self) -> Criteria:
        return self.criteria_bar.criteria()

    def on_billing_criteria_changed(self, event: BillingCriteria.Changed) -> None:
        event.stop()
        loaded = self._loaded_with
        if loaded is not None and loaded != (self.list_name, self.criteria()):
            # Only a real change: the Selects also report their initial values at mount.
            self.notice = ""
            self.reload()

    def on_billing_criteria_submitted(self, event: BillingCriteria.Submitted) -> None:
        event.stop()
        self.reload()
        self.query_one(FacturerTable).focus()

    def on_billing_criteria_list_chosen(self, event: BillingCriteria.ListChosen) -> None:
        event.stop()
        self._switch_list(event.name)

    def action_focus_criteria(self, selector: str) -> None:
        self.query_one(selector).focus()

    def action_show_list(self, name: str) -> None:
        self.criteria_bar.show_list(name)
        self.query_one(FacturerTable).focus()

    def _switch_list(self, name: str) -> None:
        self.list_name = name
        self.notice = ""
        self.marked.clear()
        self.reload(cursor_to_top=True)
        self.refresh_bindings()

    # --- the table -------------------------------------------------------------------------

    def reload(self, *, focus_key: str | None = None, cursor_to_top: bool = False) -> None:
        """Re-read the list; keep the cursor on the same row, or near where it was."""
        table = self.query_one(FacturerTable)
        previous_key = None
        previous_index = table.cursor_row
        if table.row_count and not cursor_to_top:
            previous_key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        criteria = self.criteria()
        rows = rows_for(self.list_name, criteria)
        self._loaded_with = (self.list_name, criteria)
        self.rows = {row_key(row): row for row in rows}
        self.marked &= set(self.rows)
        table.clear()
        for key, row in self.rows.items():
            table.add_row(*self._cells(row, key in self.marked), key=key)
        wanted = focus_key if focus_key in self.rows else previous_key
        if wanted in self.rows:
            table.move_cursor(row=table.get_row_index(wanted), animate=False)
        elif rows and not cursor_to_top:
            table.move_cursor(row=min(previous_index, len(rows) - 1), animate=False)
        self._update_hint()
        self._show_counts()

    def _cells(self, row: FacturerRow, marked: bool) -> tuple:
        detail = InvoiceState(row.state).short_label if row.kind == "invoice" else row.detail
        return (
            mark(marked),
            "CV" if row.vitale else "",
            format_invoice_number(row.number),
            Text(row.patient),
            detail,
            format_short_day(row.date),
            money(row.total_cents),
            format_short_day(row.first),
            format_short_day(row.last),
            money(row.amo_cents),
            money(row.amc_cents),
            money(row.patient_cents),
            Text(row.sector),
        )

    def _update_hint(self) -> None:
        """Every key of this list on two lines: the footer is cut at 80 columns.

        Built from the live bindings (so a user's keymap and the list's own actions show), and
        only while the table has the focus: typing in a criterion masks the letter keys.
        """
        table = self.query_one(FacturerTable)
        if self.focused is not table:
            return
        hint = key_hint(self, "facturer_", groups={"show_list": "Listes"}, hidden=False, span_digits=True)
        self.query_one("#facturer-hint", Static).update(hint)

    def on_descendant_focus(self) -> None:
        self._update_hint()

    def _show_counts(self) -> None:
        """The status line: the last action's outcome until the next one, else the counts."""
        count = len(self.rows)
        text = f"{LIST_LABELS[self.list_name]} : {count} ligne(s)"
        if not count:
            text = f"{LIST_LABELS[self.list_name]} : aucune ligne pour ces critères."
        if count >= worklists.LIST_LIMIT:
            text += f" (limité à {worklists.LIST_LIMIT} : précisez les critères)"
        if self.marked:
            text += f", {len(self.marked)} sélectionnée(s)"
        self.query_one("#facturer-status", Static).update(self.notice or text)

    def _set_notice(self, notice: str) -> None:
        self.notice = notice
        self._show_counts()

    def current_row(self) -> FacturerRow | None:
        table = self.query_one(FacturerTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.rows.get(key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open_row()

    # --- which keys apply where ------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in LIST_BOUND_ACTIONS:
            return True
        return list_allows(self.list_name, action)

    # --- selection -------------------------------------------------------------------------

    def _set_mark(self, key: str, marked: bool) -> None:
        self.notice = ""
        if marked:
            self.marked.add(key)
        else:
            self.marked.discard(key)
        self.query_one(FacturerTable).update_cell(key, "mark", mark(marked))

    def action_toggle_mark(self) -> None:
        row = self.current_row()
        if row is None:
            return
        key = row_key(row)
        self._set_mark(key, key not in self.marked)
        # Move on, so that Space Space Space marks consecutive rows.
        self.query_one(FacturerTable).action_cursor_down()
        self._show_counts()

    def action_mark_all(self) -> None:
        for key in self.rows:
            self._set_mark(key, True)
        self._show_counts()

    def action_unmark_all(self) -> None:
        for key in list(self.marked):
            self._set_mark(key, False)
        self._show_counts()

    def _targets(self) -> list[FacturerRow]:
        """The marked rows of the list, or else the highlighted one."""
        if self.marked:
            return [row for key, row in self.rows.items() if key in self.marked]
        row = self.current_row()
        return [row] if row is not None else []

    # --- opening: create or edit -----------------------------------------------------------

    def action_open_row(self) -> None:
        row = self.current_row()
        if row is None:
            self.action_new_invoice()
            return
        if row.kind == "invoice":
            self._edit(row)
        else:
            self.action_new_invoice()

    def _edit(self, row: FacturerRow) -> None:
        from tuibill.screens.invoice_form import InvoiceFormScreen

        state = InvoiceState(row.state)
        if not is_editable(state):
            # What takes it back to « Saisie » comes from the life cycle, not from a guess.
            self.notify(
                not_editable(state),
                severity="warning",
                title="Facturer",
                markup=False,
            )
            return
        self.app.push_screen(InvoiceFormScreen(invoice_id=row.id), self._form_closed)

    def action_new_invoice(self) -> None:
        if self.list_name in PRESCRIPTION_LISTS:
            self._from_prescription()
        elif self.list_name == worklists.ISOLATED:
            self._from_isolated()
        else:
            self.action_free_invoice()

    def _from_prescription(self) -> None:
        from tuibill.screens.invoice_form import InvoiceDraft, InvoiceFormScreen
        from tuibill.services import acts as act_service
        from tuibill.services.prescriptions import get_prescription

        row = self.current_row()
        if row is None or row.kind != "prescription":
            self.notify("Aucune prescription à facturer.", severity="warning", title="Facturer")
            return
        prescription = get_prescription(row.id)
        draft = InvoiceDraft(
            practitioner_id=prescription.practitioner_id,
            patient_id=prescription.patient_id,
            acts=act_service.acts_from_prescription(row.id, date.today()),
            prescription_id=row.id,
        )
        self.app.push_screen(InvoiceFormScreen(draft=draft), self._form_closed)

    def _from_isolated(self) -> None:
        from tuibill.screens.invoice_form import InvoiceDraft, InvoiceFormScreen
        from tuibill.services import acts as act_service

        ids = [row.id for row in self._targets() if row.kind == "isolated"]
        try:
            practitioner_id, patient_id, acts = act_service.acts_from_isolated(ids)
        except TuibillError as error:
            self.notify(str(error), severity="error", title="Actes isolés", markup=False)
            return
        draft = InvoiceDraft(practitioner_id=practitioner_id, patient_id=patient_id, acts=acts)
        self.app.push_screen(InvoiceFormScreen(draft=draft), self._form_closed)

    def action_free_invoice(self) -> None:
        from tuibill.dialogs.pick_patient import PickPatientDialog

        def chosen(patient_id: int | None) -> None:
            from tuibill.screens.invoice_form import InvoiceDraft, InvoiceFormScreen

            practitioner_id = self.criteria().practitioner_id
            if patient_id is None:
                return
            if practitioner_id is None:
                self.notify("Aucun praticien actif.", severity="error", title="Facturer")
                return
            draft = InvoiceDraft(practitioner_id=practitioner_id, patient_id=patient_id)
            self.app.push_screen(InvoiceFormScreen(draft=draft), self._form_closed)

        initial = self.criteria_bar.patient_text
        self.app.push_screen(
            PickPatientDialog("Facture libre : choisir le patient", initial), chosen
        )

    def _form_closed(self, invoice_id: int | None) -> None:
        if invoice_id is None:
            return  # the resume reloads anyway
        notice = "Facture enregistrée en saisie."
        if self.list_name not in INVOICE_LISTS:
            notice += f" Voir « {LIST_LABELS[worklists.UNVALIDATED]} » (touche 2)."
        self.notice = notice
        self.request_reload(focus_key=f"invoice:{invoice_id}")

    # --- isolated acts ---------------------------------------------------------------------

    def action_isolated_act(self) -> None:
        from tuibill.dialogs.isolated_act import IsolatedActDialog
        from tuibill.dialogs.pick_patient import PickPatientDialog

        def recorded(act_id: int | None) -> None:
            if act_id is None:
                return
            self.notify("Acte isolé enregistré.", title="Actes isolés")
            self.request_reload(focus_key=f"isolated:{act_id}")

        def chosen(patient_id: int | None) -> None:
            if patient_id is not None:
                dialog = IsolatedActDialog(patient_id, self.criteria().practitioner_id)
                self.app.push_screen(dialog, recorded)

        initial = self.criteria_bar.patient_text
        self.app.push_screen(PickPatientDialog("Acte isolé : choisir le patient", initial), chosen)

    def _invoice_targets(self) -> list[FacturerRow]:
        targets = [row for row in self._targets() if row.kind == "invoice"]
        if not targets:
            self.notify("Aucune facture sélectionnée.", severity="warning", title="Facturer")
        return targets

    @staticmethod
    def _who(row: FacturerRow) -> str:
        number = format_invoice_number(row.number)
        return f"{row.patient} (n° {number})" if number else row.patient

    def _report(self, what: str, done: list[str], refused: list[tuple[str, str]]) -> None:
        """One notification for a bulk action: how many done, each refusal with its reason."""
        lines = [f"{what} : {len(done)} facture(s) traitée(s)."]
        if len(done) <= 3:
            lines += [f"  {item}" for item in done]
        if refused:
            lines.append(f"{len(refused)} refus :")
            lines += [f"  {who} : {reason}" for who, reason in refused[:MAX_REPORTED]]
            if len(refused) > MAX_REPORTED:
                # The refused invoices stay marked in the list: the rest are found there.
                lines.append(
                    f"  … et {len(refused) - MAX_REPORTED} autre(s), restées sélectionnées."
                )
        severity = "information" if not refused else ("warning" if done else "error")
        self.notify(
            "\n".join(lines),
            title="Facturer",
            severity=severity,
            timeout=12 if refused else 5,
            markup=False,
        )
        status = lines[0]
        if refused:
            status += f" Refus — {refused[0][0]} : {refused[0][1]}"
        self.notice = status

    # --- asking first: which invoices, and those the action cannot apply to ----------------

    def _checked(
        self, action: InvoiceAction, targets: list[FacturerRow]
    ) -> tuple[list[FacturerRow], list[tuple[str, str]]]:
        """*targets* split into those *action* applies to and the others with why: checked
        before asking, so that the desk is never asked to confirm, then refused."""
        allowed: list[FacturerRow] = []
        refused: list[tuple[str, str]] = []
        for row in targets:
            why = refusal(row.state, action, numbered=row.number is not None)
            if why is None:
                allowed.append(row)
            else:
                refused.append((self._who(row), why))
        return allowed, refused

    def _named(self, rows: list[FacturerRow], refused: list[tuple[str, str]]) -> str:
        """The invoices an action will touch, one per line, and those it will leave, with why."""
        lines = [f"  {self._who(row)} — {format_cents(row.total_cents)} €" for row in rows[:MAX_NAMED]]
        if len(rows) > MAX_NAMED:
            lines.append(f"  et {len(rows) - MAX_NAMED} autre(s)")
        if refused:
            lines.append(f"Non concernée(s) : {len(refused)}")
            lines += [f"  {who} : {why}" for who, why in refused[:MAX_REPORTED]]
        return "\n".join(lines)

    def _confirm(
        self,
        action: InvoiceAction,
        rows: list[FacturerRow],
        refused: list[tuple[str, str]],
        then,
        *,
        detail: str = "",
    ) -> None:
        """Ask « Action : n facture(s) ? » naming them; nothing to do: say why at once."""
        from tuibill.dialogs.confirm import ConfirmDialog

        if not rows:
            self._report(action.label, [], refused)
            self._show_counts()
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                then()

        text = self._named(rows, refused) + (f"\n{detail}" if detail else "")
        self.app.push_screen(
            ConfirmDialog(f"{action.label} : {len(rows)} facture(s) ?", text), answered
        )

    # --- moving invoices along -------------------------------------------------------------

    def _apply(
        self,
        action: InvoiceAction,
        reason: str = "",
        *,
        rows: list[FacturerRow] | None = None,
        refused_before: list[tuple[str, str]] = (),
    ) -> None:
        from tuibill.services import invoices as invoice_service

        targets = rows if rows is not None else self._invoice_targets()
        if not targets:
            return
        by_id = {row.id: row for row in targets}
        done, refused = invoice_service.apply_many(
            list(by_id), action, user=self.app.user, reason=reason
        )
        done_text = [
            f"{by_id[inv.id].patient} : {InvoiceState(inv.state).label}"
            + (f", n° {format_invoice_number(inv.number)}" if inv.number else "")
            for inv in done
        ]
        self._report(
            action.label,
            done_text,
            [*refused_before, *[(self._who(by_id[i]), m) for i, m in refused]],
        )
        # Refused invoices stay marked: the desk sees at once which ones need attention.
        self.marked = {f"invoice:{i}" for i, _ in refused}
        self.reload()

    def action_validate(self) -> None:
        """« v »: the highlighted invoice at once; several chosen ones after naming them."""
        targets = self._invoice_targets()
        if len(targets) <= 1:
            self._apply(InvoiceAction.VALIDATE, rows=targets)
            return
        rows, refused = self._checked(InvoiceAction.VALIDATE, targets)
        self._confirm(
            InvoiceAction.VALIDATE,
            rows,
            refused,
            lambda: self._apply(InvoiceAction.VALIDATE, rows=rows, refused_before=refused),
        )

    def action_prepare(self) -> None:
        self._apply(InvoiceAction.PREPARE)

    async def action_validate_cards(self) -> None:
        """Mode SESAM-Vitale: the patient's Vitale card and the exécutant's CPS (or a CPE)."""
        from tuibill.screens.sesam_actions import validate_with_cards

        targets = self._invoice_targets()
        if targets:
            await validate_with_cards(
                self, [row.id for row in targets], on_done=lambda _: self.reload()
            )

    def action_cancel_preparation(self) -> None:
        """« Annuler préparation », after naming the invoices: one a load left on the portable
        reader is erased from it first, so the device never holds an invoice the desk took
        back."""
        action = InvoiceAction.CANCEL_PREPARATION
        targets = self._invoice_targets()
        if not targets:
            return
        rows, refused = self._checked(action, targets)
        self._confirm(
            action,
            rows,
            refused,
            lambda: self._cancel_preparation(rows, refused),
            detail="Elles reviennent en saisie (effacées du lecteur portable s'il les a).",
        )

    def _cancel_preparation(
        self, targets: list[FacturerRow], refused_before: list[tuple[str, str]]
    ) -> None:
        from tuibill.services.devices import open_portable_reader
        from tuibill.services.tla_transfer import cancel_preparation_on_device

        try:
            with open_portable_reader(self.app.settings.devices) as reader:
                outcome = cancel_preparation_on_device(
                    reader, [row.id for row in targets], self.app.user
                )
        except TuibillError as problem:
            self.notify(
                f"{problem}\nBranchez le lecteur portable, ou déchargez-le (F4).",
                title="Annuler préparation",
                severity="error",
                markup=False,
            )
            return
        by_id = {row.id: row for row in targets}
        self._report(
            InvoiceAction.CANCEL_PREPARATION.label,
            [f"{by_id[inv.id].patient} : {InvoiceState(inv.state).label}" for inv in outcome.done],
            [*refused_before, *[(self._who(by_id[i]), message) for i, message in outcome.refused]],
        )
        self.marked = {f"invoice:{i}" for i, _ in outcome.refused}
        self.reload()

    def action_unvalidate(self) -> None:
        """« Défacturer »: the reason asked names the invoices (and those it leaves)."""
        from tuibill.dialogs.reason import ReasonDialog

        action = InvoiceAction.UNVALIDATE
        targets = self._invoice_targets()
        if not targets:
            return
        rows, refused = self._checked(action, targets)
        if not rows:
            self._confirm(action, rows, refused, lambda: None)
            return

        def answered(reason: str | None) -> None:
            if reason is not None:
                self._apply(action, reason, rows=rows, refused_before=refused)

        what = self._who(rows[0]) if len(rows) == 1 else f"{len(rows)} factures"
        self.app.push_screen(
            ReasonDialog(
                f"Défacturer {what} : motif (facultatif, inscrit dans l'historique)",
                required=False,
                detail=self._named(rows, refused) if len(rows) > 1 or refused else "",
            ),
            answered,
        )

    def action_delete_draft(self) -> None:
        """Suppr: checked first (only a draft never numbered), then asked, naming them."""
        action = InvoiceAction.DELETE_DRAFT
        targets = self._invoice_targets()
        if not targets:
            return
        rows, refused = self._checked(action, targets)
        self._confirm(
            action,
            rows,
            refused,
            lambda: self._delete(rows, refused),
            detail="Les actes reviennent à facturer.",
        )

    def _delete(self, targets: list[FacturerRow], refused_before: list[tuple[str, str]]) -> None:
        from tuibill.services import invoices as invoice_service

        done: list[str] = []
        refused: list[tuple[str, str]] = list(refused_before)
        still_marked: set[str] = set()
        for row in targets:
            try:
                invoice_service.delete_draft(row.id, user=self.app.user)
            except TuibillError as error:
                refused.append((self._who(row), str(error)))
                still_marked.add(row_key(row))
            else:
                done.append(self._who(row))
        self._report("Suppression", done, refused)
        self.marked = still_marked
        self.reload()

    def action_reload(self) -> None:
        self.reload()
