"""F3 « Transmettre » (seed 003): the invoices to put in lots, those to secure, the lots to send.

Three tabs, as in the seed (keys 1, 2, 3):

1. « FSE à transmettre »: the Validée invoices counted per practitioner and caisse, and the
   invoices of the highlighted group; « b » builds the lots (a preview first), of the selected
   invoices or of all of them.
2. « FSE à sécuriser »: the invoices semi-secured with a CPE; « s » signs the selected ones
   (or the highlighted one) with the exécutant's CPS (``screens.sesam_actions.secure_batch``).
3. « Fichier à transmettre »: the lots « À transmettre », those to re-send after an ARL négatif,
   and those « En cours » whose sending is uncertain (shown first, with a warning; « i » records
   what a person found: envoyé / pas envoyé). « e » sends the highlighted lot, « t » all of them.

« r » fetches the ARLs, « d » runs the time-out check (after fetching, so that an ARL waiting in
the box is never timed out), offering to re-send the lots it made « ARL négatif ». Every long
operation runs in a worker thread with its progress shown, then says in French what happened,
lot by lot, with the reasons of what did not. The CLI (``tuibill lots …``) does the same headless.

A little over 600 lines: the screen holds the seed's eight operations and their worker plumbing;
the tabs (``widgets.transmit_tabs``), what the operations say (``widgets.lot_reports``), the
progress line (``widgets.job_progress``) and the lot flows (``screens.lot_actions``) are apart.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import ContentSwitcher, DataTable, Static

from tuibill.config import TransmissionSettings
from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.text_view import TextDialog
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_lot_number
from tuibill.domain.lots import SENDABLE_STATES, LotAction, LotState, can
from tuibill.screens.lot_actions import ask_delete, ask_resolution, user_of
from tuibill.screens.tabbed import TabbedListsScreen
from tuibill.services.database import DatabaseError, close_thread_connection
from tuibill.services.lot_views import LotSummary
from tuibill.services.lots import BuildReport, LotPreview, SkippedInvoice
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.job_progress import JobProgress
from tuibill.widgets.keys import (
    delete_binding,
    number_bindings,
    selection_bindings,
)
from tuibill.widgets.lot_reports import (
    build_summary,
    check_summary,
    lot_line,
    merge_builds,
    more,
    preview_text,
    receive_summary,
    send_summary,
)
from tuibill.widgets.transmit_tabs import LotsTab, SecureTab, ValidatedTab

if TYPE_CHECKING:
    from tuibill.services.dre_lots import DreBuildReport

TO_SEND, TO_SECURE, FILES = "tx-tab-validees", "tx-tab-securiser", "tx-tab-fichiers"
TABS = (TO_SEND, TO_SECURE, FILES)
TAB_LABELS = {
    TO_SEND: "FSE à transmettre",
    TO_SECURE: "FSE à sécuriser",
    FILES: "Fichier à transmettre",
}
TAB_FOCUS = {TO_SEND: "#tx-groups", TO_SECURE: "#tx-secure", FILES: "#tx-lots"}

# What a worker hands back to the UI thread: a function that shows its outcome.
Finish = Callable[[], None]


def resend_due() -> list[LotSummary]:
    """Lots « ARL négatif » to re-send once, identical."""
    from tuibill.services.lot_views import lots_to_send

    return [lot for lot in lots_to_send() if lot.state is LotState.ARL_NEGATIF]


# --- the screen --------------------------------------------------------------------------------


class Progress(Message):
    """Posted by a worker thread: *done* of *total* (0: unknown) and what is being done."""

    bubble = False

    def __init__(self, done: int, total: int, detail: str = "") -> None:
        super().__init__()
        self.done = done
        self.total = total
        self.detail = detail


class TransmettreScreen(TabbedListsScreen):
    """The three tabs, the operations' progress and outcome, the keys of the tab shown."""

    SWITCHER_ID = "#tx-switcher"
    HINT_ID = "#tx-hint"
    BINDING_PREFIX = "transmettre_"
    TAB_FOCUS = TAB_FOCUS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "build", "Constituer les lots", id="transmettre_constituer"),
        Binding("t", "send_all", "Tout transmettre", id="transmettre_tout_envoyer"),
        Binding("e", "send_one", "Envoyer ce lot", id="transmettre_envoyer"),
        Binding("i", "resolve", "Décider (incertain)", id="transmettre_decider"),
        delete_binding("delete_lot", "Supprimer le lot", "transmettre_supprimer"),
        Binding("s", "secure", "Sécuriser (CPS)", id="transmettre_securiser"),
        Binding("r", "receive", "Relever les ARL", id="transmettre_relever"),
        Binding("d", "check", "Délais ARL", id="transmettre_delais"),
        *selection_bindings("transmettre"),
        *number_bindings("show_tab", TAB_LABELS, "transmettre_onglet"),
        Binding("ctrl+l", "reload", "Actualiser", show=False, id="transmettre_actualiser"),
    ]
    CSS_PATH = "../styles/transmettre.tcss"

    def __init__(self) -> None:
        super().__init__(TO_SEND)
        self._active = False
        self._untold: TextDialog | None = None  # an outcome that came while in another menu

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="tx-tabs")
        with ContentSwitcher(initial=TO_SEND, id="tx-switcher"):
            yield ValidatedTab(id=TO_SEND)
            yield SecureTab(id=TO_SECURE)
            yield LotsTab(id=FILES)
        yield JobProgress(id="tx-progress")
        yield Static("", id="tx-status", markup=False)
        yield Static("", id="tx-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.table(TAB_FOCUS[self.tab]).focus()

    def on_screen_resume(self) -> None:
        if self._active:
            return  # Textual posts ScreenResume twice when a mode's first screen starts
        self._active = True
        # First display, or back from a lot, an invoice or another menu: another desk (or a
        # worker of this screen) may have moved things.
        self.reload()
        if self._untold is not None:
            dialog, self._untold = self._untold, None
            self.app.push_screen(dialog)

    def on_screen_suspend(self) -> None:
        self._active = False

    @property
    def validated(self) -> ValidatedTab:
        return self.query_one(ValidatedTab)

    @property
    def to_secure(self) -> SecureTab:
        return self.query_one(SecureTab)

    @property
    def lots_tab(self) -> LotsTab:
        return self.query_one(LotsTab)

    @property
    def marked(self) -> set[int]:
        """The invoices chosen in « FSE à transmettre »."""
        return self.validated.marked

    @property
    def lots(self) -> list[LotSummary]:
        return self.lots_tab.lots

    @property
    def busy(self) -> str:
        """The operation running, if any."""
        return self.query_one(JobProgress).label

    # --- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the three lists again (each bounded) and keep the cursors where they were."""
        from tuibill.services import transmit_lists

        try:
            groups = transmit_lists.validated_groups()
            marked = transmit_lists.still_validated(self.marked)
            secure_rows = transmit_lists.secure_rows()
            lots = transmit_lists.lots_to_transmit()
        except DatabaseError as error:
            self._set_notice(f"Erreur de lecture de la base : {error}", error=True)
            return
        self.validated.show(groups, marked)
        self.to_secure.show(secure_rows)
        self.lots_tab.show(lots)
        self._show_tabs()
        self._show_status()
        self.refresh_bindings()
        self._update_hint()

    def current_lot(self) -> LotSummary | None:
        return self.lots_tab.current_lot()

    # --- tabs, status, hints ---------------------------------------------------------------

    def _show_tabs(self) -> None:
        counts = {
            TO_SEND: str(self.validated.total),
            TO_SECURE: str(len(self.to_secure.rows)),
            FILES: str(len(self.lots)),
        }
        if any(lot.uncertain for lot in self.lots):
            counts[FILES] += " !"
        line = Text()
        for number, tab in enumerate(TABS, start=1):
            label = f" {number} {TAB_LABELS[tab]} ({counts[tab]}) "
            line.append(label, style="bold reverse" if tab == self.tab else "")
            line.append(" ")
        self.query_one("#tx-tabs", Static).update(line)

    def _show_status(self) -> None:
        status = self.query_one("#tx-status", Static)
        text = self.notice
        if not text:
            if self.tab == TO_SEND:
                text = (
                    f"{len(self.marked)} facture(s) sélectionnée(s) : b les met en lots."
                    if self.marked
                    else "b : toutes les factures validées en lots (Espace : en choisir)."
                )
            elif self.tab == TO_SECURE:
                chosen = self.to_secure.marked
                text = (
                    f"{len(chosen)} sélectionnée(s) : s les signe avec la CPS."
                    if chosen
                    else "s : signer cette facture (ou celles choisies) avec la CPS."
                )
            else:
                text = "t : transmettre tous les lots — e : ce lot — r : relever les ARL."
        status.update(text)
        status.set_class(self.notice_error, "error")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        tab = self.tab
        if action in ("build", "send_all"):
            return tab != TO_SECURE
        if action in ("toggle_mark", "mark_all", "unmark_all"):
            return tab in (TO_SEND, TO_SECURE)
        if action == "secure":
            return tab == TO_SECURE
        if action in ("send_one", "resolve", "delete_lot"):
            lot = self.current_lot() if tab == FILES else None
            if lot is None:
                return False
            if action == "send_one":
                return lot.state in SENDABLE_STATES
            if action == "resolve":
                return lot.uncertain
            return can(lot.state, LotAction.DELETE)
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # The lot under the cursor decides which keys apply (the tabs keep their other events).
        event.stop()
        if event.data_table.id == "tx-lots":
            self.refresh_bindings()
            self._update_hint()

    # --- selection -------------------------------------------------------------------------

    def _selecting(self) -> ValidatedTab | SecureTab:
        return self.to_secure if self.tab == TO_SECURE else self.validated

    def action_toggle_mark(self) -> None:
        self._selecting().toggle_mark()
        self._show_status()

    def action_mark_all(self) -> None:
        self._selecting().mark_all()
        self._show_status()

    def action_unmark_all(self) -> None:
        self._selecting().unmark_all()
        self._show_status()

    # --- long operations: worker thread, progress, summary ---------------------------------

    def _refuse_if_busy(self) -> bool:
        if self.busy:
            self.app.notify(f"{self.busy} en cours : patientez.", severity="warning")
        return bool(self.busy)

    def _start(self, label: str, job: Callable[[], Finish]) -> None:
        """Run *job* in a worker thread; what it returns is called on the UI thread."""
        self.query_one(JobProgress).start(label)
        self.run_worker(
            partial(self._run_job, label, job),
            thread=True,
            group="transmettre",
            exit_on_error=False,
        )

    def _run_job(self, label: str, job: Callable[[], Finish]) -> None:
        try:
            finish = job()
        except TuibillError as error:
            finish = partial(self._failed, label, str(error))
        except DatabaseError as error:
            finish = partial(self._failed, label, f"Erreur de la base de données : {error}")
        except Exception as error:  # a bug must not take the desk down: say it, keep going
            finish = partial(self._failed, label, f"Erreur inattendue : {error!r}")
        finally:
            close_thread_connection()
        try:
            self.app.call_from_thread(self._finish, finish)
        except RuntimeError:  # the application is closing
            pass

    def _finish(self, finish: Finish) -> None:
        self.query_one(JobProgress).stop()
        finish()

    def _failed(self, label: str, message: str) -> None:
        self.reload()
        self._set_notice(f"{label} : {message}", error=True)
        self._tell(TextDialog(f"{label} : échec", message, error=True))

    def _report(self, title: str, text: str, problems: bool) -> None:
        """Show what an operation did: the first line on the status line, all of it in a
        dialog (the lists behind are already up to date)."""
        self.reload()
        self._set_notice(text.splitlines()[0] if text else title, error=problems)
        self._tell(TextDialog(title, text, error=problems))

    def _tell(self, dialog: TextDialog) -> None:
        """Push *dialog* here; if the user went to another menu meanwhile, say it in a
        notification and keep the dialog for the return to Transmettre."""
        if self in self.app.screen_stack:
            self.app.push_screen(dialog)
            return
        self._untold = dialog
        self.app.notify(
            f"{self.notice} (détail : F3)",
            title=dialog.title_text,
            severity="error" if dialog.error else "information",
            timeout=10,
        )

    def post_progress(self, done: int, total: int, detail: str = "") -> None:
        """From the worker thread (never blocks, never raises)."""
        self.post_message(Progress(done, total, detail))

    def on_progress(self, message: Progress) -> None:
        self.query_one(JobProgress).advance(message.done, message.total, message.detail)

    # --- building --------------------------------------------------------------------------

    def action_build(self) -> None:
        if self._refuse_if_busy():
            return
        if not self.validated.total:
            self._set_notice("Aucune facture validée à mettre en lot.")
            return
        ids = sorted(self.marked) or None
        settings = self.app.settings.transmission
        self._start("Aperçu des lots", partial(self._preview_job, settings, ids))

    def _preview_job(self, settings: TransmissionSettings, ids: list[int] | None) -> Finish:
        from tuibill.services.lots import preview_build

        previews, skipped = preview_build(settings, invoice_ids=ids)
        return partial(self._confirm_build, settings, previews, skipped)

    def _confirm_build(
        self,
        settings: TransmissionSettings,
        previews: list[LotPreview],
        skipped: list[SkippedInvoice],
    ) -> None:
        if not previews:
            text = "Aucune facture ne peut partir en lot."
            if skipped:
                text += "\n\n" + "\n".join(more([item.reason for item in skipped]))
            self._report("Constituer les lots", text, bool(skipped))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._start(
                    "Constitution des lots", partial(self._build_job, settings, previews, skipped)
                )

        self.app.push_screen(
            TextDialog("Constituer ces lots ?", preview_text(previews, skipped), confirm=True),
            answered,
        )

    def _build_job(
        self,
        settings: TransmissionSettings,
        previews: list[LotPreview],
        skipped: list[SkippedInvoice],
    ) -> Finish:
        from tuibill.services.dre_lots import build_dre_lots
        from tuibill.services.lots import build_lots

        user = user_of(self)
        reports = []
        # Group by group, as the preview showed them: real progress, one transaction per lot.
        for index, preview in enumerate(previews):
            self.post_progress(
                index, len(previews), f"{preview.practitioner} · {preview.destination}"
            )
            reports.append(build_lots(settings, user=user, invoice_ids=preview.invoice_ids))
        report = merge_builds(reports, skipped)
        # The DREs (part mutuelle in tiers payant) of invoices now in a lot: their own lots.
        dres = build_dre_lots(settings, user=user)
        return partial(self._built, report, dres)

    def _built(self, report: BuildReport, dres: DreBuildReport | None = None) -> None:
        self.marked.clear()
        text, problems = build_summary(report)
        if dres is not None and (dres.lots or dres.skipped):
            from tuibill.services.dre_lots import dre_summary

            text += "\n\n" + dre_summary(dres)
            problems = problems or bool(dres.skipped)
        if report.lots:
            self.action_show_tab(FILES)
        self._report("Constitution des lots", text, problems)

    # --- sending ---------------------------------------------------------------------------

    def action_send_all(self) -> None:
        from tuibill.services.lot_views import lots_to_send

        if self._refuse_if_busy():
            return
        lots = lots_to_send()
        if not lots:
            self._set_notice("Aucun lot à transmettre (b : constituer les lots).")
            return
        self._confirm_send(lots, None)

    def action_send_one(self) -> None:
        if self._refuse_if_busy():
            return
        lot = self.current_lot()
        if lot is None or lot.state not in SENDABLE_STATES:
            return
        # The SCOR lots of an FSE lot carry its pieces: they go with it.
        lots = [lot] + [
            other
            for other in self.lots
            if other.parent_id == lot.id and other.state in SENDABLE_STATES
        ]
        self._confirm_send(lots, [item.id for item in lots])

    def _confirm_send(self, lots: list[LotSummary], ids: list[int] | None) -> None:
        lines = more([lot_line(lot) for lot in lots], 8)
        resend = sum(1 for lot in lots if lot.state is LotState.ARL_NEGATIF)
        if resend:
            lines.append(f"dont {resend} renvoi(s) à l'identique après un ARL négatif.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_send(ids, len(lots))

        self.app.push_screen(
            ConfirmDialog(f"Transmettre {len(lots)} lot(s) aux caisses ?", "\n".join(lines)),
            answered,
        )

    def start_send(self, ids: list[int] | None, expected: int) -> None:
        settings = self.app.settings.transmission
        self._start("Envoi des lots", partial(self._send_job, settings, ids, expected))

    def _send_job(
        self, settings: TransmissionSettings, ids: list[int] | None, expected: int
    ) -> Finish:
        from tuibill.services.sending import send_lots

        accepted = 0

        def on_accepted(lot) -> None:
            # Called between the server's acceptance and its recording: must never raise.
            nonlocal accepted
            accepted += 1
            self.post_progress(accepted, expected, f"lot {format_lot_number(lot.number)} accepté par le serveur")

        self.post_progress(0, expected, "connexion au serveur d'envoi")
        report = send_lots(settings, user=user_of(self), lot_ids=ids, on_accepted=on_accepted)
        text, problems = send_summary(report)
        return partial(self._report, "Envoi des lots", text, problems)

    # --- receiving and time-outs -----------------------------------------------------------

    def action_receive(self) -> None:
        if self._refuse_if_busy():
            return
        settings = self.app.settings.transmission
        self._start("Relevé des ARL", partial(self._receive_job, settings))

    def _receive_job(self, settings: TransmissionSettings) -> Finish:
        from tuibill.services.receiving import receive

        count = 0

        def on_recorded(mail) -> None:
            nonlocal count
            count += 1
            self.post_progress(count, 0, f"{count} message(s) relevé(s)")

        report = receive(settings, user=user_of(self), on_recorded=on_recorded)
        text, problems = receive_summary(report)
        return partial(self._report, "Relevé des ARL", text, problems)

    def action_check(self) -> None:
        if self._refuse_if_busy():
            return
        settings = self.app.settings.transmission
        self._start("Contrôle des délais d'ARL", partial(self._check_job, settings))

    def _check_job(self, settings: TransmissionSettings) -> Finish:
        from tuibill.services.lot_check import check

        # Receive first (inside check): an ARL waiting in the box must not be timed out. The
        # re-sending is offered afterwards, not done behind the user's back.
        report = check(settings, user=user_of(self), receive=True, resend=False)
        text, problems = check_summary(report, settings.arl_timeout_hours)
        due = resend_due()
        return partial(self._checked, text, problems, due)

    def _checked(self, text: str, problems: bool, due: list[LotSummary]) -> None:
        if due and self not in self.app.screen_stack:
            # Asked only here, never in another menu: the lots wait in « Fichier à transmettre ».
            text += f"\n\n{len(due)} lot(s) « ARL négatif » à renvoyer : t (onglet 3)."
            due = []
        if not due:
            self._report("Contrôle des délais d'ARL", text, problems)
            return
        self.reload()
        self._set_notice(text.splitlines()[0] if text else "", error=problems)
        question = (
            f"{text}\n\n{len(due)} lot(s) « ARL négatif » à renvoyer une fois, à l'identique :\n"
            + "\n".join(more([f"  {lot_line(lot)}" for lot in due], 10))
            + "\n\nLes renvoyer maintenant ?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_send([lot.id for lot in due], len(due))

        self.app.push_screen(
            TextDialog("Contrôle des délais d'ARL", question, confirm=True, error=problems),
            answered,
        )

    # --- one lot ---------------------------------------------------------------------------

    def action_resolve(self) -> None:
        lot = self.current_lot()
        if lot is not None and lot.uncertain and not self._refuse_if_busy():
            ask_resolution(self, lot, self.reload)

    def action_delete_lot(self) -> None:
        lot = self.current_lot()
        if lot is not None and not self._refuse_if_busy():
            ask_delete(self, lot, self.reload)

    # --- « FSE à sécuriser » ---------------------------------------------------------------

    def action_secure(self) -> None:
        if self._refuse_if_busy():
            return
        ids = self.to_secure.chosen_ids()
        if not ids:
            self._set_notice("Aucune FSE à sécuriser.")
            return
        # Written by the SESAM-Vitale work: imported when used (it pulls the card layer in).
        from tuibill.screens.sesam_actions import secure_batch

        self.run_worker(
            secure_batch(self, ids, on_done=self._secured),
            group="sesam",
            exclusive=True,
            exit_on_error=False,
        )

    def _secured(self, outcome) -> None:
        if outcome is not None:
            done = {invoice.id for invoice in outcome.done}
            self.to_secure.marked -= done
            refused = len(outcome.refused)
            self.notice = f"{len(done)} FSE sécurisée(s) avec la CPS" + (
                f", {refused} refusée(s)." if refused else "."
            )
            self.notice_error = bool(refused)
        self.reload()
