"""F8 Tiers-payeurs (seed 004): the list of payers, and the way into their files, the
bordereaux (Création, Validation, Envoi, Édition, Export, Relances) and the clients' planning
and Facturation.

This menu's own screens (payer file, bordereaux, clients) are opened from here: they sit below
it and import nothing above them.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from tuibill.widgets.cells import money, right
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce


class PayerTable(DataTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Ouvrir", key_display="Entrée", id="tiers_ouvrir"),
    ]


class TiersPayeursScreen(DrawnOnce[None]):
    CSS_PATH = "../styles/tiers.tcss"
    AUTO_FOCUS = "#payers"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+n", "new_payer", "Nouveau", id="tiers_nouveau"),
        Binding("b", "slips", "Bordereaux", id="tiers_bordereaux"),
        Binding("c", "clients", "Clients/Facturation", id="tiers_clients"),
    ]

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("Tiers-payeurs — liste des tiers-payeurs", classes="title")
        yield PayerTable(id="payers", cursor_type="row", zebra_stripes=True)
        yield Static("", id="payers-hint", classes="hint", markup=False)
        yield AppFooter()

    def on_mount(self) -> None:
        self.add_class("tiers")
        self.title = "Tiers-payeurs"
        table = self.query_one("#payers", DataTable)
        table.add_column("Tiers-payeur", key="name", width=26)
        table.add_column("Bordereau", key="kind", width=12)
        table.add_column("E-mail", key="email", width=9)
        table.add_column("Ouverts", key="open", width=7)
        table.add_column("Reste dû", key="owed", width=10)

    def on_screen_resume(self) -> None:
        self.reload()

    def reload(self) -> None:
        from tuibill.services.payers import list_payers

        table = self.query_one("#payers", DataTable)
        keep = table.cursor_row
        table.clear()
        rows = list_payers()
        for row in rows:
            email = Text("⚠ aucune", style="bold yellow") if not row.email else Text("oui")
            kind = "Aide au client" if row.aid_paid_to_client else row.kind_label
            table.add_row(
                Text(row.name), kind, email, right(str(row.open_slips)),
                money(row.remaining_cents), key=str(row.id),
            )  # fmt: skip
        if rows:
            table.move_cursor(row=min(keep, len(rows) - 1))
        self.query_one("#payers-hint", Static).update(
            f"{len(rows)} tiers-payeur(s) — Entrée : fiche ; b : bordereaux ; c : clients et "
            "facturation ; Ctrl+N : nouveau"
            if rows
            else "Aucun tiers-payeur — Ctrl+N : créer le premier."
        )

    def _cursor_id(self) -> int | None:
        table = self.query_one("#payers", DataTable)
        if not table.row_count:
            return None
        return int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @on(DataTable.RowSelected, "#payers")
    def _open(self) -> None:
        payer_id = self._cursor_id()
        if payer_id is not None:
            from tuibill.screens.payer_file import PayerFileScreen

            self.app.push_screen(PayerFileScreen(payer_id))

    def action_new_payer(self) -> None:
        from tuibill.screens.payer_file import PayerFileScreen

        self.app.push_screen(PayerFileScreen(None))

    def action_slips(self) -> None:
        from tuibill.screens.slips import SlipsScreen

        self.app.push_screen(SlipsScreen())

    def action_clients(self) -> None:
        from tuibill.screens.homecare_clients import ClientsBillingScreen

        self.app.push_screen(ClientsBillingScreen())
