"""The FSE reports (seed 002's list): télétransmises, non payées, en attente de retour,
rejetées, recyclées — each over invoices, paged by (date of the FSE, id) through an index."""

from __future__ import annotations

from datetime import timedelta

import peewee

from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.models import Invoice, Lot, Organism, ReturnRejection
from tuibill.services.reports.base import PAGE, Column, Filters, Report, ReportRow

S = InvoiceState
# Every state an FSE reaches once transmitted.
TRANSMITTED = (
    S.TRANSMISE, S.PAYEE, S.PAYEE_PARTIELLEMENT, S.REJETEE, S.RECYCLEE, S.REJET_TRAITE,
    S.AMC_PAPIER, S.AMC_PATIENT, S.ANNULEE_AVOIR,
)  # fmt: skip

COLUMNS = (
    Column("id", "Id", "int", 8),
    Column("numero", "N° FSE", "text", 10),
    Column("date", "Date FSE", "date", 10),
    Column("patient", "Patient", "text", 22),
    Column("caisse", "Caisse", "text", 18),
    Column("lot", "Lot", "text", 4),
    Column("total_cents", "Total", "cents", 9),
    Column("amo_cents", "AMO", "cents", 9),
    Column("amo_paye_cents", "AMO payé", "cents", 9),
    Column("etat", "État", "text", 14),
)


class InvoiceReport(Report):
    states: tuple[InvoiceState, ...] = TRANSMITTED
    columns = COLUMNS
    screen_keys = ("numero", "date", "patient", "total_cents", "etat")

    def narrow(self, query: peewee.ModelSelect, filters: Filters) -> peewee.ModelSelect:
        return query

    def page(self, filters: Filters, after: tuple | None, limit: int = PAGE) -> list[ReportRow]:
        query = (
            Invoice.select(
                Invoice.id, Invoice.number, Invoice.billing_date, Invoice.patient_name,
                Organism.name, Invoice.lot_number, Invoice.total_cents, Invoice.amo_cents,
                Invoice.amo_paid_cents, Invoice.state,
            )
            .join(Organism, peewee.JOIN.LEFT_OUTER, on=Invoice.organism == Organism.id)
            .where(Invoice.state.in_([s.value for s in self.states]))
        )  # fmt: skip
        if filters.since:
            query = query.where(Invoice.billing_date >= filters.since)
        if filters.until:
            query = query.where(Invoice.billing_date <= filters.until)
        if after is not None:
            query = query.where(
                peewee.Tuple(Invoice.billing_date, Invoice.id) > peewee.Tuple(*after)
            )
        query = self.narrow(query, filters)
        rows = []
        for values in query.order_by(Invoice.billing_date, Invoice.id).limit(limit).tuples():
            (id_, number, day, patient, caisse, lot, total, amo, amo_paid, state) = values
            rows.append(
                ReportRow(
                    (day, id_),
                    {
                        "id": id_, "numero": format_invoice_number(number), "date": day,
                        "patient": patient, "caisse": caisse or "",
                        "lot": f"{lot:03d}" if lot is not None else "",
                        "total_cents": total, "amo_cents": amo, "amo_paye_cents": amo_paid,
                        "etat": InvoiceState(state).label,
                    },
                )  # fmt: skip
            )
        return rows


class Transmitted(InvoiceReport):
    name = "fse-transmises"
    title = "FSE télétransmises"
    description = "toutes les FSE transmises aux AMO, par date"


class Unpaid(InvoiceReport):
    name = "fse-non-payees"
    title = "FSE non payées (recyclables)"
    description = "transmises, sans paiement ni rejet : à recycler pour renvoyer le même numéro"
    states = (S.TRANSMISE,)


class Awaiting(InvoiceReport):
    name = "fse-en-attente"
    title = "FSE en attente de retour"
    description = "transmises il y a moins de 21 jours (réglage), sans retour"
    states = (S.TRANSMISE,)

    def narrow(self, query: peewee.ModelSelect, filters: Filters) -> peewee.ModelSelect:
        # The lots sent lately are few: their ids first, then their invoices by the lot index.
        start = filters.day - timedelta(days=filters.awaiting_days)
        sent = [i for (i,) in Lot.select(Lot.id).where(Lot.sent_at >= start).tuples()]
        return query.where(Invoice.lot.in_(sent) if sent else peewee.SQL("0 = 1"))


class Rejected(InvoiceReport):
    name = "fse-rejetees"
    title = "FSE rejetées (recyclables)"
    description = "rejetées par la caisse : à traiter, recycler ou réactiver"
    states = (S.REJETEE,)


class Recycled(InvoiceReport):
    name = "fse-recyclees"
    title = "FSE recyclées (rejetées, puis payées)"
    description = "rejetées par une caisse, renvoyées, puis payées"
    states = (S.PAYEE, S.PAYEE_PARTIELLEMENT)

    def narrow(self, query: peewee.ModelSelect, filters: Filters) -> peewee.ModelSelect:
        rejected = ReturnRejection.select(ReturnRejection.invoice).where(
            (ReturnRejection.kind == "rejet") & (ReturnRejection.level == "F")
            & (ReturnRejection.part == "O")  # the AMO's rejection, not a mutuelle's
        )
        return query.where(Invoice.id.in_(rejected))


REPORTS = (Transmitted(), Unpaid(), Awaiting(), Rejected(), Recycled())
