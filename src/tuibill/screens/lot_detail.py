"""One lot: what it carries, its files, the caisse's answers and its history; its few actions.

Pushed by the Journal des lots (F6) and by Transmettre (F3). Entrée on an invoice opens it;
« p » shows the paper list (to print or save: the route of a lot in « Traitement manuel »);
Suppr deletes a lot not sent yet; « i » settles a lot « En cours » (uncertain sending).

The dialogs and flows shared with Transmettre live here too (Transmettre imports this module,
never the other way round): a text viewer that may ask Oui/Non, the « envoyé ? » decision,
the paper list and the file name to save it under.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, ScrollableContainer, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, DataTable, Input, Static

from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents, format_invoice_number
from tuibill.domain.lots import FSE, LotState
from tuibill.services.lot_views import LotDetail, LotSummary
from tuibill.widgets.footer import AppFooter, AppHeader

TRANSMETTRE_CSS = "../styles/transmettre.tcss"


def when(value: datetime | None) -> str:
    return "" if value is None else f"{value:%d/%m/%Y %H:%M}"


def right(text: str) -> Text:
    return Text(text, justify="right")


def lot_title(lot: LotSummary) -> str:
    what = "FSE" if lot.kind == FSE else "SCOR"
    return f"Lot {lot.number_text} ({what}) — {lot.state_label}"


def lot_line(lot: LotSummary) -> str:
    """« Lot 003 GAUTIER Anne · 01281 CPAM CHARTRES · 4 FSE 140,20 € » (fits a dialog line)."""
    if lot.kind == FSE:
        content = f"{lot.invoice_count} FSE {format_cents(lot.total_cents)} €"
    else:
        content = f"SCOR {lot.piece_count} pièce(s)"
    caisse = f"{lot.destination} {lot.organism[:18]}".strip()
    return f"Lot {lot.number_text} {lot.practitioner} · {caisse} · {content}"


def user_of(screen: Screen) -> str:
    return getattr(screen.app, "user", "") or "inconnu"


# --- dialogs -----------------------------------------------------------------------------------


class TextDialog(ModalScreen[bool]):
    """A title and a text that scrolls; Oui/Non when *confirm*, else just « Fermer ».

    Used for the previews (« constituer ces lots ? ») and the summaries of what an operation
    did, which may run to many lines: the text scrolls (↑ ↓ PgPréc PgSuiv), the keys stay.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "answer(True)", "Oui", id="texte_oui"),
        Binding("n", "answer(False)", "Non", id="texte_non"),
        Binding("enter", "enter", "Valider", show=False, id="texte_entree"),
        Binding("escape", "answer(False)", "Fermer", id="texte_fermer"),
    ]

    def __init__(self, title: str, text: str, *, confirm: bool = False, error: bool = False):
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm = confirm
        self.error = error

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog text-dialog"):
            yield Static(self.title_text, classes="error" if self.error else "title", id="td-title")
            with VerticalScroll(id="td-body"):
                yield Static(self.text, id="td-text", markup=False)
            if self.confirm:
                with Horizontal(classes="td-buttons"):
                    yield Button("Oui (O)", id="yes", variant="primary")
                    yield Button("Non (N)", id="no")
            else:
                yield Static("Entrée ou Échap : fermer", classes="hint")

    def on_mount(self) -> None:
        if self.confirm:
            self.query_one("#yes", Button).focus()
        else:
            self.query_one("#td-body").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "answer" and parameters and parameters[0] is True:
            return self.confirm  # no « Oui » on a plain summary
        return True

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_enter(self) -> None:
        # On a question Entrée presses the focused button; on a summary it closes.
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
        else:
            self.dismiss(False)

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class ResolveDialog(ModalScreen[bool | None]):
    """« Envoi incertain »: did the lot go out? True (envoyé), False (pas envoyé), None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "answer(True)", "Envoyé", id="decision_envoye"),
        Binding("n", "answer(False)", "Pas envoyé", id="decision_pas_envoye"),
        Binding("escape", "cancel", "Annuler", id="decision_annuler"),
    ]

    def __init__(self, lot: LotSummary) -> None:
        super().__init__()
        self.lot = lot

    def compose(self) -> ComposeResult:
        lot = self.lot
        started = when(lot.send_started_at) or "?"
        with Vertical(classes="dialog"):
            yield Static(f"Lot {lot.number_text} « En cours » : envoi incertain", classes="title")
            yield Static(
                f"{lot_line(lot)}\n"
                f"L'envoi a commencé le {started} vers {lot.recipient or 'la caisse'} sans que "
                "l'on sache s'il a abouti (coupure, arrêt du poste).\n"
                "Vérifiez dans le journal du serveur d'envoi ou auprès de la caisse, puis dites "
                "ce qu'il en est. « Envoyé » : on attend son ARL. « Pas envoyé » : il repart au "
                "prochain envoi.",
                classes="hint",
                markup=False,
            )
            with Horizontal(classes="td-buttons"):
                yield Button("Envoyé (E)", id="sent", variant="primary")
                yield Button("Pas envoyé (N)", id="not-sent")
                yield Button("Annuler (Échap)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()  # the safe choice under a stray Entrée

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss({"sent": True, "not-sent": False}.get(event.button.id or ""))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PathDialog(ModalScreen[str | None]):
    """Ask for a file name, proposing one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="fichier_annuler"),
    ]

    def __init__(self, question: str, default: str, hint: str = "") -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.hint = hint

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.question, classes="title")
            if self.hint:
                yield Static(self.hint, classes="hint", markup=False)
            yield Input(self.default, id="path")
            yield Static("", id="path-error", classes="error")
            yield Static("Entrée : enregistrer — Échap : annuler", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if not value:
            self.query_one("#path-error", Static).update("Indiquez un nom de fichier.")
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PaperListDialog(ModalScreen[None]):
    """The paper list of a lot, on screen, to save (text + CSV) or print."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save", "Enregistrer", id="papier_enregistrer"),
        Binding("i", "print", "Imprimer", id="papier_imprimer"),
        Binding("escape", "close", "Fermer", id="papier_fermer"),
    ]

    def __init__(self, lot: LotSummary, text: str) -> None:
        super().__init__()
        self.lot = lot
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog text-dialog paper-dialog"):
            yield Static(f"Liste papier du lot {self.lot.number_text}", classes="title")
            # Both ways: the list is wider than 80 columns (← → scroll it).
            with ScrollableContainer(id="td-body"):
                yield Static(self.text, id="td-text", markup=False)
            yield Static(
                "s : enregistrer (texte + CSV) — i : imprimer — Échap : fermer", classes="hint"
            )

    def on_mount(self) -> None:
        self.query_one("#td-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        from tuibill.services.paper_lists import default_paper_path, save_paper_list

        def chosen(path: str | None) -> None:
            if not path:
                return
            try:
                text_path, csv_path = save_paper_list(
                    self.lot.id, path, lot_codec=self.app.settings.transmission.lot_codec
                )
            except (OSError, TuibillError) as error:
                self.app.notify(f"Enregistrement impossible : {error}", severity="error")
                return
            self.app.notify(
                f"Liste du lot {self.lot.number_text} enregistrée : {text_path} et {csv_path}.",
                title="Liste papier",
                timeout=10,
            )

        self.app.push_screen(
            PathDialog(
                "Enregistrer la liste papier sous",
                str(default_paper_path(self.lot)),
                "Le même nom en .csv reçoit la liste pour un tableur.",
            ),
            chosen,
        )

    def action_print(self) -> None:
        self.app.notify("Impression de la liste en cours.")
        self.run_worker(partial(_print_list, self.app, self.lot.id), thread=True, group="papier")


def _print_list(app, lot_id: int) -> None:
    from tuibill.services.paper_lists import print_paper_list

    try:
        lot_codec = app.settings.transmission.lot_codec
        message, severity = print_paper_list(lot_id, lot_codec=lot_codec), "information"
    except TuibillError as error:
        message, severity = str(error), "error"
    finally:
        close_thread_connection()
    try:
        app.call_from_thread(app.notify, message, title="Liste papier", severity=severity)
    except RuntimeError:  # the application is closing
        pass


# --- flows shared with Transmettre -------------------------------------------------------------


def ask_resolution(screen: Screen, lot: LotSummary, on_done: Callable[[], None]) -> None:
    """« Envoyé » / « Pas envoyé » for a lot « En cours », with what the decision rests on."""
    from tuibill.dialogs.reason import ReasonDialog
    from tuibill.services.lots import resolve_uncertain

    app = screen.app

    def decided(sent: bool | None) -> None:
        if sent is None:
            return

        def reasoned(reason: str | None) -> None:
            if reason is None:
                return  # Échap: nothing decided
            try:
                after = resolve_uncertain(lot.id, sent=sent, user=user_of(screen), reason=reason)
            except TuibillError as error:
                app.notify(str(error), title="Décision", severity="error", timeout=10)
            else:
                if sent:
                    text = (
                        f"Lot {after.number_text} : envoyé, « {after.state_label} » (ARL attendu)."
                    )
                else:
                    text = (
                        f"Lot {after.number_text} : pas envoyé, « {after.state_label} » : il "
                        "repartira au prochain envoi."
                    )
                app.notify(text, title="Décision enregistrée")
            on_done()

        app.push_screen(
            ReasonDialog(
                "Sur quoi repose cette décision ? (facultatif, gardé dans l'historique)",
                required=False,
            ),
            reasoned,
        )

    app.push_screen(ResolveDialog(lot), decided)


def ask_delete(screen: Screen, lot: LotSummary, on_done: Callable[[], None]) -> None:
    """« Suppression du lot » (not sent yet): its invoices go back to « Validée »."""
    from tuibill.dialogs.confirm import ConfirmDialog
    from tuibill.services.lots import delete_lot

    app = screen.app
    if lot.state is not LotState.A_TRANSMETTRE:
        app.notify(
            f"Le lot {lot.number_text} est « {lot.state_label} » : seul un lot pas encore "
            "envoyé (« À transmettre ») se supprime.",
            severity="warning",
        )
        return

    def confirmed(answer: bool | None) -> None:
        if not answer:
            return
        try:
            deleted = delete_lot(lot.id, user=user_of(screen))
        except TuibillError as error:
            app.notify(str(error), title="Suppression refusée", severity="error", timeout=10)
            return
        app.notify(
            f"Lot {deleted.number_text} supprimé : ses {deleted.invoice_count} facture(s) sont "
            "de nouveau « Validée ».",
            title="Suppression du lot",
        )
        on_done()

    what = (
        f"Ses {lot.invoice_count} facture(s) redeviennent « Validée » (et ses pièces SCOR sont "
        "détachées) ; le lot reste au journal, « Supprimé »."
        if lot.kind == FSE
        else "Le lot reste au journal, « Supprimé »."
    )
    app.push_screen(
        ConfirmDialog(f"Supprimer le lot {lot.number_text} ?", f"{lot_line(lot)}\n{what}"),
        confirmed,
    )


def show_paper_list(screen: Screen, lot: LotSummary) -> None:
    from tuibill.services.paper_lists import paper_list

    try:
        text = paper_list(lot.id, lot_codec=screen.app.settings.transmission.lot_codec).text()
    except TuibillError as error:
        screen.app.notify(str(error), severity="error")
        return
    screen.app.push_screen(PaperListDialog(lot, text))


def close_thread_connection() -> None:
    """Close a worker thread's database connection (peewee keeps one per thread)."""
    from tuibill.models import db

    if db.obj is not None and not db.is_closed():
        db.close()


# --- the screen --------------------------------------------------------------------------------


class LotTable(DataTable):
    """A table of the lot screens; Entrée opens the row (shown in the footer); Début / Fin go
    to the first / last row, as the help (F1) says."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Ouvrir", key_display="Entrée", id="lot_ouvrir"),
        Binding(
            "home",
            "scroll_top",
            "Première ligne",
            key_display="Début",
            show=False,
            id="lot_premiere_ligne",
        ),
        Binding(
            "end",
            "scroll_bottom",
            "Dernière ligne",
            key_display="Fin",
            show=False,
            id="lot_derniere_ligne",
        ),
    ]


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
        f"Créé le {when(lot.created_at)} par {lot.created_by or '?'}   Envois : {lot.send_count}"
        + (f", dernier le {when(lot.sent_at)}" if lot.sent_at else ""),
    ]
    deadline = lot.arl_deadline(timeout_hours)
    if deadline is not None:
        lines.append(f"ARL attendu avant le {when(deadline)}")
    if lot.arl_at is not None:
        lines.append(
            f"ARL le {when(lot.arl_at)}" + (f" : {lot.arl_reason}" if lot.arl_reason else "")
        )
    if lot.state is LotState.EN_COURS:
        lines.append(
            f"Envoi commencé le {when(lot.send_started_at)} sans certitude : i pour décider."
        )
    if lot.state is LotState.TRAITEMENT_MANUEL:
        lines.append("Traitement manuel : envoyez ce lot sur papier à la caisse (p : liste).")
    if lot.last_error:
        lines.append(f"Dernière erreur : {lot.last_error}")
    if detail.file_error:
        lines.append(detail.file_error)
    return "\n".join(lines)


class LotDetailScreen(Screen):
    """The detail of lot *lot_id*."""

    CSS_PATH = TRANSMETTRE_CSS
    AUTO_FOCUS = "#ld-invoices"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "paper", "Liste papier", id="lot_liste_papier"),
        Binding("delete", "delete", "Supprimer le lot", key_display="Suppr", id="lot_supprimer"),
        Binding("i", "resolve", "Décider (envoi incertain)", id="lot_decider"),
        Binding("escape", "app.back", "Retour", id="lot_retour"),
    ]

    def __init__(self, lot_id: int) -> None:
        super().__init__()
        self.lot_id = lot_id
        self.detail: LotDetail | None = None
        self.error = ""

    def compose(self) -> ComposeResult:
        yield AppHeader()
        with VerticalScroll(id="ld-body"):
            yield Static("", id="ld-title", classes="title", markup=False)
            yield Static("", id="ld-info", markup=False)
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
        self.query_one("#ld-history", DataTable).add_columns(
            "Le", "Par", "De", "Vers", "Action", "Motif"
        )
        self.load()

    def on_screen_resume(self) -> None:
        if self.detail is not None:
            self.load()  # back from an invoice: states may have moved

    def load(self) -> None:
        """Read the lot again and show it."""
        from tuibill.services.lot_views import lot_detail

        try:
            self.detail = lot_detail(
                self.lot_id, lot_codec=self.app.settings.transmission.lot_codec
            )
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
            for widget in self.query("#ld-body > *"):
                widget.display = widget is title
            return
        lot = detail.lot
        title.update(lot_title(lot))
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
                f"{item.billing_date:%d/%m/%y}",
                Text(item.patient),
                right(format_cents(item.total_cents)),
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
                when(item.received_at), item.file_name, item.status_label, Text(item.error)
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
                when(entry.at),
                entry.user,
                entry.from_state.label if entry.from_state else "—",
                entry.to_state.label,
                entry.action_label,
                Text(entry.reason),
            )
        if not is_fse and self.focused is None:
            history.focus()

    # --- actions ---------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        lot = self.detail.lot if self.detail else None
        if action == "delete":
            return lot is not None and lot.state is LotState.A_TRANSMETTRE
        if action == "resolve":
            return lot is not None and lot.state is LotState.EN_COURS
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
        from tuibill.screens.invoice_detail import InvoiceDetailScreen

        self.app.push_screen(InvoiceDetailScreen(int(key)))

    def action_paper(self) -> None:
        if self.detail is not None:
            show_paper_list(self, self.detail.lot)

    def action_delete(self) -> None:
        if self.detail is not None:
            ask_delete(self, self.detail.lot, self.load)

    def action_resolve(self) -> None:
        if self.detail is not None:
            ask_resolution(self, self.detail.lot, self.load)
