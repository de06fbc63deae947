"""Invoices: drafts from acts, edited while in Saisie, then moved along their life cycle.

Each public function is one write transaction: on any error nothing is saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import peewee

from tuibill.domain import invoice_rules, pricing
from tuibill.domain.acts import Act
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.invoices import (
    CREATE,
    EDIT,
    InvoiceAction,
    InvoiceState,
    is_editable,
    not_editable,
)
from tuibill.models import (
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    IsolatedAct,
    Patient,
    Practitioner,
    Prescription,
    PrescriptionItem,
)
from tuibill.models.database import immediate
from tuibill.services import dre, lifecycle, line_statuses
from tuibill.services.acts import acts_from_isolated, coverage_for
from tuibill.services.patients import search_key
from tuibill.services.tariffs import TariffBook


def has_invoices() -> bool:
    return Invoice.select().exists()


def invoice_by_reference(invoice_id: int | None = None, number: int | None = None) -> Invoice:
    """An invoice by its id, or by its FSE number (unique per practitioner: refused when
    several practitioners have an invoice with that number)."""
    if number is None:
        return get_invoice(int(invoice_id or 0))
    found = list(Invoice.select().where(Invoice.number == number).limit(2))
    if not found:
        raise NotFound(f"Aucune facture n° {number:09d}.")
    if len(found) > 1:
        raise ValidationError(
            f"Plusieurs praticiens ont une facture n° {number:09d} : donnez son identifiant "
            "(colonne Id du journal)."
        )
    return found[0]


def get_invoice(invoice_id: int) -> Invoice:
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        raise NotFound(f"Facture {invoice_id} introuvable.")
    return invoice


def _practitioner(practitioner_id: int) -> Practitioner:
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None or not practitioner.active:
        raise ValidationError("Praticien inconnu ou inactif.", field="practitioner")
    return practitioner


def _patient(patient_id: int) -> Patient:
    patient = Patient.get_or_none(Patient.id == patient_id)
    if patient is None:
        raise ValidationError("Patient inconnu.", field="patient")
    return patient


def _prescription(prescription_id: int | None, patient: Patient) -> Prescription | None:
    if prescription_id is None:
        return None
    prescription = Prescription.get_or_none(Prescription.id == prescription_id)
    if prescription is None or prescription.patient_id != patient.id:
        raise ValidationError("Prescription inconnue pour ce patient.", field="prescription")
    if prescription.prescriber_id is None:
        raise ValidationError(
            "Prescripteur inconnu : complétez la prescription.", field="prescriber"
        )
    return prescription


def _correct_prescription(
    prescription_id: int | None, prescriber_id: int | None, prescribed_on: date | None
) -> None:
    if prescription_id is None or (prescriber_id is None and prescribed_on is None):
        return
    from tuibill.services.prescriptions import update_prescription_header

    update_prescription_header(
        prescription_id, prescriber_id=prescriber_id, prescribed_on=prescribed_on
    )


def _write_lines(
    invoice: Invoice,
    practitioner: Practitioner,
    patient: Patient,
    prescription: Prescription | None,
    acts: Sequence[Act],
    billing_date: date,
) -> None:
    # Refused lines of earlier runs (seed 001): the acts to bill again and the lines to credit,
    # carried by this invoice of the same patient and payer, for the same day.
    carry = line_statuses.carry_over(patient.id, practitioner.id, patient.organism_id)
    taken = {act.isolated_act_id for act in acts if act.isolated_act_id is not None}
    missing = [act_id for act_id in carry.rebill_act_ids if act_id not in taken]
    if missing:
        acts = [*acts, *acts_from_isolated(missing)[2]]
    rebilled = {
        row.id: row.rebills_line
        for row in IsolatedAct.select(IsolatedAct.id, IsolatedAct.rebills_line).where(
            IsolatedAct.id.in_([a.isolated_act_id for a in acts if a.isolated_act_id] or [0])
            & IsolatedAct.rebills_line.is_null(False)
        )
    }
    invoice_rules.check_has_acts(len(acts))
    for act in acts:
        again = act.isolated_act_id in rebilled  # of an earlier prescription
        invoice_rules.check_act_date(
            act.act_date,
            billing_date=billing_date,
            prescription_date=prescription.date if prescription and not again else None,
            death_date=patient.death_date,
        )
    priced = pricing.price_acts(
        acts,
        TariffBook(practitioner.specialty),
        coverage_for(patient),
        birth_date=patient.birth_date,
    )

    # Prescribed items consumed by these acts: never more than prescribed.
    used: dict[int, int] = {}
    for act in acts:
        if act.prescription_item_id is not None:
            used[act.prescription_item_id] = used.get(act.prescription_item_id, 0) + 1
    items: dict[int, PrescriptionItem] = {}
    for item_id, count in used.items():
        item = PrescriptionItem.get_or_none(PrescriptionItem.id == item_id)
        if item is None or prescription is None or item.prescription_id != prescription.id:
            raise ValidationError("Acte prescrit inconnu pour cette prescription.", field="acts")
        items[item_id] = item
        if item.remaining < count:
            raise ValidationError(
                f"{item.code} : {count} acte(s) facturé(s) mais {item.remaining} restant(s) "
                "sur la prescription.",
                field="acts",
            )
        item.billed += count
        item.save()
    for act in acts:
        if act.prescription_item_id is not None:
            invoice_rules.check_within_prescription(
                act.code, act.coefficient_x100, items[act.prescription_item_id].coefficient_x100
            )

    act_index = 0
    rows = []
    rebill_of = None
    for position, line in enumerate(priced.lines):
        item_id = None
        if line.parent is None:
            item_id = acts[act_index].prescription_item_id
            rebill_of = rebilled.get(acts[act_index].isolated_act_id)
            act_index += 1
        rows.append(
            {
                "invoice": invoice.id,
                "position": position,
                "parent_position": line.parent,
                "act_date": line.act_date,
                "act_time": line.act_time.strftime("%H:%M") if line.act_time else None,
                "code": line.code,
                "label": line.label,
                "kind": line.kind,
                "coefficient_x100": line.coefficient_x100,
                "quantity": line.quantity,
                "unit_cents": line.unit_cents,
                "total_cents": line.total_cents,
                "amo_cents": line.amo_cents,
                "amc_cents": line.amc_cents,
                "patient_cents": line.patient_cents,
                "prescription_item": item_id,
                "rebill_of": rebill_of,
                "credit_of": None,
            }
        )
    # The negative lines: each credited line again, amounts negated, on its own day.
    credited = {"total_cents": 0, "amo_cents": 0, "amc_cents": 0, "patient_cents": 0}
    for line in carry.credits:
        rows.append(
            {
                "invoice": invoice.id, "position": len(rows), "parent_position": None,
                "act_date": line.act_date, "act_time": line.act_time, "code": line.code,
                "label": f"Régularisation : {line.label or line.code}"[:255], "kind": line.kind,
                "coefficient_x100": line.coefficient_x100, "quantity": line.quantity,
                "unit_cents": line.unit_cents, "total_cents": -line.total_cents,
                "amo_cents": -line.amo_cents, "amc_cents": -line.amc_cents,
                "patient_cents": -line.patient_cents, "prescription_item": None,
                "rebill_of": None, "credit_of": line.id,
            }
        )  # fmt: skip
        for key in credited:
            credited[key] -= getattr(line, key)
    if priced.total_cents + credited["total_cents"] < 0:
        raise ValidationError(
            "Les lignes à régulariser dépassent le montant de la facture : ajoutez les actes à "
            "facturer de nouveau.",
            field="acts",
        )
    InvoiceLine.insert_many(rows).execute()
    line_statuses.mark_carried(carry.decision_ids, invoice.id)

    for act in acts:
        if act.isolated_act_id is not None:
            updated = (
                IsolatedAct.update(invoice=invoice.id)
                .where(
                    (IsolatedAct.id == act.isolated_act_id)
                    & (IsolatedAct.patient == patient.id)
                    & (IsolatedAct.invoice.is_null())
                )
                .execute()
            )
            if updated != 1:
                raise ValidationError("Acte isolé déjà facturé ou inconnu.", field="acts")

    dates = [a.act_date for a in acts]
    coverage = coverage_for(patient)
    invoice.billing_date = billing_date
    invoice.first_act_date = min(dates)
    invoice.last_act_date = max(dates)
    invoice.total_cents = priced.total_cents + credited["total_cents"]
    invoice.amo_cents = priced.amo_cents + credited["amo_cents"]
    invoice.amc_cents = priced.amc_cents + credited["amc_cents"]
    invoice.patient_cents = priced.patient_cents + credited["patient_cents"]
    invoice.amo_rate = coverage.amo_rate
    invoice.organism = patient.organism_id
    invoice.mutuelle = patient.mutuelle_id
    invoice.amo_tiers_payant = patient.amo_tiers_payant
    invoice.amc_tiers_payant = patient.amc_tiers_payant and patient.mutuelle_id is not None
    invoice.patient_name = search_key(patient.last_name, patient.first_name)
    invoice.sector = patient.sector
    invoice.save()


def _release_lines(invoice: Invoice) -> None:
    """A draft's acts are replaced: give back what its lines consumed, then remove them."""
    lifecycle.release_acts(invoice)
    InvoiceLine.delete().where(InvoiceLine.invoice == invoice.id).execute()


def create_invoice(
    practitioner_id: int,
    patient_id: int,
    acts: Sequence[Act],
    *,
    user: str,
    billing_date: date | None = None,
    prescription_id: int | None = None,
    prescriber_id: int | None = None,
    prescribed_on: date | None = None,
) -> Invoice:
    """A new invoice in Saisie, priced at each act's date; *prescriber_id* / *prescribed_on*
    correct its prescription in the same transaction."""
    billing_date = billing_date or date.today()
    with immediate():
        practitioner = _practitioner(practitioner_id)
        patient = _patient(patient_id)
        _correct_prescription(prescription_id, prescriber_id, prescribed_on)
        prescription = _prescription(prescription_id, patient)
        invoice = Invoice.create(
            practitioner=practitioner.id,
            patient=patient.id,
            prescription=prescription.id if prescription else None,
            state=InvoiceState.SAISIE.value,
            billing_date=billing_date,
            first_act_date=billing_date,
            last_act_date=billing_date,
            patient_name=search_key(patient.last_name, patient.first_name),
            created_at=lifecycle.now(),
            created_by=user,
        )
        _write_lines(invoice, practitioner, patient, prescription, acts, billing_date)
        lifecycle.record_invoice(invoice, None, InvoiceState.SAISIE.value, CREATE, user)
        dre.sync(invoice, user=user)  # the AMC part in tiers payant (seed 003)
    return invoice


def update_invoice(
    invoice_id: int,
    acts: Sequence[Act],
    *,
    user: str,
    billing_date: date | None = None,
    prescriber_id: int | None = None,
    prescribed_on: date | None = None,
) -> Invoice:
    """Replace the acts of a Saisie invoice (any other state is frozen); *prescriber_id* /
    *prescribed_on* correct its prescription in the same transaction."""
    with immediate():
        invoice = get_invoice(invoice_id)
        if not is_editable(InvoiceState(invoice.state)):
            raise RefusedOperation(not_editable(InvoiceState(invoice.state)))
        practitioner = _practitioner(invoice.practitioner_id)
        patient = _patient(invoice.patient_id)
        _correct_prescription(invoice.prescription_id, prescriber_id, prescribed_on)
        prescription = _prescription(invoice.prescription_id, patient)
        _release_lines(invoice)
        _write_lines(
            invoice, practitioner, patient, prescription, acts, billing_date or invoice.billing_date
        )
        lifecycle.record_invoice_event(invoice, EDIT, user)
        dre.sync(invoice, user=user)
    return invoice


def delete_draft(invoice_id: int, *, user: str) -> None:
    """« Supprimer » a never-numbered draft: kept « Supprimée » with its history (the table's
    move gives back the acts it consumed); a numbered one is made « Non transmissible »."""
    with immediate():
        lifecycle.move_invoice(get_invoice(invoice_id), InvoiceAction.DELETE_DRAFT, user=user)


def apply_action(
    invoice_id: int,
    action: InvoiceAction,
    *,
    user: str,
    reason: str = "",
) -> Invoice:
    """Move one invoice by *action* (mode dégradé: no card) in its own transaction."""
    with immediate():
        invoice = get_invoice(invoice_id)
        refusal = _needs_the_device(invoice, InvoiceAction(action))
        if refusal:
            raise RefusedOperation(refusal)
        lifecycle.move_invoice(invoice, InvoiceAction(action), user=user, reason=reason)
    return invoice


def _needs_the_device(invoice: Invoice, action: InvoiceAction) -> str:
    """Why the desk alone may not do *action* (the portable reader holds the invoice), or ""."""
    if action is InvoiceAction.CANCEL_PREPARATION and invoice.state == InvoiceState.CHARGEE_TLA:
        # The device holds it: taken back only through it (tla_transfer), erased there first.
        return (
            "La facture est dans le lecteur portable : « Annuler préparation » l'en efface "
            "d'abord, lecteur branché (Facturer, touche a ; tuibill tla unprepare)."
        )
    return ""


# Invoices moved per write transaction by apply_many: the write lock is held a few
# milliseconds, so another desk's validation interleaves instead of waiting for the whole run.
BATCH = 100


def apply_many(
    invoice_ids: Sequence[int], action: InvoiceAction, *, user: str, reason: str = ""
) -> tuple[list[Invoice], list[tuple[int, str]]]:
    """Apply *action* to each invoice on its own: one refusal does not block the others.

    An invoice that this very action already brought where it is (an interrupted run started
    again) is done, not refused. The invoices are moved by batches (``lifecycle.move_each``:
    a few statements for a hundred invoices), each batch in its own write transaction.
    """
    action = InvoiceAction(action)
    done: list[Invoice] = []
    refused: list[tuple[int, str]] = []
    ids = list(invoice_ids)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        with immediate():
            query = Invoice.select().where(Invoice.id.in_(list(set(chunk))))
            if not isinstance(Invoice._meta.database.obj, peewee.SqliteDatabase):
                query = query.for_update()  # SQLite's BEGIN IMMEDIATE already locks
            found = {invoice.id: invoice for invoice in query}
            wanted = list(dict.fromkeys(i for i in chunk if i in found))
            held = {i: _needs_the_device(found[i], action) for i in wanted}
            problems = lifecycle.move_each(
                [found[i] for i in wanted if not held[i]], action, user=user, reason=reason
            )
        why = {invoice.id: str(error) for invoice, error in problems}
        why.update({i: text for i, text in held.items() if text})
        for invoice_id in chunk:
            invoice = found.get(invoice_id)
            if invoice is None:
                refused.append((invoice_id, f"Facture {invoice_id} introuvable."))
            elif invoice_id not in why:
                done.append(invoice)
            elif already_done(invoice, action):
                done.append(invoice)
            else:
                refused.append((invoice_id, why[invoice_id]))
    return done, refused


def already_done(invoice: Invoice, action: InvoiceAction) -> bool:
    """Whether *invoice*'s last move was *action* (it is where that action leads)."""
    last = (
        InvoiceTransition.select(InvoiceTransition.action, InvoiceTransition.to_state)
        .where(InvoiceTransition.invoice == invoice.id)
        .order_by(InvoiceTransition.id.desc())
        .first()
    )
    return last is not None and last.action == action.value and last.to_state == invoice.state


def validate(invoice_id: int, *, user: str) -> Invoice:
    """« Valider » in mode dégradé (the cards' validation is ``securing.validate_with_cards``)."""
    return apply_action(invoice_id, InvoiceAction.VALIDATE, user=user)


def unvalidate(invoice_id: int, *, user: str, reason: str = "") -> Invoice:
    return apply_action(invoice_id, InvoiceAction.UNVALIDATE, user=user, reason=reason)


def prepare(invoice_id: int, *, user: str) -> Invoice:
    return apply_action(invoice_id, InvoiceAction.PREPARE, user=user)


def cancel_preparation(invoice_id: int, *, user: str) -> Invoice:
    return apply_action(invoice_id, InvoiceAction.CANCEL_PREPARATION, user=user)
