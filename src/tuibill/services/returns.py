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

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path

import peewee

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents, format_invoice_number
from tuibill.domain.invoices import InvoiceState, find_move
from tuibill.domain.returns import (
    AWAITING_RETURN,
    DOUBLE,
    NOT_MATCHED,
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
)
from tuibill.models.database import immediate, insert_rows, update_rows
from tuibill.services import file_intake as intake
from tuibill.services import lifecycle
from tuibill.transport import archive

RETURN = "retour"  # ReceivedFile.kind
RECEIVED, APPLIED, REFUSED = intake.RECEIVED, intake.APPLIED, intake.REFUSED
IMPORTED, ALREADY, REFUSED_STATUS = "importé", "déjà importé", "refusé"
BACK_PAYMENT = "04"  # 081 « rappels sur prestations »: a payment that adds to an earlier one
DRE_TYPE = "D"  # 102 « type de facture »: a DRE (the AMC part in tiers payant)


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
    return [
        FileReport(name, REFUSED_STATUS, why)
        if data is None
        else import_data(data, name, settings, user=user, dry_run=dry_run, now=now)
        for name, data, why in intake.read_paths(paths)
    ]


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
    known = intake.known_file(RETURN, intake.sha256(data))
    earlier = intake.earlier_outcome(known)
    if earlier is not None:
        status = ALREADY if earlier[0] == APPLIED else REFUSED_STATUS
        return FileReport(name, status, earlier[1], received_file_id=known.id if known else None)
    try:
        content = read_return(data)
    except FormatError as error:
        report = FileReport(name, REFUSED_STATUS, str(error), dry_run=dry_run)
        if not dry_run:  # kept aside, never deleted: the archive holds it, the list shows it
            row = known or intake.record_file(RETURN, data, name, settings, at, source)
            with immediate():
                intake.finish(row, REFUSED, f"Retour illisible, mis de côté : {error}", at)
            report.received_file_id = row.id
        return report
    if dry_run:
        report = FileReport(name, IMPORTED, dry_run=True)
        intake.rehearse(RETURN, data, name, at, lambda row: _post(content, report, row, user=user, at=at))
        return report
    # A file recorded by a run that crashed before posting is taken up again as it is.
    row = known or intake.record_file(RETURN, data, name, settings, at, source)
    return post_received(row.id, user=user, now=at, content=content) or FileReport(name, ALREADY)


def post_received(
    row_id: int,
    *,
    user: str,
    now: datetime | None = None,
    content: NoemieReturn | None = None,
) -> FileReport | None:
    """Post a recorded return file in one transaction; None if another desk did it first.

    *content*: the file as just read by the caller (else it is read back from the archive).
    """
    at = lifecycle.current_time(now)
    with immediate():
        row = ReceivedFile.get_by_id(row_id)
        if row.status != RECEIVED:
            return None
        try:
            if content is None:
                content = read_return(archive.load(row.archive_path, row.sha256))
        except FormatError as error:
            intake.finish(row, REFUSED, f"Retour illisible, mis de côté : {error}", at)
            return FileReport(row.file_name, REFUSED_STATUS, str(error), received_file_id=row.id)
        report = FileReport(row.file_name, IMPORTED, received_file_id=row.id)
        _post(content, report, row, user=user, at=at)
        intake.finish(row, APPLIED, "", at)
        return report


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
#
# A file is posted in a few statements whatever its size (a return of ten thousand invoices):
# the desk's invoices, their lines and their earlier payments are read in bulk, each invoice of
# the file is decided in memory (``_decide``, the domain's rules), then the entries, lines,
# rejections and paid amounts are written in batches and the moves applied per group.


@dataclass
class _Desk:
    """The desk's invoice, as the posting reads and updates it."""

    id: int
    practitioner_id: int
    number: int
    lot_number: int | None
    state: str
    amo_paid: int
    amc_paid: int
    patient_name: str


@dataclass
class _Decision:
    """What one invoice of the file does."""

    position: int
    item: ReturnInvoice
    payee: str
    practitioner_id: int | None
    virement_id: int | None
    desk: _Desk | None
    outcome: str
    posted: bool
    note: str
    action: object = None  # the InvoiceAction to apply, if any
    reason: str = ""
    dre: bool = False  # the answer to a DRE (type D): the DRE moves, not the invoice


def _post(
    content: NoemieReturn,
    report: FileReport,
    row: ReceivedFile,
    *,
    user: str,
    at: datetime,
) -> None:
    practitioners = {p.am_number: p for p in Practitioner.select()}
    virements: dict[int, int] = {}
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
        ).id
        report.virements += 1
    items = content.invoices
    payees = [content.payee_of(item) for item in items]
    desks = _desks(
        [
            (practitioners[payee].id, int(item.matching_number))
            for item, payee in zip(items, payees, strict=True)
            if payee in practitioners and item.matching_number is not None
        ]
    )
    previous = _earlier_payments([desk.id for desk in desks.values()], row.id)
    decisions = []
    for position, (item, payee) in enumerate(zip(items, payees, strict=True), 1):
        practitioner = practitioners.get(payee)
        desk, why = _match(practitioner, payee, item, desks)
        decision = _Decision(
            position=position,
            item=item,
            payee=payee,
            practitioner_id=practitioner.id if practitioner else None,
            virement_id=virements.get(item.virement),
            desk=desk,
            outcome=NOT_MATCHED,
            posted=True,
            note=why,
        )
        if desk is not None:
            _decide(decision, previous.setdefault(desk.id, set()), row)
        decisions.append(decision)
    _post_dre_answers(decisions, user=user, at=at)
    _write(decisions, row, user=user, at=at)
    for decision in decisions:
        entry = _entry_report(decision)
        report.count(entry)
        if entry.outcome not in (NOT_MATCHED, DOUBLE):
            report.paid_cents += entry.paid_cents


def _post_dre_answers(decisions: list[_Decision], *, user: str, at: datetime) -> None:
    """The DREs' answers (a few per file: one invoice at a time is fine)."""
    from tuibill.services import dre

    for decision in decisions:
        if not decision.dre or decision.desk is None:
            continue
        amc = decision.item.amc
        decision.note = dre.post_answer(
            Invoice.get_by_id(decision.desk.id),
            state=(amc.state or " ") if amc else " ",
            paid_cents=(amc.paid_cents or 0) if amc else 0,
            user=user, reason=decision.reason, at=at,
        )  # fmt: skip


def _chunks(items: list, size: int = 500) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _among(field: peewee.Field, values: list[int]) -> list[peewee.Expression]:
    """Conditions that select *values* of *field*: one BETWEEN when they are dense (the usual
    case: a return answers a lot's consecutive numbers), else IN lists of bounded size — peewee
    spends longer building a long IN than SQLite reading a range. The caller filters exactly."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high - low < 4 * len(values) + 64:
        return [field.between(low, high)]
    return [field.in_(chunk) for chunk in _chunks(sorted(set(values)))]


def _raw(query: peewee.Query) -> list[tuple]:
    """The rows of a query of numbers and texts as the driver gives them: peewee's per-value
    conversions cost more than the query over ten thousand rows."""
    return query.model._meta.database.execute(query).fetchall()


def _desks(keys: list[tuple[int, int]]) -> dict[tuple[int, int], _Desk]:
    """The desk's invoices by (practitioner, number), read in bulk."""
    by_practitioner: dict[int, list[int]] = {}
    for practitioner_id, number in keys:
        by_practitioner.setdefault(practitioner_id, []).append(number)
    found: dict[tuple[int, int], _Desk] = {}
    for practitioner_id, numbers in by_practitioner.items():
        wanted = set(numbers)
        for condition in _among(Invoice.number, numbers):
            for values in _raw(
                Invoice.select(
                    Invoice.id, Invoice.practitioner, Invoice.number, Invoice.lot_number,
                    Invoice.state, Invoice.amo_paid_cents, Invoice.amc_paid_cents,
                    Invoice.patient_name,
                ).where((Invoice.practitioner == practitioner_id) & condition)
            ):  # fmt: skip
                if values[2] in wanted:  # the range may hold others: not worth a _Desk
                    found[(practitioner_id, values[2])] = _Desk(*values)
    return found


def _earlier_payments(invoice_ids: list[int], file_id: int) -> dict[int, set[tuple]]:
    """Per invoice, the payments other files already brought: (type of return, AMO, AMC)."""
    found: dict[int, set[tuple]] = {}
    wanted = set(invoice_ids)
    for condition in _among(ReturnEntry.invoice, invoice_ids):
        for invoice_id, return_type, amo, amc in (
            ReturnEntry.select(
                ReturnEntry.invoice, ReturnEntry.return_type, ReturnEntry.amo_paid_cents,
                ReturnEntry.amc_paid_cents,
            )  # fmt: skip
            .where(condition & ReturnEntry.posted & (ReturnEntry.received_file != file_id))
            .tuples()
        ):
            if invoice_id in wanted:
                found.setdefault(invoice_id, set()).add((return_type, amo, amc))
    return found


def _patient_name(item: ReturnInvoice) -> str:
    for entity in (item.patient, item.insured, item.insured_patient):
        if entity is None:
            continue
        last = (
            getattr(entity, "beneficiary_name", None)
            or getattr(entity, "usage_name", None)
            or getattr(entity, "birth_name", None)
            or getattr(entity, "name", None)
        )
        first = getattr(entity, "beneficiary_first_name", None) or getattr(
            entity, "first_name", None
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
    practitioner: Practitioner | None,
    payee: str,
    item: ReturnInvoice,
    desks: dict[tuple[int, int], _Desk],
) -> tuple[_Desk | None, str]:
    """The desk's invoice for *item*, or None and why."""
    number = item.matching_number
    if practitioner is None:
        return None, f"PS {payee} inconnu de ce cabinet."
    if number is None:
        return None, f"numéro de facture « {item.number.strip()} » illisible."
    desk = desks.get((practitioner.id, int(number)))
    if desk is None:
        return None, f"aucune facture n° {number} de {practitioner.display_name}."
    lot_number = item.lot_number
    if lot_number is None and item.invoice_lot and item.invoice_lot.strip().isdigit():
        lot_number = int(item.invoice_lot)
    ours = desk.lot_number
    if item.invoice_type == DRE_TYPE:  # a DRE travelled in its own lot (services.dre_lots)
        ours = Dre.select(Dre.lot_number).where(Dre.invoice == desk.id).scalar()
    if lot_number is not None and ours not in (None, lot_number):
        return None, (
            f"la facture n° {number} est dans le lot {ours:03d} au cabinet, le "
            f"retour la dit du lot {lot_number:03d} : à vérifier, puis rapprocher à la main."
        )
    return desk, ""


def _decide(decision: _Decision, previous: set[tuple], row: ReceivedFile) -> None:
    """The domain's answer for a matched invoice; updates the desk's invoice in memory (the same
    invoice may come twice in one file: a payment, then a back payment)."""
    item, desk = decision.item, decision.desk
    assert desk is not None
    amo_paid = (item.amo.paid_cents or 0) if item.amo else 0
    amc_paid = (item.amc.paid_cents or 0) if item.amc else 0
    payment = (item.return_type or "", amo_paid, amc_paid)
    if item.return_type != BACK_PAYMENT and (amo_paid or amc_paid) and payment in previous:
        decision.outcome, decision.posted = DOUBLE, False
        decision.note = (
            "paiement déjà reçu par un autre fichier (mêmes montants, même type de retour) : "
            "noté, pas compté deux fois — à vérifier avec la caisse."
        )
        return
    desk.amo_paid += amo_paid
    desk.amc_paid += amc_paid
    parts = []
    if item.amo is not None:
        parts.append(PartAnswer(Part.AMO, item.amo.asked_cents, desk.amo_paid,
                                PartState(item.amo.state or " ")))  # fmt: skip
    if item.amc is not None:
        parts.append(PartAnswer(Part.AMC, item.amc.asked_cents, desk.amc_paid,
                                PartState(item.amc.state or " ")))  # fmt: skip
    outcome = invoice_outcome(parts)
    decision.outcome = outcome.value
    if item.invoice_type == DRE_TYPE:
        # The AMC part sent as a DRE (seed 003): it answers for the DRE (``_post_dre_answers``);
        # the invoice's own state follows its FSE's returns.
        decision.dre = True
        decision.reason = _reason(item, row)
        return
    state = InvoiceState(desk.state)
    action = move_for(state, outcome)
    if action is not None:
        decision.action = action
        decision.reason = _reason(item, row)
        desk.state = find_move(state, action).target.value
    elif state not in AWAITING_RETURN:
        decision.note = (
            f"facture à l'état « {state.label} » au cabinet : le retour est noté, son état ne "
            "change pas."
        )
    elif outcome is Outcome.DEFERRED:
        decision.note = "part différée : la caisse répondra plus tard ; la facture reste transmise."


def _reason(item: ReturnInvoice, row: ReceivedFile | None) -> str:
    labels = [f"{r.code} {r.label}".strip() for r in item.rejections] + [
        f"{s.code} {s.label}".strip() for s in item.signalements
    ]
    source = f"Retour NOEMIE {row.file_name}" if row is not None else "Retour NOEMIE"
    return f"{source}" + (f" : {' ; '.join(labels)}" if labels else "")


def _entry_values(decision: _Decision, file_id: int) -> dict:
    item, desk = decision.item, decision.desk
    amo, amc = item.amo, item.amc
    number = item.matching_number or item.number.strip()
    return {
        "received_file": file_id,
        "virement": decision.virement_id,
        "invoice": desk.id if desk else None,
        "practitioner": decision.practitioner_id,
        "position": decision.position,
        "payee_number": decision.payee,
        "invoice_number": int(number) if number.isdigit() else 0,
        "lot_number": item.lot_number,
        "lot_date": item.lot_date,
        "invoice_type": item.invoice_type or "",
        "return_type": item.return_type or "",
        "billing_date": item.billing_date,
        # The desk's own spelling when it matched; else the caisse's.
        "patient_name": (desk.patient_name if desk else _patient_name(item))[:255],
        "nir": _nir(item),
        "amo_asked_cents": amo.asked_cents if amo else 0,
        "amo_state": (amo.state or " ") if amo else " ",
        "amo_paid_cents": (amo.paid_cents or 0) if amo else 0,
        "amc_asked_cents": amc.asked_cents if amc else 0,
        "amc_state": (amc.state or " ") if amc else " ",
        "amc_paid_cents": (amc.paid_cents or 0) if amc else 0,
        "outcome": decision.outcome,
        "posted": decision.posted,
        "note": decision.note,
        "content": _content_json(item) if desk is None else "",
        "matched_at": None,
        "matched_by": "",
    }


def _write(
    decisions: list[_Decision],
    row: ReceivedFile,
    *,
    user: str,
    at: datetime,
    entry_ids: dict[int, int] | None = None,
) -> None:
    """Write what *decisions* say: entries (unless *entry_ids* gives them, by position), act
    lines, rejections, paid amounts, then the moves."""
    if entry_ids is None:
        insert_rows(ReturnEntry, [_entry_values(d, row.id) for d in decisions])
        entry_ids = dict(
            ReturnEntry.select(ReturnEntry.position, ReturnEntry.id)
            .where(ReturnEntry.received_file == row.id)
            .tuples()
        )
    applied = [d for d in decisions if d.desk is not None and d.posted]
    lines = _invoice_lines([d.desk.id for d in applied if d.desk is not None])
    line_rows: list[dict] = []
    rejection_rows: list[dict] = []
    for decision in applied:
        assert decision.desk is not None
        item, entry_id, ours = decision.item, entry_ids[decision.position], lines.get(
            decision.desk.id, []
        )
        refused = set(item.rejected_lines)
        for line in item.lines:
            line_rows.append({
                "entry": entry_id,
                "invoice_line": ours[line.line - 1] if 1 <= line.line <= len(ours) else None,
                "line_number": line.line,
                "code": line.nature.strip(),
                "act_date": line.care_date,
                "quantity": line.quantity,
                "coefficient_x100": line.coefficient_x100,
                "expense_cents": line.expense_cents,
                "base_cents": line.base_cents,
                "rate": line.rate,
                "refunded_cents": line.refunded_cents,
                "amc_cents": line.amc_cents,
                "refused": line.line in refused,
            })  # fmt: skip
        for rejection in item.rejections:
            number = rejection.line
            rejection_rows.append({
                "entry": entry_id,
                "invoice": decision.desk.id,
                "invoice_line": (
                    ours[number - 1] if number is not None and 1 <= number <= len(ours) else None
                ),
                "kind": "rejet",
                "code": rejection.code.strip(),
                "label": rejection.label.strip(),
                "level": rejection.level,
                "part": rejection.part,
                "line_number": number,
                "care_date": rejection.care_date,
                "info": (rejection.info or "").strip(),
            })  # fmt: skip
        for signalement in item.signalements:
            rejection_rows.append({
                "entry": entry_id, "invoice": decision.desk.id, "invoice_line": None,
                "kind": "signalement", "code": signalement.code.strip(),
                "label": signalement.label.strip(), "level": "F", "part": "O",
                "line_number": signalement.line or None, "care_date": None, "info": "",
            })  # fmt: skip
    insert_rows(ReturnLine, line_rows)
    insert_rows(ReturnRejection, rejection_rows)
    paid = {d.desk.id: (d.desk.amo_paid, d.desk.amc_paid) for d in applied if d.desk}
    update_rows(
        Invoice,
        ("amo_paid_cents", "amc_paid_cents"),
        [(amo, amc, invoice_id) for invoice_id, (amo, amc) in paid.items()],
    )
    _apply_moves([d for d in applied if d.action is not None], user=user, at=at)


def _invoice_lines(invoice_ids: list[int]) -> dict[int, list[int]]:
    """Each invoice's line ids in the lot file's order (a 210's rank is its place there)."""
    found: dict[int, list[int]] = {}
    wanted = set(invoice_ids)
    for condition in _among(InvoiceLine.invoice, invoice_ids):
        for invoice_id, line_id in _raw(
            InvoiceLine.select(InvoiceLine.invoice, InvoiceLine.id)
            .where(condition)
            .order_by(InvoiceLine.invoice, InvoiceLine.position, InvoiceLine.id)
        ):
            if invoice_id in wanted:
                found.setdefault(invoice_id, []).append(line_id)
    return found


def _apply_moves(decisions: list[_Decision], *, user: str, at: datetime) -> None:
    """The moves, in waves (an invoice's second move of the file after its first), each wave
    grouped by (state, action, reason): one UPDATE and one batch of history rows per group."""
    waves: list[list[_Decision]] = []
    seen: dict[int, int] = {}
    for decision in decisions:
        assert decision.desk is not None
        wave = seen.get(decision.desk.id, -1) + 1
        seen[decision.desk.id] = wave
        if wave == len(waves):
            waves.append([])
        waves[wave].append(decision)
    states = {
        invoice_id: state
        for condition in _among(Invoice.id, list(seen))
        for invoice_id, state in _raw(Invoice.select(Invoice.id, Invoice.state).where(condition))
        if invoice_id in seen
    }
    for wave in waves:
        groups: dict[tuple, list[Invoice]] = {}
        for decision in wave:
            assert decision.desk is not None
            invoice_id = decision.desk.id
            state = states[invoice_id]
            # The id and state are all a uniform move reads: no defaults to fill in (a copy of
            # the model's ~80 defaults per invoice was a tenth of the moves).
            groups.setdefault((state, decision.action, decision.reason), []).append(
                Invoice(__no_default__=True, id=invoice_id, state=state)
            )
            states[invoice_id] = find_move(InvoiceState(state), decision.action).target.value
        for (_state, action, reason), invoices in groups.items():
            lifecycle.move_invoices(invoices, action, user=user, reason=reason, at=at)


def _entry_report(decision: _Decision) -> EntryReport:
    item, desk = decision.item, decision.desk
    number = (
        format_invoice_number(desk.number)
        if desk
        else (item.matching_number or item.number.strip())
    )
    patient = desk.patient_name if desk else _patient_name(item)
    return EntryReport(
        number=number,
        patient=patient,
        outcome=decision.outcome,
        paid_cents=item.paid_cents,
        invoice_id=desk.id if desk else None,
        state=desk.state if desk else None,
        note=decision.note,
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
        row = ReceivedFile.get_by_id(entry.received_file_id)
        desk = _Desk(
            invoice.id, invoice.practitioner_id, invoice.number or 0, invoice.lot_number,
            invoice.state, invoice.amo_paid_cents, invoice.amc_paid_cents, invoice.patient_name,
        )  # fmt: skip
        decision = _Decision(
            position=entry.position,
            item=item,
            payee=entry.payee_number,
            practitioner_id=entry.practitioner_id,
            virement_id=entry.virement_id,
            desk=desk,
            outcome=NOT_MATCHED,
            posted=True,
            note="",
        )
        _decide(decision, _earlier_payments([invoice.id], row.id).get(invoice.id, set()), row)
        _post_dre_answers([decision], user=user, at=at)
        ReturnEntry.update(
            invoice=invoice.id,
            patient_name=invoice.patient_name[:255],
            outcome=decision.outcome,
            posted=decision.posted,
            note=decision.note,
            matched_at=at,
            matched_by=user,
        ).where(ReturnEntry.id == entry.id).execute()
        _write([decision], row, user=user, at=at, entry_ids={entry.position: entry.id})
        return _entry_report(decision)


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
