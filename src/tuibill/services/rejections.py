"""A caisse's rejection of a transmitted invoice: « Annuler facture transmise », and the guided
treatment of each motif (seed 000) — « Recommencer la FSE », avoir + « Nouvelle facture »,
« facture déjà payée » marked treated, an AMC rejection on paper or billed to the patient — and
recycling with « Réactiver Télétrans » (seed 002). Every treatment is a move of the domain's
table (``domain.invoices.MOVES``), recorded and sealed with its reason.

A rejection can arrive on paper (or in the NOEMIE returns): recording it makes the invoice
« Rejetée » (a move of the domain's table, with its reason), which is what allows « Annuler
facture transmise » (Rejetée → Saisie). The cancelled invoice leaves its lot, counted there as
cancelled; when every invoice of a lot was cancelled that way, the lot is « Annulé », and the
invoices, once corrected and re-validated, go into a new lot with a new number. All of that is
the table's (``domain.invoices.MOVES``), applied by ``services.lifecycle``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.invoices import InvoiceAction, InvoiceState, find_move
from tuibill.domain.lots import LotState
from tuibill.domain.rejection_codes import FIELD_LABELS, Motif, MotifSpec, Treatment, guidance
from tuibill.models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    IsolatedAct,
    Patient,
    Prescriber,
    Prescription,
    ReceivedFile,
    ReturnEntry,
    ReturnRejection,
)
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.invoices import get_invoice
from tuibill.services.lifecycle import current_time
from tuibill.services.lot_views import LotSummary, get_lot, summarize


def _move(invoice_id: int, action: InvoiceAction, user: str, reason: str, at: datetime) -> Invoice:
    with immediate():
        invoice = get_invoice(invoice_id)
        lifecycle.move_invoice(invoice, action, user=user, reason=reason.strip(), at=at)
    return invoice


def record_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Record the caisse's rejection of a « Transmise » invoice (e.g. received on paper)."""
    return _move(invoice_id, InvoiceAction.REJECT, user, reason, lifecycle.now())


def clear_rejection(invoice_id: int, *, user: str, reason: str) -> Invoice:
    """Undo a rejection recorded by mistake: « Rejetée » → « Transmise »."""
    return _move(invoice_id, InvoiceAction.CLEAR_REJECTION, user, reason, lifecycle.now())


@dataclass(frozen=True)
class CancelResult:
    invoice: Invoice  # now « Saisie », out of its lot
    lot: LotSummary | None  # the lot it was in, as it is now
    lot_cancelled: bool  # the last of its invoices: the lot became « Annulé »


def cancel_transmitted(
    invoice_id: int, *, user: str, reason: str, now: datetime | None = None
) -> CancelResult:
    """« Annuler facture transmise » (after a rejection): Rejetée → Saisie, out of its lot; the
    last cancelled invoice of a lot makes it « Annulé »."""
    before = get_invoice(invoice_id)
    invoice = _move(
        invoice_id, InvoiceAction.CANCEL_TRANSMITTED, user, reason, current_time(now)
    )
    if before.lot_id is None:
        return CancelResult(invoice, None, False)
    lot = summarize(get_lot(before.lot_id))
    return CancelResult(invoice, lot, lot.state is LotState.ANNULE)


# --- the guided treatment of a rejection (seed 000, issue 9) ----------------------------------


@dataclass(frozen=True)
class RejectionLine:
    """One rejection (294) or signalement (290) the returns brought for the invoice."""

    code: str
    label: str
    level: str  # F invoice / L line / A refined
    part: str  # O obligatoire (+ AMC) / C AMC only
    line_number: int | None
    motif: str  # the motif's French label
    file: str  # the return file it came in

    def as_dict(self) -> dict:
        return {
            "code": self.code, "libelle": self.label, "niveau": self.level, "part": self.part,
            "ligne": self.line_number, "motif": self.motif, "fichier": self.file,
        }  # fmt: skip


@dataclass(frozen=True)
class TreatmentAction:
    action: InvoiceAction
    label: str
    key: str  # the key the treatment screen binds to it

    def as_dict(self) -> dict:
        return {"action": self.action.value, "libelle": self.label, "touche": self.key}


@dataclass(frozen=True)
class RejectionView:
    """Everything the treatment screen and ``tuibill rejection show`` say of one invoice."""

    invoice_id: int
    number: str
    state: InvoiceState
    mode: str
    patient: str
    patient_id: int
    practitioner: str
    caisse: str
    mutuelle: str
    total_cents: int
    amo_cents: int
    amc_cents: int
    amo_paid_cents: int
    amc_paid_cents: int
    prescription_id: int | None
    prescriber: str
    prescription_date: date | None
    death_date: date | None
    rejections: tuple[RejectionLine, ...]
    motif: Motif
    motif_label: str
    treatment: Treatment
    treatment_label: str
    field: str  # the field to correct (domain.rejection_codes.FIELD_LABELS)
    field_label: str
    what_to_do: str
    actions: tuple[TreatmentAction, ...]
    amc_only: bool
    credit_note: str  # the avoir's number, if one cancels the invoice
    replacement_id: int | None  # the new invoice made in its place
    replaces_id: int | None  # the invoice this one replaces
    recycled: str  # « le 02/03/2026 par anne »
    lines: tuple[dict, ...]

    def as_dict(self) -> dict:
        return {
            "facture": self.invoice_id, "numero": self.number, "etat": self.state.label,
            "etat_code": self.state.value, "mode": self.mode, "patient": self.patient,
            "praticien": self.practitioner, "caisse": self.caisse, "mutuelle": self.mutuelle,
            "total_cents": self.total_cents, "amo_cents": self.amo_cents,
            "amc_cents": self.amc_cents, "amo_paye_cents": self.amo_paid_cents,
            "amc_paye_cents": self.amc_paid_cents, "prescripteur": self.prescriber,
            "date_prescription": self.prescription_date, "date_deces": self.death_date,
            "rejets": [r.as_dict() for r in self.rejections], "motif": self.motif.value,
            "libelle_motif": self.motif_label, "traitement": self.treatment.value,
            "libelle_traitement": self.treatment_label, "champ": self.field,
            "libelle_champ": self.field_label, "que_faire": self.what_to_do,
            "actions": [a.as_dict() for a in self.actions], "rejet_amc": self.amc_only,
            "avoir": self.credit_note or None, "remplacee_par": self.replacement_id,
            "remplace": self.replaces_id, "recyclee": self.recycled or None,
            "lignes": list(self.lines),
        }  # fmt: skip


# The keys of the treatment screen, one per action (French initials where they are free).
ACTION_KEYS: dict[InvoiceAction, str] = {
    InvoiceAction.RESTART: "r",
    InvoiceAction.CREDIT_NOTE: "a",
    InvoiceAction.MARK_TREATED: "t",
    InvoiceAction.AMC_PAPER: "p",
    InvoiceAction.BILL_PATIENT: "f",
    InvoiceAction.RECYCLE: "y",
    InvoiceAction.REACTIVATE: "v",
}
NEW_INVOICE_KEY = "n"


def _rejections_of(invoice_id: int, table) -> list[RejectionLine]:
    query = (
        ReturnRejection.select(ReturnRejection, ReturnEntry, ReceivedFile)
        .join(ReturnEntry)
        .join(ReceivedFile)
        .where((ReturnRejection.invoice == invoice_id) & (ReturnRejection.kind == "rejet"))
        .order_by(ReturnRejection.id)
    )
    return [
        RejectionLine(
            code=row.code, label=row.label, level=row.level, part=row.part,
            line_number=row.line_number, motif=table.motif_for(row.code, row.label).label,
            file=row.entry.received_file.file_name,
        )  # fmt: skip
        for row in query
    ]


def _motif(invoice: Invoice, rejections: list[RejectionLine], table) -> MotifSpec:
    """The motif of the latest return's rejection at invoice level (else any; else the reason of
    a rejection recorded on paper)."""
    for level in ("F", "L", "A"):
        found = [r for r in rejections if r.level == level]
        if found:
            return table.motif_for(found[-1].code, found[-1].label)
    reason = (
        InvoiceTransition.select(InvoiceTransition.reason)
        .where(
            (InvoiceTransition.invoice == invoice.id)
            & (InvoiceTransition.action == InvoiceAction.REJECT.value)
        )
        .order_by(InvoiceTransition.id.desc())
        .scalar()
    )
    return table.motif_for("", reason or "")


def _amc_only(invoice: Invoice, rejections: list[RejectionLine]) -> bool:
    """The mutuelle's part only was rejected (the AMO paid, or a DRE): a rejection SESAM-Vitale
    cannot treat."""
    if rejections and all(r.part == "C" for r in rejections):
        return True
    entry = (
        ReturnEntry.select()
        .where(ReturnEntry.invoice == invoice.id)
        .order_by(ReturnEntry.id.desc())
        .first()
    )
    return entry is not None and entry.amc_state == "R" and entry.amo_state != "R"


def rejection_view(invoice_id: int) -> RejectionView:
    """The rejected (or partly paid) invoice, its rejections, its motif and what to do."""
    from tuibill.domain.formatting import format_day, format_invoice_number
    from tuibill.domain.invoices import allowed_actions
    from tuibill.services.invoice_views import invoice_record
    from tuibill.services.rejection_motifs import table as motif_table

    invoice = get_invoice(invoice_id)
    table = motif_table()
    rejections = _rejections_of(invoice.id, table)
    spec = _motif(invoice, rejections, table)
    amc_only = _amc_only(invoice, rejections)
    state = InvoiceState(invoice.state)
    allowed = set(allowed_actions(state))
    if invoice.mode == "sesam_vitale":
        allowed.discard(InvoiceAction.RESTART)
    advice = guidance(
        spec, sesam_vitale=invoice.mode == "sesam_vitale", amc_only=amc_only, allowed=allowed,
        partly_paid=state is InvoiceState.PAYEE_PARTIELLEMENT,
    )  # fmt: skip
    prescription = (
        Prescription.get_or_none(Prescription.id == invoice.prescription_id)
        if invoice.prescription_id
        else None
    )
    prescriber = ""
    if prescription is not None:
        found = Prescriber.get_or_none(Prescriber.id == prescription.prescriber_id)
        prescriber = f"{found.display_name} ({found.number})" if found else ""
    note = CreditNote.get_or_none(CreditNote.invoice == invoice.id)
    recycled = ""
    if invoice.recycled_at is not None:
        recycled = f"le {format_day(invoice.recycled_at)} par {invoice.recycled_by or '?'}"
    patient = Patient.get_by_id(invoice.patient_id)
    return RejectionView(
        invoice_id=invoice.id,
        number=format_invoice_number(invoice.number),
        state=state,
        mode=invoice.mode,
        patient=patient.display_name,
        patient_id=patient.id,
        practitioner=invoice.practitioner.display_name,
        caisse=invoice.organism.name if invoice.organism_id else "",
        mutuelle=invoice.mutuelle.name if invoice.mutuelle_id else "",
        total_cents=invoice.total_cents,
        amo_cents=invoice.amo_cents,
        amc_cents=invoice.amc_cents,
        amo_paid_cents=invoice.amo_paid_cents,
        amc_paid_cents=invoice.amc_paid_cents,
        prescription_id=invoice.prescription_id,
        prescriber=prescriber,
        prescription_date=prescription.date if prescription else None,
        death_date=patient.death_date,
        rejections=tuple(rejections),
        motif=spec.motif,
        motif_label=spec.label,
        treatment=advice.treatment,
        treatment_label=advice.treatment.label,
        field=spec.field if advice.treatment is spec.treatment else "",
        field_label=FIELD_LABELS.get(spec.field, "") if advice.treatment is spec.treatment else "",
        what_to_do=advice.text,
        actions=tuple(
            TreatmentAction(action, action.label, ACTION_KEYS[action]) for action in advice.actions
        ),
        amc_only=amc_only,
        credit_note=format_credit_note(note) if note else "",
        replacement_id=note.replacement_id if note else None,
        replaces_id=invoice.replaces,
        recycled=recycled,
        lines=tuple(invoice_record(invoice, history=False)["lignes"]),
    )


def format_credit_note(note: CreditNote) -> str:
    return f"AV{note.number:06d}"


@dataclass(frozen=True)
class RejectedRow:
    invoice_id: int
    number: str
    state: str
    patient: str
    billing_date: date
    total_cents: int
    code: str
    label: str
    motif: str

    def as_dict(self) -> dict:
        return {
            "facture": self.invoice_id, "numero": self.number, "etat": self.state,
            "patient": self.patient, "date": self.billing_date, "total_cents": self.total_cents,
            "code": self.code, "libelle": self.label, "motif": self.motif,
        }  # fmt: skip


# The states where a rejection waits for the desk (an AMC one too: Payée partiellement).
TO_TREAT = (InvoiceState.REJETEE, InvoiceState.RECYCLEE)


# An AMC rejection (a mutuelle's part, or a DRE) leaves the invoice paid by the AMO.
AMC_TO_TREAT = (InvoiceState.PAYEE, InvoiceState.PAYEE_PARTIELLEMENT, InvoiceState.REJETEE)


def list_rejections(
    *,
    after: int | None = None,
    limit: int = 100,
    states: tuple[InvoiceState, ...] = TO_TREAT,
    amc: bool = False,
) -> list[RejectedRow]:
    """Invoices waiting for a treatment, by id (keyset: pass the last id as *after*); with
    *amc*, those whose mutuelle's part was rejected (on paper, or billed to the patient)."""
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services.rejection_motifs import table as motif_table

    table = motif_table()
    if amc:
        rejected = ReturnRejection.select(ReturnRejection.invoice).where(
            (ReturnRejection.part == "C") & (ReturnRejection.kind == "rejet")
        )
        query = Invoice.select().where(
            Invoice.state.in_([s.value for s in AMC_TO_TREAT]) & Invoice.id.in_(rejected)
        )
    else:
        query = Invoice.select().where(Invoice.state.in_([s.value for s in states]))
    if after is not None:
        query = query.where(Invoice.id > after)
    rows = []
    for invoice in query.order_by(Invoice.id).limit(limit):
        last = (
            ReturnRejection.select()
            .where((ReturnRejection.invoice == invoice.id) & (ReturnRejection.kind == "rejet"))
            .order_by(ReturnRejection.id.desc())
            .first()
        )
        code, label = (last.code, last.label) if last else ("", "")
        rows.append(
            RejectedRow(
                invoice.id, format_invoice_number(invoice.number),
                InvoiceState(invoice.state).label, invoice.patient.display_name,
                invoice.billing_date, invoice.total_cents, code, label,
                table.motif_for(code, label).label,
            )  # fmt: skip
        )
    return rows


def _never_resend(invoice: Invoice) -> None:
    """« Facture déjà payée » (2900) is never re-sent, whatever the desk asks."""
    from tuibill.services.rejection_motifs import table as motif_table

    table = motif_table()
    if _motif(invoice, _rejections_of(invoice.id, table), table).motif is Motif.ALREADY_PAID:
        raise RefusedOperation(
            f"La facture {invoice.number:09d} a été rejetée « facture déjà payée » : elle ne se "
            "renvoie jamais. Marquez le rejet traité."
        )


@dataclass(frozen=True)
class Corrections:
    """What « Recommencer la FSE » corrects before re-validating (seed 000)."""

    prescriber_id: int | None = None
    prescription_date: date | None = None
    act_dates: dict[int, date] | None = None  # line rank (from 1, acts only) → new date


def restart(
    invoice_id: int,
    *,
    user: str,
    reason: str,
    corrections: Corrections | None = None,
    validate: bool = False,
    now: datetime | None = None,
) -> Invoice:
    """« Recommencer la FSE »: a rejected (or recycled) degraded-mode invoice is a draft again
    with its same number, out of its sent lot; the *corrections* applied; re-validated when
    *validate* (it goes into the next lot). One transaction: a correction that breaks a rule
    (act after the death, before the prescription) is refused at its field, nothing saved."""
    at = current_time(now)
    with immediate():
        invoice = get_invoice(invoice_id)
        _never_resend(invoice)
        lifecycle.move_invoice(invoice, InvoiceAction.RESTART, user=user, reason=reason, at=at)
        fixes = corrections or Corrections()
        changed = []
        if fixes.prescriber_id is not None or fixes.prescription_date is not None:
            prescription = (
                Prescription.get_or_none(Prescription.id == invoice.prescription_id)
                if invoice.prescription_id
                else None
            )
            if prescription is None:
                raise ValidationError(
                    "Cette facture n'a pas de prescription : rien à corriger de ce côté.",
                    field="prescription",
                )
            if fixes.prescriber_id is not None:
                if Prescriber.get_or_none(Prescriber.id == fixes.prescriber_id) is None:
                    raise ValidationError(
                        "Prescripteur inconnu : créez-le dans Données › Prescripteurs.",
                        field="prescriber",
                    )
                prescription.prescriber = fixes.prescriber_id
                changed.append("prescripteur")
            if fixes.prescription_date is not None:
                if fixes.prescription_date > at.date():
                    raise ValidationError(
                        "La date de prescription est dans le futur.", field="prescription_date"
                    )
                prescription.date = fixes.prescription_date
                changed.append(f"date de prescription {fixes.prescription_date:%d/%m/%Y}")
            prescription.save()
        if fixes.act_dates:
            _move_act_dates(invoice, fixes.act_dates)
            changed.append("dates des actes")
        if changed:
            lifecycle.record_invoice_event(invoice, "correction", user, ", ".join(changed))
        if validate:
            lifecycle.move_invoice(invoice, InvoiceAction.VALIDATE, user=user, at=at)
    return invoice


def _move_act_dates(invoice: Invoice, dates: dict[int, date]) -> None:
    """New dates for some acts (rank from 1) and their majorations, in place: the lines keep
    their identity (the returns point at them). When the new dates change the majorations due
    (a Sunday, a public holiday), the invoice is no longer the same: avoir + new invoice."""
    from tuibill.domain import pricing
    from tuibill.services.acts import coverage_for, lines_as_acts
    from tuibill.services.tariffs import TariffBook

    acts = lines_as_acts(invoice)
    for rank, day in dates.items():
        if not 1 <= rank <= len(acts):
            raise ValidationError(
                f"Ligne d'acte {rank} inconnue (la facture en a {len(acts)}).", field="act_date"
            )
        acts[rank - 1] = replace(acts[rank - 1], act_date=day)
    patient = Patient.get_by_id(invoice.patient_id)
    priced = pricing.price_acts(
        acts, TariffBook(invoice.practitioner.specialty), coverage_for(patient),
        birth_date=patient.birth_date,
    )  # fmt: skip
    lines = list(
        InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    )
    mine = [line for line in lines if line.credit_of is None]
    if [p.code for p in priced.lines] != [line.code for line in mine[: len(priced.lines)]] or (
        [p.total_cents for p in priced.lines] != [line.total_cents for line in mine]
    ):
        raise ValidationError(
            "Avec ces dates, les majorations ou les montants changent (dimanche, jour férié, "
            "tarif) : créez un avoir, puis une nouvelle facture.",
            field="act_date",
        )
    for line, new in zip(mine, priced.lines, strict=True):
        if line.act_date != new.act_date:
            InvoiceLine.update(act_date=new.act_date).where(InvoiceLine.id == line.id).execute()
    days = [p.act_date for p in priced.lines]
    invoice.first_act_date, invoice.last_act_date = min(days), max(days)
    invoice.save()


def create_credit_note(
    invoice_id: int, *, user: str, reason: str, now: datetime | None = None
) -> CreditNote:
    """« Créer un avoir »: the rejected invoice ends « Annulée par avoir »; the avoir, numbered
    in its own series, cancels it (linked both ways); its acts are free for the new invoice."""
    at = current_time(now)
    with immediate():
        invoice = get_invoice(invoice_id)
        lifecycle.move_invoice(invoice, InvoiceAction.CREDIT_NOTE, user=user, reason=reason, at=at)
        return CreditNote.get(CreditNote.invoice == invoice.id)


def new_invoice_from(invoice_id: int, *, user: str, billing_date: date | None = None) -> Invoice:
    """« Nouvelle facture »: after the avoir, a new invoice in mode dégradé pre-filled from the
    cancelled one (patient, practitioner, prescription, acts), to sign and join SCOR pieces."""
    from tuibill.domain.invoices import CREATE
    from tuibill.services import invoices as invoice_service
    from tuibill.services.acts import lines_as_acts
    from tuibill.services.patients import search_key

    with immediate():
        old = get_invoice(invoice_id)
        note = CreditNote.get_or_none(CreditNote.invoice == old.id)
        if InvoiceState(old.state) is not InvoiceState.ANNULEE_AVOIR or note is None:
            raise RefusedOperation(
                f"La facture {old.number:09d} n'est pas annulée par un avoir : « Créer un avoir » "
                "d'abord."
            )
        if note.replacement_id is not None:
            raise RefusedOperation(
                f"L'avoir {format_credit_note(note)} a déjà sa nouvelle facture "
                f"(facture {note.replacement_id})."
            )
        patient = Patient.get_by_id(old.patient_id)
        prescription = (
            Prescription.get_or_none(Prescription.id == old.prescription_id)
            if old.prescription_id
            else None
        )
        acts = []
        for act in lines_as_acts(old):
            if act.isolated_act_id is None:
                # The avoir freed the isolated acts: take them again, not a copy of them.
                free = (
                    IsolatedAct.select(IsolatedAct.id)
                    .where(
                        (IsolatedAct.patient == old.patient_id)
                        & (IsolatedAct.invoice.is_null())
                        & (IsolatedAct.act_date == act.act_date)
                        & (IsolatedAct.code == act.code)
                    )
                    .scalar()
                )
                if free is not None and act.prescription_item_id is None:
                    act = replace(act, isolated_act_id=free)
            acts.append(act)
        today = billing_date or lifecycle.now().date()
        new = Invoice.create(
            practitioner=old.practitioner_id,
            patient=old.patient_id,
            prescription=old.prescription_id,
            state=InvoiceState.SAISIE.value,
            mode="degrade",
            billing_date=today,
            first_act_date=today,
            last_act_date=today,
            patient_name=search_key(patient.last_name, patient.first_name),
            created_at=lifecycle.now(),
            created_by=user,
            replaces=old.id,
        )
        invoice_service._write_lines(
            new, old.practitioner, patient, prescription, acts, today
        )
        why = f"remplace la facture {old.number:09d} (avoir {format_credit_note(note)})"
        lifecycle.record_invoice(new, None, InvoiceState.SAISIE.value, CREATE, user, why)
        note.replacement = new.id
        note.save()
        lifecycle.record_invoice_event(old, "new_invoice", user, f"nouvelle facture {new.id}")
    return new


def _simple(
    invoice_id: int, action: InvoiceAction, *, user: str, reason: str, now: datetime | None
) -> Invoice:
    at = current_time(now)
    with immediate():
        invoice = get_invoice(invoice_id)
        if action in (InvoiceAction.RECYCLE,):
            _never_resend(invoice)
        lifecycle.move_invoice(invoice, action, user=user, reason=reason.strip(), at=at)
    return invoice


def mark_treated(
    invoice_id: int, *, user: str, reason: str = "", now: datetime | None = None
) -> Invoice:
    """« Facture déjà payée »: nothing is re-sent; the rejection is marked treated."""
    return _simple(
        invoice_id, InvoiceAction.MARK_TREATED, user=user,
        reason=reason or "rejet traité : rien n'est renvoyé", now=now,
    )  # fmt: skip


def amc_paper(
    invoice_id: int, *, user: str, reason: str = "", now: datetime | None = None
) -> Invoice:
    """« Traiter sur papier avec la mutuelle »: the AMC rejection treated outside SESAM-Vitale."""
    return _simple(
        invoice_id, InvoiceAction.AMC_PAPER, user=user,
        reason=reason or "demande papier à la mutuelle", now=now,
    )  # fmt: skip


def bill_patient(
    invoice_id: int, *, user: str, reason: str = "", now: datetime | None = None
) -> Invoice:
    """« Facturer au patient »: the AMC share left unpaid becomes the patient's to pay."""
    return _simple(
        invoice_id, InvoiceAction.BILL_PATIENT, user=user,
        reason=reason or "part de la mutuelle rejetée, demandée au patient", now=now,
    )  # fmt: skip


def recycle(invoice_id: int, *, user: str, reason: str = "", now: datetime | None = None) -> Invoice:
    """« Recycler »: the FSE recycled at the concentrator (date, who) so that it may be re-sent
    with its same number."""
    return _simple(invoice_id, InvoiceAction.RECYCLE, user=user, reason=reason, now=now)


def reactivate(
    invoice_id: int,
    *,
    user: str,
    recycling_days: int,
    reason: str = "",
    now: datetime | None = None,
) -> Invoice:
    """« Réactiver Télétrans »: a recycled or rejected FSE back among those to transmit (Validée),
    same number; one neither rejected nor recycled only past *recycling_days*."""
    at = current_time(now)
    with immediate():
        invoice = get_invoice(invoice_id)
        _never_resend(invoice)
        row = find_move(InvoiceState(invoice.state), InvoiceAction.REACTIVATE)
        lifecycle.move_invoice(
            invoice, InvoiceAction.REACTIVATE, user=user, at=at,
            reason=reason.strip() or "réactivée pour télétransmission (même numéro)",
            recycling_days=recycling_days if row.effects.resend_guard else None,
        )  # fmt: skip
    return invoice


@dataclass(frozen=True)
class PaperClaim:
    """The printable claim to the mutuelle for an AMC rejection."""

    title: str
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join((self.title, "", *self.lines)) + "\n"


def paper_claim(invoice_id: int) -> PaperClaim:
    """A demande de remboursement on paper, for the mutuelle, from the invoice and its return."""
    from tuibill.domain.formatting import format_cents
    from tuibill.services.practice import get_practice

    view = rejection_view(invoice_id)
    invoice = get_invoice(invoice_id)
    patient = Patient.get_by_id(invoice.patient_id)
    practice = get_practice()
    lines = [
        f"Cabinet : {practice.name if practice else ''}",
        f"Praticien : {view.practitioner} (n° AM {invoice.practitioner.am_number})",
        f"Mutuelle : {view.mutuelle or '(non renseignée)'}"
        + (f" — adhérent n° {patient.amc_member_number}" if patient.amc_member_number else ""),
        f"Patient : {view.patient}, né(e) le {patient.birth_date:%d/%m/%Y}, NIR {patient.nir}",
        f"Facture n° {view.number} du {invoice.billing_date:%d/%m/%Y}, actes du "
        f"{invoice.first_act_date:%d/%m/%Y} au {invoice.last_act_date:%d/%m/%Y}",
        f"Total {format_cents(view.total_cents)} € — part AMO {format_cents(view.amo_cents)} € "
        f"(payée {format_cents(view.amo_paid_cents)} €) — part mutuelle demandée "
        f"{format_cents(view.amc_cents - view.amc_paid_cents)} €",
        "",
        "Actes :",
        *(
            f"  {line['date']:%d/%m/%Y}  {line['code']:<6} {line['coefficient']:>5}  "
            f"{format_cents(line['total_cents']):>8} €  dont mutuelle "
            f"{format_cents(line['amc_cents'])} €"
            for line in view.lines
        ),
        "",
        "Rejet de la télétransmission :",
        *(f"  {r.code} {r.label}" for r in view.rejections if r.part == "C" or view.amc_only),
        "",
        "Nous vous prions de bien vouloir régler la part complémentaire ci-dessus.",
    ]
    return PaperClaim("Demande de remboursement — part complémentaire", tuple(lines))
