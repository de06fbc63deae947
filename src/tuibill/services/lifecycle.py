"""The one place where an invoice or a lot changes state.

:func:`move` looks the action up in the domain's table (``domain.invoices.MOVES``,
``domain.lots.MOVES``), applies the state **and every effect the row names** — number, securing,
lot, portable reader's key, ARL, sending, the moves it implies for the lot's invoices and SCOR
lots, the lot a cancelled invoice leaves — and records each move (who, when, from, to, why), all
in the caller's write transaction. The UPDATE is conditional on the state read: if another desk
moved the entity meanwhile, nothing changes and the operation is refused.

Callers pass the data a row's effects need (the lot to join, the signature, the ARL's reason…)
and nothing else; a missing or unexpected datum is a programming error (``TypeError``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import peewee

from tuibill.domain import dre as dre_rules
from tuibill.domain import invoice_rules
from tuibill.domain.dre import DreAction, DreState
from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import (
    MOVES as INVOICE_MOVES,
)
from tuibill.domain.invoices import (
    REASON_PROMPTS,
    UNNUMBERED_ONLY,
    InvoiceAction,
    InvoiceState,
    LotLink,
    Securing,
    TlaKey,
    find_move,
)
from tuibill.domain.lots import (
    BUILD,
    INITIAL_STATE,
    ArlFields,
    LotAction,
    LotState,
    can,
    is_resending,
)
from tuibill.domain.lots import find_move as find_lot_move
from tuibill.domain.permissions import OWN_ONLY, Family, invoice_family
from tuibill.models import (
    Counter,
    CreditNote,
    Dre,
    Invoice,
    InvoiceLine,
    InvoicePiece,
    InvoiceTransition,
    IsolatedAct,
    LineDecision,
    Lot,
    LotTransition,
    Patient,
    Practitioner,
    Prescription,
    PrescriptionItem,
)
from tuibill.services import audit, numbering, users

# The securing columns of an invoice, and their values when nothing secures it (mode dégradé).
CLEARED_SECURING: dict[str, object] = {
    "mode": "degrade",
    "secured_with_vitale": False,
    "signature": "",
    "signature_algorithm": "",
    "signer": "",
    "signing_card": "",
    "signer_certificate": "",
    "secured_at": None,
}
SECURING_COLUMNS = frozenset(CLEARED_SECURING)

# The columns securing gives, computed from the number the move allocates (the signature covers
# it): either the columns, or a function of the invoice's number returning them.
SecuringData = Mapping[str, object] | Callable[[int], Mapping[str, object]]

# What an invoice's history says when a lot move carries it along.
_CARRIED_REASONS: dict[LotAction, str] = {
    LotAction.CONFIRM_SENT: "Lot {number} transmis",
    LotAction.RESOLVE_SENT: "Lot {number} transmis",
    LotAction.DELETE: "Suppression du lot {number}",
}


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def current_time(now: datetime | None = None) -> datetime:
    """*now* (an injected clock, in tests) or the real time, to the second."""
    return (now or datetime.now()).replace(microsecond=0)


# --- what the screens and the CLI read --------------------------------------------------------


# --- the life cycle ---------------------------------------------------------------------------


def move(entity: Invoice | Lot, action: InvoiceAction | LotAction, **kwargs: Any) -> Any:
    """Apply *action* to an invoice or a lot (see :func:`move_invoice`, :func:`move_lot`)."""
    if isinstance(entity, Invoice):
        return move_invoice(entity, InvoiceAction(action), **kwargs)
    if isinstance(entity, Lot):
        return move_lot(entity, LotAction(action), **kwargs)
    raise TypeError(f"no life cycle for {type(entity).__name__}")


# --- invoices ---------------------------------------------------------------------------------


def move_invoice(
    invoice: Invoice,
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    securing: SecuringData | None = None,
    lot: Lot | None = None,
    tla_key: str | None = None,
    recycling_days: int | None = None,
) -> InvoiceState:
    """Apply *action* to *invoice* with every effect of its row; the caller holds the write
    transaction. Returns the new state.

    *recycling_days*: the concentrator's delay (setting), for a re-sending the row guards."""
    _require_for_invoice(user, action, invoice)
    at = at or now()
    source = InvoiceState(invoice.state)
    row = find_move(source, action)
    effects = row.effects
    if effects.needs_reason and not reason.strip():
        raise ValidationError(REASON_PROMPTS[action], field="reason")
    changes: dict[str, object] = {"state": row.target.value}

    if effects.degraded_only and invoice.mode == "sesam_vitale":
        raise RefusedOperation(
            f"La facture {_invoice_label(invoice)} a été faite en mode SESAM-Vitale : elle ne se "
            "recommence pas. « Créer un avoir », puis « Nouvelle facture » en mode dégradé."
        )
    if effects.resend_guard:
        if recycling_days is None:
            raise TypeError(f"{action.value}: the recycling delay is required")
        # Here, not at import: only a resending reads the recycling rules.
        from tuibill.domain.returns import check_resend

        check_resend(_transmitted_on(invoice), at.date(), recycling_days)
    elif recycling_days is not None:
        raise TypeError(f"{action.value} has no recycling delay")
    if effects.marks_recycled:
        changes.update(recycled_at=at, recycled_by=user)
    if effects.amc_to_patient:
        unpaid = max(invoice.amc_cents - invoice.amc_paid_cents, 0)
        if unpaid <= 0:
            raise RefusedOperation(
                f"La facture {_invoice_label(invoice)} n'a pas de part mutuelle impayée à "
                "demander au patient."
            )
        changes["amc_to_patient_cents"] = unpaid

    if effects.unnumbered_only and invoice.number is not None:
        raise RefusedOperation(UNNUMBERED_ONLY)
    if effects.rechecks_rules:
        check_invoice_rules(invoice)
    if effects.allocates_number and invoice.number is None:
        # Kept for the invoice's life: re-validation reuses it (no gap, no duplicate).
        changes["number"] = numbering.allocate(_practitioner(invoice.practitioner_id))

    if effects.securing is Securing.CLEAR:
        changes.update(CLEARED_SECURING)
    elif effects.securing in (Securing.SIGNED, Securing.SIGNED_OR_DEGRADED):
        if securing is None:
            if effects.securing is Securing.SIGNED:
                raise TypeError(f"{action.value}: the securing is required")
            changes.update(CLEARED_SECURING)  # validated in mode dégradé
        else:
            number = changes.get("number", invoice.number)
            given = dict(securing(int(number)) if callable(securing) else securing)
            unknown = set(given) - SECURING_COLUMNS
            if unknown:
                raise TypeError(f"not securing columns: {sorted(unknown)}")
            changes.update(given)
    elif securing is not None:
        raise TypeError(f"{action.value} records no securing")

    left: Lot | None = None
    if effects.lot is LotLink.JOIN:
        if lot is None:
            raise TypeError(f"{action.value}: the lot to join is required")
        changes.update(lot=lot.id, lot_number=lot.number)
    elif effects.lot in (LotLink.LEAVE, LotLink.CANCEL):
        if effects.lot is LotLink.CANCEL and invoice.lot_id is not None:
            left = Lot.get_or_none(Lot.id == invoice.lot_id)
        changes.update(lot=None, lot_number=None)
    elif lot is not None:
        raise TypeError(f"{action.value} joins no lot")

    if effects.tla_key is TlaKey.SET:
        if not tla_key:
            raise TypeError(f"{action.value}: the portable reader's key is required")
        changes["tla_key"] = tla_key
    elif effects.tla_key is TlaKey.CLEAR:
        changes["tla_key"] = None
    elif tla_key is not None:
        raise TypeError(f"{action.value} sets no portable reader key")

    _update_conditionally(
        Invoice,
        invoice,
        source.value,
        changes,
        f"La facture {_invoice_label(invoice)} a été modifiée par un autre poste : rechargez-la.",
    )
    record_invoice(invoice, source.value, row.target.value, action.value, user, reason, at=at)
    if effects.releases_acts:
        release_acts(invoice)
    if effects.credit_note:
        _make_credit_note(invoice, user=user, reason=reason, at=at)
    if row.target in _CANCELLING_STATES:
        _cancel_dre(invoice, user=user, reason=reason or action.label, at=at)
    if left is not None:
        _count_cancelled(left, invoice, user=user, at=at)
    return row.target


def move_invoices(
    invoices: list[Invoice],
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    lot: Lot | None = None,
) -> None:
    """The same move for many invoices at once — a lot built, sent or deleted: one UPDATE and
    one batch of history rows instead of a few statements per invoice.

    Only for rows whose effects are the same for every invoice (no number, securing, reader key
    or acts to give back, no sent lot to leave); others go one by one through
    :func:`move_invoice`. Refused whole when one invoice was moved meanwhile by another desk.
    """
    if invoice_family(action) in OWN_ONLY:
        for invoice in invoices:
            _require_for_invoice(user, action, invoice)
    else:
        users.require(user, invoice_family(action))
    at = at or now()
    by_state: dict[str, list[Invoice]] = {}
    for invoice in invoices:
        by_state.setdefault(invoice.state, []).append(invoice)
    for state, group in by_state.items():
        row = find_move(InvoiceState(state), action)
        effects = row.effects
        uniform = not (
            effects.needs_reason and not reason.strip()
            or effects.allocates_number
            or effects.rechecks_rules
            or effects.unnumbered_only
            or effects.releases_acts
            or effects.securing not in (Securing.KEEP, Securing.CLEAR)
            or effects.tla_key is TlaKey.SET
            or effects.lot is LotLink.CANCEL
            or effects.degraded_only
            or effects.credit_note
            or effects.marks_recycled
            or effects.resend_guard
            or effects.amc_to_patient
        )
        if not uniform:
            for invoice in group:
                move_invoice(invoice, action, user=user, reason=reason, at=at, lot=lot)
            continue
        changes: dict[str, object] = {"state": row.target.value}
        if effects.securing is Securing.CLEAR:
            changes.update(CLEARED_SECURING)
        if effects.lot is LotLink.JOIN:
            if lot is None:
                raise TypeError(f"{action.value}: the lot to join is required")
            changes.update(lot=lot.id, lot_number=lot.number)
        elif effects.lot is LotLink.LEAVE:
            changes.update(lot=None, lot_number=None)
        if effects.tla_key is TlaKey.CLEAR:
            changes["tla_key"] = None
        ids = [invoice.id for invoice in group]
        database = Invoice._meta.database
        fields = [Invoice._meta.fields[name] for name in changes]
        columns = ", ".join(f'"{field.column_name}" = {database.param}' for field in fields)
        values = [field.db_value(changes[field.name]) for field in fields]
        # SQLite would walk the index of the state (every invoice in that state, once per
        # chunk: quadratic for a big build) instead of looking the ids up; « + » keeps it off.
        on_state = '+"state"' if isinstance(database.obj, peewee.SqliteDatabase) else '"state"'
        for chunk in _chunks(ids):
            # Written once as SQL: peewee builds an IN list of 500 values slowly.
            marks = ", ".join([database.param] * len(chunk))
            updated = database.execute_sql(
                f'UPDATE "invoice" SET {columns} WHERE "id" IN ({marks}) '
                f"AND {on_state} = {database.param}",
                (*values, *chunk, state),
            ).rowcount
            if updated != len(chunk):
                raise RefusedOperation(
                    "Des factures ont été modifiées par un autre poste pendant l'opération : "
                    "rien n'a changé, recommencez."
                )
        _insert_alike(
            InvoiceTransition,
            "invoice",
            ids,
            {"at": at, "user": user, "from_state": state, "to_state": row.target.value,
             "action": action.value, "reason": reason},
        )  # fmt: skip
        for invoice in group:
            for key, value in changes.items():
                setattr(invoice, key, value)
        if row.target in _CANCELLING_STATES:
            _cancel_dres(group, user=user, reason=reason or action.label, at=at)


def move_each(
    invoices: list[Invoice],
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
) -> list[tuple[Invoice, RefusedOperation]]:
    """*action* on each of *invoices*, each moved or refused on its own, in a few statements:
    what :func:`move_invoice` does for one (the same checks, numbers, effects, messages and
    history), for a desk's whole selection — « Valider » on a hundred invoices is one read of
    their rules, one number range per practitioner, one UPDATE and one batch of history rows.

    The caller holds the write transaction and read *invoices* inside it. Returns the refused
    invoices with the refusal. Moves that carry data of their own (a signature, a lot to join,
    the reader's key) or that give acts back go one by one through :func:`move_invoice`.
    """
    at = at or now()
    action = InvoiceAction(action)
    own_only = invoice_family(action) in OWN_ONLY
    if not own_only:
        users.require(user, invoice_family(action))  # the role, once for the whole selection
    refused: list[tuple[Invoice, RefusedOperation]] = []
    batch: list[tuple[Invoice, Any]] = []  # (invoice, its row of the table)
    for invoice in invoices:
        try:
            if own_only:
                _require_for_invoice(user, action, invoice)
            row = find_move(InvoiceState(invoice.state), action)
            effects = row.effects
            if effects.needs_reason and not reason.strip():
                raise ValidationError(REASON_PROMPTS[action], field="reason")
            if effects.unnumbered_only and invoice.number is not None:
                raise RefusedOperation(
                    "Seule une facture en saisie jamais numérotée peut être supprimée ; une "
                    "facture numérotée se rend « Non transmissible »."
                )
        except RefusedOperation as error:
            refused.append((invoice, error))
            continue
        if _batchable(row.effects):
            batch.append((invoice, row))
        else:
            _one_by_one(invoice, action, user, reason, at, refused)
    if not batch:
        return refused
    checked = _checked_rules([inv for inv, row in batch if row.effects.rechecks_rules])
    kept = []
    for invoice, row in batch:
        problem = checked.get(invoice.id)
        if problem is not None:
            refused.append((invoice, problem))
        else:
            kept.append((invoice, row))
    try:
        with Invoice._meta.database.atomic():  # a savepoint: all of the batch or none of it
            _move_batch(kept, action, user, reason, at)
    except RefusedOperation:
        # A practitioner without numbers, a row moved meanwhile…: each on its own, to say which.
        for invoice, _ in kept:
            _one_by_one(invoice, action, user, reason, at, refused)
    return refused


def _batchable(effects: Any) -> bool:
    # Moves with data or checks of their own (an avoir, a recycling, the concentrator's delay,
    # the mode, the AMC share) go one by one.
    return not (
        effects.credit_note
        or effects.marks_recycled
        or effects.resend_guard
        or effects.degraded_only
        or effects.amc_to_patient
        or effects.securing is Securing.SIGNED
        or effects.lot in (LotLink.JOIN, LotLink.CANCEL)
        or effects.tla_key is TlaKey.SET
        or effects.releases_acts
    )


def _one_by_one(
    invoice: Invoice,
    action: InvoiceAction,
    user: str,
    reason: str,
    at: datetime,
    refused: list[tuple[Invoice, RefusedOperation]],
) -> None:
    saved = {name: getattr(invoice, name) for name in invoice.__data__}
    try:
        with Invoice._meta.database.atomic():  # a savepoint: a refusal leaves nothing behind
            move_invoice(invoice, action, user=user, reason=reason, at=at)
    except RefusedOperation as error:
        invoice.__data__.update(saved)
        refused.append((invoice, error))


def _checked_rules(invoices: list[Invoice]) -> dict[int, ValidationError]:
    """:func:`check_invoice_rules` for many invoices in three queries: invoice id → refusal."""
    if not invoices:
        return {}
    patient_ids = {inv.patient_id for inv in invoices}
    prescription_ids = {inv.prescription_id for inv in invoices} - {None}
    deaths: dict[int, Any] = {}
    for chunk in _chunks(sorted(patient_ids)):
        deaths.update(
            Patient.select(Patient.id, Patient.death_date).where(Patient.id.in_(chunk)).tuples()
        )
    prescriptions: dict[int, tuple[Any, Any]] = {}
    for chunk in _chunks(sorted(prescription_ids)):
        prescriptions.update(
            (pid, (day, prescriber))
            for pid, day, prescriber in Prescription.select(
                Prescription.id, Prescription.date, Prescription.prescriber
            )
            .where(Prescription.id.in_(chunk))
            .tuples()
        )
    dates: dict[int, list] = {}
    for chunk in _chunks([inv.id for inv in invoices]):
        for invoice_id, day in (
            InvoiceLine.select(InvoiceLine.invoice, InvoiceLine.act_date)
            .where(InvoiceLine.invoice.in_(chunk))
            .tuples()
        ):
            dates.setdefault(invoice_id, []).append(day)
    found: dict[int, ValidationError] = {}
    for invoice in invoices:
        try:
            if invoice.patient_id not in deaths:
                raise ValidationError("Patient inconnu.", field="patient")
            prescription_date = None
            if invoice.prescription_id is not None:
                prescribed = prescriptions.get(invoice.prescription_id)
                if prescribed is None or prescribed[1] is None:
                    raise ValidationError(
                        "Prescripteur inconnu : complétez la prescription.", field="prescriber"
                    )
                prescription_date = prescribed[0]
            days = dates.get(invoice.id, [])
            invoice_rules.check_has_acts(len(days))
            for day in days:
                invoice_rules.check_act_date(
                    day,
                    billing_date=invoice.billing_date,
                    prescription_date=prescription_date,
                    death_date=deaths[invoice.patient_id],
                )
        except ValidationError as error:
            found[invoice.id] = error
    return found


def _move_batch(
    batch: list[tuple[Invoice, Any]], action: InvoiceAction, user: str, reason: str, at: datetime
) -> None:
    """The moves of *batch* (checked, batchable) in one UPDATE and one batch of history rows."""
    if not batch:
        return
    needing: dict[int, list[Invoice]] = {}
    for invoice, row in batch:
        if row.effects.allocates_number and invoice.number is None:
            needing.setdefault(invoice.practitioner_id, []).append(invoice)
    numbers: dict[int, int] = {}
    for practitioner_id, group in needing.items():
        allocated = numbering.allocate_many(_practitioner(practitioner_id), len(group))
        numbers.update(zip((inv.id for inv in group), allocated, strict=True))
    # Every row of the batch sets the same columns (a column a move keeps is set to its value).
    names = ["state", "number", *CLEARED_SECURING, "lot", "lot_number", "tla_key"]
    fields = [Invoice._meta.fields[name] for name in names]
    values, history = [], []
    moved: list[tuple[Invoice, dict[str, object]]] = []
    for invoice, row in batch:
        effects = row.effects
        changes: dict[str, object] = {"state": row.target.value}
        if invoice.id in numbers:
            changes["number"] = numbers[invoice.id]
        if effects.securing in (Securing.CLEAR, Securing.SIGNED_OR_DEGRADED):
            changes.update(CLEARED_SECURING)  # SIGNED_OR_DEGRADED without securing: dégradé
        if effects.lot is LotLink.LEAVE:
            changes.update(lot=None, lot_number=None)
        if effects.tla_key is TlaKey.CLEAR:
            changes["tla_key"] = None
        moved.append((invoice, changes))
        after = {"lot": invoice.lot_id, **{n: getattr(invoice, n) for n in names if n != "lot"}}
        after.update(changes)
        values.append(
            (*(f.db_value(after[f.name]) for f in fields), invoice.id, invoice.state)
        )
        history.append(
            {"invoice": invoice.id, "at": at, "user": user, "from_state": invoice.state,
             "to_state": row.target.value, "action": action.value, "reason": reason}
        )  # fmt: skip
    database = Invoice._meta.database
    columns = ", ".join(f'"{field.column_name}" = {database.param}' for field in fields)
    cursor = database.cursor()
    cursor.executemany(
        f'UPDATE "invoice" SET {columns} WHERE "id" = {database.param} '
        f'AND "state" = {database.param}',
        values,
    )
    if cursor.rowcount != len(values):
        raise RefusedOperation(
            "Des factures ont été modifiées par un autre poste pendant l'opération."
        )
    _insert_history(InvoiceTransition, audit.seal_many(InvoiceTransition, history))
    for invoice, changes in moved:
        for key, value in changes.items():
            setattr(invoice, key, value)
    cancelled = [invoice for invoice, row in batch if row.target in _CANCELLING_STATES]
    _cancel_dres(cancelled, user=user, reason=reason or action.label, at=at)


def _insert_history(model: type[InvoiceTransition] | type[LotTransition], rows: list[dict]) -> None:
    """Many history rows in one prepared statement (peewee builds each row's SQL otherwise)."""
    fields = [model._meta.fields[name] for name in rows[0]]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([model._meta.database.param] * len(fields))
    table = model._meta.table_name
    # Most columns repeat from row to row (the time, the user, the move): convert each value
    # once (peewee's db_value is a few calls per value).
    converted: list[dict] = [{} for _ in fields]

    def convert(index: int, value: object) -> object:
        if value is None or value.__class__ in (int, str):
            return value
        known = converted[index]
        key = (value.__class__, value)
        if key not in known:
            known[key] = fields[index].db_value(value)
        return known[key]

    names = [field.name for field in fields]
    cursor = model._meta.database.cursor()
    cursor.executemany(
        f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
        [tuple(convert(i, row[name]) for i, name in enumerate(names)) for row in rows],
    )


def _insert_alike(
    model: type[InvoiceTransition] | type[LotTransition],
    entity: str,
    entity_ids: list[int],
    values: dict,
) -> None:
    """One history row per entity of *entity_ids*, alike but for the entity (a batch move):
    sealed in the chain and inserted in one prepared statement, each value converted once."""
    places = audit.seal_alike(model, entity_ids, values)
    names = [entity, *values, "seq", "hash"]
    fields = [model._meta.fields[name] for name in names]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    marks = ", ".join([model._meta.database.param] * len(fields))
    alike = tuple(model._meta.fields[name].db_value(value) for name, value in values.items())
    if isinstance(model._meta.database.obj, peewee.SqliteDatabase):
        # What sqlite3 would do to the time for each row (its datetime adapter: 10,000 calls
        # in Python for a lot of 10,000 invoices), done once.
        alike = tuple(
            sqlite3.adapt(value) if isinstance(value, datetime) else value for value in alike
        )
    model._meta.database.cursor().executemany(
        f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES ({marks})',
        [(entity_id, *alike, *place) for entity_id, place in zip(entity_ids, places, strict=True)],
    )


def _chunks(items: list, size: int = 500) -> list[list]:
    # Bounded IN lists and multi-row inserts: SQLite limits the bound parameters of a statement.
    return [items[i : i + size] for i in range(0, len(items), size)]


def record_invoice(
    invoice: Invoice,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> InvoiceTransition:
    """One row of an invoice's history (a move, its creation, or an event such as an edit),
    chained to the whole history (``services.audit``). The user's role must allow it."""
    _require_for_invoice(user, action, invoice)
    return InvoiceTransition.create(
        **audit.seal(
            InvoiceTransition,
            {
                "invoice": invoice.id,
                "at": at or now(),
                "user": user,
                "from_state": from_state,
                "to_state": to_state,
                "action": action,
                "reason": reason,
            },
        )
    )


def record_invoice_event(invoice: Invoice, event: str, user: str, reason: str = "") -> None:
    """Something that happened to an invoice without changing its state."""
    record_invoice(invoice, invoice.state, invoice.state, event, user, reason)


# An invoice in these states is cancelled: its DRE (the AMC part, seed 003) with it.
_CANCELLING_STATES = frozenset(
    {InvoiceState.ANNULEE_AVOIR, InvoiceState.NON_TRANSMISSIBLE, InvoiceState.SUPPRIMEE}
)


def _cancel_dres(invoices: list[Invoice], *, user: str, reason: str, at: datetime) -> None:
    """:func:`_cancel_dre` for many invoices: one query finds the few that have a DRE."""
    by_id = {invoice.id: invoice for invoice in invoices}
    for chunk in _chunks(list(by_id)):
        for (invoice_id,) in Dre.select(Dre.invoice).where(Dre.invoice.in_(chunk)).tuples():
            _cancel_dre(by_id[invoice_id], user=user, reason=reason, at=at)


def _cancel_dre(invoice: Invoice, *, user: str, reason: str, at: datetime) -> None:
    dre = Dre.get_or_none(Dre.invoice == invoice.id)
    if dre is None or not dre_rules.can_cancel(DreState(dre.state)):
        return
    move_dre(dre, invoice, DreAction.CANCEL, user=user, reason=reason, at=at)


def move_dre(
    dre: Dre, invoice: Invoice, action: DreAction, *, user: str, reason: str = "",
    at: datetime | None = None,
) -> DreState:
    """The one way a DRE changes state: the target from ``domain.dre.DRE_MOVES``, written only
    if the DRE is still in the state read (another desk may have moved it), and recorded in the
    invoice's history — in the caller's transaction."""
    at = current_time(at)
    target = dre_rules.next_dre_state(DreState(dre.state), action)
    updated = (
        Dre.update(state=target.value, updated_at=at)
        .where((Dre.id == dre.id) & (Dre.state == dre.state))
        .execute()
    )
    if updated != 1:
        raise RefusedOperation("La DRE a été modifiée par un autre poste : rechargez-la.")
    dre.state, dre.updated_at = target.value, at
    record_invoice(invoice, invoice.state, invoice.state, action.value, user, reason, at=at)
    return target


def _transmitted_on(invoice: Invoice):
    """The day the invoice was last transmitted (its history), or None."""
    at = (
        InvoiceTransition.select(InvoiceTransition.at)
        .where(
            (InvoiceTransition.invoice == invoice.id)
            & (InvoiceTransition.action == InvoiceAction.TRANSMIT.value)
        )
        .order_by(InvoiceTransition.id.desc())
        .scalar()
    )
    return at.date() if at is not None else None


def _make_credit_note(invoice: Invoice, *, user: str, reason: str, at: datetime) -> CreditNote:
    """The avoir cancelling *invoice*, numbered in the practitioner's avoir series."""
    practitioner = Practitioner.get_by_id(invoice.practitioner_id)
    if numbering.peek(practitioner, numbering.CREDIT_NOTE) is None:
        Counter.create(practitioner=practitioner.id, kind=numbering.CREDIT_NOTE, next_value=1)
    return CreditNote.create(
        practitioner=practitioner.id,
        number=numbering.allocate(practitioner, numbering.CREDIT_NOTE),
        invoice=invoice.id,
        created_at=at,
        created_by=user,
        reason=reason,
        total_cents=invoice.total_cents,
        amo_cents=invoice.amo_cents,
        amc_cents=invoice.amc_cents,
        patient_cents=invoice.patient_cents,
    )


def release_acts(invoice: Invoice) -> None:
    """Give back what an invoice's lines consumed: prescribed acts, isolated acts, and the
    refused lines it was carrying again (they wait for the next invoice)."""
    LineDecision.update(credit_invoice=None).where(
        LineDecision.credit_invoice == invoice.id
    ).execute()
    for item_id, count in (
        InvoiceLine.select(InvoiceLine.prescription_item, peewee.fn.COUNT(InvoiceLine.id))
        .where((InvoiceLine.invoice == invoice.id) & InvoiceLine.prescription_item.is_null(False))
        .group_by(InvoiceLine.prescription_item)
        .tuples()
    ):
        PrescriptionItem.update(billed=PrescriptionItem.billed - count).where(
            PrescriptionItem.id == item_id
        ).execute()
    IsolatedAct.update(invoice=None).where(IsolatedAct.invoice == invoice.id).execute()


def check_invoice_rules(invoice: Invoice) -> None:
    """Rules that may have changed since the draft (a death date entered meanwhile…)."""
    patient = Patient.get_or_none(Patient.id == invoice.patient_id)
    if patient is None:
        raise ValidationError("Patient inconnu.", field="patient")
    prescription = None
    if invoice.prescription_id is not None:
        prescription = Prescription.get_or_none(Prescription.id == invoice.prescription_id)
        if prescription is None or prescription.prescriber_id is None:
            raise ValidationError(
                "Prescripteur inconnu : complétez la prescription.", field="prescriber"
            )
    dates = list(
        InvoiceLine.select(InvoiceLine.act_date, InvoiceLine.credit_of, InvoiceLine.rebill_of)
        .where(InvoiceLine.invoice == invoice.id)
        .tuples()
    )
    invoice_rules.check_has_acts(len(dates))
    for day, credit_of, rebill_of in dates:
        # A line carried again after a refusal belongs to an earlier prescription.
        again = credit_of is not None or rebill_of is not None
        invoice_rules.check_act_date(
            day,
            billing_date=invoice.billing_date,
            prescription_date=prescription.date if prescription and not again else None,
            death_date=patient.death_date,
        )


def _practitioner(practitioner_id: int) -> Practitioner:
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None or not practitioner.active:
        raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
    return practitioner


def _invoice_label(invoice: Invoice) -> str:
    return format_invoice_number(invoice.number) or str(invoice.id)


def _count_cancelled(lot: Lot, invoice: Invoice, *, user: str, at: datetime) -> None:
    """An invoice of a sent lot was cancelled: count it there; the last one cancels the lot."""
    count = lot.cancelled_count + 1
    Lot.update(cancelled_count=count).where(Lot.id == lot.id).execute()
    lot.cancelled_count = count
    if count >= lot.invoice_count and can(LotState(lot.state), LotAction.CANCEL):
        move_lot(
            lot,
            LotAction.CANCEL,
            user=user,
            reason=(
                "toutes ses factures annulées (la dernière : "
                f"{format_invoice_number(invoice.number)})"
            ),
            at=at,
        )


# --- lots -------------------------------------------------------------------------------------


def move_lot(
    lot: Lot,
    action: LotAction,
    *,
    user: str,
    reason: str = "",
    at: datetime | None = None,
    message_id: str | None = None,
    recipient: str | None = None,
    sent_at: datetime | None = None,
    error: str | None = None,
    arl_code: str | None = None,
) -> LotState:
    """Apply *action* to *lot* with every effect of its row (its invoices' and SCOR lots'
    moves included); the caller holds the write transaction. Returns the new state.

    The ARL columns take *reason* as the ARL's reason and *arl_code* as its code.
    """
    users.require(user, Family.TRANSMIT)
    at = at or now()
    source = LotState(lot.state)
    row = find_lot_move(source, action, send_count=lot.send_count)
    target = row.target_resending if is_resending(source, lot.send_count) else row.target
    effects = row.effects
    changes: dict[str, object] = {"state": target.value}
    if effects.starts_sending:
        if not (message_id and recipient):
            raise TypeError(f"{action.value}: the message id and the recipient are required")
        changes.update(send_started_at=at, message_id=message_id, recipient=recipient)
    elif message_id is not None or recipient is not None:
        raise TypeError(f"{action.value} starts no sending")
    if effects.counts_sending:
        changes.update(send_count=lot.send_count + 1, sent_at=sent_at or at)
    elif sent_at is not None:
        raise TypeError(f"{action.value} counts no sending")
    if effects.clears_error:
        changes.update(last_error="", last_error_at=None)
    if effects.records_error:
        changes.update(last_error=error or reason, last_error_at=at)
    elif error is not None:
        raise TypeError(f"{action.value} records no error")
    if effects.arl is ArlFields.SET:
        changes.update(arl_at=at, arl_code=arl_code or "", arl_reason=reason)
    elif effects.arl is ArlFields.CLEAR:
        changes.update(arl_at=at, arl_code="", arl_reason="")
    elif arl_code is not None:
        raise TypeError(f"{action.value} records no ARL")

    _update_conditionally(
        Lot,
        lot,
        source.value,
        changes,
        f"Le lot {lot.number:03d} a été modifié par un autre poste : rechargez-le.",
    )
    record_lot(lot, source.value, target.value, action.value, user, reason, at=at)

    if effects.invoices is not None and lot.kind == DRE_LOT:
        _carry_dres(lot, effects.invoices, user=user, at=at)
    elif effects.invoices is not None:
        why = _CARRIED_REASONS.get(action, "Lot {number} : " + action.label).format(
            number=f"{lot.number:03d}"
        )
        sources = [m.source.value for m in INVOICE_MOVES if m.action is effects.invoices]
        for invoice in Invoice.select().where((Invoice.lot == lot.id) & Invoice.state.in_(sources)):
            move_invoice(invoice, effects.invoices, user=user, reason=why, at=at)
    if effects.children is not None:
        for child in Lot.select().where(Lot.parent == lot.id):
            if can(LotState(child.state), effects.children):
                move_lot(
                    child,
                    effects.children,
                    user=user,
                    reason=f"lot de FSE {lot.number:03d} : {action.label.lower()}",
                    at=at,
                )
    if effects.releases_pieces:
        # A deleted SCOR lot gives its pieces back: they travel in the next SCOR lot.
        InvoicePiece.update(lot=None).where(InvoicePiece.lot == lot.id).execute()
    return target


DRE_LOT = "DRE"  # Lot.kind of a lot of DRE (services.dre_lots)


def _carry_dres(lot: Lot, invoice_action: InvoiceAction, *, user: str, at: datetime) -> None:
    """What a DRE lot's move does to its DREs (seed 003): sent → « Transmise »; deleted before
    sending → out of the lot, still « Validée » (the next DRE lot takes them)."""
    reason = f"Lot de DRE {lot.number:03d}"
    dres = list(Dre.select(Dre, Invoice).join(Invoice).where(Dre.lot == lot.id))
    if invoice_action is InvoiceAction.TRANSMIT:
        for dre in dres:
            if DreState(dre.state) is DreState.VALIDEE:
                move_dre(dre, dre.invoice, DreAction.TRANSMIT, user=user, reason=reason, at=at)
    elif invoice_action is InvoiceAction.REMOVE_FROM_LOT:
        Dre.update(lot=None, lot_number=None, updated_at=at).where(Dre.lot == lot.id).execute()


def record_lot(
    lot: Lot,
    from_state: str | None,
    to_state: str,
    action: str,
    user: str,
    reason: str = "",
    *,
    at: datetime | None = None,
) -> LotTransition:
    users.require(user, Family.TRANSMIT)
    return LotTransition.create(
        **audit.seal(
            LotTransition,
            {
                "lot": lot.id,
                "at": at or now(),
                "user": user,
                "from_state": from_state,
                "to_state": to_state,
                "action": action,
                "reason": reason,
            },
        )
    )


def record_lot_built(lot: Lot, user: str, reason: str, *, at: datetime) -> None:
    """A lot's first history row: built, « À transmettre » (the row :func:`record_lot` makes,
    inserted in SQL written once: a build records one for each lot)."""
    users.require(user, Family.TRANSMIT)
    _insert_alike(
        LotTransition,
        "lot",
        [lot.id],
        {"at": at, "user": user, "from_state": None, "to_state": INITIAL_STATE.value,
         "action": BUILD, "reason": reason},
    )  # fmt: skip


# --- shared -----------------------------------------------------------------------------------


def _require_for_invoice(user: str, action: str, invoice: Invoice) -> None:
    """The one permission check of the life cycle (``services.users.require``): the family of
    the action, and for signing and avoirs the invoice's practitioner."""
    family = invoice_family(action)
    owner = invoice.practitioner_id if family in OWN_ONLY else None
    users.require(user, family, practitioner_id=owner)


def _update_conditionally(
    model: type[Invoice] | type[Lot],
    entity: Invoice | Lot,
    source: str,
    changes: dict[str, object],
    refusal: str,
) -> None:
    updated = (
        model.update(**changes).where((model.id == entity.id) & (model.state == source)).execute()
    )
    if updated != 1:
        raise RefusedOperation(refusal)
    for key, value in changes.items():
        setattr(entity, key, value)
