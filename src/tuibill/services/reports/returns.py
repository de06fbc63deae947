"""The reports on what the caisses answered: AMC rejections (code and label), and the legal
delays of payment (décret 2016-1069: a tiers-payant FSE paid after the 7th working day)."""

from __future__ import annotations

from datetime import date, timedelta

import peewee

from tuibill.domain import delays
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, Organism, ReturnEntry, ReturnRejection, Virement
from tuibill.services.reports.base import PAGE, Column, Filters, Report, ReportRow


class AmcRejections(Report):
    name = "rejets-amc"
    title = "Rejets AMC (code et libellé)"
    description = "les rejets de la part complémentaire, avec leur code et leur libellé"
    columns = (
        Column("id", "Id", "int", 6),
        Column("numero", "N° FSE", "text", 10),
        Column("date", "Date FSE", "date", 10),
        Column("patient", "Patient", "text", 22),
        Column("code", "Code", "text", 5),
        Column("libelle", "Libellé", "text", 36),
        Column("amc_cents", "Part AMC", "cents", 9),
        Column("etat", "État", "text", 14),
    )
    screen_keys = ("numero", "date", "patient", "code", "amc_cents", "libelle")

    def page(self, filters: Filters, after: tuple | None, limit: int = PAGE) -> list[ReportRow]:
        query = (
            ReturnRejection.select(
                ReturnRejection.id, Invoice.id, Invoice.number, Invoice.billing_date,
                Invoice.patient_name, ReturnRejection.code, ReturnRejection.label,
                Invoice.amc_cents, Invoice.state,
            )
            .join(Invoice, on=ReturnRejection.invoice == Invoice.id)
            .where((ReturnRejection.part == "C") & (ReturnRejection.kind == "rejet"))
        )  # fmt: skip
        if filters.since:
            query = query.where(Invoice.billing_date >= filters.since)
        if filters.until:
            query = query.where(Invoice.billing_date <= filters.until)
        if after is not None:
            query = query.where(ReturnRejection.id > after[0])
        rows = []
        for values in query.order_by(ReturnRejection.id).limit(limit).tuples():
            key, id_, number, day, patient, code, label, amc, state = values
            rows.append(ReportRow((key,), {
                "id": id_, "numero": format_invoice_number(number), "date": day,
                "patient": patient, "code": code, "libelle": label, "amc_cents": amc,
                "etat": InvoiceState(state).label,
            }))  # fmt: skip
        return rows


class LegalDelays(Report):
    name = "retards"
    title = "Retards légaux de paiement"
    description = (
        "FSE en tiers payant payées (ou toujours impayées) après le délai de 7 jours ouvrés : "
        "pénalité due par la caisse (décret 2016-1069) ; sans période, la dernière année"
    )
    columns = (
        Column("id", "Id", "int", 6),
        Column("numero", "N° FSE", "text", 10),
        Column("caisse", "Caisse", "text", 18),
        Column("transmise", "Transmise", "date", 10),
        Column("echeance", "Échéance", "date", 10),
        Column("payee", "Payée le", "date", 10),
        Column("jours_retard", "Retard (j)", "int", 6),
        Column("amo_cents", "AMO", "cents", 9),
        Column("penalite_cents", "Pénalité", "cents", 9),
        Column("regle", "Règle", "text", 30),
    )
    screen_keys = ("numero", "caisse", "echeance", "jours_retard", "amo_cents", "penalite_cents")

    def page(self, filters: Filters, after: tuple | None, limit: int = PAGE) -> list[ReportRow]:
        rows: list[ReportRow] = []
        cursor = after
        # Read invoices by key until *limit* late ones are found (most are on time).
        while len(rows) < limit:
            query = (
                Invoice.select(
                    Invoice.id, Invoice.number, Organism.name, Lot.sent_at, Invoice.amo_cents,
                    Invoice.billing_date,
                )
                .join(Lot, on=Invoice.lot == Lot.id)
                .switch(Invoice)
                .join(Organism, peewee.JOIN.LEFT_OUTER, on=Invoice.organism == Organism.id)
                .where(
                    Invoice.amo_tiers_payant & Lot.sent_at.is_null(False)
                    & Invoice.state.in_([
                        InvoiceState.TRANSMISE.value, InvoiceState.PAYEE.value,
                        InvoiceState.PAYEE_PARTIELLEMENT.value,
                    ])
                )
            )  # fmt: skip
            # Without a period: the last year (a payment delay older than that is settled).
            query = query.where(
                Invoice.billing_date >= (filters.since or filters.day - timedelta(days=366))
            )
            if filters.until:
                query = query.where(Invoice.billing_date <= filters.until)
            if cursor is not None:
                query = query.where(
                    peewee.Tuple(Invoice.billing_date, Invoice.id) > peewee.Tuple(*cursor)
                )
            batch = list(query.order_by(Invoice.billing_date, Invoice.id).limit(PAGE).tuples())
            if not batch:
                break
            paid = _paid_on([row[0] for row in batch])
            for id_, number, caisse, sent, amo, day in batch:
                cursor = (day, id_)
                assessed = delays.assess_payment(
                    sent.date(), amo, paid_on=paid.get(id_), today=filters.day
                )
                if not assessed.late:
                    continue
                rows.append(ReportRow((day, id_), {
                    "id": id_, "numero": format_invoice_number(number), "caisse": caisse or "",
                    "transmise": sent.date(), "echeance": assessed.due,
                    "payee": assessed.paid_on, "jours_retard": assessed.days_late,
                    "amo_cents": amo, "penalite_cents": assessed.penalty_cents,
                    "regle": assessed.rule_label,
                }))  # fmt: skip
                if len(rows) == limit:
                    break
            if len(batch) < PAGE:
                break
        return rows


def _paid_on(invoice_ids: list[int]) -> dict[int, date]:
    """The day of the first transfer that paid each invoice's AMO part."""
    query = (
        ReturnEntry.select(ReturnEntry.invoice, peewee.fn.MIN(Virement.accounting_date))
        .join(Virement, on=ReturnEntry.virement == Virement.id)
        .where(ReturnEntry.invoice.in_(invoice_ids) & (ReturnEntry.amo_paid_cents > 0))
        .group_by(ReturnEntry.invoice)
    )
    found = {}
    for invoice_id, day in query.tuples():
        found[invoice_id] = day if isinstance(day, date) else date.fromisoformat(str(day))
    return found


REPORTS = (AmcRejections(), LegalDelays())
