"""Clients › Facturation (seed 004): invoices from a month of interventions, with a simulation
first if wanted, validation, avoirs, and the solde client.

:func:`simulate` and :func:`create_invoices` run the same computation (``_previews``: the plans
of ``domain.aid_plans.bill_month`` over the unbilled interventions), so what the simulation
shows is what is created. An invoice keeps one line per billed part and one ``Funding`` row per
payer — its financed share, which a bordereau later carries.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

import peewee

from tuibill.domain import aid_plans
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.homecare_invoices import (
    COUNTED_STATES,
    CREATE,
    HomecareInvoiceAction,
    HomecareInvoiceState,
    InvoiceKind,
    format_number,
)
from tuibill.domain.payments import Emitter, client_balance
from tuibill.models import (
    Client,
    Funding,
    HomecareInvoice,
    HomecareInvoiceLine,
    HomecareInvoiceTransition,
    Intervention,
    Payer,
    Payment,
)
from tuibill.models.database import immediate, insert_rows
from tuibill.services import homecare_lifecycle as lifecycle
from tuibill.services.aid_plans import plans_of_clients
from tuibill.services.collector import no_cycle_collection
from tuibill.services.homecare import contracts_of


def month_bounds(year: int, month: int) -> tuple[date, date]:
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationError(f"Période {year}-{month:02d} invalide (AAAA-MM).", field="period")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def parse_period(text: str) -> tuple[int, int]:
    """« 2026-11 » or « 11/2026 » → (2026, 11)."""
    value = text.strip()
    try:
        if "/" in value:
            month, year = value.split("/")
        else:
            year, month = value.split("-")
        result = int(year), int(month)
    except ValueError:
        raise ValidationError(f"Période « {text} » invalide : AAAA-MM attendu.", field="period") from None
    month_bounds(*result)
    return result


@dataclass(frozen=True)
class Preview:
    """One client's invoice as it would be (or was) made: the financing detail."""

    client_id: int
    client: str
    year: int
    month: int
    billing: aid_plans.MonthBilling | None
    refusal: str = ""  # why no invoice can be made (French)
    intervention_ids: tuple[int, ...] = ()

    @property
    def payer_totals(self) -> dict[int, int]:
        return self.billing.payer_totals() if self.billing else {}

    def as_dict(self) -> dict:
        billing = self.billing
        return {
            "client": self.client_id,
            "client_nom": self.client,
            "periode": f"{self.year}-{self.month:02d}",
            "refus": self.refusal,
            "montant_total": billing.amount_cents if billing else 0,
            "montant_du_client": billing.client_cents if billing else 0,
            "montant_du_organismes": billing.payer_cents if billing else 0,
            "par_organisme": [
                {"tiers_payeur": usage.plan.payer_id, "nom": usage.plan.payer_name,
                 "prestation": usage.plan.prestation,
                 "minutes_financees": usage.financed_minutes,
                 "minutes_restantes": usage.minutes_left,
                 "montant": sum(line.payer_cents for line in billing.lines
                                if line.plan is usage.plan)}
                for usage in (billing.usage if billing else ())
            ],
            "lignes": [
                {"date": line.day, "debut": aid_plans.format_clock(line.start_minute),
                 "fin": aid_plans.format_clock(line.end_minute),
                 "prestation": line.intervention.prestation, "type_jour": line.day_kind.value,
                 "financement": line.funding.value, "tarif": line.rate_cents,
                 "montant": line.amount_cents, "part_organisme": line.payer_cents,
                 "part_client": line.client_cents, "taux_pec": line.pec_bp,
                 "organisme": line.plan.payer_name if line.plan and line.funding.financed else "",
                 "detail": line.explanation}
                for line in (billing.lines if billing else ())
            ],
        }  # fmt: skip


def _clients(client_ids: Sequence[int] | None, start: date, end: date) -> list[Client]:
    """The clients to bill, with their id and name only (a month bills thousands)."""
    columns = (Client.id, Client.last_name, Client.first_name)
    if client_ids:
        found = list(
            Client.select(*columns).where(Client.id.in_(list(client_ids))).order_by(Client.search_name)
        )
        missing = set(client_ids) - {client.id for client in found}
        if missing:
            raise NotFound(f"Client(s) introuvable(s) : {', '.join(map(str, sorted(missing)))}.")
        return found
    with_work = (
        Intervention.select(Intervention.client)
        .where((Intervention.day >= start) & (Intervention.day <= end) & Intervention.invoice_id.is_null())
        .distinct()
    )
    return list(Client.select(*columns).where(Client.id.in_(with_work)).order_by(Client.search_name))


def _month_of(clients: list[Client], start: date, end: date):
    """Each client's interventions of the month still to bill, and the month's invoice each
    already has (Créée or Validée): a few queries for every client at once."""
    ids = [client.id for client in clients]
    work: dict[int, list[aid_plans.Intervention]] = {}
    billed: dict[int, HomecareInvoice] = {}
    days: dict[object, date] = {}  # the driver's value of a day → the day: a month has thirty
    to_day = Intervention.day.python_value
    for first in range(0, len(ids), 500):  # SQLite's bound-parameter limit
        chunk = ids[first : first + 500]
        # The driver's rows, straight into the domain's shape: a month holds tens of thousands,
        # and peewee would convert each of their values in Python.
        for client_id, raw_day, start_minute, end_minute, prestation, intervenant, item_id in (
            _raw_rows(
                Intervention.select(
                    Intervention.client, Intervention.day, Intervention.start_minute,
                    Intervention.end_minute, Intervention.prestation, Intervention.intervenant,
                    Intervention.id,
                )
                .where(
                    Intervention.client.in_(chunk) & (Intervention.day >= start)
                    & (Intervention.day <= end) & Intervention.invoice_id.is_null()
                )
                .order_by(Intervention.day, Intervention.start_minute, Intervention.id)
            )
        ):  # fmt: skip
            day = days.get(raw_day)
            if day is None:
                day = days[raw_day] = to_day(raw_day)
            items = work.get(client_id)
            if items is None:
                items = work[client_id] = []
            items.append(
                aid_plans.Intervention(day, start_minute, end_minute, prestation, intervenant,
                                       item_id)  # fmt: skip
            )
        for invoice in (
            HomecareInvoice.select()
            .where(
                HomecareInvoice.client.in_(chunk) & (HomecareInvoice.period_start == start)
                & (HomecareInvoice.kind == InvoiceKind.FACTURE.value)
                & HomecareInvoice.state.in_([HomecareInvoiceState.CREEE.value,
                                             HomecareInvoiceState.VALIDEE.value])
            )
            .order_by(HomecareInvoice.id)
        ):  # fmt: skip
            billed.setdefault(invoice.client_id, invoice)
    return work, billed


def _raw_rows(query: peewee.Select) -> list[tuple]:
    """*query*'s rows as the database driver gives them, unconverted."""
    sql, params = query.sql()
    return query.model._meta.database.execute_sql(sql, params).fetchall()


def _previews(year: int, month: int, client_ids: Sequence[int] | None) -> list[Preview]:
    start, end = month_bounds(year, month)
    previews = []
    clients = _clients(client_ids, start, end)
    work, billed = _month_of(clients, start, end)
    ids = [client.id for client in clients if work.get(client.id)]
    plans, contracts = plans_of_clients(ids), contracts_of(ids)
    for client in clients:
        items = work.get(client.id, [])
        name = client.display_name
        if not items:
            previews.append(Preview(client.id, name, year, month, None, "Aucune intervention à facturer."))
            continue
        existing = billed.get(client.id)
        if existing is not None:
            # The hours granted are counted over the month: a second invoice would count them
            # twice. The month is billed again whole, after an avoir (or deleting the draft).
            what = (
                f"la facture {format_number(existing.number)} validée : faites-en l'avoir"
                if existing.number
                else "une facture créée : supprimez-la"
            )
            previews.append(
                Preview(
                    client.id, name, year, month, None,
                    f"Le mois a déjà {what}, puis refacturez le mois entier.",
                )  # fmt: skip
            )
            continue
        interventions = items
        try:
            billing = aid_plans.bill_month(
                year=year, month=month, client_id=client.id, interventions=interventions,
                plans=plans.get(client.id, []), contract=contracts.get(client.id, []),
            )  # fmt: skip
        except ValidationError as error:
            previews.append(Preview(client.id, name, year, month, None, str(error)))
            continue
        previews.append(Preview(client.id, name, year, month, billing, "", tuple(i.ref for i in items)))
    return previews


def simulate(year: int, month: int, client_ids: Sequence[int] | None = None) -> list[Preview]:
    """« Simuler la facturation »: nothing is written."""
    with no_cycle_collection():
        return _previews(year, month, client_ids)


def create_invoices(
    year: int,
    month: int,
    client_ids: Sequence[int] | None = None,
    *,
    user: str,
    today: date | None = None,
    at: datetime | None = None,
) -> tuple[list[int], list[Preview]]:
    """« Créer les factures »: one invoice « Créée » per client that can be billed. Returns the
    new invoice ids and the previews (refusals included), in one transaction."""
    today = today or date.today()
    start, end = month_bounds(year, month)
    at = at or lifecycle.now()
    with no_cycle_collection(), immediate():
        previews = _previews(year, month, client_ids)
        billable = [preview for preview in previews if preview.billing is not None]
        # The month's rows in a few prepared statements (peewee's SQL per row: most of the time).
        insert_rows(HomecareInvoice, [
            dict(client=p.client_id, kind=InvoiceKind.FACTURE.value,
                 state=HomecareInvoiceState.CREEE.value, period_start=start, period_end=end,
                 issue_date=today, total_cents=p.billing.amount_cents,
                 client_cents=p.billing.client_cents, payer_cents=p.billing.payer_cents,
                 created_at=at, created_by=user)
            for p in billable
        ])  # fmt: skip
        # One « Créée » invoice of the month per client: _previews refused the clients that had
        # one, in this same transaction.
        ids = _new_invoice_ids([p.client_id for p in billable], start)
        lines: list[tuple] = []  # in _LINE_COLUMNS order
        fundings: list[dict] = []
        history: list[dict] = []
        for preview in billable:
            invoice_id = ids[preview.client_id]
            _rows(preview, invoice_id, lines=lines, fundings=fundings)
            history.append({"invoice": invoice_id, "at": at, "user": user, "from_state": None,
                            "to_state": HomecareInvoiceState.CREEE.value, "action": CREATE,
                            "reason": f"{len(preview.billing.lines)} ligne(s) du {start:%m/%Y}"})  # fmt: skip
        _insert_lines(lines)
        insert_rows(Funding, fundings)
        _mark_billed(billable, ids, start, end)
        lifecycle.record_invoices(history)
    return [ids[p.client_id] for p in billable], previews


def _mark_billed(billable: list[Preview], ids: dict[int, int], start: date, end: date) -> None:
    """Each billed client's interventions of the month get their invoice: one statement a client,
    by the very condition ``_month_of`` read them with, in the same transaction (an intervention
    at a time costs five times more: its index on the invoice filled out of order)."""
    sql, params = (
        Intervention.update(invoice_id=0)
        .where(
            (Intervention.client == 0) & (Intervention.day >= start) & (Intervention.day <= end)
            & Intervention.invoice_id.is_null()
        )
        .sql()
    )  # fmt: skip
    assert len(params) == 4  # invoice, client, first and last day
    cursor = Intervention._meta.database.cursor()
    cursor.executemany(sql, [(ids[p.client_id], p.client_id, *params[2:]) for p in billable])
    if cursor.rowcount != sum(len(p.intervention_ids) for p in billable):
        raise RefusedOperation(
            "Les interventions du mois ont changé pendant la facturation : recommencez."
        )


def _new_invoice_ids(client_ids: list[int], start: date) -> dict[int, int]:
    """client → the id of its invoice « Créée » of the month starting *start*."""
    found: dict[int, int] = {}
    for first in range(0, len(client_ids), 500):  # SQLite's bound-parameter limit
        found.update(
            HomecareInvoice.select(HomecareInvoice.client, HomecareInvoice.id)
            .where(
                HomecareInvoice.client.in_(client_ids[first : first + 500])
                & (HomecareInvoice.period_start == start)
                & (HomecareInvoice.kind == InvoiceKind.FACTURE.value)
                & (HomecareInvoice.state == HomecareInvoiceState.CREEE.value)
            )
            .tuples()
        )
    return found


# The codes stored for the domain's enums (``member.value`` is a descriptor call: 88,000 a month).
_CODES: dict[object, str] = {
    member: member.value for enum in (aid_plans.DayKind, aid_plans.Funding) for member in enum
}
_FINANCED = frozenset(funding for funding in aid_plans.Funding if funding.financed)
# Every value of a line is plain (numbers, text, ids) but the day: converted as peewee would,
# once a day.
_stored_day = lru_cache(maxsize=512)(HomecareInvoiceLine.day.db_value)
_LINE_COLUMNS = (
    "invoice", "position", "intervention", "day", "start_minute", "end_minute", "prestation",
    "day_kind", "funding", "rate_cents", "amount_cents", "payer_cents", "client_cents", "pec_bp",
    "payer", "plan", "explanation",
)  # fmt: skip


def _rows(preview: Preview, invoice_id: int, *, lines: list[tuple], fundings: list[dict]) -> None:
    """The lines (tuples in ``_LINE_COLUMNS`` order) and fundings of *preview*'s invoice, added
    to *lines* and *fundings*."""
    billing = preview.billing
    assert billing is not None
    for position, line in enumerate(billing.lines, start=1):
        plan = line.plan if line.funding in _FINANCED else None
        lines.append(
            (
                invoice_id, position, line.intervention.ref, _stored_day(line.day),
                line.start_minute, line.end_minute, line.intervention.prestation,
                _CODES[line.day_kind],
                _CODES[line.funding], line.rate_cents, line.amount_cents, line.payer_cents,
                line.client_cents, line.pec_bp, plan.payer_id if plan else None,
                plan.plan_id if plan else None, line.explanation,
            )
        )  # fmt: skip
    fundings += [
        {"invoice": invoice_id, "payer": payer_id, "cents": cents}
        for payer_id, cents in billing.payer_totals().items()
    ]


def _insert_lines(lines: list[tuple]) -> None:
    """The month's lines in one prepared statement, as tuples: ``insert_rows``'s dict a line
    costs a tenth of a second for a month's tens of thousands."""
    if not lines:
        return
    fields = [HomecareInvoiceLine._meta.fields[name] for name in _LINE_COLUMNS]
    database = HomecareInvoiceLine._meta.database
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([database.param] * len(fields))
    database.cursor().executemany(
        f'INSERT INTO "{HomecareInvoiceLine._meta.table_name}" ({columns}) VALUES ({marks})', lines
    )


def get_invoice(invoice_id: int) -> HomecareInvoice:
    invoice = HomecareInvoice.get_or_none(HomecareInvoice.id == invoice_id)
    if invoice is None:
        raise NotFound(f"Facture {invoice_id} introuvable.")
    return invoice


def validate_invoice(invoice_id: int, *, user: str, at: datetime | None = None) -> HomecareInvoice:
    with immediate():
        invoice = get_invoice(invoice_id)
        lifecycle.move_invoice(invoice, HomecareInvoiceAction.VALIDATE, user=user, at=at)
        return invoice


def validate_invoices(
    year: int, month: int, client_ids: Sequence[int] | None = None, *, user: str,
    at: datetime | None = None,
) -> list[int]:  # fmt: skip
    """« Valider » every invoice « Créée » of the month (of *client_ids*), oldest first: they
    are numbered in that order, in one transaction."""
    start, _ = month_bounds(year, month)
    with immediate():
        query = HomecareInvoice.select().where(
            (HomecareInvoice.period_start == start)
            & (HomecareInvoice.state == HomecareInvoiceState.CREEE.value)
        )
        if client_ids:
            query = query.where(HomecareInvoice.client.in_(list(client_ids)))
        invoices = list(query.order_by(HomecareInvoice.id))
        lifecycle.move_invoices(invoices, HomecareInvoiceAction.VALIDATE, user=user, at=at)
        return [invoice.id for invoice in invoices]


def delete_invoice(invoice_id: int, *, user: str) -> HomecareInvoice:
    with immediate():
        invoice = get_invoice(invoice_id)
        lifecycle.move_invoice(invoice, HomecareInvoiceAction.DELETE, user=user)
        return invoice


def credit_invoice(
    invoice_id: int, *, user: str, reason: str, today: date | None = None,
    at: datetime | None = None,
) -> HomecareInvoice:  # fmt: skip
    """« Avoir »: the invoice is « Annulée par avoir », an avoir with the opposite amounts is
    numbered, its interventions may be billed again, and each payer's financed part becomes a
    deduction waiting for that payer's next bordereau. Returns the avoir."""
    today = today or date.today()
    with immediate():
        invoice = get_invoice(invoice_id)
        if invoice.kind != InvoiceKind.FACTURE.value:
            raise RefusedOperation("Un avoir ne s'annule pas par un autre avoir.")
        lifecycle.move_invoice(
            invoice, HomecareInvoiceAction.CREDIT, user=user, reason=reason, at=at
        )
        credit = HomecareInvoice.create(
            client=invoice.client_id, kind=InvoiceKind.AVOIR.value,
            number=lifecycle.allocate_number(lifecycle.INVOICE_COUNTER),
            state=HomecareInvoiceState.VALIDEE.value, period_start=invoice.period_start,
            period_end=invoice.period_end, issue_date=today, total_cents=-invoice.total_cents,
            client_cents=-invoice.client_cents, payer_cents=-invoice.payer_cents,
            credited=invoice.id, created_at=at or lifecycle.now(), created_by=user,
        )  # fmt: skip
        rows = [
            dict(
                invoice=credit.id, position=line.position, intervention=None, day=line.day,
                start_minute=line.start_minute, end_minute=line.end_minute,
                prestation=line.prestation, day_kind=line.day_kind, funding=line.funding,
                rate_cents=line.rate_cents, amount_cents=-line.amount_cents,
                payer_cents=-line.payer_cents, client_cents=-line.client_cents,
                pec_bp=line.pec_bp, payer=line.payer_id, plan=line.plan_id,
                explanation=f"Avoir : {line.explanation}",
            )
            for line in invoice.lines.order_by(HomecareInvoiceLine.position)
        ]  # fmt: skip
        for chunk in range(0, len(rows), 100):
            HomecareInvoiceLine.insert_many(rows[chunk : chunk + 100]).execute()
        for funding in Funding.select().where(Funding.invoice == invoice.id):
            Funding.create(invoice=credit.id, payer=funding.payer_id, cents=-funding.cents)
        lifecycle.record_invoice(
            credit, None, credit.state, "credit_note", user,
            f"avoir de la facture {format_number(invoice.number)} : {reason}", at=at,
        )  # fmt: skip
        return credit


# --- what the screens and the command line show -------------------------------------------------


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str
    kind: str
    state: str
    client_id: int
    client: str
    period_start: date
    issue_date: date
    total_cents: int
    client_cents: int  # montant dû client (net à payer)
    payer_cents: int  # montant dû organisme
    payer_paid_cents: int  # montant réglé organisme
    client_paid_cents: int

    @property
    def state_label(self) -> str:
        return HomecareInvoiceState(self.state).label

    @property
    def payer_partly_paid(self) -> bool:
        """Shown in red by the screens: something paid, not all (seed 004)."""
        return 0 < self.payer_paid_cents < self.payer_cents

    def as_dict(self) -> dict:
        return {
            "id": self.id, "numero": self.number, "type": InvoiceKind(self.kind).label,
            "etat": self.state, "etat_libelle": self.state_label, "client": self.client_id,
            "client_nom": self.client, "periode": f"{self.period_start:%Y-%m}",
            "date": self.issue_date, "montant_total": self.total_cents,
            "montant_du_client": self.client_cents, "montant_du_organisme": self.payer_cents,
            "montant_regle_organisme": self.payer_paid_cents,
            "reste_a_regler_organisme": self.payer_cents - self.payer_paid_cents,
            "montant_regle_client": self.client_paid_cents,
            "regle_partiellement": self.payer_partly_paid,
        }  # fmt: skip


def list_invoices(
    *, client_id: int | None = None, year: int | None = None, month: int | None = None,
    states: Sequence[str] | None = None,
) -> list[InvoiceRow]:  # fmt: skip
    query = HomecareInvoice.select(HomecareInvoice, Client).join(Client)
    if client_id is not None:
        query = query.where(HomecareInvoice.client == client_id)
    if year is not None and month is not None:
        query = query.where(HomecareInvoice.period_start == month_bounds(year, month)[0])
    if states:
        query = query.where(HomecareInvoice.state.in_(list(states)))
    else:
        query = query.where(HomecareInvoice.state != HomecareInvoiceState.SUPPRIMEE.value)
    invoices = list(
        query.order_by(HomecareInvoice.period_start.desc(), HomecareInvoice.id.desc())
    )
    paid: dict[int, int] = {}
    ids = [i.id for i in invoices]
    for chunk in range(0, len(ids), 500):
        paid.update(
            Funding.select(Funding.invoice, peewee.fn.SUM(Funding.paid_cents))
            .where(Funding.invoice.in_(ids[chunk : chunk + 500]))
            .group_by(Funding.invoice)
            .tuples()
        )
    return [
        InvoiceRow(
            i.id, format_number(i.number, i.kind), i.kind, i.state, i.client_id,
            i.client.display_name, i.period_start, i.issue_date, i.total_cents, i.client_cents,
            i.payer_cents, int(paid.get(i.id) or 0), i.client_paid_cents,
        )  # fmt: skip
        for i in invoices
    ]


@dataclass(frozen=True)
class LineRow:
    day: date
    hours: str
    prestation: str
    funding: str
    payer: str
    rate_cents: int
    amount_cents: int
    payer_cents: int
    client_cents: int
    explanation: str


def invoice_lines(invoice_id: int) -> list[LineRow]:
    query = (
        HomecareInvoiceLine.select(HomecareInvoiceLine, Payer)
        .join(Payer, peewee.JOIN.LEFT_OUTER)
        .where(HomecareInvoiceLine.invoice == invoice_id)
        .order_by(HomecareInvoiceLine.position)
    )
    return [
        LineRow(
            line.day,
            f"{aid_plans.format_clock(line.start_minute)}–{aid_plans.format_clock(line.end_minute)}",
            line.prestation, line.funding, line.payer.name if line.payer_id else "",
            line.rate_cents, line.amount_cents, line.payer_cents, line.client_cents,
            line.explanation,
        )  # fmt: skip
        for line in query
    ]


def invoice_history(invoice_id: int) -> list[tuple[datetime, str, str, str]]:
    from tuibill.domain.homecare_invoices import history_label

    return [
        (row.at, row.user, history_label(row.action), row.reason)
        for row in HomecareInvoiceTransition.select()
        .where(HomecareInvoiceTransition.invoice == invoice_id)
        .order_by(HomecareInvoiceTransition.seq)
    ]


@dataclass(frozen=True)
class ClientBalance:
    client_id: int
    invoiced_cents: int  # total facturé (TTC), avoirs deducted
    net_to_pay_cents: int  # the client's part
    client_payments_cents: int  # payments whose émetteur is « Client »
    balance_cents: int  # solde client

    def as_dict(self) -> dict:
        return {
            "client": self.client_id, "total_facture": self.invoiced_cents,
            "net_a_payer": self.net_to_pay_cents, "reglements_client": self.client_payments_cents,
            "solde": self.balance_cents,
        }  # fmt: skip


def balance_of(client_id: int) -> ClientBalance:
    """Solde client = total of the net à payer − total of the payments whose émetteur is
    « Client » (``domain.payments.client_balance``)."""
    counted = [s.value for s in COUNTED_STATES]
    nets = [
        (total, net)
        for total, net in HomecareInvoice.select(
            HomecareInvoice.total_cents, HomecareInvoice.client_cents
        )
        .where((HomecareInvoice.client == client_id) & HomecareInvoice.state.in_(counted))
        .tuples()
    ]
    payments = [
        amount
        for (amount,) in Payment.select(Payment.amount_cents)
        .where((Payment.client == client_id) & (Payment.emitter == Emitter.CLIENT.value))
        .tuples()
    ]
    balance = client_balance([net for _, net in nets], payments)
    return ClientBalance(
        client_id, sum(t for t, _ in nets), sum(n for _, n in nets), sum(payments), balance
    )
