"""An invoice as a plain dict: the ``--json`` output and the detail screen read the same view."""

from __future__ import annotations

from tuibill.domain.formatting import format_coefficient, format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, InvoiceLine, InvoiceTransition
from tuibill.services.return_views import invoice_returns


def _label(state: str | None) -> str | None:
    return None if state is None else InvoiceState(state).label


def invoice_record(invoice: Invoice, *, lines: bool = True, history: bool = True) -> dict:
    record = {
        "id": invoice.id,
        "numero": format_invoice_number(invoice.number),
        "etat": _label(invoice.state),
        "etat_code": invoice.state,
        "mode": invoice.mode,
        "praticien": invoice.practitioner.display_name,
        "praticien_am": invoice.practitioner.am_number,
        "patient_id": invoice.patient_id,
        "patient": invoice.patient.display_name,
        "prescription_id": invoice.prescription_id,
        "date_facturation": invoice.billing_date,
        "acte_du": invoice.first_act_date,
        "acte_au": invoice.last_act_date,
        "caisse": invoice.organism.name if invoice.organism_id else None,
        "mutuelle": invoice.mutuelle.name if invoice.mutuelle_id else None,
        "taux_amo": invoice.amo_rate,
        "tiers_payant_amo": invoice.amo_tiers_payant,
        "tiers_payant_amc": invoice.amc_tiers_payant,
        "total_cents": invoice.total_cents,
        "amo_cents": invoice.amo_cents,
        "amc_cents": invoice.amc_cents,
        "patient_cents": invoice.patient_cents,
        "lot": invoice.lot_number,
    }
    answers = invoice_returns(invoice.id)
    record.update(
        amo_paye_cents=answers["amo_paye_cents"],
        amc_paye_cents=answers["amc_paye_cents"],
        rejets=answers["rejets"],
        retours=answers["retours"],
    )
    per_line = answers["lignes"]
    if lines:
        record["lignes"] = [
            {
                "position": line.position,
                "date": line.act_date,
                "heure": line.act_time,
                "code": line.code,
                "libelle": line.label,
                "type": line.kind,
                "coefficient": format_coefficient(line.coefficient_x100),
                "quantite": line.quantity,
                "unitaire_cents": line.unit_cents,
                "total_cents": line.total_cents,
                "amo_cents": line.amo_cents,
                "amc_cents": line.amc_cents,
                "patient_cents": line.patient_cents,
                "rembourse_cents": per_line.get(line.id, {}).get("rembourse_cents"),
                "refusee": per_line.get(line.id, {}).get("refusee", False),
            }
            for line in InvoiceLine.select()
            .where(InvoiceLine.invoice == invoice.id)
            .order_by(InvoiceLine.position)
        ]
    if history:
        record["historique"] = [
            {
                "date": t.at,
                "utilisateur": t.user,
                "de": _label(t.from_state),
                "vers": _label(t.to_state),
                "action": t.action,
                "motif": t.reason,
            }
            for t in InvoiceTransition.select()
            .where(InvoiceTransition.invoice == invoice.id)
            .order_by(InvoiceTransition.at, InvoiceTransition.id)
        ]
    return record


def invoice_detail(invoice_id: int) -> dict | None:
    """The invoice's record (header, lines, history of transitions), or None if it is gone."""
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    return None if invoice is None else invoice_record(invoice)
