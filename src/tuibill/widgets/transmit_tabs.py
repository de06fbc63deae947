"""The three tabs of Transmettre (F3), each a list with its own selection.

- :class:`ValidatedTab` « FSE à transmettre »: the Validée invoices counted per practitioner and
  caisse, and the invoices of the highlighted group; Espace / + / - choose the ones to put in
  lots (a whole group at once on the groups' table).
- :class:`SecureTab` « FSE à sécuriser »: the invoices semi-secured with a CPE.
- :class:`LotsTab` « Fichier à transmettre »: the lots to send or re-send, and those « En cours »
  whose sending is uncertain (first, with a warning).

The screen reads the lists (``services.transmit_lists``) and hands them to :meth:`show`; each
tab keeps its cursor on the same row across a refill. Entrée opens an invoice or a lot
(``app.open_invoice`` / ``app.open_lot``).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tuibill.domain.formatting import (
    format_cents,
    format_short_day,
    format_short_when,
)
from tuibill.domain.lots import FSE, SENDABLE_STATES
from tuibill.services.lot_views import LotSummary
from tuibill.services.transmit_lists import SecureRow, ValidatedGroup, ValidatedInvoice
from tuibill.widgets.cells import mark, money, right
from tuibill.widgets.lot_reports import euros
from tuibill.widgets.tables import LotTable, cursor_key, keep_cursor, next_row


class ValidatedTab(Vertical):
    """« FSE à transmettre »."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.groups: list[ValidatedGroup] = []
        self.group_invoices: list[ValidatedInvoice] = []
        self.shown_group: str | None = None
        self.marked: set[int] = set()
        self.total = 0  # Validée invoices, all groups

    def compose(self) -> ComposeResult:
        yield Static("", id="tx-groups-title", classes="section")
        yield LotTable(id="tx-groups", cursor_type="row")
        yield Static("", id="tx-invoices-title", classes="section")
        yield LotTable(id="tx-invoices", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.groups_table.add_columns("Sél", "Praticien", "Caisse", "FSE", "Total", "Depuis")
        self.invoices_table.add_columns(
            "Sél", "N°", "Patient", "Date", "Actes du", "au", "Total", "Mode"
        )

    @property
    def groups_table(self) -> DataTable:
        return self.query_one("#tx-groups", DataTable)

    @property
    def invoices_table(self) -> DataTable:
        return self.query_one("#tx-invoices", DataTable)

    def show(self, groups: list[ValidatedGroup], marked: set[int]) -> None:
        """The groups read again, and those of the chosen invoices still Validée."""
        self.groups, self.marked = groups, marked
        self.total = sum(group.count for group in groups)
        self._fill_groups()

    def _group_ids(self, group: ValidatedGroup) -> set[int]:
        from tuibill.services.transmit_lists import validated_ids

        return set(validated_ids(group.practitioner_id, group.destination))

    def _group_mark(self, group: ValidatedGroup) -> bool | None:
        if not self.marked:
            return False
        ids = self._group_ids(group)
        inside = len(ids & self.marked)
        return True if inside == len(ids) else None if inside else False

    def _fill_groups(self) -> None:
        table = self.groups_table
        previous, index = cursor_key(table), table.cursor_row
        table.clear()
        for group in self.groups:
            table.add_row(
                mark(self._group_mark(group)),
                Text(group.practitioner),
                Text(f"{group.destination} {group.organism}".strip()),
                right(str(group.count)),
                money(group.total_cents),
                format_short_day(group.oldest),
                key=group.key,
            )
        keep_cursor(table, [g.key for g in self.groups], previous, index)
        total = sum(g.total_cents for g in self.groups)
        title = (
            f"Factures validées : {self.total}, {euros(total)} — par praticien et caisse"
            if self.groups
            else "Aucune facture validée à mettre en lot."
        )
        self.query_one("#tx-groups-title", Static).update(title)
        for selector in ("#tx-groups", "#tx-invoices-title", "#tx-invoices"):
            self.query_one(selector).display = bool(self.groups)
        self._fill_invoices(force=True)

    def current_group(self) -> ValidatedGroup | None:
        key = cursor_key(self.groups_table)
        return next((g for g in self.groups if g.key == key), None)

    def _fill_invoices(self, *, force: bool = False) -> None:
        from tuibill.services.transmit_lists import LIST_LIMIT, validated_invoices

        group = self.current_group()
        key = group.key if group else None
        table = self.invoices_table
        if key == self.shown_group and not force:
            return
        same = key == self.shown_group
        previous, index = cursor_key(table), table.cursor_row
        self.shown_group = key
        self.group_invoices = (
            validated_invoices(group.practitioner_id, group.destination) if group else []
        )
        table.clear()
        for invoice in self.group_invoices:
            table.add_row(*self._invoice_cells(invoice), key=str(invoice.id))
        if same:
            keep_cursor(table, [str(i.id) for i in self.group_invoices], previous, index)
        title = self.query_one("#tx-invoices-title", Static)
        if group is None:
            title.update("")
        else:
            text = f"Factures de {group.practitioner} pour {group.destination} {group.organism}"
            if group.count > len(self.group_invoices):
                text += f" ({LIST_LIMIT} premières sur {group.count} : toutes partent en lot)"
            title.update(text)

    def _invoice_cells(self, invoice: ValidatedInvoice) -> tuple:
        return (
            mark(invoice.id in self.marked),
            invoice.number_text,
            Text(invoice.patient),
            format_short_day(invoice.billing_date),
            format_short_day(invoice.first_act_date),
            format_short_day(invoice.last_act_date),
            money(invoice.total_cents),
            # « Vitale » (mode SESAM-Vitale) or « Dégradé »: the column fits 80 columns.
            "Vitale" if invoice.mode == "sesam_vitale" else "Dégradé",
        )

    # --- selection -------------------------------------------------------------------------

    def toggle_mark(self) -> None:
        """Espace: the highlighted group (on the groups' table), else the highlighted invoice."""
        if self.screen.focused is self.groups_table:
            group = self.current_group()
            if group is None:
                return
            ids = self._group_ids(group)
            if ids <= self.marked:
                self.marked -= ids
            else:
                self.marked |= ids
            self._fill_groups()
            return
        key = cursor_key(self.invoices_table)
        if key is None:
            return
        self.marked ^= {int(key)}
        self._refresh_marks()
        next_row(self.invoices_table)

    def mark_all(self) -> None:
        for group in self.groups:
            self.marked |= self._group_ids(group)
        self._refresh_marks()

    def unmark_all(self) -> None:
        self.marked.clear()
        self._refresh_marks()

    def _refresh_marks(self) -> None:
        """Update the Sél cells without reading the invoices again."""
        table = self.invoices_table
        for invoice in self.group_invoices:
            table.update_cell(
                str(invoice.id), table.ordered_columns[0].key, mark(invoice.id in self.marked)
            )
        groups = self.groups_table
        for group in self.groups:
            groups.update_cell(
                group.key, groups.ordered_columns[0].key, mark(self._group_mark(group))
            )

    # --- table events ----------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        if event.data_table.id == "tx-groups":
            self._fill_invoices()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if event.data_table.id == "tx-groups":
            self.invoices_table.focus()  # drill down into the group
        elif key.isdigit():
            self.app.open_invoice(int(key))


class SecureTab(Vertical):
    """« FSE à sécuriser »."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.rows: list[SecureRow] = []
        self.marked: set[int] = set()

    def compose(self) -> ComposeResult:
        yield Static("", id="tx-secure-title", classes="section")
        yield LotTable(id="tx-secure", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # At 80 columns: which invoice, for whom, how much, when the card was read; then who.
        self.table.add_columns(
            "Sél", "N°", "Patient", "Date", "Total", "Carte lue le", "Par", "Praticien"
        )

    @property
    def table(self) -> DataTable:
        return self.query_one("#tx-secure", DataTable)

    def show(self, rows: list[SecureRow]) -> None:
        self.rows = rows
        self.marked &= {row.id for row in rows}
        self._fill()

    def _fill(self) -> None:
        table = self.table
        previous, index = cursor_key(table), table.cursor_row
        table.clear()
        for row in self.rows:
            table.add_row(*self._cells(row), key=str(row.id))
        keep_cursor(table, [str(r.id) for r in self.rows], previous, index)
        self.query_one("#tx-secure-title", Static).update(
            f"Factures semi-sécurisées (carte CPE) à signer avec la CPS de l'exécutant : "
            f"{len(self.rows)}"
            if self.rows
            else "Aucune FSE à sécuriser."
        )

    def _cells(self, row: SecureRow) -> tuple:
        return (
            mark(row.id in self.marked),
            row.number_text,
            Text(row.patient),
            format_short_day(row.billing_date),
            money(row.total_cents),
            format_short_when(row.secured_at),
            Text(row.signer),
            Text(row.practitioner),
        )

    def chosen_ids(self) -> list[int]:
        """The chosen invoices, or else the highlighted one."""
        if self.marked:
            return sorted(self.marked)
        key = cursor_key(self.table)
        return [int(key)] if key else []

    def toggle_mark(self) -> None:
        key = cursor_key(self.table)
        if key is None:
            return
        self.marked ^= {int(key)}
        self._fill()
        next_row(self.table)

    def mark_all(self) -> None:
        self.marked = {row.id for row in self.rows}
        self._fill()

    def unmark_all(self) -> None:
        self.marked.clear()
        self._fill()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if key.isdigit():
            self.app.open_invoice(int(key))


class LotsTab(Vertical):
    """« Fichier à transmettre ». The highlighted lot decides which keys apply: the row's
    ``RowHighlighted`` goes on to the screen."""

    def __init__(self, *, id: str) -> None:
        super().__init__(id=id)
        self.lots: list[LotSummary] = []

    def compose(self) -> ComposeResult:
        yield Static("", id="tx-warning", classes="warning", markup=False)
        yield Static("", id="tx-lots-title", classes="section")
        yield LotTable(id="tx-lots", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        # At 80 columns: the state first (a lot « En cours » must be seen), the lot, whose, for
        # which caisse, how much, since when; then the type and the last error.
        table = self.table
        for title, width in (
            ("État", 13),
            ("Lot", 3),
            ("Praticien", 14),
            ("Caisse", 6),
            ("Nb", 3),
            ("Total", 8),
            ("Créé le", 8),
            ("Env.", 4),
            ("Type", 4),
            ("Erreur / motif", None),
        ):
            table.add_column(title, width=width)

    @property
    def table(self) -> DataTable:
        return self.query_one("#tx-lots", DataTable)

    def show(self, lots: list[LotSummary]) -> None:
        self.lots = lots
        table = self.table
        previous, index = cursor_key(table), table.cursor_row
        table.clear()
        for lot in self.lots:
            state = Text(lot.state_label)
            if lot.uncertain:  # « ! En cours »: the title above says to decide (« i »)
                state = Text(f"! {lot.state_label}", style="bold reverse")
            table.add_row(
                state,
                lot.number_text,
                Text(lot.practitioner),
                lot.destination,
                right(str(lot.invoice_count if lot.kind == FSE else lot.piece_count)),
                right(format_cents(lot.total_cents) if lot.kind == FSE else ""),
                format_short_day(lot.created_at),
                right(str(lot.send_count)),
                lot.kind,
                Text(lot.last_error or lot.arl_reason),
                key=str(lot.id),
            )
        keep_cursor(table, [str(lot.id) for lot in self.lots], previous, index)
        uncertain = [lot for lot in self.lots if lot.uncertain]
        warning = self.query_one("#tx-warning", Static)
        warning.display = bool(uncertain)
        if uncertain:
            numbers = ", ".join(lot.number_text for lot in uncertain[:8])
            warning.update(
                f"ATTENTION : {len(uncertain)} lot(s) « En cours » ({numbers}) : l'envoi a commencé "
                "sans que l'on sache s'il a abouti. Vérifiez auprès du serveur d'envoi, puis i sur "
                "le lot : envoyé ou pas envoyé. Ils ne partent pas seuls."
            )
        sendable = [lot for lot in self.lots if lot.state in SENDABLE_STATES]
        self.query_one("#tx-lots-title", Static).update(
            f"Lots à transmettre : {len(sendable)} — Entrée : détail du lot"
            if self.lots
            else "Aucun lot à transmettre : b constitue les lots des factures validées."
        )

    def current_lot(self) -> LotSummary | None:
        key = cursor_key(self.table)
        return next((lot for lot in self.lots if str(lot.id) == key), None)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = event.row_key.value or ""
        if key.isdigit():
            self.app.open_lot(int(key))
