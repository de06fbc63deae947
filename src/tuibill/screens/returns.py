"""Retours et rejets (F7): the caisses' NOEMIE returns, in five lists paged by key.

1 Retours reçus · 2 Virements · 3 Factures rejetées · 4 Paiements partiels · 5 Non rapprochées
— each one of the journals' screens (``screens.paged_journal``) over a list of
``services.return_lists``; the keys 1–5 switch list. Entrée opens what the row is about (the
return file, the invoice, the return line); ``i`` imports a return file (a dry run shown first,
« Valider l'import » then posts it); ``m`` matches a « non rapprochée » invoice by hand; ``r``
shows the legal delays (FSE late to send, caisse payments late and the penalties owed).
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Checkbox, Label, Select, Static

from tuibill.domain.formatting import format_cents, format_short_day
from tuibill.screens.paged_journal import PagedJournalScreen
from tuibill.services.database import close_thread_connection
from tuibill.services.return_lists import (
    EntryRow,
    FileRow,
    ReturnListFilter,
    ReturnView,
    VirementRow,
    open_return_list,
)
from tuibill.widgets.virtual_table import Column

TAB_ORDER = (
    ReturnView.FILES,
    ReturnView.VIREMENTS,
    ReturnView.REJECTED,
    ReturnView.PARTIAL,
    ReturnView.NOT_MATCHED,
)
SHORT = {
    ReturnView.FILES: "Retours",
    ReturnView.VIREMENTS: "Virements",
    ReturnView.REJECTED: "Rejetées",
    ReturnView.PARTIAL: "Partiels",
    ReturnView.NOT_MATCHED: "Non rappr.",
}


# Short state labels: the État column of 80 columns.
SHORT_STATES = {
    "Payée partiellement": "Payée part.",
    "Non transmissible": "Non transm.",
}


def short_state(label: str) -> str:
    return SHORT_STATES.get(label, label)


def short_when(value) -> str:
    """« 07/11/26 08:05 »: a date and time in 14 columns."""
    return f"{value:%d/%m/%y %H:%M}"


def tab_line(current: ReturnView) -> str:
    """« 1 Retours  2 Virements  … » with the current list in brackets (fits 80 columns)."""
    parts = []
    for number, view in enumerate(TAB_ORDER, 1):
        label = f"{number} {SHORT[view]}"
        parts.append(f"[{label}]" if view is current else f" {label} ")
    return " ".join(parts)


def view_mode(view: ReturnView) -> str:
    """The app mode of a list (F7 is the first)."""
    return "retours" if view is ReturnView.FILES else f"retours-{view.value}"


def view_screen(view: str) -> ReturnsListScreen:
    return VIEW_SCREENS[ReturnView(view)]()


class ReturnsListScreen(
    PagedJournalScreen[ReturnListFilter],
    prefix="retours",
    pager=open_return_list,
):
    """The lists' common part: the tab line, the practitioner filter, the F7 keys."""

    CSS_PATH = "../styles/returns.tcss"
    VIEW: ClassVar[ReturnView] = ReturnView.FILES
    TREATABLE: ClassVar[bool] = False  # « à traiter » filter (invoices still in that state)

    EXTRA_BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "view(1)", "Retours", id="retours_vue_1", show=False),
        Binding("2", "view(2)", "Virements", id="retours_vue_2", show=False),
        Binding("3", "view(3)", "Rejetées", id="retours_vue_3", show=False),
        Binding("4", "view(4)", "Partiels", id="retours_vue_4", show=False),
        Binding("5", "view(5)", "Non rappr.", id="retours_vue_5", show=False),
        Binding("i", "import_file", "Importer", id="retours_importer"),
        Binding("r", "delays", "Retards", id="retours_retards"),
        Binding("o", "reports", "Rapports", id="retours_rapports"),
    ]

    def compose_filters(self) -> ComposeResult:
        from tuibill.services.practice import list_practitioners

        practitioners = [(p.display_name, p.id) for p in list_practitioners(active_only=False)]
        yield Static(tab_line(self.VIEW), id="rt-tabs")
        with Horizontal(classes="filter-row"):
            yield Label(self.VIEW.label, classes="filter-title")
            yield Label("Praticien", classes="filter-label")
            yield Select(practitioners, prompt="Tous", id="rt-practitioner", compact=True)
            if self.TREATABLE:
                yield Checkbox("à traiter", value=True, id="rt-to-treat", compact=True)

    def read_filter(self) -> ReturnListFilter:
        to_treat = False
        if self.TREATABLE:
            to_treat = self.query_one("#rt-to-treat", Checkbox).value
        return ReturnListFilter(
            view=self.VIEW,
            practitioner_id=self.choice_in("#rt-practitioner"),
            to_treat=to_treat,
            **self.window(),
        )

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self._filter is not None and self.read_filter() != self._filter:
            self._reload()

    def window_text(self, flt: ReturnListFilter) -> str:
        start = flt.window_start
        if start is None:
            if flt.view in (ReturnView.FILES, ReturnView.VIREMENTS):
                return "sans limite de temps"
            return "à traiter" if flt.to_treat else "toutes"
        return f"depuis le {format_short_day(start)} (2 derniers mois)"

    # --- keys ------------------------------------------------------------------------------

    def action_view(self, number: int) -> None:
        view = TAB_ORDER[number - 1]
        if view is not self.VIEW:
            self.app.switch_mode(view_mode(view))

    def action_import_file(self) -> None:
        from tuibill.dialogs.file_name import PathDialog

        def chosen(path: str | None) -> None:
            if path:
                self._simulate_import(path)

        self.app.push_screen(
            PathDialog(
                "Importer un retour NOEMIE",
                "",
                "Chemin du fichier reçu de la caisse (il est d'abord simulé, rien n'est écrit).",
            ),
            chosen,
        )

    @work(thread=True, exclusive=True, group="retours-import")
    def _simulate_import(self, path: str) -> None:
        from tuibill.services.returns import import_files

        try:
            (report,) = import_files(
                [path], self.app.settings.transmission, user=self.app.user, dry_run=True
            )
        finally:
            close_thread_connection()
        self.app.call_from_thread(self._confirm_import, path, report)

    def _confirm_import(self, path: str, report) -> None:
        from tuibill.dialogs.text_view import TextDialog
        from tuibill.services.returns import IMPORTED

        if report.status != IMPORTED:
            self.app.push_screen(
                TextDialog(f"{report.file} : {report.status}", report.reason, error=True)
            )
            return

        def answered(go: bool | None) -> None:
            if go:
                self._import(path)

        self.app.push_screen(
            TextDialog(
                "Simulation de l'import — valider l'import ?",
                import_text(report),
                confirm=True,
            ),
            answered,
        )

    @work(thread=True, exclusive=True, group="retours-import")
    def _import(self, path: str) -> None:
        from tuibill.services.returns import import_files

        try:
            (report,) = import_files(
                [path], self.app.settings.transmission, user=self.app.user
            )
        finally:
            close_thread_connection()
        self.app.call_from_thread(self._imported, report)

    def _imported(self, report) -> None:
        from tuibill.dialogs.text_view import TextDialog

        self.app.push_screen(
            TextDialog(
                f"{report.file} : {report.status}",
                import_text(report) if not report.reason else report.reason,
                error=report.status == "refusé",
            )
        )
        self._reload(keep_cursor=True, quiet=True)

    def action_reports(self) -> None:
        """F7 › Rapports: the follow-up reports (seed 002)."""
        self.app.open_reports()

    def action_delays(self) -> None:
        from tuibill.dialogs.text_view import TextDialog
        from tuibill.services.legal_delays import late_report

        report = late_report(self.app.settings.returns)
        self.app.push_screen(TextDialog("Délais légaux", delays_text(report)))


def import_text(report) -> str:
    """The report of an import (or its dry run), one invoice per line."""
    lines = [
        f"{report.paid} payée(s), {report.partial} partielle(s), {report.rejected} rejetée(s), "
        f"{report.deferred} différée(s), {report.not_matched} non rapprochée(s)"
        + (f", {report.doubles} doublon(s)" if report.doubles else ""),
        f"Montant payé : {format_cents(report.paid_cents)} € ; {report.virements} virement(s).",
        "",
    ]
    for entry in report.entries:
        state = entry.as_dict()["etat"] or "—"
        lines.append(
            f"n° {entry.number}  {entry.patient[:22]:<22} {format_cents(entry.paid_cents):>9}  "
            f"{state}"
        )
        if entry.note:
            lines.append(f"    {entry.note}")
    return "\n".join(lines)


def delays_text(report) -> str:
    lines = [f"FSE à transmettre en retard (art. R161-47 CSS) : {len(report.to_send)}"]
    for item in report.to_send[:50]:
        lines.append(
            f"  n° {item.number or '(non numérotée)'} {item.patient[:20]:<20} échéance "
            f"{item.deadline:%d/%m/%Y}, {item.days_late} j. ouvré(s) de retard"
        )
    lines += [
        "",
        f"Paiements des caisses en retard (décret 2016-1069) : {len(report.unpaid)} — pénalité "
        f"si payé aujourd'hui : {format_cents(report.pending_penalty_cents)} €",
    ]
    for item in report.unpaid[:50]:
        lines.append(
            f"  n° {item.number} {item.patient[:20]:<20} {item.caisse[:16]:<16} échéance "
            f"{item.deadline:%d/%m/%Y}, pénalité {format_cents(item.penalty_cents)} €"
        )
    lines += [
        "",
        f"Payées en retard : {len(report.paid_late)} — pénalités dues : "
        f"{format_cents(report.penalty_cents)} €",
    ]
    for item in report.paid_late[:50]:
        paid = f"{item.paid_on:%d/%m/%Y}" if item.paid_on else ""
        lines.append(
            f"  n° {item.number} {item.patient[:20]:<20} payée le {paid}, "
            f"pénalité {format_cents(item.penalty_cents)} € ({item.rule})"
        )
    return "\n".join(lines)


class ReturnFilesScreen(ReturnsListScreen):
    VIEW = ReturnView.FILES
    BINDINGS = ReturnsListScreen.EXTRA_BINDINGS
    COLUMNS = (
        Column("Reçu le", 14),
        Column("Caisse", 8),
        Column("Fact.", 5, "right"),
        Column("Payées", 6, "right"),
        Column("Part.", 5, "right"),
        Column("Rej.", 4, "right"),
        Column("Payé", 9, "right"),
        Column("État", 8),
        Column("Fichier", 10, flex=1),
        Column("Non r.", 6, "right"),
    )
    NOUNS = ("retour", "retours")

    def row_cells(self, row: FileRow) -> tuple[str, ...]:
        return (
            short_when(row.received_at),
            row.paying_body,
            str(row.invoices),
            str(row.paid),
            str(row.partial),
            str(row.rejected),
            format_cents(row.paid_cents),
            row.status_label,
            row.file_name,
            str(row.not_matched),
        )

    def open_row(self, row: FileRow) -> None:
        from tuibill.screens.return_file import ReturnFileScreen

        self.app.push_screen(ReturnFileScreen(row.id))


class VirementsScreen(ReturnsListScreen):
    VIEW = ReturnView.VIREMENTS
    BINDINGS = ReturnsListScreen.EXTRA_BINDINGS
    COLUMNS = (
        Column("Date", 8),
        Column("Organisme", 10),
        Column("Praticien", 14, flex=1),
        Column("Montant", 10, "right"),
        Column("Fact.", 5, "right"),
        Column("Libellé", 24, flex=2),
    )
    NOUNS = ("virement", "virements")

    def row_cells(self, row: VirementRow) -> tuple[str, ...]:
        return (
            format_short_day(row.accounting_date),
            row.paying_body,
            row.practitioner,
            format_cents(row.total_cents),
            str(row.invoice_count),
            row.label,
        )

    def open_row(self, row: VirementRow) -> None:
        from tuibill.screens.return_file import ReturnFileScreen

        self.app.push_screen(ReturnFileScreen(row.file_id))


class RejectedScreen(ReturnsListScreen):
    VIEW = ReturnView.REJECTED
    TREATABLE = True
    BINDINGS = ReturnsListScreen.EXTRA_BINDINGS
    COLUMNS = (
        Column("Numéro", 9),
        Column("Patient", 14, flex=2),
        Column("Code", 4),
        Column("Motif", 15, flex=3),
        Column("Niv.", 4),
        Column("Part", 4),
        Column("État", 11),
        Column("Date", 8),
        Column("Praticien", 12),
    )
    NOUNS = ("rejet", "rejets")

    def row_cells(self, row: EntryRow) -> tuple[str, ...]:
        level = {"F": "Fact", "L": f"L{row.line or ''}"}.get(row.level, row.level)
        return (
            row.number,
            row.patient,
            row.code,
            row.label,
            level,
            {"O": "AMO", "C": "AMC"}.get(row.part, row.part),
            short_state(row.state_label),
            format_short_day(row.billing_date) if row.billing_date else "",
            row.practitioner,
        )

    def open_row(self, row: EntryRow) -> None:
        if row.invoice_id is not None:
            self.app.open_rejection(row.invoice_id)


class PartialScreen(ReturnsListScreen):
    VIEW = ReturnView.PARTIAL
    TREATABLE = True
    BINDINGS = ReturnsListScreen.EXTRA_BINDINGS
    COLUMNS = (
        Column("Numéro", 9),
        Column("Patient", 16, flex=2),
        Column("Demandé", 9, "right"),
        Column("Payé", 9, "right"),
        Column("Refus", 5, "right"),
        Column("État", 11),
        Column("Date", 8),
        Column("Praticien", 12, flex=1),
    )
    NOUNS = ("paiement partiel", "paiements partiels")

    def row_cells(self, row: EntryRow) -> tuple[str, ...]:
        return (
            row.number,
            row.patient,
            format_cents(row.asked_cents),
            format_cents(row.paid_cents),
            str(row.refused_lines),
            short_state(row.state_label),
            format_short_day(row.billing_date) if row.billing_date else "",
            row.practitioner,
        )

    def open_row(self, row: EntryRow) -> None:
        if row.invoice_id is not None:
            self.app.open_invoice(row.invoice_id)


class NotMatchedScreen(ReturnsListScreen):
    VIEW = ReturnView.NOT_MATCHED
    BINDINGS = [
        *ReturnsListScreen.EXTRA_BINDINGS,
        Binding("m", "match", "Rapprocher", id="retours_rapprocher"),
    ]
    COLUMNS = (
        Column("Numéro", 9),
        Column("Patient", 16, flex=2),
        Column("Payé", 9, "right"),
        Column("Lot", 3, "right"),
        Column("PS", 12, flex=1),
        Column("Pourquoi", 30, flex=3),
    )
    NOUNS = ("facture non rapprochée", "factures non rapprochées")

    def row_cells(self, row: EntryRow) -> tuple[str, ...]:
        return (
            row.number,
            row.patient,
            format_cents(row.paid_cents),
            str(row.lot_number or ""),
            row.practitioner,
            row.note,
        )

    def open_row(self, row: EntryRow) -> None:
        self._match(row)

    def action_match(self) -> None:
        pager = self.pager
        if pager is None or not pager.total:
            self.notify("Aucune facture non rapprochée.", severity="warning")
            return
        row = pager.row(self.table.cursor_row)
        if row is not None:
            self._match(row)

    def _match(self, row: EntryRow) -> None:
        from tuibill.dialogs.match_entry import MatchEntryDialog

        def done(message: str | None) -> None:
            if message:
                self.notify(message)
                self._reload(keep_cursor=True)

        self.app.push_screen(MatchEntryDialog(row), done)


VIEW_SCREENS: dict[ReturnView, type[ReturnsListScreen]] = {
    ReturnView.FILES: ReturnFilesScreen,
    ReturnView.VIREMENTS: VirementsScreen,
    ReturnView.REJECTED: RejectedScreen,
    ReturnView.PARTIAL: PartialScreen,
    ReturnView.NOT_MATCHED: NotMatchedScreen,
}
