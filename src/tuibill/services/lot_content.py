"""What goes into a lot file: invoices mapped to the format's dataclasses, text made writable.

The lot file is Latin-1 and refuses control and invisible characters; names typed at the desk or
read from a card may hold « Œ », curly quotes, a no-break space… They are transliterated here
(Œ → OE), never in the codec, which stays strict.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, NamedTuple

import peewee

from tuibill import __version__
from tuibill.domain.cards import CardType
from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.formats.codec import (
    SIGNATURE_ALGORITHMS,
    CaisseCode,
    FseLine,
    FseMode,
    FseRecord,
    FseSignature,
    LotHeader,
)
from tuibill.formats.records import PRINTABLE
from tuibill.models import Invoice, Mutuelle, Organism, Practitioner
from tuibill.services.practice import get_practice

SOFTWARE_NAME = "tuibill"

# Characters outside Latin-1 (or invisible in it) that have a usual spelling inside it.
TRANSLITERATION: dict[str, str] = {
    "Œ": "OE",
    "œ": "oe",
    "Ÿ": "Y",
    "Š": "S",
    "š": "s",
    "Ž": "Z",
    "ž": "z",
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‛": "'",
    "“": '"',
    "”": '"',
    "„": '"',
    "‐": "-",
    "‑": "-",
    "–": "-",
    "—": "-",
    "…": "...",
    "€": "EUR",
    "\u00a0": " ",  # no-break space: looks like a space, is not one for the format
    "\u202f": " ",
    "\u00ad": "",  # soft hyphen: invisible
}

# How the card layer names signature algorithms, and the names of the lot format.
SIGNATURE_NAMES: dict[str, str] = {
    "sha256withrsaencryption": "RSA-SHA256",
    "rsa-sha256": "RSA-SHA256",
    "sha1withrsaencryption": "RSA-SHA1",
    "rsa-sha1": "RSA-SHA1",
    "ecdsa-with-sha256": "ECDSA-SHA256",
    "ecdsa-sha256": "ECDSA-SHA256",
}
_PS_NUMBER = re.compile(r"(?<![0-9])([0-9]{11}|[0-9]{9})(?![0-9])")


def latin1_text(value: str | None, width: int) -> str | None:
    """*value* as a field of the lot file: printable Latin-1, single spaces, at most *width*.

    Accents outside Latin-1 lose their accent (NFKD), known signs are transliterated, control
    characters dropped and anything else becomes « ? ». None when nothing is left.
    """
    if value and PRINTABLE.fullmatch(value):
        # Nearly every name: printable Latin-1 already (no sign to transliterate is).
        return " ".join(value.split())[:width].rstrip(" ") or None
    out: list[str] = []
    for char in value or "":
        if char in TRANSLITERATION:
            out.append(TRANSLITERATION[char])
        elif PRINTABLE.fullmatch(char):
            out.append(char)
        elif char.isspace():
            out.append(" ")
        elif unicodedata.category(char).startswith("C"):
            continue
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
            )
            out.append(base if base and PRINTABLE.fullmatch(base) else "?")
    text = " ".join("".join(out).split())
    return text[:width].rstrip(" ") or None


def sender_name(practitioner: Practitioner) -> str:
    """The practice's name as the caisse reads it (30 characters), else the PS's name."""
    practice = get_practice()
    return (
        latin1_text(practice.name if practice else "", 30)
        or latin1_text(practitioner.display_name, 30)
        or "Cabinet"
    )


def lot_header(
    practitioner: Practitioner,
    destination: CaisseCode,
    number: int,
    created_at: datetime,
    name: str,
) -> LotHeader:
    return LotHeader(
        # One PS, one sender: the PS's AM number identifies who sends (see lot-file.md).
        sender_id=practitioner.am_number,
        sender_name=name,
        practitioner_am=practitioner.am_number,
        destination=destination,
        lot_number=number,
        created_at=created_at.replace(microsecond=0, tzinfo=None),
        software_name=SOFTWARE_NAME,
        software_version=latin1_text(__version__, 10) or "0",
    )


def _time(value: str | None) -> time | None:
    if not value:
        return None
    try:
        hours, minutes = value.split(":")[:2]
        return time(int(hours), int(minutes))
    except ValueError:
        return None


def _signature(invoice: Invoice) -> FseSignature:
    number = format_invoice_number(invoice.number)
    if not invoice.signature:
        if invoice.mode == FseMode.SESAM_VITALE:
            raise ValidationError(
                f"Facture {number} : FSE SESAM-Vitale non signée, elle ne peut pas partir en lot "
                "(sécurisez-la avec la CPS)."
            )
        return FseSignature.unsigned()
    try:
        value = base64.b64decode(invoice.signature, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(f"Facture {number} : signature illisible (base64 attendu).") from None
    algorithm = SIGNATURE_NAMES.get(invoice.signature_algorithm.strip().lower())
    if algorithm is None and invoice.signature_algorithm in SIGNATURE_ALGORITHMS:
        algorithm = invoice.signature_algorithm
    if algorithm is None:
        raise ValidationError(
            f"Facture {number} : algorithme de signature « {invoice.signature_algorithm} » "
            "inconnu du format de lot."
        )
    found = _PS_NUMBER.search(invoice.signer or "")
    if found is None:
        raise ValidationError(
            f"Facture {number} : le signataire « {invoice.signer} » ne porte pas de numéro de PS "
            "(9 ou 11 chiffres)."
        )
    card = CardType.CPE if (invoice.signing_card or "").upper().startswith("CPE") else CardType.CPS
    return FseSignature(algorithm=algorithm, signer=found.group(1), card_type=card, value=value)


@dataclass
class _Related:
    """What the FSE of a set of invoices need, read in a few queries (not ~15 per invoice)."""

    patients: dict[int, _Patient]
    organisms: dict[int, CaisseCode]  # organism id → its code as the FSE carries it
    mutuelles: dict[int, str | None]  # mutuelle id → its AMC number as the FSE carries it
    lines: dict[int, tuple[FseLine, ...]]  # per invoice id, in the invoice's order
    prescriptions: dict[int, tuple[str, date]]  # prescription id → (prescriber number, date)
    # The FSE's immutable parts already made, shared by the invoices that have the same (most
    # act lines repeat: same day, code and amounts): a lot makes each once.
    made: dict[object, object] = field(default_factory=dict)

    def share(self, key: object, make: Callable[[], Any]) -> Any:
        value = self.made.get(key)
        if value is None:
            value = self.made[key] = make()
        return value


def _chunked(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    # Bounded IN lists: SQLite limits the number of bound parameters of a statement.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


# A lot of 500 invoices reads 500 patients and some 1,500 lines: read as plain rows, in SQL
# written once, they cost a fraction of model objects (and of peewee building the IN lists).
class _Patient(NamedTuple):
    id: int
    last_name: str | None  # as the lot file writes it (latin1_text), None when nothing is left
    first_name: str | None
    birth_date: date
    nir: str
    rank: int
    quality: str


def rows_of(sql: str, ids: Sequence[int], *params: object) -> list[tuple]:
    """The rows of *sql*, whose ``{ids}`` is an IN list of *ids* (read by chunks); *params*
    follow the ids."""
    database = Invoice._meta.database
    found: list[tuple] = []
    for chunk in _chunked(list(ids)):
        marks = ", ".join([database.param] * len(chunk))
        query = sql.format(ids=marks, param=database.param)
        found += database.execute_sql(query, (*chunk, *params)).fetchall()
    return found


def as_date(value: object) -> date | None:
    """A date column's value (SQLite gives text, PostgreSQL a date)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def as_datetime(value: object) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


@dataclass(slots=True)
class LotInvoice:
    """An invoice as a lot needs it — its FSE's columns, its signature, its state — read as a
    plain row (:func:`lot_invoices`); the attributes are ``Invoice``'s. A lot's moves set the
    state, lot and securing columns on it as on an ``Invoice``."""

    id: int
    state: str
    number: int | None
    practitioner_id: int
    patient_id: int
    prescription_id: int | None
    organism_id: int | None
    mutuelle_id: int | None
    mode: str
    billing_date: date
    amo_tiers_payant: bool
    amc_tiers_payant: bool
    amo_rate: int
    total_cents: int
    amo_cents: int
    amc_cents: int
    patient_cents: int
    signature: str
    signature_algorithm: str
    signer: str
    signing_card: str
    signer_certificate: str
    secured_at: datetime | None
    secured_with_vitale: bool
    lot: int | None
    lot_number: int | None
    tla_key: str | None

    @property
    def lot_id(self) -> int | None:
        return self.lot


_LOT_INVOICE_COLUMNS = (
    "id", "state", "number", "practitioner_id", "patient_id", "prescription_id", "organism_id",
    "mutuelle_id", "mode", "billing_date", "amo_tiers_payant", "amc_tiers_payant", "amo_rate",
    "total_cents", "amo_cents", "amc_cents", "patient_cents", "signature",
    "signature_algorithm", "signer", "signing_card", "signer_certificate", "secured_at",
    "secured_with_vitale", "lot_id", "lot_number", "tla_key",
)  # fmt: skip
_LOT_INVOICE_SELECT = "SELECT " + ", ".join(f'"{c}"' for c in _LOT_INVOICE_COLUMNS) + ' FROM "invoice"'


def _lot_invoices(rows: Iterable[tuple]) -> list[LotInvoice]:
    days: dict[object, date | None] = {}  # thousands of invoices, a few dozen billing days
    found = []
    for row in rows:
        invoice = LotInvoice(*row)
        day = days.get(invoice.billing_date)
        if day is None:
            day = days[invoice.billing_date] = as_date(invoice.billing_date)
        invoice.billing_date = day
        if invoice.secured_at is not None:
            invoice.secured_at = as_datetime(invoice.secured_at)
        invoice.amo_tiers_payant = bool(invoice.amo_tiers_payant)
        invoice.amc_tiers_payant = bool(invoice.amc_tiers_payant)
        invoice.secured_with_vitale = bool(invoice.secured_with_vitale)
        found.append(invoice)
    return found


def _beside_ids(column: str) -> str:
    """*column* in a WHERE that looks ids up: SQLite would rather walk *column*'s index (every
    invoice in a state, for each chunk of ids); « + » keeps it off. PostgreSQL plans well."""
    database = Invoice._meta.database
    sqlite = isinstance(getattr(database, "obj", database), peewee.SqliteDatabase)
    return f'+"{column}"' if sqlite else f'"{column}"'


def lot_invoices(ids: Sequence[int], *, state: str | None = None) -> list[LotInvoice]:
    """The invoices of *ids* (in *state* only, if given) as a lot reads them, in no order."""
    where = ' WHERE "id" IN ({ids})'
    if state:
        where += f" AND {_beside_ids('state')} = {{param}}"
    return _lot_invoices(rows_of(_LOT_INVOICE_SELECT + where, ids, *([state] if state else [])))


def _validated_rows(select: str, practitioner_id: int | None) -> list[tuple]:
    """*select*'s rows of every « Validée » invoice (of one practitioner, if given)."""
    database = Invoice._meta.database
    sql = select + f' WHERE "state" = {database.param}'
    params: list[object] = [InvoiceState.VALIDEE.value]
    if practitioner_id is not None:
        sql += f' AND "practitioner_id" = {database.param}'
        params.append(practitioner_id)
    return database.execute_sql(sql, params).fetchall()


def validated_invoices(practitioner_id: int | None = None) -> list[LotInvoice]:
    """Every « Validée » invoice (of one practitioner, if given), in no order."""
    return _lot_invoices(_validated_rows(_LOT_INVOICE_SELECT, practitioner_id))


class Candidate(NamedTuple):
    """What choosing and grouping an invoice for a lot read of it; the lot reads the rest (its
    FSE, its signature and certificate) under its write lock (:func:`lot_invoices`)."""

    id: int
    state: str
    number: int | None
    practitioner_id: int
    organism_id: int | None
    mode: str


_CANDIDATE_SELECT = (
    'SELECT "id", "state", "number", "practitioner_id", "organism_id", "mode" FROM "invoice"'
)


def candidates(ids: Sequence[int]) -> list[Candidate]:
    """The invoices of *ids* as a build chooses them, in no order."""
    return [Candidate(*row) for row in rows_of(_CANDIDATE_SELECT + ' WHERE "id" IN ({ids})', ids)]


def validated_candidates(practitioner_id: int | None = None) -> list[Candidate]:
    """Every « Validée » invoice (of one practitioner, if given) as a build chooses them."""
    return [Candidate(*row) for row in _validated_rows(_CANDIDATE_SELECT, practitioner_id)]


# Each act line made once from its row (as read, the invoice aside): most repeat — same day,
# act and amounts — from patient to patient and from lot to lot, and the records share them.
_LINES: dict[tuple, FseLine] = {}
_LINES_KEPT = 16_384
# Each patient likewise from his row: a build reads the same few hundred patients for each lot.
_PATIENTS: dict[tuple, _Patient] = {}
_PATIENTS_KEPT = 4096


def _related(invoices: Sequence[Invoice]) -> _Related:
    def ids_of(attribute: str) -> list[int]:
        return sorted({getattr(inv, attribute) for inv in invoices} - {None})

    known = _PATIENTS
    if len(known) >= _PATIENTS_KEPT:
        known.clear()
    patients = {
        row[0]: known.get(row) or known.setdefault(
            row,
            _Patient(
                row[0], latin1_text(row[1], 40), latin1_text(row[2], 30), as_date(row[3]), *row[4:7]
            ),
        )
        for row in rows_of(
            'SELECT "id", "last_name", "first_name", "birth_date", "nir", "rank", "quality" '
            'FROM "patient" WHERE "id" IN ({ids})',
            ids_of("patient_id"),
        )
    }
    made = _LINES
    if len(made) >= _LINES_KEPT:
        made.clear()
    lines: dict[int, list[FseLine]] = {}
    current: list[FseLine] = []
    current_id = None
    for row in rows_of(
        'SELECT "invoice_id", "act_date", "act_time", "code", "coefficient_x100", "quantity", '
        '"unit_cents", "total_cents", "amo_cents", "amc_cents", "patient_cents" '
        'FROM "invoice_line" WHERE "invoice_id" IN ({ids}) '
        'ORDER BY "invoice_id", "position", "id"',
        [inv.id for inv in invoices],
    ):
        key = row[1:]
        line = made.get(key)
        if line is None:
            line = made[key] = FseLine.of_fields(
                act_date=as_date(row[1]),
                code=row[3].strip().upper(),
                coefficient_x100=row[4],
                quantity=row[5],
                unit_cents=row[6],
                total_cents=row[7],
                amo_cents=row[8],
                amc_cents=row[9],
                patient_cents=row[10],
                act_time=_time(row[2]),
            )
        if row[0] != current_id:  # the rows come invoice by invoice
            current_id = row[0]
            current = lines.setdefault(current_id, [])
        current.append(line)
    prescriptions = {
        pid: (number, as_date(when))
        for pid, when, number in rows_of(
            'SELECT p."id", p."date", s."number" FROM "prescription" AS p '
            'JOIN "prescriber" AS s ON s."id" = p."prescriber_id" WHERE p."id" IN ({ids})',
            ids_of("prescription_id"),
        )
    }
    # A handful of caisses and mutuelles, read again for each lot (under its lock) as rows.
    database = Invoice._meta.database
    organisms = {
        oid: CaisseCode(regime, caisse, centre)
        for oid, regime, caisse, centre in database.execute_sql(
            f'SELECT "id", "regime", "caisse", "centre" FROM "{Organism._meta.table_name}"'
        ).fetchall()
    }
    mutuelles = {
        mid: number.strip().upper() or None
        for mid, number in database.execute_sql(
            f'SELECT "id", "number" FROM "{Mutuelle._meta.table_name}"'
        ).fetchall()
    }
    return _Related(
        patients=patients,
        organisms=organisms,
        mutuelles=mutuelles,
        lines={invoice_id: tuple(found) for invoice_id, found in lines.items()},
        prescriptions=prescriptions,
    )


def fse_records(invoices: Sequence[Invoice]) -> dict[int, FseRecord | ValidationError]:
    """The FSE of each invoice (by id), or the ValidationError saying why it cannot be written."""
    related = _related(invoices)
    found: dict[int, FseRecord | ValidationError] = {}
    for invoice in invoices:
        try:
            found[invoice.id] = _record(invoice, related)
        except ValidationError as error:
            found[invoice.id] = error
    return found


def fse_record(invoice: Invoice) -> FseRecord:
    """The FSE of *invoice* for its lot; ValidationError (French) if it cannot be written."""
    return _record(invoice, _related([invoice]))


_MODES = {mode.value: mode for mode in FseMode}


def _record(invoice: Invoice, related: _Related) -> FseRecord:
    # The invoice's number as the messages show it is made only for a message.
    if invoice.number is None:
        raise ValidationError(f"Facture {invoice.id} sans numéro : validez-la d'abord.")
    amo = related.organisms.get(invoice.organism_id)
    if amo is None:
        raise ValidationError(
            f"Facture {format_invoice_number(invoice.number)} : pas de caisse AMO (régime, "
            "caisse, centre) : complétez le dossier du patient puis refaites la facture."
        )
    patient = related.patients[invoice.patient_id]
    if patient.last_name is None or patient.first_name is None:
        raise ValidationError(
            f"Facture {format_invoice_number(invoice.number)} : nom ou prénom du patient vide."
        )
    lines = related.lines.get(invoice.id)
    if not lines:
        raise ValidationError(
            f"Facture {format_invoice_number(invoice.number)} : aucune ligne d'acte."
        )
    prescriber_number = prescription_date = None
    if invoice.prescription_id in related.prescriptions:
        prescriber_number, prescription_date = related.prescriptions[invoice.prescription_id]
    amc_number = related.mutuelles.get(invoice.mutuelle_id)
    mode = _MODES.get(invoice.mode) or FseMode(invoice.mode)
    return FseRecord.of_fields(
        invoice_number=invoice.number,
        mode=mode,
        billing_date=invoice.billing_date,
        patient_last_name=patient.last_name,
        patient_first_name=patient.first_name,
        birth_date=patient.birth_date,
        nir=patient.nir,
        rank=patient.rank,
        quality=patient.quality,
        amo=amo,
        amo_tiers_payant=bool(invoice.amo_tiers_payant),
        amc_tiers_payant=bool(invoice.amc_tiers_payant) and amc_number is not None,
        amo_rate=invoice.amo_rate,
        total_cents=invoice.total_cents,
        amo_cents=invoice.amo_cents,
        amc_cents=invoice.amc_cents,
        patient_cents=invoice.patient_cents,
        lines=lines,
        signature=(
            _signature(invoice)
            if invoice.signature or mode == FseMode.SESAM_VITALE
            else related.share("unsigned", FseSignature.unsigned)
        ),
        amc_number=amc_number,
        prescriber_number=prescriber_number,
        prescription_date=prescription_date,
    )
