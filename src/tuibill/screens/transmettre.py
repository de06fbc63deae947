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
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import ClassVar

from peewee import PeeweeException
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, DataTable, Static

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents
from tuibill.domain.lots import FSE, SENDABLE_STATES, LotState
from tuibill.screens.lot_detail import (
    TRANSMETTRE_CSS,
    LotTable,
    TextDialog,
    ask_delete,
    ask_resolution,
    close_thread_connection,
    lot_line,
    right,
    user_of,
    when,
)
from tuibill.services.lot_views import LotSummary
from tuibill.services.lots import BuildReport, LotPreview, SkippedInvoice
from tuibill.services.transmit_lists import SecureRow, ValidatedGroup, ValidatedInvoice
from tuibill.widgets.footer import AppFooter, AppHeader

TO_SEND, TO_SECURE, FILES = "tx-tab-validees", "tx-tab-securiser", "tx-tab-fichiers"
TABS = (TO_SEND, TO_SECURE, FILES)
TAB_LABELS = {
    TO_SEND: "FSE à transmettre",
    TO_SECURE: "FSE à sécuriser",
    FILES: "Fichier à transmettre",
}
TAB_FOCUS = {TO_SEND: "#tx-groups", TO_SECURE: "#tx-secure", FILES: "#tx-lots"}
MAX_LISTED = 30  # lines per section of a summary before « et n autre(s) »
SELECTION = Binding.Group("Sélection")

# What a worker hands back to the UI thread: a function that shows its outcome.
Finish = Callable[[], None]


def _mark(marked: bool | None) -> Text:
    # None: part of a group is selected.
    return Text("[-]" if marked is None else "[x]" if marked else "[ ]")


def _day(value: date | None) -> str:
    return "" if value is None else f"{value:%d/%m/%y}"


def _more(lines: list[str], limit: int = MAX_LISTED) -> list[str]:
    if len(lines) <= limit:
        return lines
    # Plain ASCII words: the Linux console's fonts may lack « … ».
    return lines[:limit] + [f"  et {len(lines) - limit} autre(s)"]


def _euros(cents: int) -> str:
    # A plain space for thousands: the Linux console lacks the narrow no-break space.
    euros = format_cents(cents)
    whole, _, decimals = euros.partition(",")
    sign = "-" if whole.startswith("-") else ""
    whole = f"{int(whole.lstrip('-')):,}".replace(",", " ")
    return f"{sign}{whole},{decimals} €"


# --- what the operations say -------------------------------------------------------------------


def preview_text(previews: Sequence[LotPreview], skipped: Sequence[SkippedInvoice]) -> str:
    """The lots a build will make, and the invoices it will leave out (with why)."""
    invoices = sum(len(p.invoice_ids) for p in previews)
    lots = sum(p.lot_count for p in previews)
    lines = [
        f"{lots} lot(s) de FSE pour {invoices} facture(s), "
        f"{_euros(sum(p.total_cents for p in previews))} :",
    ]
    lines += _more(
        [
            f"  {p.practitioner} · {p.destination} {p.organism} : {len(p.invoice_ids)} FSE, "
            f"{_euros(p.total_cents)}" + (f" ({p.lot_count} lots)" if p.lot_count > 1 else "")
            for p in previews
        ]
    )
    if skipped:
        lines += ["", f"Écartée(s), resteront « Validée » : {len(skipped)}"]
        lines += _more([f"  {item.reason}" for item in skipped])
    lines += ["", "Les pièces SCOR des factures en mode dégradé partent en lots SCOR à part."]
    return "\n".join(lines)


def merge_builds(reports: Sequence[BuildReport], skipped: Sequence[SkippedInvoice]) -> BuildReport:
    """One report for a build done group by group (the preview's refusals included)."""
    return BuildReport(
        lots=tuple(lot for report in reports for lot in report.lots),
        skipped=tuple(skipped) + tuple(item for report in reports for item in report.skipped),
        warnings=tuple(text for report in reports for text in report.warnings),
    )


def build_summary(report: BuildReport) -> tuple[str, bool]:
    """(text, has problems) of a build."""
    fse = [lot for lot in report.lots if lot.kind == FSE]
    scor = [lot for lot in report.lots if lot.kind != FSE]
    count = sum(lot.invoice_count for lot in fse)
    total = sum(lot.total_cents for lot in fse)
    if fse:
        head = f"{len(fse)} lot(s) de FSE constitué(s) : {count} facture(s), {_euros(total)}"
        head += f", et {len(scor)} lot(s) de pièces SCOR." if scor else "."
    else:
        head = "Aucun lot constitué."
    lines = [head]
    lines += _more([f"  {lot_line(lot)}" for lot in report.lots])
    if report.skipped:
        lines += ["", f"Écartée(s), restent « Validée » : {len(report.skipped)}"]
        lines += _more([f"  {item.reason}" for item in report.skipped])
    if report.warnings:
        # One warning per group built (the build runs group by group): under one heading.
        lines += ["", "Attention :"] + _more([f"  - {warning}" for warning in report.warnings])
    if fse:
        lines += ["", "Ils attendent dans « Fichier à transmettre » : t pour tout transmettre."]
    return "\n".join(lines), bool(report.skipped)


def send_summary(report) -> tuple[str, bool]:
    """(text, has problems) of a ``sending.SendReport``; one reason said once for its lots."""
    from tuibill.services.sending import FAILED, NOT_CONFIGURED, SENT, UNCERTAIN

    outcomes = report.outcomes
    if not outcomes:
        lines = ["Aucun lot à transmettre."]
    else:
        parts = [f"{report.count(SENT)} lot(s) transmis"]
        failed = report.count(FAILED) + report.count(NOT_CONFIGURED)
        if failed:
            parts.append(f"{failed} non envoyé(s)")
        if report.count(UNCERTAIN):
            parts.append(f"{report.count(UNCERTAIN)} à l'envoi incertain")
        lines = [", ".join(parts) + "."]
        sent = [o.lot for o in outcomes if o.status == SENT]
        if sent:
            lines += _more([f"  {lot_line(lot)}" for lot in sent])
        problems: dict[tuple[str, str], list[LotSummary]] = {}
        for outcome in outcomes:
            if outcome.status != SENT:
                problems.setdefault((outcome.status_label, outcome.message), []).append(outcome.lot)
        for (label, message), lots in problems.items():
            names = ", ".join(f"{lot.number_text} ({lot.practitioner})" for lot in lots[:10])
            more = f" et {len(lots) - 10} autre(s)" if len(lots) > 10 else ""
            lines += ["", f"{label} : lot(s) {names}{more}", f"  {message}"]
        if sent:
            lines += ["", "Les ARL des caisses arrivent par courriel : r pour les relever."]
    if report.uncertain:
        lines += [
            "",
            f"{len(report.uncertain)} lot(s) « En cours » (envoi incertain) : vérifiez auprès du "
            "serveur d'envoi, puis i sur le lot (onglet 3) pour dire s'il est parti.",
        ]
    return "\n".join(lines), not report.all_sent or bool(report.uncertain)


def receive_summary(report) -> tuple[str, bool]:
    """(text, has problems) of a ``receiving.ReceiveReport``."""
    if report.fetched:
        head = (
            f"{report.fetched} message(s) lu(s), {len(report.recorded)} fichier(s) "
            f"enregistré(s), {report.deleted} message(s) retiré(s) du serveur"
        )
    else:
        head = "Aucun message des caisses dans la boîte"
    if report.left:
        head += f", {report.left} autre(s) laissé(s) (pas d'une caisse)"
    if report.already_known:
        head += f", {report.already_known} déjà connu(s)"
    lines = [head + "."]
    lines += _outcome_lines(report.processed)
    return "\n".join(lines), bool(report.flagged)


def _outcome_lines(outcomes) -> list[str]:
    return _more(
        [
            ("  ! " if outcome.file.flagged else "  ") + f"{outcome.file.file_name} : "
            f"{outcome.message}"
            for outcome in outcomes
        ]
    )


def check_summary(report, timeout_hours: int) -> tuple[str, bool]:
    """(text, has problems) of a ``lot_check.CheckReport`` (run without re-sending)."""
    lines: list[str] = []
    if report.received is not None:
        text, _ = receive_summary(report.received)
        lines += ["Relevé des ARL : " + text]
    lines += _outcome_lines(report.processed)
    if report.timed_out:
        lines += ["", f"Sans ARL {timeout_hours} h après l'envoi : {len(report.timed_out)} lot(s)"]
        lines += _more(
            [
                f"  Lot {lot.number_text} ({lot.practitioner}) : {lot.state_label}"
                for lot in report.timed_out
            ]
        )
    elif not report.errors:
        lines += ["", f"Aucun lot sans ARL depuis plus de {timeout_hours} h."]
    if report.uncertain:
        lines += [
            "",
            f"Envoi incertain (« En cours ») : {len(report.uncertain)} lot(s), i pour décider.",
        ]
    if report.manual:
        lines += ["", f"Traitement manuel (envoi papier) : {len(report.manual)} lot(s)"]
        lines += _more([f"  {lot_line(lot)}" for lot in report.manual])
        lines.append("  Journal des lots (F6), Entrée sur le lot, p : liste papier.")
    for error in report.errors:
        lines += ["", error]
    return "\n".join(lines).strip(), bool(report.errors or report.flagged_files)


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


class TransmettreScreen(Screen):
    CSS_PATH = TRANSMETTRE_CSS

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "build", "Constituer les lots", id="transmettre_constituer"),
        Binding("t", "send_all", "Tout transmettre", id="transmettre_tout_envoyer"),
        Binding("e", "send_one", "Envoyer ce lot", id="transmettre_envoyer"),
        Binding("i", "resolve", "Décider (incertain)", id="transmettre_decider"),
        Binding(
            "delete",
            "delete_lot",
            "Supprimer le lot",
            key_display="Suppr",
            id="transmettre_supprimer",
        ),
        Binding("s", "secure", "Sécuriser (CPS)", id="transmettre_securiser"),
        Binding("r", "receive", "Relever les ARL", id="transmettre_relever"),
        Binding("d", "check", "Délais ARL", id="transmettre_delais"),
        Binding(
            "space",
            "toggle_mark",
            "Sélectionner",
            key_display="Espace",
            group=SELECTION,
            id="transmettre_selection",
        ),
        Binding(
            "plus",
            "mark_all",
            "Tout sélectionner",
            key_display="+",
            group=SELECTION,
            id="transmettre_tout_selectionner",
        ),
        Binding(
            "minus",
            "unmark_all",
            "Tout désélectionner",
            key_display="-",
            group=SELECTION,
            id="transmettre_tout_deselectionner",
        ),
        *[
            Binding(
                str(n),
                f"show_tab('{tab}')",
                TAB_LABELS[tab],
                show=False,
                id=f"transmettre_onglet_{n}",
            )
            for n, tab in enumerate(TABS, start=1)
        ],
        Binding("ctrl+l", "reload", "Actualiser", show=False, id="transmettre_actualiser"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.tab = TO_SEND
        self.groups: list[ValidatedGroup] = []
        self.group_invoices: list[ValidatedInvoice] = []
        self.shown_group: str | None = None
        self.marked: set[int] = set()  # invoices of « FSE à transmettre »
        self.secure_rows: list[SecureRow] = []
        self.marked_secure: set[int] = set()
        self.lots: list[LotSummary] = []
        self.validated_total = 0
        self.busy = ""  # the operation running, if any
        self.notice = ""  # the last operation's outcome, on the status line
        self.notice_error = False
        self._started = 0.0
        self._progress = (0, 0, "")
        self._ticker: Timer | None = None
        self._active = False
        self._untold: TextDialog | None = None  # an outcome that came while in another menu

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("", id="tx-tabs")
        with ContentSwitcher(initial=TO_SEND, id="tx-switcher"):
            with Vertical(id=TO_SEND):
                yield Static("", id="tx-groups-title", classes="section")
                yield LotTable(id="tx-groups", cursor_type="row")
                yield Static("", id="tx-invoices-title", classes="section")
                yield LotTable(id="tx-invoices", cursor_type="row", zebra_stripes=True)
            with Vertical(id=TO_SECURE):
                yield Static("", id="tx-secure-title", classes="section")
                yield LotTable(id="tx-secure", cursor_type="row", zebra_stripes=True)
            with Vertical(id=FILES):
                yield Static("", id="tx-warning", classes="warning", markup=False)
                yield Static("", id="tx-lots-title", classes="section")
                yield LotTable(id="tx-lots", cursor_type="row", zebra_stripes=True)
        yield Static("", id="tx-progress", markup=False)
        yield Static("", id="tx-status", markup=False)
        yield Static("", id="tx-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.table("#tx-groups").add_columns("Sél", "Praticien", "Caisse", "FSE", "Total", "Depuis")
        self.table("#tx-invoices").add_columns(
            "Sél", "N°", "Patient", "Date", "Actes du", "au", "Total", "Mode"
        )
        self.table("#tx-secure").add_columns(
            "Sél", "N°", "Patient", "Praticien", "Date", "Total", "Carte lue le", "Par"
        )
        self.table("#tx-lots").add_columns(
            "État",
            "Lot",
            "Type",
            "Praticien",
            "Caisse",
            "Nb",
            "Total",
            "Créé le",
            "Envois",
            "Erreur / motif",
        )
        self.query_one("#tx-progress").display = False
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

    def table(self, selector: str) -> DataTable:
        return self.query_one(selector, DataTable)

    # --- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the three lists again (each bounded) and keep the cursors where they were."""
        from tuibill.services import transmit_lists

        try:
            self.groups = transmit_lists.validated_groups()
            self.validated_total = sum(group.count for group in self.groups)
            self.marked = transmit_lists.still_validated(self.marked)
            self.secure_rows = transmit_lists.secure_rows()
            self.lots = transmit_lists.lots_to_transmit()
        except PeeweeException as error:
            self._set_notice(f"Erreur de lecture de la base : {error}", error=True)
            return
        self.marked_secure &= {row.id for row in self.secure_rows}
        self._fill_groups()
        self._fill_secure()
        self._fill_lots()
        self._show_tabs()
        self._show_status()
        self.refresh_bindings()
        self._update_hint()

    def _keep_cursor(self, table: DataTable, keys: list[str], previous: str | None, index: int):
        if not keys:
            return
        row = keys.index(previous) if previous in keys else min(max(0, index), len(keys) - 1)
        table.move_cursor(row=row, animate=False)

    def _cursor_key(self, table: DataTable) -> str | None:
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def _group_mark(self, group: ValidatedGroup) -> bool | None:
        if not self.marked:
            return False
        from tuibill.services.transmit_lists import validated_ids

        ids = set(validated_ids(group.practitioner_id, group.destination))
        inside = len(ids & self.marked)
        return True if inside == len(ids) else None if inside else False

    def _fill_groups(self) -> None:
        table = self.table("#tx-groups")
        previous, index = self._cursor_key(table), table.cursor_row
        table.clear()
        for group in self.groups:
            table.add_row(
                _mark(self._group_mark(group)),
                Text(group.practitioner),
                Text(f"{group.destination} {group.organism}".strip()),
                right(str(group.count)),
                right(format_cents(group.total_cents)),
                _day(group.oldest),
                key=group.key,
            )
        self._keep_cursor(table, [g.key for g in self.groups], previous, index)
        total = sum(g.total_cents for g in self.groups)
        title = (
            f"Factures validées : {self.validated_total}, {_euros(total)} — par praticien et caisse"
            if self.groups
            else "Aucune facture validée à mettre en lot."
        )
        self.query_one("#tx-groups-title", Static).update(title)
        for selector in ("#tx-groups", "#tx-invoices-title", "#tx-invoices"):
            self.query_one(selector).display = bool(self.groups)
        self._fill_invoices(force=True)

    def current_group(self) -> ValidatedGroup | None:
        key = self._cursor_key(self.table("#tx-groups"))
        return next((g for g in self.groups if g.key == key), None)

    def _fill_invoices(self, *, force: bool = False) -> None:
        from tuibill.services.transmit_lists import LIST_LIMIT, validated_invoices

        group = self.current_group()
        key = group.key if group else None
        table = self.table("#tx-invoices")
        if key == self.shown_group and not force:
            return
        same = key == self.shown_group
        previous, index = self._cursor_key(table), table.cursor_row
        self.shown_group = key
        self.group_invoices = (
            validated_invoices(group.practitioner_id, group.destination) if group else []
        )
        table.clear()
        for invoice in self.group_invoices:
            table.add_row(*self._invoice_cells(invoice), key=str(invoice.id))
        if same:
            self._keep_cursor(table, [str(i.id) for i in self.group_invoices], previous, index)
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
            _mark(invoice.id in self.marked),
            invoice.number_text,
            Text(invoice.patient),
            _day(invoice.billing_date),
            _day(invoice.first_act_date),
            _day(invoice.last_act_date),
            right(format_cents(invoice.total_cents)),
            "SESAM-Vitale" if invoice.mode == "sesam_vitale" else "Dégradé",
        )

    def _fill_secure(self) -> None:
        table = self.table("#tx-secure")
        previous, index = self._cursor_key(table), table.cursor_row
        table.clear()
        for row in self.secure_rows:
            table.add_row(*self._secure_cells(row), key=str(row.id))
        self._keep_cursor(table, [str(r.id) for r in self.secure_rows], previous, index)
        self.query_one("#tx-secure-title", Static).update(
            f"Factures semi-sécurisées (carte CPE) à signer avec la CPS de l'exécutant : "
            f"{len(self.secure_rows)}"
            if self.secure_rows
            else "Aucune FSE à sécuriser."
        )

    def _secure_cells(self, row: SecureRow) -> tuple:
        return (
            _mark(row.id in self.marked_secure),
            row.number_text,
            Text(row.patient),
            Text(row.practitioner),
            _day(row.billing_date),
            right(format_cents(row.total_cents)),
            when(row.secured_at),
            Text(row.signer),
        )

    def _fill_lots(self) -> None:
        table = self.table("#tx-lots")
        previous, index = self._cursor_key(table), table.cursor_row
        table.clear()
        for lot in self.lots:
            state = Text(lot.state_label)
            if lot.uncertain:
                state = Text(f"! {lot.state_label}", style="bold reverse")
            elif lot.state is LotState.ARL_NEGATIF:
                state = Text(f"{lot.state_label} (renvoi)")
            table.add_row(
                state,
                lot.number_text,
                lot.kind,
                Text(lot.practitioner),
                lot.destination,
                right(str(lot.invoice_count if lot.kind == FSE else lot.piece_count)),
                right(format_cents(lot.total_cents) if lot.kind == FSE else ""),
                f"{lot.created_at:%d/%m/%y %H:%M}",
                right(str(lot.send_count)),
                Text(lot.last_error or lot.arl_reason),
                key=str(lot.id),
            )
        self._keep_cursor(table, [str(lot.id) for lot in self.lots], previous, index)
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
        key = self._cursor_key(self.table("#tx-lots"))
        return next((lot for lot in self.lots if str(lot.id) == key), None)

    # --- tabs, status, hints ---------------------------------------------------------------

    def _show_tabs(self) -> None:
        counts = {
            TO_SEND: str(self.validated_total),
            TO_SECURE: str(len(self.secure_rows)),
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

    def _set_notice(self, text: str, *, error: bool = False) -> None:
        self.notice, self.notice_error = text, error
        self._show_status()

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
                text = (
                    f"{len(self.marked_secure)} sélectionnée(s) : s les signe avec la CPS."
                    if self.marked_secure
                    else "s : signer cette facture (ou celles choisies) avec la CPS."
                )
            else:
                text = "t : transmettre tous les lots — e : ce lot — r : relever les ARL."
        status.update(text)
        status.set_class(self.notice_error, "error")

    def _update_hint(self) -> None:
        """Every key of this tab, from the live bindings (a keymap shows): the footer is cut at
        80 columns."""
        parts: list[tuple[str, str]] = []
        grouped: dict[str, list[str]] = {}
        for active in self.active_bindings.values():
            binding = active.binding
            if not (binding.id or "").startswith("transmettre_") or not active.enabled:
                continue
            key = self.app.get_key_display(binding)
            if binding.action.startswith("show_tab"):
                grouped.setdefault("Onglets", []).append(key)
            elif binding.group is not None:
                grouped.setdefault(binding.group.description, []).append(key)
            else:
                parts.append((key, binding.description))
        for label, keys in grouped.items():
            parts.append((" ".join(keys), label))
        hint = Text()
        for key, description in parts:
            hint.append(key, style="bold")
            hint.append(f" {description}  ")
        self.query_one("#tx-hint", Static).update(hint)

    def action_show_tab(self, tab: str) -> None:
        self.tab = tab
        self.query_one("#tx-switcher", ContentSwitcher).current = tab
        self.table(TAB_FOCUS[tab]).focus()
        self.notice, self.notice_error = "", False
        self._show_tabs()
        self._show_status()
        self.refresh_bindings()
        self._update_hint()

    def action_reload(self) -> None:
        self.notice = ""
        self.reload()

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
            return lot.state is LotState.A_TRANSMETTRE
        return True

    # --- table events ----------------------------------------------------------------------

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        table_id = event.data_table.id
        if table_id == "tx-groups":
            self._fill_invoices()
        elif table_id == "tx-lots":
            self.refresh_bindings()
            self._update_hint()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        table_id = event.data_table.id
        key = event.row_key.value or ""
        if table_id == "tx-groups":
            self.table("#tx-invoices").focus()  # drill down into the group
        elif table_id in ("tx-invoices", "tx-secure") and key.isdigit():
            from tuibill.screens.invoice_detail import InvoiceDetailScreen

            self.app.push_screen(InvoiceDetailScreen(int(key)))
        elif table_id == "tx-lots" and key.isdigit():
            from tuibill.screens.lot_detail import LotDetailScreen

            self.app.push_screen(LotDetailScreen(int(key)))

    # --- selection -------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        focused = self.focused
        if self.tab == TO_SECURE:
            key = self._cursor_key(self.table("#tx-secure"))
            if key is None:
                return
            self.marked_secure ^= {int(key)}
            self._fill_secure()
            self._next_row(self.table("#tx-secure"))
        elif focused is self.table("#tx-groups"):
            from tuibill.services.transmit_lists import validated_ids

            group = self.current_group()
            if group is None:
                return
            ids = set(validated_ids(group.practitioner_id, group.destination))
            if ids <= self.marked:
                self.marked -= ids
            else:
                self.marked |= ids
            self._fill_groups()
        else:
            key = self._cursor_key(self.table("#tx-invoices"))
            if key is None:
                return
            self.marked ^= {int(key)}
            self._refresh_marks()
            self._next_row(self.table("#tx-invoices"))
        self._show_status()

    def _next_row(self, table: DataTable) -> None:
        if table.cursor_row < table.row_count - 1:
            table.move_cursor(row=table.cursor_row + 1, animate=False)

    def _refresh_marks(self) -> None:
        """Update the Sél cells of tab 1 without re-reading the invoices."""
        table = self.table("#tx-invoices")
        for invoice in self.group_invoices:
            table.update_cell(
                str(invoice.id), table.ordered_columns[0].key, _mark(invoice.id in self.marked)
            )
        groups = self.table("#tx-groups")
        for group in self.groups:
            groups.update_cell(
                group.key, groups.ordered_columns[0].key, _mark(self._group_mark(group))
            )

    def action_mark_all(self) -> None:
        if self.tab == TO_SECURE:
            self.marked_secure = {row.id for row in self.secure_rows}
            self._fill_secure()
        else:
            from tuibill.services.transmit_lists import validated_ids

            for group in self.groups:
                self.marked |= set(validated_ids(group.practitioner_id, group.destination))
            self._refresh_marks()
        self._show_status()

    def action_unmark_all(self) -> None:
        if self.tab == TO_SECURE:
            self.marked_secure.clear()
            self._fill_secure()
        else:
            self.marked.clear()
            self._refresh_marks()
        self._show_status()

    # --- long operations: worker thread, progress, summary ---------------------------------

    def _refuse_if_busy(self) -> bool:
        if self.busy:
            self.app.notify(f"{self.busy} en cours : patientez.", severity="warning")
        return bool(self.busy)

    def _start(self, label: str, job: Callable[[], Finish]) -> None:
        """Run *job* in a worker thread; what it returns is called on the UI thread."""
        self.busy = label
        self._started = time.monotonic()
        self._progress = (0, 0, "")
        self._show_progress()
        self._ticker = self.set_interval(0.5, self._show_progress)
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
        except PeeweeException as error:
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
        self.busy = ""
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.query_one("#tx-progress").display = False
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
        self._progress = (message.done, message.total, message.detail)
        self._show_progress()

    def _show_progress(self) -> None:
        if not self.busy:
            return
        done, total, detail = self._progress
        seconds = int(time.monotonic() - self._started)
        text = f"{self.busy}..."
        if total:
            width = 20
            filled = width * min(done, total) // total
            full, empty = ("#", "-") if getattr(self.app, "ascii_borders", False) else ("█", "░")
            text += f" {done}/{total} [{full * filled}{empty * (width - filled)}]"
        text += f" {seconds} s"
        if detail:
            text += f" — {detail}"
        widget = self.query_one("#tx-progress", Static)
        widget.display = True
        widget.update(text)

    # --- building --------------------------------------------------------------------------

    def action_build(self) -> None:
        if self._refuse_if_busy():
            return
        if not self.validated_total:
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
                text += "\n\n" + "\n".join(_more([item.reason for item in skipped]))
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
        return partial(self._built, report)

    def _built(self, report: BuildReport) -> None:
        self.marked.clear()
        text, problems = build_summary(report)
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
        from tuibill.dialogs.confirm import ConfirmDialog

        lines = _more([lot_line(lot) for lot in lots], 8)
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
            self.post_progress(accepted, expected, f"lot {lot.number:03d} accepté par le serveur")

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
            + "\n".join(_more([f"  {lot_line(lot)}" for lot in due], 10))
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
        ids = sorted(self.marked_secure)
        if not ids:
            key = self._cursor_key(self.table("#tx-secure"))
            ids = [int(key)] if key else []
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
            self.marked_secure -= done
            refused = len(outcome.refused)
            self.notice = f"{len(done)} FSE sécurisée(s) avec la CPS" + (
                f", {refused} refusée(s)." if refused else "."
            )
            self.notice_error = bool(refused)
        self.reload()
