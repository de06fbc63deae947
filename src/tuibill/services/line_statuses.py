"""Refused act lines (seed 001): one status per line, and what the next billing run carries.

A return that pays an invoice in part names the lines it refused (``ReturnLine.refused``). The
desk gives each line one status (``domain.returns.LineStatus``): the statuses that re-bill put
the act back among « Actes isolés » in Facturer (an isolated act tied to the line, same day); the
statuses that credit leave a negative line for the next invoice of that patient and payer.
:func:`carry_over` is what ``services.invoices`` asks when it writes an invoice's lines: that
invoice then carries, for the same day, the negative line (the refused amount) and the positive
line (the re-billed one), so the totals of both runs reconcile. « Restaurer » undoes a status
until the next run carried it. Each change is a history event of the invoice, sealed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from tuibill.domain.errors import NotFound, RefusedOperation
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.returns import (
    LINE_STATUS_RULES,
    RESTORE,
    LineStatus,
    check_line_status,
    check_restore,
)
from tuibill.models import (
    Invoice,
    InvoiceLine,
    IsolatedAct,
    LineDecision,
    ReturnEntry,
    ReturnLine,
    ReturnRejection,
)
from tuibill.models.database import immediate
from tuibill.services import lifecycle

# The invoices whose lines take a status: paid (a paid line credited) or paid in part.
STATUS_STATES = (InvoiceState.PAYEE, InvoiceState.PAYEE_PARTIELLEMENT)
LINE_STATUS_EVENT = "line_status"


@dataclass(frozen=True)
class LineRow:
    """One act line of the invoice as the returns left it, with its status."""

    rank: int  # from 1, the NOEMIE line number
    line_id: int
    act_date: date
    code: str
    total_cents: int
    amo_cents: int
    refunded_cents: int | None  # what the caisse paid on it; None: no return for the line
    refused: bool
    rejection: str  # « code libellé »
    status: LineStatus | None
    carried: str  # where the next run took it (« n° 000007402 »), or ""

    @property
    def status_label(self) -> str:
        return self.status.label if self.status else ("Refusée" if self.refused else "")

    def as_dict(self) -> dict:
        return {
            "ligne": self.rank, "date": self.act_date, "code": self.code,
            "total_cents": self.total_cents, "amo_cents": self.amo_cents,
            "rembourse_cents": self.refunded_cents, "refusee": self.refused,
            "rejet": self.rejection, "statut": self.status.value if self.status else None,
            "libelle_statut": self.status_label, "reprise_sur": self.carried or None,
        }  # fmt: skip


def _invoice(invoice_id: int) -> Invoice:
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        raise NotFound(f"Facture {invoice_id} introuvable.")
    return invoice


def _carried(decision: LineDecision | None) -> str:
    if decision is None:
        return ""
    numbers = []
    for invoice_id in (
        decision.credit_invoice_id,
        decision.rebill_act.invoice_id if decision.rebill_act_id and decision.rebill_act else None,
    ):
        if invoice_id is not None:
            number = Invoice.get_by_id(invoice_id).number
            numbers.append(format_invoice_number(number) or f"(brouillon {invoice_id})")
    return ", ".join(dict.fromkeys(numbers))


def lines_of(invoice_id: int) -> list[LineRow]:
    """Every line of the invoice with what the latest return said of it, and its status."""
    invoice = _invoice(invoice_id)
    lines = list(
        InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    )
    answered: dict[int, ReturnLine] = {}
    for row in (
        ReturnLine.select(ReturnLine)
        .join(ReturnEntry)
        .where(ReturnEntry.invoice == invoice.id)
        .order_by(ReturnLine.id)
    ):
        if row.invoice_line_id is not None:
            answered[row.invoice_line_id] = row  # the latest return wins
    rejections: dict[int, str] = {}
    for row in ReturnRejection.select().where(
        (ReturnRejection.invoice == invoice.id) & ReturnRejection.invoice_line.is_null(False)
    ):
        rejections[row.invoice_line_id] = f"{row.code} {row.label}".strip()
    decisions = {
        d.invoice_line_id: d
        for d in LineDecision.select().where(LineDecision.invoice == invoice.id)
    }
    rows = []
    for rank, line in enumerate(lines, 1):
        back = answered.get(line.id)
        decision = decisions.get(line.id)
        rows.append(
            LineRow(
                rank=rank, line_id=line.id, act_date=line.act_date, code=line.code,
                total_cents=line.total_cents, amo_cents=line.amo_cents,
                refunded_cents=back.refunded_cents if back else None,
                refused=bool(back and back.refused), rejection=rejections.get(line.id, ""),
                status=LineStatus(decision.status) if decision else None,
                carried=_carried(decision),
            )  # fmt: skip
        )
    return rows


def set_status(
    invoice_id: int,
    rank: int,
    status: str,
    *,
    user: str,
    reason: str = "",
    now: datetime | None = None,
) -> LineRow:
    """Give line *rank* (from 1) of the invoice one status, or « restaurer » it; refused with the
    reason when the status does not fit the line (a credit on an unpaid line…)."""
    at = lifecycle.current_time(now)
    with immediate():
        invoice = _invoice(invoice_id)
        if InvoiceState(invoice.state) not in STATUS_STATES:
            raise RefusedOperation(
                f"La facture {format_invoice_number(invoice.number)} est à l'état "
                f"« {InvoiceState(invoice.state).label} » : les statuts de ligne suivent un "
                "paiement (total ou partiel) de la caisse."
            )
        rows = lines_of(invoice.id)
        if not 1 <= rank <= len(rows):
            raise RefusedOperation(f"Ligne {rank} inconnue (la facture en a {len(rows)}).")
        row = rows[rank - 1]
        where = f"Ligne {rank} ({row.code} du {row.act_date:%d/%m/%Y})"
        decision = LineDecision.get_or_none(LineDecision.invoice_line == row.line_id)
        if status == RESTORE:
            check_restore(row.status, carried=row.carried, line=where)
            assert decision is not None
            if decision.rebill_act_id is not None:
                IsolatedAct.delete().where(IsolatedAct.id == decision.rebill_act_id).execute()
            decision.delete_instance()
            lifecycle.record_invoice_event(
                invoice, LINE_STATUS_EVENT, user, f"ligne {rank} : restaurée ({row.status_label})"
            )
            return lines_of(invoice.id)[rank - 1]
        try:
            chosen = LineStatus(status)
        except ValueError:
            known = ", ".join([s.value for s in LineStatus] + [RESTORE])
            raise RefusedOperation(f"Statut « {status} » inconnu (possibles : {known}).") from None
        if row.refunded_cents is None:
            raise RefusedOperation(f"{where} : aucun retour de la caisse sur cette ligne.")
        rule = check_line_status(chosen, refused=row.refused, current=row.status, line=where)
        line = InvoiceLine.get_by_id(row.line_id)
        if rule.rebills and line.parent_position is not None:
            parent = next(r for r in rows if r.line_id == _parent_id(invoice, line))
            raise RefusedOperation(
                f"{where} : une majoration ou un déplacement se refacture avec son acte : "
                f"choisissez le statut sur la ligne {parent.rank} ({parent.code})."
            )
        rebill = None
        if rule.rebills:
            rebill = _put_back(invoice, line)
        LineDecision.create(
            invoice_line=line.id, invoice=invoice.id, patient=invoice.patient_id,
            practitioner=invoice.practitioner_id, organism=invoice.organism_id,
            status=chosen.value, refused=row.refused, set_at=at, set_by=user,
            rebill_act=rebill.id if rebill else None,
        )  # fmt: skip
        text = f"ligne {rank} : {chosen.label}" + (f" — {reason.strip()}" if reason.strip() else "")
        lifecycle.record_invoice_event(invoice, LINE_STATUS_EVENT, user, text)
        return lines_of(invoice.id)[rank - 1]


def _parent_id(invoice: Invoice, line: InvoiceLine) -> int:
    return InvoiceLine.get(
        (InvoiceLine.invoice == invoice.id) & (InvoiceLine.position == line.parent_position)
    ).id


def _credited_lines(line: InvoiceLine) -> list[InvoiceLine]:
    """An act's line is credited with its majorations and travel (billed again together)."""
    if line.parent_position is not None:
        return [line]
    children = InvoiceLine.select().where(
        (InvoiceLine.invoice == line.invoice_id) & (InvoiceLine.parent_position == line.position)
    )
    return [line, *children.order_by(InvoiceLine.position)]


def _put_back(invoice: Invoice, line: InvoiceLine) -> IsolatedAct:
    """The act of *line* back among « Actes isolés », the same day, tied to the line; a
    majoration or travel line is re-billed with its act."""
    act, majorations, home_visit, mileage = line, [], False, 0
    if line.parent_position is not None:
        act = InvoiceLine.get(
            (InvoiceLine.invoice == invoice.id) & (InvoiceLine.position == line.parent_position)
        )
    for child in InvoiceLine.select().where(
        (InvoiceLine.invoice == invoice.id) & (InvoiceLine.parent_position == act.position)
    ):
        if child.code in ("MAU", "MCI", "MIE"):
            majorations.append(child.code)
        elif child.code == "IFD":
            home_visit = True
        elif child.code == "IK":
            mileage = child.quantity
    return IsolatedAct.create(
        patient=invoice.patient_id, practitioner=invoice.practitioner_id,
        act_date=act.act_date, act_time=act.act_time, code=act.code,
        coefficient_x100=act.coefficient_x100, majorations=",".join(majorations),
        home_visit=home_visit, mileage_km=mileage, rebills_line=line.id,
    )  # fmt: skip


@dataclass(frozen=True)
class CarryOver:
    """What the next invoice of a patient and payer takes from the refused lines."""

    rebill_act_ids: tuple[int, ...]  # isolated acts to bill (the positive lines)
    credits: tuple[InvoiceLine, ...]  # lines to credit (the negative lines)
    decision_ids: tuple[int, ...]  # the decisions whose credit it carries


def carry_over(patient_id: int, practitioner_id: int, organism_id: int | None) -> CarryOver:
    """The pending re-billed acts of the patient (any payer: « autre destination » goes to the
    corrected one) and the pending credits for this payer, oldest first."""
    acts, credits, decisions = [], [], []
    for decision in (
        LineDecision.select()
        .where(
            (LineDecision.patient == patient_id) & (LineDecision.practitioner == practitioner_id)
        )
        .order_by(LineDecision.id)
    ):
        rule = LINE_STATUS_RULES[LineStatus(decision.status)]
        if rule.rebills and decision.rebill_act_id is not None:
            act = IsolatedAct.get_or_none(IsolatedAct.id == decision.rebill_act_id)
            if act is not None and act.invoice_id is None:
                acts.append(act.id)
        if rule.credits and decision.credit_invoice_id is None and (
            decision.organism == organism_id
        ):
            credits.extend(_credited_lines(InvoiceLine.get_by_id(decision.invoice_line_id)))
            decisions.append(decision.id)
    return CarryOver(tuple(acts), tuple(credits), tuple(decisions))


def mark_carried(decision_ids: tuple[int, ...], invoice_id: int) -> None:
    if decision_ids:
        LineDecision.update(credit_invoice=invoice_id).where(
            LineDecision.id.in_(list(decision_ids))
        ).execute()
