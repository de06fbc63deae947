"""Posting the caisses' NOEMIE returns: what was paid, paid in part, rejected or deferred.

The file is archived and recorded (a :class:`~tuibill.models.ReceivedFile` « reçu ») before
anything acts on it, as ARLs are; then one transaction posts it whole — its virements, each
invoice's entry (matched by the PS of the 040 and the 9-digit number, checked against the lot),
its act lines and rejections, the paid amounts, and the moves of ``domain.returns`` — and marks
the file « traité ». A crash leaves the file « reçu »: importing it again (or the next
``lots check``) finishes the job; an unreadable file is refused whole and kept aside.

* Same file twice (same SHA-256): « déjà importé », nothing changes.
* An invoice that matches nothing is kept « non rapprochée » with its content, shown, and can be
  matched by hand (:func:`match_entry`).
* An invoice paid again by another file for the same payment is flagged « doublon » and not
  counted twice.
* ``dry_run``: the same report, computed in a transaction rolled back: nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import peewee

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents, format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.returns import (
    AWAITING_RETURN,
    Outcome,
    Part,
    PartAnswer,
    PartState,
    invoice_outcome,
    move_for,
)
from tuibill.formats.errors import FormatError
from tuibill.formats.noemie import NoemieReturn, ReturnInvoice, read_return
from tuibill.models import (
    Dre,
    Invoice,
    InvoiceLine,
    Practitioner,
    ReceivedFile,
    ReturnEntry,
    ReturnLine,
    ReturnRejection,
    Virement,
    db,
)
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.archives import archive_directory
from tuibill.transport import archive

RETURN = "retour"  # ReceivedFile.kind
RECEIVED, APPLIED, REFUSED = "recu", "applique", "refuse"
IMPORTED, ALREADY, REFUSED_STATUS = "importé", "déjà importé", "refusé"
NOT_MATCHED = "non_rapprochee"
DOUBLE = "doublon"
BACK_PAYMENT = "04"
DRE_TYPE = "D"  # 102 « type de facture »: a DRE (the AMC part in tiers payant)  # 081 « rappels sur prestations »: a payment that adds to an earlier one


@dataclass
class EntryReport:
    """What one invoice of the return became (for the report and the dry run)."""

    number: str
    patient: str
    outcome: str  # Outcome value, non_rapprochee or doublon
    paid_cents: int
    invoice_id: int | None
    state: str | None  # the invoice's state after posting
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "numero": self.number,
            "patient": self.patient,
            "resultat": self.outcome,
            "paye_cents": self.paid_cents,
            "facture": self.invoice_id,
            "etat": InvoiceState(self.state).label if self.state else None,
            "note": self.note,
        }


@dataclass
class FileReport:
    """The outcome of one file; ``statut`` is importé / déjà importé / refusé."""

    file: str
    status: str
    reason: str = ""
    paid: int = 0
    partial: int = 0
    rejected: int = 0
    deferred: int = 0
    not_matched: int = 0
    doubles: int = 0
    paid_cents: int = 0
    virements: int = 0
    received_file_id: int | None = None
    entries: list[EntryReport] = field(default_factory=list)
    dry_run: bool = False

    def count(self, entry: EntryReport) -> None:
        self.entries.append(entry)
        if entry.outcome == Outcome.PAID:
            self.paid += 1
        elif entry.outcome == Outcome.PARTIAL:
            self.partial += 1
        elif entry.outcome == Outcome.REJECTED:
            self.rejected += 1
        elif entry.outcome == Outcome.DEFERRED:
            self.deferred += 1
        elif entry.outcome == NOT_MATCHED:
            self.not_matched += 1
        elif entry.outcome == DOUBLE:
            self.doubles += 1

    def as_dict(self) -> dict:
        return {
            "fichier": self.file,
            "statut": self.status,
            "motif": self.reason,
            "payees": self.paid,
            "partielles": self.partial,
            "rejetees": self.rejected,
            "differees": self.deferred,
            "non_rapprochees": self.not_matched,
            "doublons": self.doubles,
            "montant_paye_cents": self.paid_cents,
            "virements": self.virements,
            "fichier_recu": self.received_file_id,
            "simulation": self.dry_run,
            "factures": [entry.as_dict() for entry in self.entries],
        }


class _DryRun(Exception):
    """Raised at the end of a dry run's transaction so that nothing it wrote stays."""


# --- importing files --------------------------------------------------------------------------


def import_files(
    paths: list[str | Path],
    settings: TransmissionSettings,
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> list[FileReport]:
    """``tuibill returns import``: each file archived, recorded and posted (or simulated)."""
    reports = []
    for path in paths:
        name = Path(path).name
        try:
            data = Path(path).expanduser().read_bytes()
        except OSError as error:
            reports.append(
                FileReport(name, REFUSED_STATUS, f"fichier illisible ({error.strerror or error})")
            )
            continue
        reports.append(import_data(data, name, settings, user=user, dry_run=dry_run, now=now))
    return reports


def import_data(
    data: bytes,
    name: str,
    settings: TransmissionSettings,
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
    source: str = "manuel",
) -> FileReport:
    """One return file: archived first, recorded, then posted in one transaction."""
    at = lifecycle.current_time(now)
    sha = hashlib.sha256(data).hexdigest()
    known = (
        ReceivedFile.select()
        .where((ReceivedFile.sha256 == sha) & (ReceivedFile.kind == RETURN))
        .order_by(ReceivedFile.id)
        .first()
    )
    if known is not None and known.status == APPLIED:
        return FileReport(
            name,
            ALREADY,
            f"déjà importé le {known.processed_at:%d/%m/%Y à %H:%M} (fichier {known.file_name}) : "
            "rien n'a changé.",
            received_file_id=known.id,
        )
    try:
        content = read_return(data)
    except FormatError as error:
        report = FileReport(name, REFUSED_STATUS, str(error), dry_run=dry_run)
        if not dry_run:  # kept aside, never deleted: the archive holds it, the list shows it
            row = _record_file(known, data, name, settings, at, source)
            with immediate():
                _finish(row, REFUSED, f"Retour illisible, mis de côté : {error}", at)
            report.received_file_id = row.id
        return report
    if dry_run:
        # The very posting, on a row of its own, in a transaction rolled back at the end.
        report = FileReport(name, IMPORTED, dry_run=True)
        try:
            with db.atomic():
                row = ReceivedFile.create(
                    kind=RETURN, source="simulation", message_id=f"simulation:{sha}",
                    file_name=name[:255], sha256=sha, archive_path="", received_at=at,
                    status=RECEIVED,
                )  # fmt: skip
                _post(content, report, row, user=user, at=at)
                raise _DryRun()
        except _DryRun:
            pass
        return report
    row = _record_file(known, data, name, settings, at, source)
    return post_received(row.id, user=user, now=at) or FileReport(name, ALREADY)


def _record_file(
    known: ReceivedFile | None,
    data: bytes,
    name: str,
    settings: TransmissionSettings,
    at: datetime,
    source: str,
) -> ReceivedFile:
    """Archive (durably) then record the file « reçu »; a file recorded by a run that crashed
    before posting is taken up again as it is."""
    if known is not None:
        return known
    stored = archive.store(archive_directory(settings), data)
    with immediate():
        return ReceivedFile.create(
            kind=RETURN,
            source=source,
            message_id=f"fichier:{name}"[:255],
            file_name=name[:255],
            sha256=stored.sha256,
            archive_path=str(stored.path),
            received_at=at,
            status=RECEIVED,
        )


def post_received(row_id: int, *, user: str, now: datetime | None = None) -> FileReport | None:
    """Post a recorded return file in one transaction; None if another desk did it first."""
    at = lifecycle.current_time(now)
    with immediate():
        row = ReceivedFile.get_by_id(row_id)
        if row.status != RECEIVED:
            return None
        data = archive.load(row.archive_path, row.sha256)
        try:
            content = read_return(data)
        except FormatError as error:
            _finish(row, REFUSED, f"Retour illisible, mis de côté : {error}", at)
            return FileReport(row.file_name, REFUSED_STATUS, str(error), received_file_id=row.id)
        report = FileReport(row.file_name, IMPORTED, received_file_id=row.id)
        _post(content, report, row, user=user, at=at)
        _finish(row, APPLIED, "", at)
        return report


def _finish(row: ReceivedFile, status: str, message: str, at: datetime) -> None:
    row.status = status
    row.error = message
    row.processed_at = at
    row.save()


def summary(report: FileReport) -> str:
    """One French line: what the return did."""
    parts = [
        f"{report.paid} payée(s)",
        f"{report.partial} partielle(s)",
        f"{report.rejected} rejetée(s)",
        f"{report.deferred} différée(s)",
        f"{report.not_matched} non rapprochée(s)",
    ]
    if report.doubles:
        parts.append(f"{report.doubles} doublon(s)")
    return f"Retour traité : {', '.join(parts)} ; {format_cents(report.paid_cents)} € payés."


# --- posting ----------------------------------------------------------------------------------


def _post(
    content: NoemieReturn,
    report: FileReport,
    row: ReceivedFile,
    *,
    user: str,
    at: datetime,
) -> None:
    practitioners = {p.am_number: p for p in Practitioner.select()}
    virements: dict[int, Virement] = {}
    for virement in content.virements:
        practitioner = practitioners.get(virement.payee)
        label = " ".join(part for part in (virement.label1, virement.label2) if part)
        virements[virement.index] = Virement.create(
            received_file=row.id,
            practitioner=practitioner.id if practitioner else None,
            payee_number=virement.payee,
            accounting_date=virement.accounting_date,
            label=label,
            paying_body=virement.paying_body or "",
            total_cents=content.paid_cents_of(virement.index),
            invoice_count=len(content.invoices_of(virement.index)),
        )
        report.virements += 1
    for position, item in enumerate(content.invoices, 1):
        payee = content.payee_of(item)
        entry = _post_invoice(
            item, payee, practitioners.get(payee), virements.get(item.virement), position, row,
            user=user, at=at,
        )  # fmt: skip
        report.count(entry)
        if entry.outcome not in (NOT_MATCHED, DOUBLE):
            report.paid_cents += entry.paid_cents


def _patient_name(item: ReturnInvoice) -> str:
    for entity in (item.patient, item.insured, item.insured_patient):
        if entity is None:
            continue
        last = getattr(entity, "name", None) or getattr(entity, "beneficiary_name", None)
        first = getattr(entity, "first_name", None) or getattr(
            entity, "beneficiary_first_name", None
        )
        if last:
            return f"{last} {first or ''}".strip()
    return ""


def _nir(item: ReturnInvoice) -> str:
    for entity in (item.insured_patient, item.insured):
        if entity is not None and entity.nir:
            return f"{entity.nir}{entity.nir_key or ''}"[:15]
    return ""


def _content_json(item: ReturnInvoice) -> str:
    def default(value: object) -> str:
        if isinstance(value, date | datetime):
            return value.isoformat()
        return str(value)

    data = asdict(item)
    data["entities"] = [
        {"entite": type(entity).__name__, **asdict(entity)} for entity in item.entities
    ]
    return json.dumps(data, ensure_ascii=False, default=default)


def _match(
    practitioner: Practitioner | None, payee: str, item: ReturnInvoice
) -> tuple[Invoice | None, str]:
    """The desk's invoice for *item*, or None and why."""
    number = item.matching_number
    if practitioner is None:
        return None, f"PS {payee} inconnu de ce cabinet."
    if number is None:
        return None, f"numéro de facture « {item.number.strip()} » illisible."
    invoice = Invoice.get_or_none(
        (Invoice.practitioner == practitioner.id) & (Invoice.number == int(number))
    )
    if invoice is None:
        return None, f"aucune facture n° {number} de {practitioner.display_name}."
    lot_number = item.lot_number
    if lot_number is None and item.invoice_lot and item.invoice_lot.strip().isdigit():
        lot_number = int(item.invoice_lot)
    ours = invoice.lot_number
    if item.invoice_type == DRE_TYPE:  # a DRE travelled in its own lot (services.dre_lots)
        ours = Dre.select(Dre.lot_number).where(Dre.invoice == invoice.id).scalar()
    if lot_number is not None and ours not in (None, lot_number):
        return None, (
            f"la facture n° {number} est dans le lot {ours:03d} au cabinet, le "
            f"retour la dit du lot {lot_number:03d} : à vérifier, puis rapprocher à la main."
        )
    return invoice, ""


def _post_invoice(
    item: ReturnInvoice,
    payee: str,
    practitioner: Practitioner | None,
    virement: Virement | None,
    position: int,
    row: ReceivedFile,
    *,
    user: str,
    at: datetime,
) -> EntryReport:
    invoice, why = _match(practitioner, payee, item)
    amo, amc = item.amo, item.amc
    number = item.matching_number or item.number.strip()
    entry = ReturnEntry.create(
        received_file=row.id,
        virement=virement.id if virement is not None else None,
        invoice=invoice.id if invoice else None,
        practitioner=practitioner.id if practitioner else None,
        position=position,
        payee_number=payee,
        invoice_number=int(number) if number.isdigit() else 0,
        lot_number=item.lot_number,
        lot_date=item.lot_date,
        invoice_type=item.invoice_type or "",
        return_type=item.return_type or "",
        billing_date=item.billing_date,
        patient_name=_patient_name(item)[:255],
        nir=_nir(item),
        amo_asked_cents=amo.asked_cents if amo else 0,
        amo_state=(amo.state or " ") if amo else " ",
        amo_paid_cents=(amo.paid_cents or 0) if amo else 0,
        amc_asked_cents=amc.asked_cents if amc else 0,
        amc_state=(amc.state or " ") if amc else " ",
        amc_paid_cents=(amc.paid_cents or 0) if amc else 0,
        outcome=NOT_MATCHED,
        content=_content_json(item) if invoice is None else "",
        note=why,
    )
    paid = item.paid_cents
    if invoice is None:
        return EntryReport(number, _patient_name(item), NOT_MATCHED, paid, None, None, why)
    return _apply(invoice, item, entry, row, user=user, at=at)


def _is_double(invoice: Invoice, entry: ReturnEntry) -> bool:
    """Another file already brought this very payment (same kind of return, same amounts)."""
    if entry.return_type == BACK_PAYMENT or not (entry.amo_paid_cents or entry.amc_paid_cents):
        return False
    query = ReturnEntry.select(ReturnEntry.id).where(
        (ReturnEntry.invoice == invoice.id)
        & ReturnEntry.posted
        & (ReturnEntry.return_type == entry.return_type)
        & (ReturnEntry.amo_paid_cents == entry.amo_paid_cents)
        & (ReturnEntry.amc_paid_cents == entry.amc_paid_cents)
    )
    query = query.where(
        (ReturnEntry.id != entry.id) & (ReturnEntry.received_file != entry.received_file_id)
    )
    return query.exists()


def _apply(
    invoice: Invoice,
    item: ReturnInvoice,
    entry: ReturnEntry,
    row: ReceivedFile | None,
    *,
    user: str,
    at: datetime,
) -> EntryReport:
    number = format_invoice_number(invoice.number)
    patient = invoice.patient_name
    if _is_double(invoice, entry):
        note = (
            "paiement déjà reçu par un autre fichier (mêmes montants, même type de retour) : "
            "noté, pas compté deux fois — à vérifier avec la caisse."
        )
        _save_entry(entry, outcome=DOUBLE, posted=False, note=note)
        return EntryReport(number, patient, DOUBLE, entry.amo_paid_cents + entry.amc_paid_cents,
                           invoice.id, invoice.state, note)  # fmt: skip
    lines = _post_lines(invoice, item, entry)
    _post_rejections(invoice, item, entry, lines)
    amo_paid = invoice.amo_paid_cents + entry.amo_paid_cents
    amc_paid = invoice.amc_paid_cents + entry.amc_paid_cents
    Invoice.update(amo_paid_cents=amo_paid, amc_paid_cents=amc_paid).where(
        Invoice.id == invoice.id
    ).execute()
    invoice.amo_paid_cents, invoice.amc_paid_cents = amo_paid, amc_paid
    parts = []
    if item.amo is not None:
        parts.append(PartAnswer(Part.AMO, item.amo.asked_cents, amo_paid,
                                PartState(item.amo.state or " ")))  # fmt: skip
    if item.amc is not None:
        parts.append(PartAnswer(Part.AMC, item.amc.asked_cents, amc_paid,
                                PartState(item.amc.state or " ")))  # fmt: skip
    outcome = invoice_outcome(parts)
    state = InvoiceState(invoice.state)
    note = ""
    if entry.invoice_type == DRE_TYPE:
        # The AMC part sent as a DRE (seed 003): it answers for the DRE; the invoice's own state
        # follows its FSE's returns.
        from tuibill.services import dre

        note = dre.post_answer(
            invoice, state=entry.amc_state, paid_cents=entry.amc_paid_cents, user=user,
            reason=_reason(item, row), at=at,
        )  # fmt: skip
        _save_entry(entry, outcome=outcome.value, posted=True, note=note)
        return EntryReport(number, patient, outcome.value, item.paid_cents, invoice.id,
                           invoice.state, note)  # fmt: skip
    action = move_for(state, outcome)
    if action is not None:
        lifecycle.move_invoice(invoice, action, user=user, reason=_reason(item, row), at=at)
    elif state not in AWAITING_RETURN:
        note = (
            f"facture à l'état « {state.label} » au cabinet : le retour est noté, son état ne "
            "change pas."
        )
    elif outcome is Outcome.DEFERRED:
        note = "part différée : la caisse répondra plus tard ; la facture reste transmise."
    _save_entry(entry, outcome=outcome.value, posted=True, note=note)
    return EntryReport(number, patient, outcome.value, item.paid_cents, invoice.id,
                       invoice.state, note)  # fmt: skip


def _save_entry(entry: ReturnEntry, **values: object) -> None:
    for key, value in values.items():
        setattr(entry, key, value)
    entry.save()


def _reason(item: ReturnInvoice, row: ReceivedFile | None) -> str:
    labels = [f"{r.code} {r.label}".strip() for r in item.rejections] + [
        f"{s.code} {s.label}".strip() for s in item.signalements
    ]
    source = f"Retour NOEMIE {row.file_name}" if row is not None else "Retour NOEMIE"
    return f"{source}" + (f" : {' ; '.join(labels)}" if labels else "")


def _post_lines(invoice: Invoice, item: ReturnInvoice, entry: ReturnEntry) -> dict[int, ReturnLine]:
    """Each 210 on the invoice line of the same rank (the lot file's order)."""
    ours = list(
        InvoiceLine.select(InvoiceLine.id)
        .where(InvoiceLine.invoice == invoice.id)
        .order_by(InvoiceLine.position, InvoiceLine.id)
        .tuples()
    )
    refused = set(item.rejected_lines)
    posted: dict[int, ReturnLine] = {}
    for line in item.lines:
        target = ours[line.line - 1][0] if 1 <= line.line <= len(ours) else None
        values = dict(
            entry=entry.id,
            invoice_line=target,
            line_number=line.line,
            code=line.nature.strip(),
            act_date=line.care_date,
            quantity=line.quantity,
            coefficient_x100=line.coefficient_x100,
            expense_cents=line.expense_cents,
            base_cents=line.base_cents,
            rate=line.rate,
            refunded_cents=line.refunded_cents,
            amc_cents=line.amc_cents,
            refused=line.line in refused,
        )
        posted[line.line] = ReturnLine.create(**values)
    return posted


def _post_rejections(
    invoice: Invoice, item: ReturnInvoice, entry: ReturnEntry, lines: dict[int, ReturnLine]
) -> None:
    for rejection in item.rejections:
        line = lines.get(rejection.line) if rejection.line is not None else None
        ReturnRejection.create(
            entry=entry.id,
            invoice=invoice.id,
            invoice_line=line.invoice_line_id if line is not None else None,
            kind="rejet",
            code=rejection.code.strip(),
            label=rejection.label.strip(),
            level=rejection.level,
            part=rejection.part,
            line_number=rejection.line,
            care_date=rejection.care_date,
            info=(rejection.info or "").strip(),
        )
    for signalement in item.signalements:
        ReturnRejection.create(
            entry=entry.id,
            invoice=invoice.id,
            kind="signalement",
            code=signalement.code.strip(),
            label=signalement.label.strip(),
            level="F",
            part="O",
            line_number=signalement.line or None,
        )


# --- matching by hand -------------------------------------------------------------------------


def match_entry(
    entry_id: int, invoice_id: int, *, user: str, now: datetime | None = None
) -> EntryReport:
    """A « non rapprochée » invoice of a return matched by hand to the desk's invoice: posted as
    it would have been, the match recorded (who, when)."""
    at = lifecycle.current_time(now)
    with immediate():
        entry = ReturnEntry.get_or_none(ReturnEntry.id == entry_id)
        if entry is None:
            raise NotFound(f"Ligne de retour {entry_id} introuvable.")
        if entry.outcome != NOT_MATCHED:
            raise RefusedOperation(
                f"La ligne de retour {entry_id} est déjà rapprochée (facture {entry.invoice_id})."
            )
        invoice = Invoice.get_or_none(Invoice.id == invoice_id)
        if invoice is None:
            raise NotFound(f"Facture {invoice_id} introuvable.")
        if not entry.content:
            raise ValidationError("Contenu du retour absent : rapprochement impossible.")
        item = _item_from_json(entry.content)
        row = ReceivedFile.get_or_none(ReceivedFile.id == entry.received_file_id)
        entry.invoice = invoice.id
        entry.matched_at, entry.matched_by = at, user
        entry.save()
        report = _apply(invoice, item, entry, row, user=user, at=at)
        return report


def _item_from_json(text: str) -> ReturnInvoice:
    """The return's invoice back from its kept content (the reader's own dataclasses)."""
    from tuibill.formats import noemie_content as content

    data = json.loads(text)

    def day(value: object) -> date | None:
        return date.fromisoformat(value) if isinstance(value, str) and value else None

    entities = []
    for raw in data.pop("entities"):
        cls = getattr(content, raw.pop("entite"))
        for name, spec in cls.__dataclass_fields__.items():
            if name in raw and "date" in str(spec.type) and isinstance(raw[name], str):
                raw[name] = day(raw[name])
        entities.append(cls(**raw))
    lot = data.pop("lot")
    if lot is not None:
        lot = content.Lot(number=lot["number"], created=day(lot["created"]), depth=lot["depth"])
    for name in ("invoice_lot_date", "billing_date"):
        data[name] = day(data.get(name))
    return content.ReturnInvoice(**data, lot=lot, entities=tuple(entities))


# --- reading what was posted ------------------------------------------------------------------


def counts() -> dict[str, int]:
    """Entries per outcome (for the menu and F7's tabs)."""
    query = ReturnEntry.select(ReturnEntry.outcome, peewee.fn.COUNT(ReturnEntry.id)).group_by(
        ReturnEntry.outcome
    )
    return dict(query.tuples())
