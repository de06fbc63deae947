"""Bank statements in: CFONB 120, CAMT.053 and OFX files, archived first, each line stored once.

The file is archived (content-addressed, fsync'ed) and recorded as a
:class:`~tuibill.models.ReceivedFile` « releve » before anything reads it; then one transaction
stores its statements and their lines. Each line has the ``unique_key`` of ``formats.bank``:
importing a statement twice adds nothing, and statements that overlap (a monthly one and the
daily ones, a file downloaded again) add each bank line once.

* Same file twice (same SHA-256): « déjà importé », nothing changes.
* A malformed file (or an IBAN that does not check, a currency other than the euro) is refused
  whole with the line and the reason, and kept aside: archived, listed « refusé ».
* ``dry_run``: the same report from a transaction rolled back; nothing is written or archived.
* A crash after recording leaves the file « reçu »: importing it again finishes the job.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import peewee

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.domain.formatting import format_cents, format_day
from tuibill.formats import bank as bank_format
from tuibill.formats.bank import BankStatement
from tuibill.formats.camt import read_camt
from tuibill.formats.cfonb import read_cfonb
from tuibill.formats.errors import FormatError
from tuibill.formats.ofx import read_ofx
from tuibill.models import (
    AccountStatement,
    BankAccount,
    BankMatch,
    BankOperation,
    ReceivedFile,
)
from tuibill.models.bank import ACTIVE
from tuibill.models.database import immediate
from tuibill.services import file_intake as intake
from tuibill.services import lifecycle
from tuibill.transport import archive

STATEMENT_FILE = "releve"  # ReceivedFile.kind
RECEIVED, APPLIED, REFUSED = intake.RECEIVED, intake.APPLIED, intake.REFUSED
IMPORTED, ALREADY, REFUSED_STATUS = "importé", "déjà importé", "refusé"
CURRENCY = "EUR"

FORMAT_LABELS = {
    bank_format.FORMAT_CFONB: "CFONB 120",
    bank_format.FORMAT_CAMT: "CAMT.053",
    bank_format.FORMAT_OFX: "OFX",
}
READERS = {
    bank_format.FORMAT_CFONB: read_cfonb,
    bank_format.FORMAT_CAMT: read_camt,
    bank_format.FORMAT_OFX: read_ofx,
}


# --- reports -----------------------------------------------------------------------------------


@dataclass
class StatementReport:
    """What one statement of a file brought."""

    account: str
    format: str
    opening_date: date | None
    closing_date: date | None
    closing_balance_cents: int | None
    lines: int
    new_lines: int
    statement_id: int | None = None

    def as_dict(self) -> dict:
        return {
            "releve": self.statement_id,
            "compte": self.account,
            "format": FORMAT_LABELS.get(self.format, self.format),
            "du": self.opening_date,
            "au": self.closing_date,
            "solde_final_cents": self.closing_balance_cents,
            "lignes": self.lines,
            "nouvelles": self.new_lines,
            "deja_connues": self.lines - self.new_lines,
        }


@dataclass
class ImportReport:
    """The outcome of one file; ``status`` is importé / déjà importé / refusé."""

    file: str
    status: str
    reason: str = ""
    format: str = ""
    statements: list[StatementReport] = field(default_factory=list)
    received_file_id: int | None = None
    dry_run: bool = False

    @property
    def lines(self) -> int:
        return sum(s.lines for s in self.statements)

    @property
    def new_lines(self) -> int:
        return sum(s.new_lines for s in self.statements)

    def summary(self) -> str:
        """One French line."""
        if self.status == ALREADY:
            return f"{self.file} : {self.reason or ALREADY}"
        if self.status != IMPORTED:
            return f"{self.file} : {self.status}" + (f" — {self.reason}" if self.reason else "")
        known = self.lines - self.new_lines
        return (
            f"{self.file} : {FORMAT_LABELS.get(self.format, self.format)}, "
            f"{len(self.statements)} relevé(s), {self.new_lines} ligne(s) nouvelle(s)"
            + (f", {known} déjà connue(s)" if known else "")
            + (" (simulation : rien n'est enregistré)" if self.dry_run else "")
            + "."
        )

    def as_dict(self) -> dict:
        return {
            "fichier": self.file,
            "statut": self.status,
            "motif": self.reason,
            "format": FORMAT_LABELS.get(self.format, self.format),
            "lignes": self.lines,
            "nouvelles": self.new_lines,
            "fichier_recu": self.received_file_id,
            "simulation": self.dry_run,
            "releves": [s.as_dict() for s in self.statements],
        }


# --- reading a file ----------------------------------------------------------------------------


def detect_format(data: bytes) -> str | None:
    """The statement format of *data* by its first bytes, or None."""
    head = bytes(data[:4096]).lstrip(b"\xef\xbb\xbf \t\r\n")
    upper = head.upper()
    if head.startswith(b"<") and b"CAMT.053" in upper:
        return bank_format.FORMAT_CAMT
    if b"OFXHEADER" in upper or b"<OFX>" in upper:
        return bank_format.FORMAT_OFX
    if head.startswith(b"01"):
        # A CFONB file opens with its 01 record: the reader then says what is wrong, and where.
        return bank_format.FORMAT_CFONB
    return None


def read_statements(data: bytes, format_name: str | None = None) -> tuple[str, tuple[BankStatement, ...]]:
    """The format and the statements of *data*, each checked for what tuibill keeps (IBAN,
    currency, an account); FormatError or ValidationError in French otherwise."""
    name = format_name or detect_format(data)
    if name is None:
        raise FormatError(
            "Format de relevé non reconnu : CFONB 120, CAMT.053 (XML ISO 20022) ou OFX attendu."
        )
    if name not in READERS:
        raise FormatError(
            f"Format de relevé « {name} » inconnu (possibles : {', '.join(READERS)})."
        )
    statements = READERS[name](data)
    if not statements:
        raise FormatError(f"{FORMAT_LABELS[name]} : aucun relevé dans le fichier.")
    for number, statement in enumerate(statements, 1):
        where = f"{FORMAT_LABELS[name]}, relevé {number}"
        if statement.currency != CURRENCY:
            raise ValidationError(
                f"{where} : compte en « {statement.currency} » : seuls les comptes en euros "
                "(EUR) sont rapprochés."
            )
        if statement.account_iban:
            try:
                bank_format.check_iban(statement.account_iban)
            except ValidationError as error:
                raise ValidationError(f"{where} : {error}", field="iban") from None
        elif not statement.account_number:
            raise ValidationError(f"{where} : ni IBAN ni numéro de compte.")
    return name, statements


# --- importing files ---------------------------------------------------------------------------


def import_files(
    paths: list[str | Path],
    settings: TransmissionSettings,
    *,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
    format_name: str | None = None,
) -> list[ImportReport]:
    """``tuibill bank import``: each file archived, recorded and stored (or simulated)."""
    return [
        ImportReport(name, REFUSED_STATUS, why)
        if data is None
        else import_data(
            data, name, settings, user=user, dry_run=dry_run, now=now, format_name=format_name
        )
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
    format_name: str | None = None,
    source: str = "manuel",
) -> ImportReport:
    """One statement file: archived first, recorded, then stored in one transaction."""
    at = lifecycle.current_time(now)
    known = intake.known_file(STATEMENT_FILE, intake.sha256(data))
    earlier = intake.earlier_outcome(known)
    if earlier is not None:
        status = ALREADY if earlier[0] == APPLIED else REFUSED_STATUS
        return ImportReport(name, status, earlier[1], received_file_id=known.id if known else None)
    if dry_run:
        try:
            found, statements = read_statements(data, format_name)
        except (FormatError, ValidationError) as error:
            return ImportReport(name, REFUSED_STATUS, str(error), dry_run=True)
        clash = _format_clash(statements, found)
        if clash:
            return ImportReport(name, REFUSED_STATUS, clash, dry_run=True)
        report = ImportReport(name, IMPORTED, format=found, dry_run=True)
        report.statements = intake.rehearse(
            STATEMENT_FILE, data, name, at,
            lambda row: _store(statements, found, row, user=user, at=at),
        )  # fmt: skip
        return report
    # Archived and recorded before it is even read: a file the bank sent is never lost, and a
    # malformed one stays aside, « refusé », with why.
    row = known or intake.record_file(STATEMENT_FILE, data, name, settings, at, source)
    return post_received(row.id, user=user, now=at, format_name=format_name) or ImportReport(
        name, ALREADY, received_file_id=row.id
    )


def post_received(
    row_id: int,
    *,
    user: str,
    now: datetime | None = None,
    format_name: str | None = None,
) -> ImportReport | None:
    """Store a recorded statement file in one transaction; None if another desk did it first."""
    at = lifecycle.current_time(now)
    with immediate():
        row = ReceivedFile.get_by_id(row_id)
        if row.status != RECEIVED:
            return None
        data = archive.load(row.archive_path, row.sha256)
        try:
            found, statements = read_statements(data, format_name)
        except (FormatError, ValidationError) as error:
            intake.finish(row, REFUSED, f"Relevé refusé, mis de côté : {error}", at)
            return ImportReport(row.file_name, REFUSED_STATUS, str(error), received_file_id=row.id)
        clash = _format_clash(statements, found)
        if clash:
            intake.finish(row, REFUSED, f"Relevé refusé, mis de côté : {clash}", at)
            return ImportReport(row.file_name, REFUSED_STATUS, clash, received_file_id=row.id)
        report = ImportReport(row.file_name, IMPORTED, format=found, received_file_id=row.id)
        report.statements = _store(statements, found, row, user=user, at=at)
        intake.finish(row, APPLIED, "", at)
        return report


def _account(statement: BankStatement, at: datetime) -> BankAccount:
    key = statement.account_key
    account = BankAccount.get_or_none(BankAccount.account_key == key)
    if account is None:
        account = BankAccount.create(
            account_key=key[:64],
            iban=statement.account_iban,
            bank_code=statement.bank_code or "",
            branch_code=statement.branch_code or "",
            account_number=statement.account_number or "",
            currency=statement.currency,
            created_at=at,
        )
    return account


def _period(statement: BankStatement) -> tuple[date, date] | None:
    days = [line.booking_date for line in statement.lines]
    start = statement.opening_date or (min(days) if days else None)
    end = statement.closing_date or (max(days) if days else None)
    return (start, end) if start and end else None


def _format_clash(statements: tuple[BankStatement, ...], format_name: str) -> str:
    """Why these statements would count lines twice: their account already has statements of
    the same days in another format (a line's key depends on the format: CFONB has no entry
    reference), or "" — one format per account, as the bank sends it."""
    for statement in statements:
        period = _period(statement)
        account = BankAccount.get_or_none(BankAccount.account_key == statement.account_key)
        if period is None or account is None:
            continue
        other = (
            AccountStatement.select()
            .where(
                (AccountStatement.account == account.id)
                & (AccountStatement.format != format_name)
                & (AccountStatement.opening_date <= period[1])
                & (AccountStatement.closing_date >= period[0])
            )
            .order_by(AccountStatement.id)
            .first()
        )
        if other is not None:
            before = FORMAT_LABELS.get(other.format, other.format)
            now = FORMAT_LABELS.get(format_name, format_name)
            return (
                f"le compte {statement.account_key} a déjà un relevé {before} du "
                f"{other.opening_date:%d/%m/%Y} au {other.closing_date:%d/%m/%Y} : un relevé "
                f"{now} des mêmes jours compterait ses lignes deux fois. Importez les relevés "
                "d'un compte dans un seul format."
            )
    return ""


def _store(
    statements: tuple[BankStatement, ...],
    format_name: str,
    row: ReceivedFile,
    *,
    user: str,
    at: datetime,
) -> list[StatementReport]:
    reports = []
    for position, statement in enumerate(statements, 1):
        account = _account(statement, at)
        keys = [line.unique_key for line in statement.lines]
        known: set[str] = set()
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            known.update(
                key
                for (key,) in BankOperation.select(BankOperation.unique_key)
                .where((BankOperation.account == account.id) & BankOperation.unique_key.in_(chunk))
                .tuples()
            )
        fresh = [line for line in statement.lines if line.unique_key not in known]
        stored = AccountStatement.create(
            account=account.id,
            received_file=row.id,
            position=position,
            format=format_name,
            statement_ref=(statement.statement_id or "")[:255],
            opening_date=statement.opening_date,
            opening_balance_cents=statement.opening_balance_cents,
            closing_date=statement.closing_date,
            closing_balance_cents=statement.closing_balance_cents,
            line_count=len(statement.lines),
            new_line_count=len(fresh),
            imported_at=at,
            imported_by=user,
        )
        rows = [
            {
                "account": account.id,
                "statement": stored.id,
                "unique_key": line.unique_key,
                "booking_date": line.booking_date,
                "value_date": line.value_date,
                "amount_cents": line.amount_cents,
                "label": line.label[:255],
                "reference": (line.reference or "")[:255],
                "counterparty": (line.counterparty or "")[:255],
                "details": json.dumps([list(d) for d in line.details], ensure_ascii=False)
                if line.details
                else "",
                "bank_ref": (line.bank_ref or "")[:255],
                "operation_code": (line.operation_code or "")[:32],
            }
            for line in fresh
        ]
        for start in range(0, len(rows), 50):
            BankOperation.insert_many(rows[start : start + 50]).execute()
        reports.append(
            StatementReport(
                account=_account_text(account),
                format=format_name,
                opening_date=statement.opening_date,
                closing_date=statement.closing_date,
                closing_balance_cents=statement.closing_balance_cents,
                lines=len(statement.lines),
                new_lines=len(fresh),
                statement_id=stored.id,
            )
        )
    return reports


# --- reading what was imported -----------------------------------------------------------------


def _account_text(account: BankAccount) -> str:
    if account.iban:
        iban = account.iban
        return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    return account.account_key


def details_of(operation: BankOperation) -> list[tuple[str, str]]:
    if not operation.details:
        return []
    return [(q, t) for q, t in json.loads(operation.details)]


def operation_text(operation: BankOperation) -> str:
    """Every text the bank gave for a line, joined (what the rules look in)."""
    parts = [operation.label, operation.reference, operation.counterparty]
    parts += [text for _, text in details_of(operation)]
    # A CFONB payer (NPY) is also the line's counterparty: each text once.
    return " ".join(dict.fromkeys(part for part in parts if part))


@dataclass(frozen=True)
class StatementView:
    id: int
    account: str
    format: str
    file_name: str
    opening_date: date | None
    closing_date: date | None
    opening_balance_cents: int | None
    closing_balance_cents: int | None
    lines: int
    new_lines: int
    imported_at: datetime
    imported_by: str

    @property
    def period(self) -> str:
        if self.opening_date and self.closing_date:
            return f"{format_day(self.opening_date)} → {format_day(self.closing_date)}"
        return format_day(self.closing_date or self.opening_date)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "compte": self.account,
            "format": FORMAT_LABELS.get(self.format, self.format),
            "fichier": self.file_name,
            "du": self.opening_date,
            "au": self.closing_date,
            "solde_initial_cents": self.opening_balance_cents,
            "solde_final_cents": self.closing_balance_cents,
            "lignes": self.lines,
            "nouvelles": self.new_lines,
            "importe_le": self.imported_at,
            "importe_par": self.imported_by,
        }


def statements(limit: int = 500) -> list[StatementView]:
    """The statements imported, the latest first."""
    query = (
        AccountStatement.select(AccountStatement, BankAccount, ReceivedFile)
        .join(BankAccount)
        .switch(AccountStatement)
        .join(ReceivedFile)
        .order_by(AccountStatement.closing_date.desc(nulls="LAST"), AccountStatement.id.desc())
        .limit(limit)
    )
    return [
        StatementView(
            id=row.id,
            account=_account_text(row.account),
            format=row.format,
            file_name=row.received_file.file_name,
            opening_date=row.opening_date,
            closing_date=row.closing_date,
            opening_balance_cents=row.opening_balance_cents,
            closing_balance_cents=row.closing_balance_cents,
            lines=row.line_count,
            new_lines=row.new_line_count,
            imported_at=row.imported_at,
            imported_by=row.imported_by,
        )
        for row in query
    ]


@dataclass(frozen=True)
class RefusedFile:
    id: int
    file_name: str
    received_at: datetime
    reason: str
    archive_path: str

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "fichier": self.file_name,
            "recu_le": self.received_at,
            "motif": self.reason,
            "archive": self.archive_path,
        }


def refused_files(limit: int = 100) -> list[RefusedFile]:
    """The statement files refused, kept aside in the archive, the latest first."""
    query = (
        ReceivedFile.select()
        .where((ReceivedFile.kind == STATEMENT_FILE) & (ReceivedFile.status == REFUSED))
        .order_by(ReceivedFile.id.desc())
        .limit(limit)
    )
    return [
        RefusedFile(row.id, row.file_name, row.received_at, row.error, row.archive_path)
        for row in query
    ]


@dataclass(frozen=True)
class OperationView:
    """A bank line as the screens and the command line show it."""

    id: int
    account: str
    booking_date: date
    value_date: date | None
    amount_cents: int
    label: str
    reference: str
    counterparty: str
    text: str
    match_id: int | None = None

    @property
    def amount(self) -> str:
        return format_cents(self.amount_cents)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "compte": self.account,
            "date": self.booking_date,
            "date_valeur": self.value_date,
            "montant_cents": self.amount_cents,
            "libelle": self.label,
            "reference": self.reference,
            "contrepartie": self.counterparty,
            "rapprochement": self.match_id,
        }


def _operation_view(row: BankOperation, match_id: int | None) -> OperationView:
    return OperationView(
        id=row.id,
        account=_account_text(row.account),
        booking_date=row.booking_date,
        value_date=row.value_date,
        amount_cents=row.amount_cents,
        label=row.label,
        reference=row.reference,
        counterparty=row.counterparty,
        text=operation_text(row),
        match_id=match_id,
    )


def operations(
    *,
    statement_id: int | None = None,
    operation_id: int | None = None,
    unmatched_credits: bool = False,
    start: date | None = None,
    end: date | None = None,
    limit: int | None = 2000,
) -> list[OperationView]:
    """Bank lines by date; *unmatched_credits*: only the credits no active match holds."""
    # At most one active match per line (a partial unique index says so).
    query = (
        BankOperation.select(BankOperation, BankAccount, BankMatch.id)
        .join(BankAccount)
        .switch(BankOperation)
        .join(
            BankMatch,
            peewee.JOIN.LEFT_OUTER,
            on=((BankMatch.operation == BankOperation.id) & (BankMatch.state == ACTIVE)),
            attr="active_match",
        )
        .order_by(BankOperation.booking_date, BankOperation.id)
    )
    if statement_id is not None:
        if AccountStatement.get_or_none(AccountStatement.id == statement_id) is None:
            raise NotFound(f"Relevé {statement_id} introuvable.")
        query = query.where(BankOperation.statement == statement_id)
    if operation_id is not None:
        query = query.where(BankOperation.id == operation_id)
    if unmatched_credits:
        query = query.where((BankOperation.amount_cents > 0) & BankMatch.id.is_null())
    if start is not None:
        query = query.where(BankOperation.booking_date >= start)
    if end is not None:
        query = query.where(BankOperation.booking_date <= end)
    if limit is not None:
        query = query.limit(limit)
    return [
        _operation_view(row, row.active_match.id if row.active_match is not None else None)
        for row in query
    ]


def operation(operation_id: int) -> BankOperation:
    row = BankOperation.get_or_none(BankOperation.id == operation_id)
    if row is None:
        raise NotFound(f"Ligne bancaire {operation_id} introuvable.")
    return row


def bank_dates() -> tuple[date | None, date | None]:
    """The first and last booking dates of every line imported."""
    first, last = BankOperation.select(
        peewee.fn.MIN(BankOperation.booking_date), peewee.fn.MAX(BankOperation.booking_date)
    ).scalar(as_tuple=True)
    return _as_date(first), _as_date(last)


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value  # type: ignore[return-value]
    return date.fromisoformat(str(value)[:10])

