"""One rejected invoice and its guided treatment (seed 000), opened from F7 or the journal
(``app.open_rejection``).

It shows the invoice, the caisse's rejections, the motif, what to do and the field to correct,
and offers, by key, the moves the motif allows from the invoice's state: « Recommencer la FSE »
(the corrections asked in a dialog, re-validated with the same number), « Créer un avoir » then
« Nouvelle facture », marking « facture déjà payée » treated, an AMC rejection on paper or billed
to the patient, recycling and « Réactiver Télétrans ». The refused lines of a partly paid invoice
open their own dialog. Everything goes through ``services.rejections``.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tuibill.domain.formatting import format_cents, format_day
from tuibill.domain.invoices import InvoiceAction
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import ListsPanel


class RejectionTreatmentScreen(DrawnOnce):
    """The treatment of the rejection of invoice *invoice_id*."""

    TITLE = "Traitement du rejet"

    CSS_PATH = "../styles/rejections.tcss"
    AUTO_FOCUS = "#treat-rejections"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", "Retour", id="rejet_retour"),
        Binding("r", "treat('restart')", "Recommencer la FSE", id="rejet_recommencer"),
        Binding("a", "treat('credit_note')", "Créer un avoir", id="rejet_avoir"),
        Binding("n", "new_invoice", "Nouvelle facture", id="rejet_nouvelle"),
        Binding("t", "treat('mark_treated')", "Marquer traité", id="rejet_traite"),
        Binding("p", "treat('amc_paper')", "Papier AMC", id="rejet_papier"),
        Binding("f", "treat('bill_patient')", "Facturer au patient", id="rejet_patient"),
        Binding("y", "treat('recycle')", "Recycler", id="rejet_recycler"),
        Binding("v", "treat('reactivate')", "Réactiver Télétrans", id="rejet_reactiver"),
        Binding("l", "refused_lines", "Lignes refusées", id="rejet_lignes"),
        Binding("d", "detail", "Détail", id="rejet_detail"),
    ]

    def __init__(self, invoice_id: int) -> None:
        super().__init__()
        self.invoice_id = invoice_id
        self.view = None

    def compose(self) -> ComposeResult:
        yield AppHeader()
        # The invoice, the motif and the keys stay in view; the lists scroll under them (at
        # 80×24 the invoice's number and what to do were scrolled out of sight).
        with Vertical(id="treat-top"):
            yield Static("", id="treat-title", classes="title")
            yield Static("", id="treat-header")
            yield Static("", id="treat-todo")
            yield Static("", id="treat-actions")
        with ListsPanel(id="treat-body"):
            yield Static("Rejets de la caisse", classes="title")
            yield DataTable(id="treat-rejections", cursor_type="row", zebra_stripes=True)
            yield Static("Actes", classes="title")
            yield DataTable(id="treat-lines", cursor_type="row", zebra_stripes=True)
        yield AppFooter()

    def on_mount(self) -> None:
        rejections = self.query_one("#treat-rejections", DataTable)
        for title in ("Code", "Libellé", "Niv.", "Part", "Ligne", "Motif"):
            rejections.add_column(title, key=title)
        lines = self.query_one("#treat-lines", DataTable)
        for title in ("Rang", "Date", "Code", "Coef.", "Montant", "AMO", "AMC"):
            lines.add_column(title, key=title)
        self.refresh_view()

    def refresh_view(self) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services.rejections import rejection_view

        try:
            view = rejection_view(self.invoice_id)
        except TuibillError as problem:
            self.query_one("#treat-title", Static).update(str(problem))
            return
        self.view = view
        mode = "SESAM-Vitale" if view.mode == "sesam_vitale" else "dégradé"
        self.query_one("#treat-title", Static).update(
            f"Facture n° {view.number} — {view.state.label} — mode {mode}"
        )
        header = [
            f"Patient : {view.patient}    Caisse : {view.caisse or '—'}",
            f"Total {format_cents(view.total_cents)}  AMO {format_cents(view.amo_cents)} "
            f"(payé {format_cents(view.amo_paid_cents)})  AMC {format_cents(view.amc_cents)} "
            f"(payé {format_cents(view.amc_paid_cents)})",
            f"Prescripteur : {view.prescriber or '—'}    Prescrite le : "
            f"{format_day(view.prescription_date) or '—'}"
            + (f"    Décès : {format_day(view.death_date)}" if view.death_date else ""),
        ]
        if view.credit_note:
            header.append(
                f"Avoir {view.credit_note}"
                + (f" — nouvelle facture {view.replacement_id}" if view.replacement_id else "")
            )
        if view.recycled:
            header.append(f"Recyclée {view.recycled}")
        self.query_one("#treat-header", Static).update("\n".join(header))
        table = self.query_one("#treat-rejections", DataTable)
        table.clear()
        for r in view.rejections:
            # Cut to fit 80 columns without a horizontal scrollbar (the full label: « d »).
            table.add_row(
                r.code, r.label[:28], r.level, r.part, str(r.line_number or ""), r.motif[:18]
            )
        todo = f"Motif : {view.motif_label}\nQue faire : {view.what_to_do}"
        if view.field_label:
            todo += f"\nÀ corriger : {view.field_label}"
        self.query_one("#treat-todo", Static).update(todo)
        keys = [f"{a.key} : {a.label}" for a in view.actions]
        if view.credit_note and not view.replacement_id:
            keys.append("n : Nouvelle facture")
        keys.append("l : Lignes refusées — d : Détail")
        self.query_one("#treat-actions", Static).update(
            "   ".join(keys) if view.actions or view.credit_note else "Touches : " + keys[-1]
        )
        lines = self.query_one("#treat-lines", DataTable)
        lines.clear()
        for rank, line in enumerate(view.lines, 1):
            lines.add_row(
                str(rank), format_day(line["date"]), line["code"], line["coefficient"],
                format_cents(line["total_cents"]), format_cents(line["amo_cents"]),
                format_cents(line["amc_cents"]),
            )  # fmt: skip
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the moves the motif offers from the invoice's state show and act."""
        if self.view is None or action not in ("treat", "new_invoice"):
            return True
        if action == "new_invoice":
            return bool(self.view.credit_note and not self.view.replacement_id)
        offered = {a.action.value for a in self.view.actions}
        return parameters[0] in offered

    def _error(self, problem: Exception) -> None:
        self.notify(str(problem), title="Rejet", severity="error", markup=False)

    def action_treat(self, action: str) -> None:
        from tuibill.dialogs.reason import ReasonDialog
        from tuibill.domain.invoices import REASON_PROMPTS

        chosen = InvoiceAction(action)
        if chosen is InvoiceAction.RESTART:
            self._restart()
            return
        if chosen is InvoiceAction.AMC_PAPER:
            self._paper()
            return
        question = REASON_PROMPTS.get(chosen, f"{chosen.label} : motif (facultatif)")
        required = chosen in REASON_PROMPTS and chosen not in (
            InvoiceAction.MARK_TREATED, InvoiceAction.BILL_PATIENT, InvoiceAction.REACTIVATE,
        )  # fmt: skip
        self.app.push_screen(
            ReasonDialog(question, required=required), lambda reason: self._apply(chosen, reason)
        )

    def _apply(self, action: InvoiceAction, reason: str | None) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services import rejections

        if reason is None:
            return
        user = self.app.user
        try:
            if action is InvoiceAction.CREDIT_NOTE:
                note = rejections.create_credit_note(self.invoice_id, user=user, reason=reason)
                message = (
                    f"Avoir {rejections.format_credit_note(note)} créé : « n » fait la nouvelle "
                    "facture."
                )
            elif action is InvoiceAction.MARK_TREATED:
                rejections.mark_treated(self.invoice_id, user=user, reason=reason)
                message = "Rejet traité : la facture ne sera pas renvoyée."
            elif action is InvoiceAction.BILL_PATIENT:
                invoice = rejections.bill_patient(self.invoice_id, user=user, reason=reason)
                message = (
                    f"{format_cents(invoice.amc_to_patient_cents or 0)} € demandés au patient."
                )
            elif action is InvoiceAction.RECYCLE:
                rejections.recycle(self.invoice_id, user=user, reason=reason)
                message = "Facture recyclée : « v » la réactive (même numéro)."
            elif action is InvoiceAction.REACTIVATE:
                rejections.reactivate(
                    self.invoice_id, user=user, reason=reason,
                    recycling_days=self.app.settings.transmission.recycling_days,
                )  # fmt: skip
                message = "Facture réactivée : elle partira au prochain lot, même numéro."
            else:
                return
        except TuibillError as problem:
            self._error(problem)
            return
        self.notify(message, title="Rejet")
        self.refresh_view()

    def _restart(self) -> None:
        from tuibill.dialogs.rejection_corrections import CorrectionsDialog

        if self.view is None:
            return

        def done(invoice_number: str | None) -> None:
            if invoice_number:
                self.notify(
                    f"Facture {invoice_number} recommencée et revalidée : elle partira au "
                    "prochain lot avec le même numéro.",
                    title="Rejet",
                )
                self.refresh_view()

        self.app.push_screen(CorrectionsDialog(self.view), done)

    def _paper(self) -> None:
        from tuibill.dialogs.text_view import TextDialog
        from tuibill.services.rejections import paper_claim

        claim = paper_claim(self.invoice_id)

        def answer(ok: bool | None) -> None:
            if not ok:
                return
            from tuibill.domain.errors import TuibillError
            from tuibill.services.rejections import amc_paper

            try:
                amc_paper(self.invoice_id, user=self.app.user)
            except TuibillError as problem:
                self._error(problem)
                return
            self.notify("Part AMC traitée sur papier avec la mutuelle.", title="Rejet")
            self.refresh_view()

        self.app.push_screen(
            TextDialog(f"{claim.title} — traiter ainsi sur papier ?", claim.text(), confirm=True),
            answer,
        )

    def action_new_invoice(self) -> None:
        from tuibill.domain.errors import TuibillError
        from tuibill.services.rejections import new_invoice_from

        try:
            new = new_invoice_from(self.invoice_id, user=self.app.user)
        except TuibillError as problem:
            self._error(problem)
            return
        self.notify(
            f"Nouvelle facture {new.id} en saisie (mode dégradé) : signez-la, joignez les pièces "
            "SCOR.",
            title="Rejet",
        )
        self.refresh_view()
        self.app.open_invoice(new.id)

    def action_refused_lines(self) -> None:
        self.app.open_refused_lines(self.invoice_id)

    def action_detail(self) -> None:
        self.app.open_invoice(self.invoice_id)
