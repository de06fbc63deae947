"""One lot: what it carries, its files, the caisse's answers and its history; its few actions.

Pushed by the Journal des lots (F6) and by Transmettre (F3) (``app.open_lot``). Entrée on an
invoice opens it; « p » shows the paper list (to print or save: the route of a lot in
« Traitement manuel »); Suppr deletes a lot not sent yet; « i » settles a lot « En cours »
(uncertain sending). The flows behind these keys are shared with Transmettre
(``screens.lot_actions``); which of them apply to the lot is the domain's rule.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import (
    format_cents,
    format_invoice_number,
    format_short_day,
    format_short_when,
    format_when,
)
from tuibill.domain.lots import FSE, LotAction, LotState, can, history_label
from tuibill.screens.lot_actions import ask_delete, ask_resolution, show_paper_list
from tuibill.services.lot_views import LotDetail
from tuibill.widgets.cells import money, right
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import delete_binding
from tuibill.widgets.lot_reports import lot_title
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import ListsPanel, LotTable


def info_text(detail: LotDetail, timeout_hours: int) -> str:
    lot = detail.lot
    caisse = f"{lot.destination} {lot.organism}".strip()
    if lot.kind == FSE:
        content = f"FSE : {lot.invoice_count}   Total : {format_cents(lot.total_cents)} €"
    else:
        content = f"Pièces SCOR : {lot.piece_count} (de {lot.invoice_count} facture(s))"
    lines = [
        f"Praticien : {lot.practitioner} (AM {lot.practitioner_am})   Caisse : {caisse}",
        f"{content}   Fichier : {lot.file_name}",
        f"Créé le {format_when(lot.created_at)} par {lot.created_by or '?'}   Envois : {lot.send_count}"
        + (f", dernier le {format_when(lot.sent_at)}" if lot.sent_at else ""),
    ]
    deadline = lot.arl_deadline(timeout_hours)
    if deadline is not None:
        lines.append(f"ARL attendu avant le {format_when(deadline)}")
    if lot.arl_at is not None:
        lines.append(
            f"ARL le {format_when(lot.arl_at)}" + (f" : {lot.arl_reason}" if lot.arl_reason else "")
        )
    if can(lot.state, LotAction.RESOLVE_SENT):  # « En cours »: « i » settles it
        lines.append(
            f"Envoi commencé le {format_when(lot.send_started_at)} sans certitude : i pour décider."
        )
    if lot.state is LotState.TRAITEMENT_MANUEL:
        lines.append("Traitement manuel : envoyez ce lot sur papier à la caisse (p : liste).")
    if lot.last_error:
        lines.append(f"Dernière erreur : {lot.last_error}")
    if detail.file_error:
        lines.append(detail.file_error)
    return "\n".join(lines)


class LotDetailScreen(DrawnOnce):
    """The detail of lot *lot_id*."""

    CSS_PATH = "../styles/transmettre.tcss"
    AUTO_FOCUS = "#ld-invoices"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "paper", "Liste papier", id="lot_liste_papier"),
        delete_binding("delete", "Supprimer le lot", "lot_supprimer"),
        Binding("i", "resolve", "Décider (envoi incertain)", id="lot_decider"),
        Binding("escape", "app.back", "Retour", id="lot_retour"),
    ]

    def __init__(self, lot_id: int) -> None:
        super().__init__()
        self.title = "Détail du lot"
        self.lot_id = lot_id
        self.detail: LotDetail | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield AppHeader()
        # What the lot is and what to do with it: fixed above its lists (issue 13 #13).
        with Vertical(id="ld-top"):
            yield Static("", id="ld-title", classes="title", markup=False)
            yield Static("", id="ld-info", markup=False)
            yield Static(
                "Tab : liste suivante — Début / Fin : première / dernière ligne", classes="hint"
            )
        with ListsPanel(id="ld-body"):
            yield Static("", id="ld-invoices-title", classes="section")
            yield LotTable(id="ld-invoices", cursor_type="row", zebra_stripes=True)
            yield Static("", id="ld-pieces-title", classes="section")
            yield LotTable(id="ld-pieces", cursor_type="row", zebra_stripes=True)
            yield Static("", id="ld-scor", classes="hint", markup=False)
            yield Static("", id="ld-received-title", classes="section")
            yield LotTable(id="ld-received", cursor_type="row", zebra_stripes=True)
            yield Static("Historique", id="ld-history-title", classes="section")
            yield LotTable(id="ld-history", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one("#ld-invoices", DataTable).add_columns(
            "Facture", "Date", "Patient", "Total", "État actuel"
        )
        self.query_one("#ld-pieces", DataTable).add_columns("Facture", "Pièce", "Nature", "Octets")
        self.query_one("#ld-received", DataTable).add_columns(
            "Reçu le", "Fichier", "Statut", "Motif"
        )
        # At 80 columns: when, what, to which state, by whom; then where from and why.
        self.query_one("#ld-history", DataTable).add_columns(
            "Le", "Action", "Vers", "Par", "De", "Motif"
        )
        self.load()

    def on_screen_resume(self) -> None:
        if self.detail is not None:
            self.load()  # back from an invoice: states may have moved

    def load(self) -> None:
        """Read the lot again and show it."""
        from tuibill.services.lot_views import lot_detail

        try:
            self.detail = lot_detail(self.lot_id)
            self.error = ""
        except TuibillError as error:
            self.detail, self.error = None, str(error)
        self._show()
        self.refresh_bindings()

    def _show(self) -> None:
        detail = self.detail
        title = self.query_one("#ld-title", Static)
        if detail is None:
            title.update(self.error or f"Lot {self.lot_id} introuvable.")
            title.set_class(True, "error")
            for widget in self.query("#ld-top > *, #ld-body"):
                widget.display = widget is title
            return
        lot = detail.lot
        title.update(lot_title(lot))
        self.title = f"Lot {lot.number_text}"
        timeout = self.app.settings.transmission.arl_timeout_hours
        self.query_one("#ld-info", Static).update(info_text(detail, timeout))

        invoices = self.query_one("#ld-invoices", DataTable)
        cursor = invoices.cursor_row
        invoices.clear()
        for item in detail.invoices:
            state = item.state_label or "introuvable"
            if not item.still_in_lot:
                state += " (hors du lot)"
            invoices.add_row(
                format_invoice_number(item.number),
                format_short_day(item.billing_date),
                Text(item.patient),
                money(item.total_cents),
                state,
                key=str(item.invoice_id if item.invoice_id is not None else f"n{item.number}"),
            )
        if invoices.row_count:
            invoices.move_cursor(row=min(max(0, cursor), invoices.row_count - 1), animate=False)
        is_fse = lot.kind == FSE
        self.query_one("#ld-invoices-title", Static).update(
            f"Factures du lot ({len(detail.invoices)}) — Entrée : ouvrir la facture"
        )
        for selector in ("#ld-invoices-title", "#ld-invoices"):
            self.query_one(selector).display = is_fse

        pieces = self.query_one("#ld-pieces", DataTable)
        pieces.clear()
        for piece in detail.pieces:
            pieces.add_row(
                format_invoice_number(piece.invoice_number),
                piece.entry_name,
                piece.kind,
                right(str(piece.size)),
            )
        self.query_one("#ld-pieces-title", Static).update(f"Pièces SCOR ({len(detail.pieces)})")
        for selector in ("#ld-pieces-title", "#ld-pieces"):
            self.query_one(selector).display = not is_fse

        scor = self.query_one("#ld-scor", Static)
        scor.update(
            "Lots SCOR joints : "
            + ", ".join(f"{s.number_text} ({s.state_label})" for s in detail.scor_lots)
        )
        scor.display = bool(detail.scor_lots)

        received = self.query_one("#ld-received", DataTable)
        received.clear()
        for item in detail.received:
            received.add_row(
                format_when(item.received_at), item.file_name, item.status_label, Text(item.error)
            )
        self.query_one("#ld-received-title", Static).update(
            f"Fichiers reçus de la caisse (ARL) : {len(detail.received)}"
            if detail.received
            else "Fichiers reçus de la caisse (ARL) : aucun"
        )
        received.display = bool(detail.received)

        history = self.query_one("#ld-history", DataTable)
        history.clear()
        for entry in detail.history:
            history.add_row(
                format_short_when(entry.at),
                history_label(entry.action),
                entry.to_state.label,
                Text(entry.user),
                entry.from_state.label if entry.from_state else "—",
                Text(entry.reason),
            )
        if not is_fse and self.focused is None:
            history.focus()

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        lot = self.detail.lot if self.detail else None
        if action == "delete":
            return lot is not None and can(lot.state, LotAction.DELETE)
        if action == "resolve":
            # A person settles an uncertain sending: « envoyé » or « pas envoyé ».
            return lot is not None and can(lot.state, LotAction.RESOLVE_SENT)
        if action == "paper":
            return lot is not None
        return True

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id != "ld-invoices" or self.detail is None:
            return
        key = event.row_key.value or ""
        if not key.isdigit():
            self.app.notify("Cette facture n'existe plus dans la base.", severity="warning")
            return
        self.app.open_invoice(int(key))

    def action_paper(self) -> None:
        if self.detail is not None:
            show_paper_list(self, self.detail.lot)

    def action_delete(self) -> None:
        if self.detail is not None:
            ask_delete(self, self.detail.lot, self.load)

    def action_resolve(self) -> None:
        if self.detail is not None:
            ask_resolution(self, self.detail.lot, self.load)
