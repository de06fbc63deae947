"""The lot reports: lots télétransmis, and lots sans retour à traiter / traités (with the
clerk's « pointage »), paged by (creation time, id)."""

from __future__ import annotations

from datetime import datetime, timedelta

import peewee

from tuibill.domain.errors import NotFound
from tuibill.domain.lots import LotState
from tuibill.models import Invoice, Lot, LotPointage, Organism, ReturnEntry
from tuibill.models.database import immediate
from tuibill.services.reports.base import PAGE, Column, Filters, Report, ReportRow

LOT_COLUMNS = (
    Column("id", "Id", "int", 6),
    Column("lot", "Lot", "text", 4),
    Column("envoye", "Envoyé le", "date", 10),
    Column("caisse", "Caisse", "text", 18),
    Column("factures", "Factures", "int", 8),
    Column("total_cents", "Total", "cents", 10),
    Column("etat", "État", "text", 14),
    Column("pointage", "Pointage", "text", 24),
)


class LotReport(Report):
    columns = LOT_COLUMNS
    screen_keys = ("lot", "envoye", "caisse", "factures", "total_cents", "etat")

    def narrow(self, query: peewee.ModelSelect, filters: Filters) -> peewee.ModelSelect:
        return query

    def page(self, filters: Filters, after: tuple | None, limit: int = PAGE) -> list[ReportRow]:
        query = (
            Lot.select(
                Lot.id, Lot.number, Lot.created_at, Lot.sent_at, Organism.name,
                Lot.invoice_count, Lot.total_cents, Lot.state, LotPointage.at, LotPointage.by,
                LotPointage.note,
            )
            .join(Organism, on=Lot.organism == Organism.id)
            .switch(Lot)
            .join(LotPointage, peewee.JOIN.LEFT_OUTER, on=LotPointage.lot == Lot.id)
            .where((Lot.kind == "FSE") & Lot.sent_at.is_null(False))
        )  # fmt: skip
        if filters.since:
            query = query.where(Lot.created_at >= datetime.combine(filters.since, datetime.min.time()))
        if filters.until:
            query = query.where(
                Lot.created_at < datetime.combine(filters.until + timedelta(days=1), datetime.min.time())
            )
        if after is not None:
            query = query.where(peewee.Tuple(Lot.created_at, Lot.id) > peewee.Tuple(*after))
        query = self.narrow(query, filters)
        rows = []
        for values in query.order_by(Lot.created_at, Lot.id).limit(limit).tuples():
            (id_, number, created, sent, caisse, count, total, state, at, by, note) = values
            pointed = f"{at:%d/%m/%Y} {by}" + (f" — {note}" if note else "") if at else ""
            rows.append(
                ReportRow(
                    (created, id_),
                    {
                        "id": id_, "lot": f"{number:03d}", "envoye": sent.date() if sent else None,
                        "caisse": caisse, "factures": count, "total_cents": total,
                        "etat": LotState(state).label, "pointage": pointed,
                    },
                )  # fmt: skip
            )
        return rows


class SentLots(LotReport):
    name = "lots-transmis"
    title = "Lots télétransmis"
    description = "tous les lots de FSE envoyés aux caisses"


class LotsWithoutReturn(LotReport):
    name = "lots-sans-retour"
    title = "Lots en absence de retour"
    description = (
        "envoyés depuis plus de 21 jours (réglage), aucune facture n'a de retour NOEMIE ; "
        "à traiter, ou traités (pointage)"
    )

    def narrow(self, query: peewee.ModelSelect, filters: Filters) -> peewee.ModelSelect:
        answered = (
            ReturnEntry.select(peewee.SQL("1"))
            .join(Invoice, on=ReturnEntry.invoice == Invoice.id)
            .where(Invoice.lot == Lot.id)
        )
        limit = datetime.combine(
            filters.day - timedelta(days=filters.awaiting_days), datetime.min.time()
        )
        query = query.where(
            ~peewee.fn.EXISTS(answered)
            & (Lot.sent_at < limit)
            & Lot.state.not_in([LotState.ANNULE.value, LotState.SUPPRIME.value])
        )
        if filters.pointed is True:
            query = query.where(LotPointage.id.is_null(False))
        elif filters.pointed is False:
            query = query.where(LotPointage.id.is_null())
        return query


def point_lot(lot_id: int, *, user: str, note: str = "", undo: bool = False) -> None:
    """The clerk's « pointage » of a lot without a return: treated (called the caisse, sent on
    paper…), or back to « à traiter » with *undo*."""
    with immediate():
        if Lot.get_or_none(Lot.id == lot_id) is None:
            raise NotFound(f"Lot {lot_id} introuvable.")
        LotPointage.delete().where(LotPointage.lot == lot_id).execute()
        if not undo:
            LotPointage.create(
                lot=lot_id, at=datetime.now().replace(microsecond=0), by=user, note=note[:255]
            )


REPORTS = (SentLots(), LotsWithoutReturn())
