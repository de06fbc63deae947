"""« Banque »: the statements imported, the lines to match, the matches, the differences.

Four tabs (keys 1 to 4):

1. « Relevés »: the statements imported (and the files refused, kept aside); « i » imports one
   (CFONB 120, CAMT.053, OFX: archived first, each bank line once).
2. « À rapprocher »: the bank credits nobody announced, and the receipts announced (NOEMIE
   virements, règlements) not found on the bank; « l » matches the credit and the receipt under
   the two cursors by hand (Tab goes from one list to the other).
3. « Rapprochements »: every match, its rule and its difference; « a » undoes one (kept in the
   history, with the reason), Entrée shows it (the invoices it pays, its history).
4. « Écarts »: the matches whose amounts differ.

« r » runs the rules: what they would do is shown first (a dry run), then done on « Oui ».
The command line (``tuibill bank …``) does the same headless.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, DataTable, Static

from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.file_name import PathDialog
from tuibill.dialogs.reason import ReasonDialog
from tuibill.dialogs.text_view import TextDialog
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_cents, format_short_day
from tuibill.screens.tabbed import TabbedListsScreen
from tuibill.services.bank import OperationView, RefusedFile, StatementView
from tuibill.services.bank_matching import MatchView, ReceiptView
from tuibill.services.database import DatabaseError
from tuibill.widgets.cells import money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import number_bindings
from tuibill.widgets.tables import cursor_key, keep_cursor

STATEMENTS, TO_MATCH, MATCHES, DIFFERENCES = "bk-releves", "bk-a-rapprocher", "bk-rappr", "bk-ecarts"
TABS = (STATEMENTS, TO_MATCH, MATCHES, DIFFERENCES)
TAB_LABELS = {
    STATEMENTS: "Relevés",
    TO_MATCH: "À rapprocher",
    MATCHES: "Rapprochements",
    DIFFERENCES: "Écarts",
}
TAB_FOCUS = {
    STATEMENTS: "#bk-statements",
    TO_MATCH: "#bk-credits",
    MATCHES: "#bk-matches",
    DIFFERENCES: "#bk-differences",
}


def _euros(cents: int) -> str:
    return f"{format_cents(cents)} €"


class BankScreen(TabbedListsScreen):
    """The four tabs, their keys, and what each operation did."""

    SWITCHER_ID = "#bk-switcher"
    HINT_ID = "#bk-hint"
    BINDING_PREFIX = "banque_"
    TAB_FOCUS = TAB_FOCUS
    SPAN_DIGITS = True

    TITLE = "Banque et comptabilité"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "import_statement", "Importer un relevé", id="banque_importer"),
        Binding("r", "run_rules", "Rapprocher (règles)", id="banque_rapprocher"),
        Binding("l", "link", "Lier à la main", id="banque_lier"),
        Binding("a", "undo", "Annuler le rapprochement", id="banque_annuler"),
        Binding("enter", "show_match", "Détail", key_display="Entrée", id="banque_detail"),
        *number_bindings("show_tab", TAB_LABELS, "banque_onglet"),
        Binding("ctrl+l", "reload", "Actualiser", show=False, id="banque_actualiser"),
    ]
    CSS_PATH = "../styles/bank.tcss"

    def __init__(self) -> None:
        super().__init__(STATEMENTS)
        self.statements: list[StatementView] = []
        self.refused: list[RefusedFile] = []
        self.credits: list[OperationView] = []
        self.receipts: list[ReceiptView] = []
        self.matches: list[MatchView] = []
        self._mode = ""  # the app's mode this screen was opened in (the menu's)
        self._left_mode = False

    # --- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        yield Static("Banque — relevés et rapprochement", classes="title", id="bk-title")
        yield Static("", id="bk-tabs")
        with ContentSwitcher(initial=STATEMENTS, id="bk-switcher"):
            with Vertical(id=STATEMENTS):
                yield DataTable(id="bk-statements", cursor_type="row", zebra_stripes=True)
                yield Static("", id="bk-refused", classes="warning")
            with Vertical(id=TO_MATCH):
                yield Static("", id="bk-credits-title", classes="section")
                yield DataTable(id="bk-credits", cursor_type="row")
                yield Static("", id="bk-receipts-title", classes="section")
                yield DataTable(id="bk-receipts", cursor_type="row")
            with Vertical(id=MATCHES):
                yield DataTable(id="bk-matches", cursor_type="row", zebra_stripes=True)
            with Vertical(id=DIFFERENCES):
                yield DataTable(id="bk-differences", cursor_type="row", zebra_stripes=True)
        yield Static("", id="bk-status", markup=False)
        yield Static("", id="bk-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.table("#bk-statements").add_columns(
            "N°", "Période", "Format", "Solde final", "Lignes", "Nouv."
        )
        self.table("#bk-credits").add_columns("Ligne", "Date", "Montant", "Libellé")
        self.table("#bk-receipts").add_columns("Origine", "Date", "Montant", "Payeur", "Libellé")
        for selector in ("#bk-matches", "#bk-differences"):
            self.table(selector).add_columns(
                "N°", "Banque le", "Montant", "Recette", "Annoncé", "Écart", "Règle"
            )
        self.reload()
        self.table(TAB_FOCUS[self.tab]).focus()
        self._mode = self.app.current_mode

    def on_screen_suspend(self) -> None:
        self._left_mode = self.app.current_mode != self._mode

    def on_screen_resume(self) -> None:
        if self._left_mode:
            # Left for an F-key menu, then Échap back to the menu: the menu, as from any other
            # menu, not this screen still stacked over it.
            self._left_mode = False
            self.dismiss()
            return
        self.reload()

    # --- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        from tuibill.services import bank, bank_matching

        try:
            self.statements = bank.statements()
            self.refused = bank.refused_files(limit=5)
            found = bank_matching.unmatched()
            self.credits, self.receipts = found.credits, found.receipts
            self.matches = bank_matching.matches()
        except DatabaseError as error:
            self._set_notice(f"Erreur de lecture de la base : {error}", error=True)
            return
        self._fill_statements()
        self._fill_unmatched()
        self._fill_matches("#bk-matches", self.matches)
        self._fill_matches("#bk-differences", self.differences)
        self._show_tabs()
        self._show_status()
        self.refresh_bindings()
        self._update_hint()

    @property
    def differences(self) -> list[MatchView]:
        return [match for match in self.matches if match.difference_cents]

    def _refill(self, selector: str, rows: list[tuple[str, tuple]]) -> None:
        table = self.table(selector)
        previous, index = cursor_key(table), table.cursor_row
        table.clear()
        for key, cells in rows:
            table.add_row(*cells, key=key)
        keep_cursor(table, [key for key, _ in rows], previous, index)

    def _fill_statements(self) -> None:
        from tuibill.services.bank import FORMAT_LABELS

        self._refill(
            "#bk-statements",
            [
                (str(s.id), (str(s.id), s.period, FORMAT_LABELS.get(s.format, s.format),
                             money(s.closing_balance_cents), str(s.lines), str(s.new_lines)))
                for s in self.statements
            ],
        )  # fmt: skip
        refused = self.query_one("#bk-refused", Static)
        if self.refused:
            last = self.refused[0]
            refused.update(
                Text(
                    f"{len(self.refused)} fichier(s) refusé(s), mis de côté — le dernier, "
                    f"{last.file_name} : {last.reason}"
                )
            )
        else:
            refused.update("")
        refused.display = bool(self.refused)

    def _fill_unmatched(self) -> None:
        self.query_one("#bk-credits-title", Static).update(
            f"Crédits bancaires que personne n'a annoncés ({len(self.credits)})"
        )
        self.query_one("#bk-receipts-title", Static).update(
            f"Recettes annoncées, pas encore sur la banque ({len(self.receipts)})"
        )
        self._refill(
            "#bk-credits",
            [
                (str(c.id), (str(c.id), format_short_day(c.booking_date), money(c.amount_cents),
                             Text(c.text[:60])))
                for c in self.credits
            ],
        )  # fmt: skip
        self._refill(
            "#bk-receipts",
            [
                (r.key, (Text(r.key), format_short_day(r.date), money(r.amount_cents),
                         Text(r.partner[:14]), Text(r.label[:40])))
                for r in self.receipts
            ],
        )  # fmt: skip

    def _fill_matches(self, selector: str, matches: list[MatchView]) -> None:
        self._refill(
            selector,
            [
                (str(m.id), (str(m.id), format_short_day(m.operation.booking_date),
                             money(m.amount_cents), Text(f"{m.kind}:{m.receipt_id}"),
                             money(m.expected_cents),
                             money(m.difference_cents) if m.difference_cents else "",
                             Text(m.rule_name[:30])))
                for m in matches
            ],
        )  # fmt: skip

    # --- tabs, status, hints ---------------------------------------------------------------

    def _show_tabs(self) -> None:
        counts = {
            STATEMENTS: str(len(self.statements)),
            TO_MATCH: str(len(self.credits) + len(self.receipts)),
            MATCHES: str(len(self.matches)),
            DIFFERENCES: str(len(self.differences)),
        }
        line = Text()
        for number, tab in enumerate(TABS, start=1):
            line.append(
                f" {number} {TAB_LABELS[tab]} ({counts[tab]}) ",
                style="bold reverse" if tab == self.tab else "",
            )
            line.append(" ")
        self.query_one("#bk-tabs", Static).update(line)

    def _show_status(self) -> None:
        status = self.query_one("#bk-status", Static)
        text = self.notice
        if not text:
            if self.tab == STATEMENTS:
                text = (
                    "i : importer un relevé (CFONB 120, CAMT.053, OFX)."
                    if not self.statements
                    else f"{len(self.statements)} relevé(s) importé(s) — r : rapprocher."
                )
            elif self.tab == TO_MATCH:
                text = "l : lier le crédit et la recette sous les curseurs (Tab : changer de liste)."
            elif self.tab == MATCHES:
                text = "Entrée : détail (factures payées) — a : annuler ce rapprochement."
            else:
                total = sum(m.difference_cents for m in self.differences)
                text = (
                    f"{len(self.differences)} écart(s), total {_euros(total)} (banque − annoncé)."
                    if self.differences
                    else "Aucun écart de montant."
                )
        status.update(text)
        status.set_class(self.notice_error, "error")

    def current_match(self) -> MatchView | None:
        selector = {MATCHES: "#bk-matches", DIFFERENCES: "#bk-differences"}.get(self.tab)
        if selector is None:
            return None
        key = cursor_key(self.table(selector))
        return next((m for m in self.matches if str(m.id) == key), None)

    def current_credit(self) -> OperationView | None:
        key = cursor_key(self.table("#bk-credits"))
        return next((c for c in self.credits if str(c.id) == key), None)

    def current_receipt(self) -> ReceiptView | None:
        key = cursor_key(self.table("#bk-receipts"))
        return next((r for r in self.receipts if r.key == key), None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("undo", "show_match"):
            return self.current_match() is not None
        if action == "link":
            return self.tab == TO_MATCH and bool(self.credits) and bool(self.receipts)
        return True

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        event.stop()
        self.refresh_bindings()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id in ("bk-matches", "bk-differences"):
            self.action_show_match()

    # --- operations ------------------------------------------------------------------------

    def _fail(self, error: Exception) -> None:
        self._set_notice(str(error), error=True)

    def action_import_statement(self) -> None:
        def chosen(path: str | None) -> None:
            if path:
                self._import(path)

        self.app.push_screen(
            PathDialog(
                "Importer un relevé bancaire",
                "",
                "CFONB 120, CAMT.053 (XML) ou OFX : le fichier est archivé, chaque ligne "
                "enregistrée une fois.",
            ),
            chosen,
        )

    def _import(self, path: str) -> None:
        from tuibill.services import bank

        try:
            (report,) = bank.import_files(
                [path], self.app.settings.transmission, user=self.app.user
            )
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        self.reload()
        self._set_notice(report.summary(), error=report.status == bank.REFUSED_STATUS)

    def action_run_rules(self) -> None:
        from tuibill.services import bank_matching

        try:
            preview = bank_matching.run_matching(user=self.app.user, dry_run=True)
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        if not preview.proposals:
            self._set_notice(preview.summary())
            return
        text = "\n".join([*preview.lines(), "", preview.summary()])

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._run_rules()

        self.app.push_screen(
            TextDialog("Rapprocher ces lignes ?", text, confirm=True), answered
        )

    def _run_rules(self) -> None:
        from tuibill.services import bank_matching

        try:
            report = bank_matching.run_matching(user=self.app.user)
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        self.reload()
        self._set_notice(report.summary())

    def action_link(self) -> None:
        credit, receipt = self.current_credit(), self.current_receipt()
        if credit is None or receipt is None:
            return
        gap = credit.amount_cents - receipt.amount_cents
        detail = (
            f"Ligne {credit.id} du {format_short_day(credit.booking_date)} : "
            f"{_euros(credit.amount_cents)} — {credit.text[:50]}\n"
            f"{receipt.kind_label} {receipt.id} du {format_short_day(receipt.date)} : "
            f"{_euros(receipt.amount_cents)} — {receipt.label[:50]}"
            + (f"\nÉcart : {_euros(gap)}" if gap else "")
        )

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self._link(credit.id, receipt.kind, receipt.id)

        self.app.push_screen(ConfirmDialog("Lier ce crédit et cette recette ?", detail), answered)

    def _link(self, line_id: int, kind: str, receipt_id: int) -> None:
        from tuibill.services import bank_matching

        try:
            match = bank_matching.link(line_id, kind, receipt_id, user=self.app.user)
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        self.reload()
        gap = f", écart {_euros(match.difference_cents)}" if match.difference_cents else ""
        self._set_notice(f"Rapprochement {match.id} fait à la main{gap}.")

    def action_undo(self) -> None:
        match = self.current_match()
        if match is None:
            return

        def answered(reason: str | None) -> None:
            if reason is not None:
                self._undo(match.id, reason)

        self.app.push_screen(
            ReasonDialog(f"Annuler le rapprochement {match.id} ? Motif :", required=True),
            answered,
        )

    def _undo(self, match_id: int, reason: str) -> None:
        from tuibill.services import bank_matching

        try:
            bank_matching.undo(match_id, user=self.app.user, reason=reason)
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        self.reload()
        self._set_notice(
            f"Rapprochement {match_id} annulé : la ligne et la recette sont de nouveau à "
            "rapprocher."
        )

    def action_show_match(self) -> None:
        from tuibill.services import bank_matching

        match = self.current_match()
        if match is None:
            return
        try:
            invoices = bank_matching.invoices_of_match(match.id)
            events = bank_matching.history(match.id)
        except (TuibillError, DatabaseError) as error:
            self._fail(error)
            return
        line = match.operation
        lines = [
            f"Banque : {format_short_day(line.booking_date)} {_euros(line.amount_cents)} — "
            f"{line.text}",
        ]
        if match.receipt is not None:
            receipt = match.receipt
            lines.append(
                f"{receipt.kind_label} {receipt.id} du {format_short_day(receipt.date)} : "
                f"{_euros(receipt.amount_cents)} — {receipt.label} ({receipt.partner})"
            )
        if match.difference_cents:
            lines.append(f"Écart : {_euros(match.difference_cents)} (banque − annoncé)")
        lines.append(f"Règle : {match.rule_name}")
        lines.append("")
        lines.append(f"Factures payées ({len(invoices)}) :")
        lines += [
            f"  {share.number}  {share.patient[:30]:<30} {_euros(share.paid_cents):>12}"
            for share in invoices
        ] or ["  aucune facture rattachée à cette recette"]
        lines.append("")
        lines.append("Historique :")
        lines += [
            f"  {event['le']:%d/%m/%Y %H:%M} {event['par']} : {event['action']} — "
            f"{event['motif']}"
            for event in events
        ]
        self.app.push_screen(TextDialog(f"Rapprochement {match.id}", "\n".join(lines)))
