"""One invoice, read-only: header, lines with their amounts, totals and the history of its moves.

Opened by any screen that lists invoices (``app.open_invoice``); Escape goes back. The history
says each move in French (``domain.invoices.history_label``).
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from tuibill.domain.formatting import (
    format_cents,
    format_day,
    format_lot_number,
    format_short_day,
    format_short_when,
    format_when,
)
from tuibill.domain.invoices import history_label, mode_label
from tuibill.widgets.cells import money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import ListsPanel, RowTable


def _yes_no(value: bool) -> str:
    return "oui" if value else "non"


def header_text(record: dict) -> str:
    """The invoice's identity, parties and terms, one fact per line pair."""
    acts = format_day(record["acte_du"])
    if record["acte_au"] and record["acte_au"] != record["acte_du"]:
        acts = f"du {acts} au {format_day(record['acte_au'])}"
    lines = [
        f"Patient      : {record['patient']}",
        f"Praticien    : {record['praticien']}  (AM {record['praticien_am']})",
        f"Facturée le  : {format_day(record['date_facturation'])}    Actes : {acts}",
        f"Caisse       : {record['caisse'] or '—'}    Mutuelle : {record['mutuelle'] or '—'}",
        f"Taux AMO     : {record['taux_amo']} %    Tiers payant AMO : "
        f"{_yes_no(record['tiers_payant_amo'])}, AMC : {_yes_no(record['tiers_payant_amc'])}",
        f"Mode         : {mode_label(record['mode'])}"
        + (f"    Lot : {format_lot_number(record['lot'])}" if record["lot"] else ""),
    ]
    return "\n".join(lines)


def totals_text(record: dict) -> str:
    return (
        f"Total {format_cents(record['total_cents'])}   "
        f"AMO {format_cents(record['amo_cents'])}   "
        f"AMC {format_cents(record['amc_cents'])}   "
        f"Assuré {format_cents(record['patient_cents'])}"
    )


def returns_text(record: dict) -> str:
    """What the caisse's returns said: paid per part, each return, each rejection."""
    if not record.get("retours"):
        return ""
    lines = [
        f"Payé par la caisse : AMO {format_cents(record['amo_paye_cents'])}   "
        f"AMC {format_cents(record['amc_paye_cents'])}"
    ]
    for answer in record["retours"]:
        lines.append(
            f"  {format_day(answer['recu_le'])} {answer['fichier']} : {answer['resultat']}"
            + (f" — {answer['note']}" if answer["note"] else "")
        )
    for rejection in record["rejets"]:
        where = f" ligne {rejection['ligne']}" if rejection["ligne"] else ""
        lines.append(
            f"  {rejection['type'].capitalize()} {rejection['code']} {rejection['libelle']} "
            f"({rejection['niveau']}{where}, {rejection['part']})"
        )
    return "\n".join(lines)


class InvoiceDetailScreen(DrawnOnce):
    """The detail of invoice *invoice_id*."""

    CSS_PATH = "../styles/journal.tcss"
    AUTO_FOCUS = "#detail-lines"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.back", "Retour", id="facture_retour"),
        Binding("ctrl+a", "attach_piece", "Joindre une pièce SCOR", id="facture_joindre_piece"),
        Binding("ctrl+r", "treat_rejection", "Traiter le rejet", id="facture_traiter_rejet"),
    ]
    # The states whose invoice has a rejection (or refused lines) to treat (issue 9).
    TREATABLE = frozenset({"REJETEE", "RECYCLEE", "PAYEE_PARTIELLEMENT", "ANNULEE_AVOIR"})

    def __init__(self, invoice_id: int) -> None:
        super().__init__()
        self.invoice_id = invoice_id
        self.record: dict | None = None

    def compose(self) -> ComposeResult:
        from tuibill.services.invoice_views import invoice_detail

        self.record = invoice_detail(self.invoice_id)
        if self.record is not None:
            self.title = f"Facture n° {self.record['numero'] or 'sans numéro'}"
        yield AppHeader()
        if self.record is None:
            yield Static(f"Facture {self.invoice_id} introuvable.", classes="error")
        else:
            # Who, what, for whom: fixed above the lists, never scrolled away (issue 13 #13).
            with Vertical(id="detail-top"):
                number = self.record["numero"] or "sans numéro"
                yield Static(
                    f"Facture n° {number} — {self.record['etat']}",
                    id="detail-title",
                    classes="title",
                    markup=False,
                )
                yield Static(header_text(self.record), id="detail-header", markup=False)
                yield Static(
                    "Tab : actes, pièces, historique — Début / Fin : première / dernière ligne",
                    classes="hint",
                )
            with ListsPanel(id="detail-body"):
                yield Static("Actes", classes="title")
                yield RowTable(id="detail-lines")
                yield Static(totals_text(self.record), id="detail-totals")
                if self.record.get("retours"):
                    yield Static("Retours de la caisse", classes="title")
                    yield Static(returns_text(self.record), id="detail-returns", markup=False)
                yield Static("Pièces SCOR", classes="title")
                yield RowTable(id="detail-pieces")
                yield Static("Historique", classes="title")
                yield RowTable(id="detail-history")
        yield AppFooter()

    def on_mount(self) -> None:
        record = self.record
        if record is None:
            return
        lines = self.query_one("#detail-lines", DataTable)
        # At 80 columns: when, which act, its amount (after a return: what the caisse refunded
        # and whether it refused the line) and its label; the amount's split (AMO, AMC, assuré)
        # follows to the right, and its totals are under the list.
        answered = bool(record.get("retours"))
        titles = ["Date", "Code", "Coef.", "Qté", "Montant"]
        titles += ["Remb.", "Refus"] if answered else []
        for title in (*titles, "Libellé", "AMO", "AMC", "Assuré"):
            lines.add_column(title, key=title)
        for line in record["lignes"]:
            when = format_short_day(line["date"]) + (f" {line['heure']}" if line["heure"] else "")
            paid = (
                (money(line["rembourse_cents"] or 0), "REFUS" if line["refusee"] else "")
                if answered
                else ()
            )
            lines.add_row(
                when,
                line["code"],
                line["coefficient"],
                str(line["quantite"]),
                money(line["total_cents"]),
                *paid,
                Text(line["libelle"]),
                *(money(line[key]) for key in ("amo_cents", "amc_cents", "patient_cents")),
            )
        pieces = self.query_one("#detail-pieces", DataTable)
        for title in ("Type", "Fichier", "Taille", "Ajoutée le", "Par"):
            pieces.add_column(title, key=title)
        self._load_pieces()
        history = self.query_one("#detail-history", DataTable)
        # At 80 columns: when, what, to which state, by whom; then where from and why.
        for title in ("Le", "Action", "Vers", "Par", "De", "Motif"):
            history.add_column(title, key=title)
        for move in record["historique"]:
            history.add_row(
                format_short_when(move["date"]),
                history_label(move["action"]),
                move["vers"] or "",
                Text(move["utilisateur"]),
                move["de"] or "—",
                Text(move["motif"] or ""),
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "treat_rejection":
            return bool(self.record and self.record["etat_code"] in self.TREATABLE)
        return True

    def action_treat_rejection(self) -> None:
        """The motif of the rejection and what to do (seed 000), from the journal (F5)."""
        self.app.open_rejection(self.invoice_id)

    def _load_pieces(self) -> None:
        from tuibill.services.pieces import KINDS, list_pieces

        table = self.query_one("#detail-pieces", DataTable)
        table.clear()
        for piece in list_pieces(self.invoice_id):
            table.add_row(
                KINDS.get(piece.kind, piece.kind),
                piece.file_name,
                f"{piece.size // 1024 + 1} Ko",
                format_when(piece.added_at),
                piece.added_by,
            )

    def action_attach_piece(self) -> None:
        """Mode dégradé: the prescription or the paper sheet, scanned as PDF, travels in SCOR."""
        from tuibill.dialogs.attach_piece import AttachPieceDialog
        from tuibill.services.pieces import KINDS, attach_refusal

        if self.record is None:
            return
        refusal = attach_refusal(self.invoice_id)
        if refusal is not None:  # said at once, before asking for a file it would refuse
            self.notify(refusal, title="Pièce SCOR", severity="warning", markup=False)
            return

        def attach(request) -> None:
            if request is None:
                return
            from tuibill.domain.errors import TuibillError
            from tuibill.services.pieces import attach_piece

            try:
                attach_piece(
                    self.invoice_id,
                    request.path.name,
                    request.path.read_bytes(),
                    kind=request.kind,
                    user=self.app.user,
                )
            except (TuibillError, OSError) as problem:
                self.notify(str(problem), title="Pièce SCOR", severity="error", markup=False)
                return
            self.notify(f"Pièce « {request.path.name} » jointe.", title="Pièce SCOR")
            self._load_pieces()

        self.app.push_screen(AttachPieceDialog(KINDS), attach)

