"""Clients › Facturation (seed 004): the clients of the home-care service with their solde, the
invoices of the one under the cursor (montant dû client, dû organisme, réglé organisme — in red
when partly paid), and for the chosen clients and a month: 1 Simuler la facturation, 2 Créer
les factures sans simulation, 3 Valider; 4 the financing detail of an invoice, 5 an avoir.
Entrée opens the client's week planning (:class:`ClientPlanningScreen`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import DataTable, Input, Static

from tuibill.dialogs.reason import ReasonDialog
from tuibill.dialogs.text_view import TextDialog
from tuibill.domain.errors import TuibillError, ValidationError
from tuibill.domain.formatting import format_cents, format_day
from tuibill.screens.slips import parse_period, previous_month
from tuibill.widgets.cells import mark, money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import number_bindings, selection_bindings
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tiers_text import billing_preview_text

ACTIONS = {
    "simulate": "Simuler la facturation",
    "create": "Créer les factures sans simulation",
    "validate": "Valider",
    "detail": "Financement",
    "credit": "Avoir",
}
WEEKDAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


class ClientTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Planning", key_display="Entrée", id="clients_planning"),
    ]


class ClientsBillingScreen(DrawnOnce[None]):
    CSS_PATH = "../styles/tiers.tcss"
    AUTO_FOCUS = "#clients"

    BINDINGS: ClassVar[list[BindingType]] = [
        *number_bindings("run", ACTIONS, "clients"),
        *selection_bindings("clients"),
        Binding("ctrl+p", "focus_period", "Période", id="clients_periode"),
        Binding("ctrl+n", "new_client", "Nouveau client", id="clients_nouveau"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.marked: set[int] = set()
        self.client_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with Horizontal(classes="tiers-bar"):
            yield Input(previous_month(date.today()), id="period", max_length=7)
            yield Static("Mois à facturer (AAAA-MM)", markup=False)
        yield ClientTable(id="clients", cursor_type="row", zebra_stripes=True)
        yield DataTable(id="invoices", cursor_type="row", zebra_stripes=True)
        yield Static("", id="clients-hint", classes="hint", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.title = "Clients — Facturation"
        self.query_one("#period", Input).border_title = "Période"
        clients = self.query_one("#clients", DataTable)
        for label, width in (("Sél", 3), ("Client", 24), ("Ville", 14), ("Solde", 10)):
            clients.add_column(label, width=width)
        invoices = self.query_one("#invoices", DataTable)
        for label, width in (("Numéro", 9), ("Mois", 7), ("État", 10), ("Total", 8),
                             ("Dû client", 9), ("Dû org.", 8), ("Réglé org.", 10)):  # fmt: skip
            invoices.add_column(label, width=width)
        labels = "  ".join(f"{n} {label}" for n, label in enumerate(ACTIONS.values(), start=1))
        self.query_one("#clients-hint", Static).update(
            f"Espace : choisir — Entrée : planning — Ctrl+N : nouveau client — {labels}"
        )

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        from tuibill.services.homecare import search_clients
        from tuibill.services.homecare_billing import balance_of

        table = self.query_one("#clients", DataTable)
        row = table.cursor_row
        table.clear()
        clients = search_clients()
        self.client_ids = [c.id for c in clients]
        for client in clients:
            table.add_row(
                mark(client.id in self.marked), Text(client.display_name), Text(client.city),
                money(balance_of(client.id).balance_cents), key=str(client.id),
            )  # fmt: skip
        if clients:
            table.move_cursor(row=min(row, len(clients) - 1))
        self._load_invoices()

    def _cursor_client(self) -> int | None:
        table = self.query_one("#clients", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    def _cursor_invoice(self) -> int | None:
        table = self.query_one("#invoices", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(DataTable.RowHighlighted, "#clients")
    def _highlighted(self) -> None:
        self._load_invoices()

    def _load_invoices(self) -> None:
        from tuibill.services.homecare_billing import list_invoices

        table = self.query_one("#invoices", DataTable)
        table.clear()
        client_id = self._cursor_client()
        if client_id is None:
            return
        for row in list_invoices(client_id=client_id):
            paid = Text(format_cents(row.payer_paid_cents), justify="right",
                        style="bold red" if row.payer_partly_paid else "")  # fmt: skip
            table.add_row(
                row.number or "(créée)", f"{row.period_start:%m/%Y}", row.state_label,
                money(row.total_cents), money(row.client_cents), money(row.payer_cents), paid,
                key=str(row.id),
            )  # fmt: skip

    @on(DataTable.RowSelected, "#clients")
    def _open_planning(self) -> None:
        client_id = self._cursor_client()
        if client_id is not None:
            self.app.push_screen(ClientPlanningScreen(client_id))

    @on(Input.Submitted, "#period")
    def _period_submitted(self) -> None:
        self.query_one("#clients", DataTable).focus()

    def action_focus_period(self) -> None:
        self.query_one("#period", Input).focus()

    def action_new_client(self) -> None:
        from tuibill.dialogs.client_entry import ClientDialog
        from tuibill.services.homecare import list_prestations

        def done(client_id: int | None) -> None:
            if client_id is not None:
                self.reload()
                table = self.query_one("#clients", DataTable)
                table.move_cursor(row=table.get_row_index(str(client_id)))
                self.notify("Client créé.")

        prestations = [(p.label, p.code) for p in list_prestations()]
        self.app.push_screen(ClientDialog(prestations), done)

    def action_toggle_mark(self) -> None:
        client_id = self._cursor_client()
        if client_id is None:
            return
        self.marked ^= {client_id}
        table = self.query_one("#clients", DataTable)
        table.update_cell(str(client_id), table.ordered_columns[0].key, mark(client_id in self.marked))
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1)

    def action_mark_all(self) -> None:
        self.marked = set(self.client_ids)
        self.reload()

    def action_unmark_all(self) -> None:
        self.marked = set()
        self.reload()

    def _chosen(self) -> list[int] | None:
        return sorted(self.marked) or None  # none chosen: every client with work in the month

    def action_run(self, name: str) -> None:
        try:
            getattr(self, f"_do_{name}")()
        except TuibillError as error:
            self.app.push_screen(TextDialog("Refusé", str(error), error=True))

    def _period(self) -> tuple[int, int]:
        return parse_period(self.query_one("#period", Input).value)

    def _do_simulate(self) -> None:
        from tuibill.services.homecare_billing import create_invoices, simulate

        year, month = self._period()
        previews = simulate(year, month, self._chosen())

        def answered(yes: bool | None) -> None:
            if yes:
                created, _ = create_invoices(year, month, self._chosen(), user=self.app.user)
                self.reload()
                self.notify(f"{len(created)} facture(s) créée(s) : 3 pour les valider.")

        can_create = any(p.billing is not None for p in previews)
        self.app.push_screen(
            TextDialog(
                f"Simulation — {month:02d}/{year}" + (" : créer ces factures ?" if can_create else ""),
                billing_preview_text(previews), confirm=can_create,
            ),
            answered,
        )  # fmt: skip

    def _do_create(self) -> None:
        from tuibill.services.homecare_billing import create_invoices

        year, month = self._period()
        created, previews = create_invoices(year, month, self._chosen(), user=self.app.user)
        self.reload()
        refusals = [f"⚠ {p.client} : {p.refusal}" for p in previews if p.billing is None]
        self.app.push_screen(
            TextDialog("Factures créées", "\n".join([f"{len(created)} facture(s) créée(s).", *refusals]))
        )

    def _do_validate(self) -> None:
        from tuibill.services.homecare_billing import validate_invoices

        year, month = self._period()
        done = validate_invoices(year, month, self._chosen(), user=self.app.user)
        self.reload()
        self.notify(f"{len(done)} facture(s) validée(s) et numérotée(s).")

    def _do_detail(self) -> None:
        from tuibill.services.homecare_billing import get_invoice, invoice_history, invoice_lines

        invoice_id = self._cursor_invoice()
        if invoice_id is None:
            raise ValidationError("Aucune facture pour ce client.")
        invoice = get_invoice(invoice_id)
        lines = [line.explanation for line in invoice_lines(invoice_id)]
        lines += ["", "Historique :"]
        lines += [f"  {format_day(at)} {user} {what} {why}".rstrip()
                  for at, user, what, why in invoice_history(invoice_id)]  # fmt: skip
        self.app.push_screen(TextDialog(f"Financement — facture {invoice.id}", "\n".join(lines)))

    def _do_credit(self) -> None:
        from tuibill.services.homecare_billing import credit_invoice

        invoice_id = self._cursor_invoice()
        if invoice_id is None:
            raise ValidationError("Aucune facture pour ce client.")

        def reason(text: str | None) -> None:
            if not text:
                return
            try:
                credit_invoice(invoice_id, user=self.app.user, reason=text)
            except TuibillError as error:
                self.app.push_screen(TextDialog("Refusé", str(error), error=True))
                return
            self.reload()
            self.notify("Avoir émis : la part financée sera déduite du prochain bordereau.")

        self.app.push_screen(ReasonDialog("Motif de l'avoir (la facture sera annulée) :"), reason)


class PlanningTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("delete", "delete_row", "Supprimer", key_display="Suppr", id="planning_supprimer"),
    ]

    def action_delete_row(self) -> None:
        self.screen.action_delete()  # type: ignore[attr-defined]


class ClientPlanningScreen(DrawnOnce[None]):
    """A client's week of interventions: p / s previous / next week, ctrl+n a new one."""

    CSS_PATH = "../styles/tiers.tcss"
    AUTO_FOCUS = "#planning"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "add", "Nouvelle intervention", id="planning_nouvelle"),
        Binding("p", "week(-1)", "Semaine préc.", id="planning_precedente"),
        Binding("s", "week(1)", "Semaine suiv.", id="planning_suivante"),
    ]

    def __init__(self, client_id: int, day: date | None = None) -> None:
        super().__init__()
        from tuibill.services.homecare import week_of

        self.client_id = client_id
        self.monday, _ = week_of(day or date.today())

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="week", classes="title", markup=False)
        yield PlanningTable(id="planning", cursor_type="row", zebra_stripes=True)
        yield Static("p / s : semaine précédente / suivante — Ctrl+N : nouvelle intervention — "
                     "Suppr : supprimer (non facturée)", classes="hint", markup=False)  # fmt: skip
        yield AppFooter()

    def on_mount(self) -> None:
        from tuibill.services.homecare import get_client, list_interventions

        self.add_class("tiers")
        self.client = get_client(self.client_id)
        self.title = f"Planning — {self.client.display_name}"
        table = self.query_one("#planning", DataTable)
        for label, width in (("Jour", 16), ("Horaire", 18), ("Prestation", 10),
                             ("Intervenant", 14), ("Facturée", 8)):  # fmt: skip
            table.add_column(label, width=width)
        last = list_interventions(client_id=self.client_id)
        if last and not any(self.monday <= r.day <= self.monday + timedelta(days=6) for r in last):
            from tuibill.services.homecare import week_of

            self.monday, _ = week_of(last[-1].day)  # the latest week with work
        self.reload()

    def reload(self) -> None:
        from tuibill.services.homecare import list_interventions

        sunday = self.monday + timedelta(days=6)
        rows = list_interventions(client_id=self.client_id, start=self.monday, end=sunday)
        minutes = sum(r.end_minute - r.start_minute for r in rows)
        self.query_one("#week", Static).update(
            f"Semaine du {format_day(self.monday)} au {format_day(sunday)} — {len(rows)} "
            f"intervention(s), {minutes // 60} h {minutes % 60:02d}"
        )
        table = self.query_one("#planning", DataTable)
        table.clear()
        for row in rows:
            table.add_row(
                f"{WEEKDAYS[row.day.weekday()]} {row.day:%d/%m}", row.hours_text, row.prestation,
                Text(row.intervenant), "oui" if row.billed else "", key=str(row.id),
            )  # fmt: skip

    def action_week(self, step: int) -> None:
        self.monday += timedelta(days=7 * step)
        self.reload()

    def action_add(self) -> None:
        from tuibill.dialogs.intervention_entry import InterventionDialog
        from tuibill.services.homecare import contract_of

        prestations = [(p.label, p.code) for p in contract_of(self.client_id)]

        def done(intervention_id: int | None) -> None:
            if intervention_id is not None:
                self.reload()
                self.notify("Intervention ajoutée.")

        self.app.push_screen(InterventionDialog(self.client_id, self.monday, prestations), done)

    def action_delete(self) -> None:
        from tuibill.services.homecare import delete_intervention

        table = self.query_one("#planning", DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        try:
            delete_intervention(int(key))
        except TuibillError as error:
            self.notify(str(error), severity="error", title="Refusé", markup=False)
            return
        self.reload()
