"""The paper list of a lot (« Traitement manuel »: the lot goes to the caisse on paper), on
screen, to save (text + CSV) or print."""

from __future__ import annotations

from functools import partial
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import ScrollableContainer, Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tuibill.dialogs.file_name import PathDialog
from tuibill.domain.errors import TuibillError
from tuibill.services.database import close_thread_connection
from tuibill.services.lot_views import LotSummary


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
                text_path, csv_path = save_paper_list(self.lot.id, path)
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


def _print_list(app: App, lot_id: int) -> None:
    from tuibill.services.paper_lists import print_paper_list

    try:
        message, severity = print_paper_list(lot_id), "information"
    except TuibillError as error:
        message, severity = str(error), "error"
    finally:
        close_thread_connection()
    try:
        app.call_from_thread(app.notify, message, title="Liste papier", severity=severity)
    except RuntimeError:  # the application is closing
        pass
