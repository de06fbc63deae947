"""Lots: built from Validée invoices, deleted before they are sent, shown, timed out, resolved.

One lot per practitioner and destination caisse (régime + caisse), at most
``transmission.lot_max_invoices`` invoices, numbered per practitioner on 3 digits with the wrap
of ``transmission.lot_number_first/last``. The lot file is written once, at build time, and its
bytes and SHA-256 are kept on the lot: every sending of the lot is that file, byte for byte.
The SCOR pieces of the lot's mode-dégradé invoices travel in their own SCOR lot(s), built in
the same transaction and numbered from the same counter (so that PS + number names one lot).

Every public function that writes is one write transaction (several for batch functions, one
per lot), takes the ``user`` recorded in the history and an optional ``now`` (the clock, for
tests and the time-out). Every lot state change goes through ``services.lifecycle.move_lot``,
which applies the domain's table and records the move in the same transaction. Sending and receiving are in
``services.sending`` and ``services.receiving``; the Journal des lots pager in
``services.lot_journal``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import peewee

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import RefusedOperation, TuibillError, ValidationError
from tuibill.domain.formatting import format_invoice_number, format_lot_number
from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.domain.lots import (
    FSE,
    INITIAL_STATE,
    SCOR,
    LotAction,
    LotState,
)
from tuibill.formats import get_lot_codec
from tuibill.formats.codec import (
    CaisseCode,
    FseRecord,
    LotFile,
    LotFileCodec,
    LotHeader,
    file_checksum,
)
from tuibill.formats.errors import FormatError
from tuibill.models import (
    Invoice,
    InvoicePiece,
    Lot,
    Organism,
    Practitioner,
)
from tuibill.models.checkpoints import checkpoints_beside
from tuibill.models.database import immediate
from tuibill.services import lifecycle
from tuibill.services.collector import no_cycle_collection
from tuibill.services.lifecycle import current_time
from tuibill.services.lot_content import (
    Candidate,
    LotInvoice,
    candidates,
    fse_records,
    lot_header,
    lot_invoices,
    rows_of,
    sender_name,
    validated_candidates,
    validated_invoices,
)
from tuibill.services.lot_views import LotSummary, get_lot, summarize
from tuibill.services.numbering import allocate_lot_number

# A SCOR lot travels as one mail: keep its PDFs under what mail servers commonly accept once
# base64-encoded (about 4/3 of this). The pieces of one invoice are never split.
SCOR_LOT_MAX_BYTES = 8_000_000


def note_error(lot_id: int, message: str, *, at: datetime) -> None:
    """Keep the last error on the lot (no state change): shown in the lists, retried later."""
    with immediate():
        Lot.update(last_error=message, last_error_at=at).where(Lot.id == lot_id).execute()


def resolve_uncertain(
    lot_id: int, *, sent: bool, user: str, reason: str = "", now: datetime | None = None
) -> LotSummary:
    """A person's decision on a lot « En cours » (a crash between sending and recording).

    ``sent=True``: it went out (e.g. the mail server's log shows it): Transmis, its ARL awaited
    from the start of that sending. ``sent=False``: it did not: back to À transmettre (or to
    ARL négatif if it was the re-sending), to be sent by the next sending.
    """
    at = current_time(now)
    with immediate():
        lot = get_lot(lot_id)
        if lot.state != LotState.EN_COURS.value:
            raise RefusedOperation(
                f"Le lot {lot.number:03d} est à l'état « {LotState(lot.state).label} » : "
                "seul un lot « En cours » (envoi incertain) attend une décision."
            )
        if sent:
            lifecycle.move_lot(
                lot,
                LotAction.RESOLVE_SENT,
                user=user,
                reason=reason or "envoi confirmé par l'utilisateur",
                at=at,
                sent_at=lot.send_started_at or at,
            )
        else:
            lifecycle.move_lot(
                lot,
                LotAction.RESOLVE_NOT_SENT,
                user=user,
                reason=reason or "non envoyé selon l'utilisateur",
                at=at,
            )
        return summarize(lot)


def apply_timeouts(
    settings: TransmissionSettings, *, user: str, now: datetime | None = None
) -> list[LotSummary]:
    """Lots « Transmis » without an ARL for ``arl_timeout_hours``: ARL négatif (to re-send
    the identical lot) after the first sending, Traitement manuel after the re-sending."""
    at = current_time(now)
    hours = settings.arl_timeout_hours
    limit = at - timedelta(hours=hours)
    due = [
        lot_id
        for (lot_id,) in Lot.select(Lot.id)
        .where((Lot.state == LotState.TRANSMIS.value) & (Lot.sent_at <= limit))
        .order_by(Lot.sent_at, Lot.id)
        .tuples()
    ]
    done: list[LotSummary] = []
    for lot_id in due:
        with immediate():
            lot = get_lot(lot_id)
            if lot.state != LotState.TRANSMIS.value or lot.sent_at is None or lot.sent_at > limit:
                continue  # an ARL or another desk got there first
            reason = (
                f"Pas d'ARL {hours} h après l'envoi du {lot.sent_at:%d/%m/%Y à %H:%M} (time-out)"
            )
            lifecycle.move_lot(lot, LotAction.TIMEOUT, user=user, reason=reason, at=at)
            done.append(summarize(lot))
    return done


# --- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedInvoice:
    """An invoice that could not go into a lot, and why (French)."""

    invoice_id: int
    number: int | None
    reason: str

    def as_dict(self) -> dict:
        return {
            "id": self.invoice_id,
            "numero": format_invoice_number(self.number),
            "motif": self.reason,
        }


@dataclass(frozen=True)
class LotPreview:
    """The lots a build would make for one practitioner and caisse (Transmettre's preview)."""

    practitioner_id: int
    practitioner: str
    practitioner_am: str
    destination: str
    organism: str
    invoice_ids: tuple[int, ...]
    total_cents: int
    lot_count: int


@dataclass(frozen=True)
class BuildReport:
    lots: tuple[LotSummary, ...]  # FSE lots and their SCOR lots, in build order
    skipped: tuple[SkippedInvoice, ...]
    warnings: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "lots": [lot.as_dict() for lot in self.lots],
            "ecartees": [item.as_dict() for item in self.skipped],
            "avertissements": list(self.warnings),
        }


@dataclass
class _Group:
    practitioner: Practitioner
    destination: str
    invoices: list[LotInvoice | Candidate] = field(default_factory=list)
    codes: dict[int, CaisseCode] = field(default_factory=dict)  # invoice id → its caisse


def _prefixed(invoice: LotInvoice | Candidate, error: TuibillError) -> str:
    text = str(error)
    number = format_invoice_number(invoice.number) or str(invoice.id)
    return text if text.startswith("Facture ") else f"Facture {number} : {text}"


_HEAD_BYTES = 8  # of a piece, read to check it is a PDF (its first bytes, %PDF-)


def _pieces_of(invoice_ids: list[int]) -> dict[int, list[tuple[str, bytes, int]]]:
    """(file name, first bytes, size) of the SCOR pieces of each invoice, without their PDFs."""
    found: dict[int, list[tuple[str, bytes, int]]] = {}
    for invoice_id, name, head, size in rows_of(
        f'SELECT "invoice_id", "file_name", SUBSTR("content", 1, {_HEAD_BYTES}), '
        'LENGTH("content") FROM "invoice_piece" WHERE "invoice_id" IN ({ids})',
        invoice_ids,
    ):
        found.setdefault(invoice_id, []).append((name, bytes(head or b""), int(size or 0)))
    return found


def _pieces_problem(pieces: list[tuple[str, bytes, int]]) -> str | None:
    if not pieces:
        return None
    # The SCOR lot format is imported by a build that has pieces to check or send, only.
    from tuibill.formats.scor_lot import MAX_PIECE_BYTES, PDF_MAGIC

    for name, head, size in pieces:
        if not head.startswith(PDF_MAGIC):
            return f"la pièce SCOR « {name} » n'est pas un PDF"
        if size > MAX_PIECE_BYTES:
            return f"la pièce SCOR « {name} » dépasse {MAX_PIECE_BYTES} octets"
    return None


def _candidates(
    invoice_ids: Sequence[int] | None, practitioner_id: int | None, *, whole: bool
) -> tuple[list, list[SkippedInvoice]]:
    """The Validée invoices to put in lots (all, or those given), by practitioner and number,
    read as plain rows — *whole* (LotInvoice: what their FSE need, for the preview) or not
    (Candidate: the build reads the rest under the lock of each lot); those given that cannot
    go, with why."""
    skipped: list[SkippedInvoice] = []
    if invoice_ids is None:
        invoices = (validated_invoices if whole else validated_candidates)(practitioner_id)
    else:
        wanted = list(dict.fromkeys(invoice_ids))
        found = {inv.id: inv for inv in (lot_invoices if whole else candidates)(wanted)}
        invoices = []
        for invoice_id in wanted:
            invoice = found.get(invoice_id)
            if invoice is None:
                skipped.append(
                    SkippedInvoice(invoice_id, None, f"Facture {invoice_id} introuvable.")
                )
            elif invoice.state != InvoiceState.VALIDEE.value:
                skipped.append(
                    SkippedInvoice(
                        invoice.id,
                        invoice.number,
                        f"Facture {format_invoice_number(invoice.number) or invoice.id} à l'état "
                        f"« {InvoiceState(invoice.state).label} » : seules les factures validées "
                        "partent en lot.",
                    )
                )
            elif practitioner_id is None or invoice.practitioner_id == practitioner_id:
                invoices.append(invoice)
    invoices.sort(key=lambda inv: (inv.practitioner_id, inv.number or 0, inv.id))
    return invoices, skipped


def signed_content_problem(invoice: Invoice | LotInvoice, record: FseRecord, codec: LotFileCodec) -> None:
    """What was signed is what is sent: refuse an FSE whose content changed after its signature
    (a patient's name edited since, for instance): its signature would not verify at the caisse."""
    if not invoice.signature or not invoice.signer_certificate:
        return  # unsigned (mode dégradé): nothing to verify, nor the card layer to load
    from tuibill.hardware.cards import verify_signature
    from tuibill.services.securing import stored_signature

    signature = stored_signature(invoice)
    if signature is None:
        return
    if not verify_signature(codec.signing_payload(record), signature):
        when = f" le {invoice.secured_at:%d/%m/%Y}" if invoice.secured_at else ""
        raise ValidationError(
            f"signée{when}, elle a changé depuis (patient, actes…) : sa signature ne correspond "
            "plus à ce qui partirait. « Défacturer » puis la revalider avec les cartes."
        )


def _groups(
    invoices: list, skipped: list[SkippedInvoice], lot_codec: str, *, check: bool
) -> tuple[list[_Group], list]:
    """Group invoices per practitioner and régime + caisse; refuse those without a caisse or
    whose SCOR pieces are wrong. With *check* (the preview), each FSE is also made and tried by
    the codec now (*invoices* are then LotInvoice); the build does that once, under the write
    lock of each lot."""
    codec = get_lot_codec(lot_codec)
    practitioners = {p.id: p for p in Practitioner.select()}
    organisms = {o.id: o for o in Organism.select()}
    groups: dict[tuple[int, str], _Group] = {}
    codes: dict[int, tuple[CaisseCode, str]] = {}  # organism id → its code, its destination
    without_pieces: list[LotInvoice | Candidate] = []
    records = fse_records(invoices) if check else {}
    pieces = _pieces_of([inv.id for inv in invoices if inv.mode == "degrade"])
    for invoice in invoices:
        practitioner = practitioners[invoice.practitioner_id]
        organism = organisms.get(invoice.organism_id)
        try:
            if check:
                record = records[invoice.id]  # refuses, among others, an invoice without caisse
                if isinstance(record, ValidationError):
                    raise record
                signed_content_problem(invoice, record, codec)
            if organism is None:
                raise ValidationError("pas de caisse AMO.")
        except (ValidationError, FormatError) as error:
            skipped.append(SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, error)))
            continue
        if invoice.mode == "degrade":
            problem = _pieces_problem(pieces.get(invoice.id, []))
            if problem:
                skipped.append(
                    SkippedInvoice(
                        invoice.id,
                        invoice.number,
                        f"Facture {format_invoice_number(invoice.number)} : {problem}.",
                    )
                )
                continue
            if not pieces.get(invoice.id):
                without_pieces.append(invoice)
        known = codes.get(organism.id)
        if known is None:  # one per caisse, not one per invoice
            code = CaisseCode(organism.regime, organism.caisse, organism.centre)
            known = codes[organism.id] = (code, code.destination)
        code, destination = known
        key = (practitioner.id, destination)
        group = groups.get(key)
        if group is None:  # not one _Group made per invoice to be thrown away
            group = groups[key] = _Group(practitioner, destination)
        group.invoices.append(invoice)
        group.codes.setdefault(invoice.id, code)
    if check:
        for group in groups.values():
            _writable(group, records, codec, skipped)
    return [group for group in groups.values() if group.invoices], without_pieces


def _writable(
    group: _Group, records: dict, codec: LotFileCodec, skipped: list[SkippedInvoice]
) -> None:
    """The codec's own rules decide what a lot file can carry, with its messages: the whole
    group is written once as a trial lot; only when that fails is each invoice tried alone to
    name the ones refused (a codec refuses rarely: one trial instead of one per invoice)."""
    name = sender_name(group.practitioner)
    code = next(iter(group.codes.values()))

    def trial(invoices: list[LotInvoice]) -> None:
        header = lot_header(group.practitioner, code, 1, datetime(2000, 1, 1), name)
        codec.write(LotFile(header=header, fses=tuple(records[i.id] for i in invoices)))

    try:
        trial(group.invoices)
        return
    except FormatError:
        pass
    kept = []
    for invoice in group.invoices:
        try:
            trial([invoice])
        except FormatError as error:
            skipped.append(SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, error)))
        else:
            kept.append(invoice)
    group.invoices = kept


def _chunks(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def preview_build(
    settings: TransmissionSettings,
    *,
    invoice_ids: Sequence[int] | None = None,
    practitioner_id: int | None = None,
) -> tuple[list[LotPreview], list[SkippedInvoice]]:
    """What :func:`build_lots` would make now, without writing anything."""
    invoices, skipped = _candidates(invoice_ids, practitioner_id, whole=True)
    groups, _ = _groups(invoices, skipped, settings.lot_codec, check=True)
    organisms = {
        f"{o.regime}{o.caisse}": o.name for o in Organism.select().order_by(Organism.centre)
    }
    previews = [
        LotPreview(
            practitioner_id=group.practitioner.id,
            practitioner=group.practitioner.display_name,
            practitioner_am=group.practitioner.am_number,
            destination=group.destination,
            organism=organisms.get(group.destination, ""),
            invoice_ids=tuple(inv.id for inv in group.invoices),
            total_cents=sum(inv.total_cents for inv in group.invoices),
            lot_count=len(_chunks(group.invoices, settings.lot_max_invoices)),
        )
        for group in groups
    ]
    return previews, skipped


def build_lots(
    settings: TransmissionSettings,
    *,
    user: str,
    invoice_ids: Sequence[int] | None = None,
    practitioner_id: int | None = None,
    now: datetime | None = None,
) -> BuildReport:
    """Put Validée invoices (all, or those given) in new lots « À transmettre ».

    One transaction per lot: the number, the lot file, the lot, its history, each invoice's
    move Validée → À transmettre and its SCOR lot(s). An invoice the lot file cannot carry is
    left Validée and listed in ``skipped`` with the reason; an invoice changed meanwhile by
    another desk is left out of its lot.
    """
    with no_cycle_collection():
        return _build_lots(settings, user, invoice_ids, practitioner_id, current_time(now))


def _build_lots(
    settings: TransmissionSettings,
    user: str,
    invoice_ids: Sequence[int] | None,
    practitioner_id: int | None,
    at: datetime,
) -> BuildReport:
    invoices, skipped = _candidates(invoice_ids, practitioner_id, whole=False)
    groups, without_pieces = _groups(invoices, skipped, settings.lot_codec, check=False)
    built: list[LotSummary] = []
    database = Invoice._meta.database.obj
    with _page_cache(BUILD_PAGE_CACHE_KIB), checkpoints_beside(database) as checkpoints:
        for group in groups:
            name = sender_name(group.practitioner)
            for chunk in _chunks(group.invoices, settings.lot_max_invoices):
                try:
                    built.extend(
                        _build_one(settings, group.practitioner, chunk, name, user, at, skipped)
                    )
                except _NothingWritable:
                    continue  # each refusal is in skipped; the transaction gave the number back
                if checkpoints is not None:
                    checkpoints.committed()  # its WAL pages copied back while the next is made
    warnings: list[str] = []
    lotted = {
        invoice_id
        for (invoice_id,) in rows_of(
            'SELECT "id" FROM "invoice" WHERE "lot_id" IN ({ids})', [lot.id for lot in built]
        )
    }
    missing = [inv for inv in without_pieces if inv.id in lotted]
    if missing:
        numbers = ", ".join(format_invoice_number(inv.number) for inv in missing[:10])
        more = f" et {len(missing) - 10} autres" if len(missing) > 10 else ""
        warnings.append(
            f"{len(missing)} facture(s) en mode dégradé sans pièce SCOR ({numbers}{more}) : "
            "la caisse peut les rejeter faute de justificatif."
        )
    return BuildReport(lots=tuple(built), skipped=tuple(skipped), warnings=tuple(warnings))


# Each lot reads again pages of the invoices' table and indexes that the previous lot's writes
# (its file, its history) pushed out of the usual page cache: for 10,000 invoices, some 10,000
# reads from the file fewer with 8 MB (and no fewer with more), for some 4 MB of memory.
BUILD_PAGE_CACHE_KIB = 8_000


@contextmanager
def _page_cache(kib: int) -> Iterator[None]:
    """At least *kib* KiB of SQLite page cache for this connection (this thread's) meanwhile."""
    database = Invoice._meta.database
    if not isinstance(database.obj, peewee.SqliteDatabase):
        yield  # PostgreSQL: the server's cache
        return
    previous = database.execute_sql("PRAGMA cache_size").fetchone()[0]
    if previous > 0 or -previous >= kib:  # given in pages, or already as big
        yield
        return
    database.execute_sql(f"PRAGMA cache_size = -{int(kib)}")
    try:
        yield
    finally:
        database.execute_sql(f"PRAGMA cache_size = {int(previous)}")


def _build_one(
    settings: TransmissionSettings,
    practitioner: Practitioner,
    chunk: list[Candidate],
    name: str,
    user: str,
    at: datetime,
    skipped: list[SkippedInvoice],
) -> list[LotSummary]:
    with immediate():
        # Read again under the write lock: only invoices still Validée go in, as they are now.
        invoices = sorted(
            lot_invoices([inv.id for inv in chunk], state=InvoiceState.VALIDEE.value),
            key=lambda inv: (inv.number or 0, inv.id),
        )
        found = fse_records(invoices)
        codec = get_lot_codec(settings.lot_codec)
        for invoice in list(invoices):
            problem = found[invoice.id]
            if not isinstance(problem, ValidationError):
                try:  # changed since the preview, under this lock
                    signed_content_problem(invoice, problem, codec)
                except ValidationError as error:
                    problem = error
            if isinstance(problem, ValidationError):
                skipped.append(
                    SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, problem))
                )
                invoices.remove(invoice)
        if not invoices:
            return []
        organism = Organism.get_by_id(invoices[0].organism_id)
        destination = CaisseCode(organism.regime, organism.caisse, organism.centre)
        number = allocate_lot_number(
            practitioner, first=settings.lot_number_first, last=settings.lot_number_last
        )
        header = lot_header(practitioner, destination, number, at, name)
        data, invoices = _encode(codec, header, invoices, found, skipped)
        # Here, not at import: the mail layer (the email package) is for sending.
        from tuibill.transport.envelopes import lot_attachment_name

        if not invoices:
            raise _NothingWritable()
        lot = Lot.create(
            practitioner=practitioner.id,
            organism=organism.id,
            kind=FSE,
            number=number,
            state=INITIAL_STATE.value,
            created_at=at,
            created_by=user,
            destination=destination.destination,
            file_name=lot_attachment_name(practitioner.am_number, number),
            file_sha256=file_checksum(data),
            codec=settings.lot_codec,
            file_bytes=data,
            invoice_count=len(invoices),
            total_cents=sum(invoice.total_cents for invoice in invoices),
        )
        lifecycle.record_lot_built(lot, user, f"{len(invoices)} facture(s)", at=at)
        lifecycle.move_invoices(
            invoices, InvoiceAction.PUT_IN_LOT, user=user, reason=f"Lot {number:03d}", at=at, lot=lot
        )
        made = [lot]
        made.extend(_build_scor(settings, practitioner, lot, invoices, destination, name, user, at))
        return [summarize(item, practitioner, organism) for item in made]


class _NothingWritable(Exception):
    """Every invoice of a chunk refused by the codec: the lot number goes back (rollback)."""


def _encode(
    codec: LotFileCodec,
    header: LotHeader,
    invoices: list[LotInvoice],
    records: dict,
    skipped: list[SkippedInvoice],
) -> tuple[bytes, list[LotInvoice]]:
    """The lot file of *invoices*; the codec's own rules decide, with its messages. When it
    refuses the lot, each invoice is tried alone to name those it refuses; the others go."""
    try:
        return codec.write(LotFile(header, tuple(records[i.id] for i in invoices))), invoices
    except FormatError:
        pass
    kept = []
    for invoice in invoices:
        try:
            codec.write(LotFile(header, (records[invoice.id],)))
        except FormatError as error:
            skipped.append(SkippedInvoice(invoice.id, invoice.number, _prefixed(invoice, error)))
        else:
            kept.append(invoice)
    if not kept:
        return b"", []
    return codec.write(LotFile(header, tuple(records[i.id] for i in kept))), kept


def _build_scor(
    settings: TransmissionSettings,
    practitioner: Practitioner,
    fse_lot: Lot,
    invoices: list[LotInvoice],
    destination: CaisseCode,
    name: str,
    user: str,
    at: datetime,
) -> list[Lot]:
    """The SCOR lot(s) of the mode-dégradé invoices of *fse_lot* that have pieces."""
    degraded = [invoice for invoice in invoices if invoice.mode == "degrade"]
    if not degraded:
        return []
    numbers = {invoice.id: invoice.number for invoice in degraded}
    with_pieces = rows_of('SELECT "id" FROM "invoice_piece" WHERE "invoice_id" IN ({ids})',
                          list(numbers))  # fmt: skip
    if not with_pieces:
        return []  # most lots: nothing more to read (nor the SCOR format to import)
    from tuibill.formats.scor_lot import ScorHeader, ScorLot, ScorLotCodec, ScorPiece, ScorPieceKind
    from tuibill.transport.envelopes import scor_attachment_name

    pieces = sorted(
        InvoicePiece.select().where(InvoicePiece.id.in_([row[0] for row in with_pieces])),
        key=lambda piece: (numbers[piece.invoice_id], piece.id),
    )
    # Cut between invoices so that each SCOR mail stays a reasonable size.
    batches: list[list[InvoicePiece]] = []
    size = 0
    for piece in pieces:
        length = len(bytes(piece.content))
        new_invoice = not batches or batches[-1][-1].invoice_id != piece.invoice_id
        if not batches or (new_invoice and size + length > SCOR_LOT_MAX_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(piece)
        size += length
    made = []
    for batch in batches:
        number = allocate_lot_number(
            practitioner, first=settings.lot_number_first, last=settings.lot_number_last
        )
        content = ScorLot(
            header=ScorHeader(
                sender_id=practitioner.am_number,
                sender_name=name,
                practitioner_am=practitioner.am_number,
                destination=destination,
                lot_number=number,
                fse_lot_number=fse_lot.number,
                created_at=at,
            ),
            pieces=tuple(
                ScorPiece(
                    invoice_number=numbers[piece.invoice_id],
                    kind=ScorPieceKind.of(piece.kind),
                    data=bytes(piece.content),
                )
                for piece in batch
            ),
        )
        data = ScorLotCodec().write(content)
        scor = Lot.create(
            practitioner=practitioner.id,
            organism=fse_lot.organism_id,
            kind=SCOR,
            number=number,
            state=INITIAL_STATE.value,
            created_at=at,
            created_by=user,
            destination=destination.destination,
            parent=fse_lot.id,
            file_name=scor_attachment_name(practitioner.am_number, number),
            file_sha256=file_checksum(data),
            file_bytes=data,
            invoice_count=len(content.invoice_numbers),
            piece_count=len(batch),
            total_cents=0,
        )
        lifecycle.record_lot_built(scor, user, f"pièces SCOR du lot {fse_lot.number:03d}", at=at)
        InvoicePiece.update(lot=scor.id).where(
            InvoicePiece.id.in_([piece.id for piece in batch])
        ).execute()
        made.append(scor)
    return made


def delete_lot(
    lot_id: int, *, user: str, reason: str = "", now: datetime | None = None
) -> LotSummary:
    """« Suppression du lot », only before it was sent: its invoices go back to Validée.

    The lot is kept, « Supprimé », with its history (its number is not reused before the
    wrap). Its SCOR lot(s) not sent yet are deleted with it.
    """
    at = current_time(now)
    with immediate():
        lot = get_lot(lot_id)
        if lot.kind == SCOR and lot.parent_id is not None:
            parent = Lot.get_or_none(Lot.id == lot.parent_id)
            number = format_lot_number(parent.number) if parent else "?"
            raise RefusedOperation(
                f"Le lot SCOR {lot.number:03d} suit le lot de FSE {number} : supprimez ce lot "
                "de FSE, ses pièces SCOR le suivent."
            )
        # Its invoices go back to Validée, its SCOR lots are deleted with it (the table's effects).
        lifecycle.move_lot(
            lot, LotAction.DELETE, user=user, reason=reason or "suppression du lot", at=at
        )
        return summarize(lot)


# --- one lot in detail ------------------------------------------------------------------------


# --- Traitement manuel: the list for the paper route -----------------------------------------


