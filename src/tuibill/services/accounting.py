"""The accountant's files: the FEC of a financial year, its check, and a plain CSV of receipts.

What the FEC holds (``docs/bank.md`` has the table of accounts):

* **Banque** (journal ``accounting.bank_journal``): one entry per bank credit of the year —
  the bank account debited, and credited: a matched NOEMIE virement → the caisses' account
  (accrual) or the revenue account (cash basis); a matched règlement → the tiers-payeur's own
  account if it has one in ``accounting.payer_accounts``, else the tiers-payeurs' account
  (accrual) or the revenue account (cash basis); a credit nobody announced → the suspense
  account (« recettes à identifier »). A debit is written only when it is matched (a caisse
  taking money back): the practice's expenses are its accountant's, not the billing tool's.
* **Ventes** (``accounting.sales_journal``, accrual books only, ``cash_basis = false``): one
  entry per invoice billed in the year, its shares on separate accounts — the caisse's (AMO),
  the mutuelle's (AMC), the patient's — each with the payer as auxiliary account.

Entries are in date order (sales before bank on the same day), validated on their date,
numbered from 1 without gaps; ``formats.fec`` writes and re-checks them.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import peewee

from tuibill.config import AccountingSettings
from tuibill.domain.bank_matching import REGLEMENT, VIREMENT, kind_label, normalise
from tuibill.domain.errors import ConfigError, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents, format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.formats.errors import FormatError
from tuibill.formats.fec import (
    FecCheckReport,
    FecEntry,
    FecLine,
    check_fec,
    check_siren,
    fec_filename,
    write_fec,
)
from tuibill.models import (
    BankAccount,
    BankMatch,
    BankOperation,
    Invoice,
    Mutuelle,
    Organism,
    Patient,
)
from tuibill.models.bank import ACTIVE
from tuibill.services import bank_sources
from tuibill.services.bank import operation_text

# Invoices that are sales: numbered, validated, not cancelled or back to Saisie.
SALE_STATES = (
    InvoiceState.VALIDEE,
    InvoiceState.A_SECURISER,
    InvoiceState.A_TRANSMETTRE,
    InvoiceState.TRANSMISE,
    InvoiceState.PAYEE,
    InvoiceState.PAYEE_PARTIELLEMENT,
    InvoiceState.REJETEE,
    InvoiceState.NON_TRANSMISSIBLE,
)
ACCOUNT_LABELS = {
    "bank_account": "Banque",
    "revenue_account": "Honoraires",
    "caisse_account": "Caisses d'assurance maladie (AMO)",
    "mutuelle_account": "Mutuelles (AMC)",
    "patient_account": "Patients",
    "payer_account": "Tiers-payeurs",
    "suspense_account": "Recettes à identifier",
}
PAYMENT_MODE = "Virement"
NATURES = {VIREMENT: "Honoraires tiers payant AMO", REGLEMENT: "Règlement tiers-payeur"}
UNKNOWN_NATURE = "Recette à identifier"
_SALES_ORDER, _BANK_ORDER = 0, 1


def _clean(text: str, default: str) -> str:
    """A FEC text: no tab nor line end, spaces squeezed, never empty."""
    value = " ".join(re.sub(r"[\t\r\n]+", " ", text or "").split())
    return value[:200] or default


def _aux(prefix: str, text: str) -> str:
    return (prefix + normalise(text).replace(" ", ""))[:17]


def financial_year(year: int, closing: date | None = None) -> tuple[date, date]:
    """The first and last days of the financial year *year*: the calendar year, or the twelve
    months ending on *closing* (which must fall in *year*)."""
    if closing is None:
        return date(year, 1, 1), date(year, 12, 31)
    if closing.year != year:
        raise ValidationError(
            f"Date de clôture {closing:%d/%m/%Y} hors de l'exercice {year} : elle doit tomber en "
            f"{year}."
        )
    try:
        start = closing.replace(year=closing.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February: the year before has none
        start = date(closing.year - 1, 3, 1)
    return start, closing


# --- the entries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Draft:
    """An entry before it is numbered."""

    order: tuple
    journal: str
    piece_ref: str
    day: date
    label: str
    lines: tuple[FecLine, ...]
    nature: str | None = None


def _account(settings: AccountingSettings, name: str, **aux: str | None) -> dict:
    return {"account": getattr(settings, name), "account_label": ACCOUNT_LABELS[name], **aux}


def _sales(settings: AccountingSettings, start: date, end: date) -> list[_Draft]:
    query = (
        Invoice.select(Invoice, Patient, Organism, Mutuelle)
        .join(Patient, on=(Invoice.patient == Patient.id))
        .switch(Invoice)
        .join(Organism, join_type=peewee.JOIN.LEFT_OUTER, on=(Invoice.organism == Organism.id))
        .switch(Invoice)
        .join(Mutuelle, join_type=peewee.JOIN.LEFT_OUTER, on=(Invoice.mutuelle == Mutuelle.id))
        .where(
            Invoice.number.is_null(False)
            & Invoice.state.in_([s.value for s in SALE_STATES])
            & (Invoice.billing_date >= start)
            & (Invoice.billing_date <= end)
        )
        .order_by(Invoice.billing_date, Invoice.id)
    )
    drafts = []
    for invoice in query:
        number = format_invoice_number(invoice.number)
        patient = invoice.patient
        name = _clean(f"{patient.last_name} {patient.first_name}", f"Patient {patient.id}")
        patient_share = invoice.total_cents - invoice.amo_cents - invoice.amc_cents
        lines = []
        if invoice.amo_cents:
            organism = invoice.organism
            aux = (
                (f"C{organism.regime}{organism.caisse}{organism.centre}", _clean(organism.name, "Caisse"))
                if organism is not None
                else ("CINCONNUE", "Caisse inconnue")
            )
            lines.append(FecLine(**_account(settings, "caisse_account", aux_account=aux[0],
                                            aux_label=aux[1]), debit_cents=invoice.amo_cents))  # fmt: skip
        if invoice.amc_cents:
            mutuelle = invoice.mutuelle
            aux = (
                (_aux("M", mutuelle.number), _clean(mutuelle.name, "Mutuelle"))
                if mutuelle is not None
                else ("MINCONNUE", "Mutuelle inconnue")
            )
            lines.append(FecLine(**_account(settings, "mutuelle_account", aux_account=aux[0],
                                            aux_label=aux[1]), debit_cents=invoice.amc_cents))  # fmt: skip
        if patient_share:
            lines.append(
                FecLine(
                    **_account(
                        settings, "patient_account", aux_account=f"P{patient.id}"[:17],
                        aux_label=name,
                    ),
                    debit_cents=max(patient_share, 0),
                    credit_cents=max(-patient_share, 0),
                )
            )  # fmt: skip
        if not invoice.total_cents:
            continue  # a zero invoice moves no money: no entry
        lines.append(
            FecLine(
                **_account(settings, "revenue_account"),
                credit_cents=max(invoice.total_cents, 0),
                debit_cents=max(-invoice.total_cents, 0),
            )
        )
        drafts.append(
            _Draft(
                order=(invoice.billing_date, _SALES_ORDER, invoice.id),
                journal="sales",
                piece_ref=number,
                day=invoice.billing_date,
                label=_clean(f"Facture {number} {name}", f"Facture {number}"),
                lines=tuple(lines),
            )
        )
    return drafts


def _receipt_aux(kind: str, receipt_id: int, partner: str) -> tuple[str, str]:
    """The auxiliary account of who paid: a virement's caisse as the sales entries name it."""
    if kind == VIREMENT:
        shares = bank_sources.source(kind).invoices_of(receipt_id)
        if shares:
            invoice = Invoice.get_or_none(Invoice.id == shares[0].invoice_id)
            organism = invoice.organism if invoice is not None else None
            if organism is not None:
                return (
                    f"C{organism.regime}{organism.caisse}{organism.centre}",
                    _clean(organism.name, "Caisse"),
                )
    label = _clean(partner, kind_label(kind))
    return _aux("C" if kind == VIREMENT else "T", label) or "TINCONNU", label


def _counterpart(
    settings: AccountingSettings, kind: str | None, receipt_id: int | None, partner: str
) -> dict:
    if kind is None:
        return _account(settings, "suspense_account")
    own = settings.payer_accounts.get(partner) if kind == REGLEMENT else None
    if own:
        return {"account": own, "account_label": _clean(partner, "Tiers-payeur")}
    if settings.cash_basis:
        return _account(settings, "revenue_account")
    aux, aux_label = _receipt_aux(kind, receipt_id or 0, partner)
    name = "caisse_account" if kind == VIREMENT else "payer_account"
    return _account(settings, name, aux_account=aux, aux_label=aux_label)


def _bank(settings: AccountingSettings, start: date, end: date) -> list[_Draft]:
    query = (
        BankOperation.select(BankOperation, BankMatch)
        .join(
            BankMatch,
            join_type=peewee.JOIN.LEFT_OUTER,
            on=((BankMatch.operation == BankOperation.id) & (BankMatch.state == ACTIVE)),
            attr="active_match",
        )
        .where((BankOperation.booking_date >= start) & (BankOperation.booking_date <= end))
        .order_by(BankOperation.booking_date, BankOperation.id)
    )
    drafts = []
    for row in query:
        match = row.active_match if getattr(row, "active_match", None) is not None else None
        if match is not None and match.id is None:
            match = None
        if row.amount_cents <= 0 and match is None:
            continue  # the practice's own spending: not the billing tool's books
        if not row.amount_cents:
            continue
        kind = match.kind if match else None
        partner = ""
        if match is not None:
            receipt = bank_sources.source(match.kind).receipt(match.receipt_id)
            partner = receipt.partner if receipt is not None else ""
        amount = abs(row.amount_cents)
        bank_side = _account(settings, "bank_account")
        other = _counterpart(settings, kind, match.receipt_id if match else None, partner)
        if row.amount_cents > 0:
            lines = (FecLine(**bank_side, debit_cents=amount), FecLine(**other, credit_cents=amount))
        else:
            lines = (FecLine(**other, debit_cents=amount), FecLine(**bank_side, credit_cents=amount))
        drafts.append(
            _Draft(
                order=(row.booking_date, _BANK_ORDER, row.id),
                journal="bank",
                piece_ref=_clean(row.bank_ref, f"BQ{row.id}")[:40],
                day=row.booking_date,
                label=_clean(operation_text(row), "Opération bancaire"),
                lines=lines,
                nature=NATURES.get(kind or "", UNKNOWN_NATURE),
            )
        )
    return drafts


def fec_entries(settings: AccountingSettings, start: date, end: date) -> list[FecEntry]:
    """The year's entries, in order, numbered from 1."""
    drafts = _bank(settings, start, end)
    if not settings.cash_basis:
        drafts += _sales(settings, start, end)
    drafts.sort(key=lambda draft: draft.order)
    journals = {
        "bank": (settings.bank_journal, settings.bank_journal_label),
        "sales": (settings.sales_journal, settings.sales_journal_label),
    }
    entries = []
    for number, draft in enumerate(drafts, 1):
        code, label = journals[draft.journal]
        cash = settings.cash_basis and draft.journal == "bank"
        entries.append(
            FecEntry(
                journal_code=code,
                journal_label=label,
                number=number,
                date=draft.day,
                piece_ref=draft.piece_ref,
                piece_date=draft.day,
                label=draft.label,
                validation_date=draft.day,
                lines=draft.lines,
                payment_date=draft.day if cash else None,
                payment_mode=(PAYMENT_MODE if draft.nature != UNKNOWN_NATURE else None) if cash else None,
                nature=draft.nature if cash else None,
            )
        )
    return entries


@dataclass(frozen=True)
class FecExport:
    path: Path
    start: date
    end: date
    cash_basis: bool
    entries: int
    lines: int
    debit_cents: int
    credit_cents: int

    def as_dict(self) -> dict:
        return {
            "fichier": str(self.path),
            "du": self.start,
            "au": self.end,
            "tresorerie": self.cash_basis,
            "ecritures": self.entries,
            "lignes": self.lines,
            "total_debit_cents": self.debit_cents,
            "total_credit_cents": self.credit_cents,
        }

    def summary(self) -> str:
        return (
            f"FEC écrit : {self.path} — {self.entries} écriture(s), {self.lines} ligne(s), "
            f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}, débit = crédit = "
            f"{format_cents(self.debit_cents)} €."
        )


def export_fec(
    settings: AccountingSettings,
    *,
    year: int,
    siren: str | None = None,
    closing: date | None = None,
    directory: str | Path = ".",
) -> FecExport:
    """``tuibill accounting fec``: write ``<SIREN>FEC<AAAAMMJJ>.txt`` in *directory*."""
    number = siren or settings.siren
    if not number:
        raise ValidationError(
            "SIREN absent : donnez --siren (9 chiffres) ou « siren » dans [accounting]."
        )
    number = check_siren(number)
    start, end = financial_year(year, closing)
    entries = fec_entries(settings, start, end)
    try:
        data = write_fec(entries, cash_basis=settings.cash_basis)
    except FormatError as error:  # an account or a label the settings made impossible
        raise ConfigError(str(error)) from None
    folder = Path(directory).expanduser()
    if not folder.is_dir():
        raise RefusedOperation(f"Dossier « {folder} » introuvable : le FEC n'est pas écrit.")
    path = folder / fec_filename(number, end)
    try:
        path.write_bytes(data)
    except OSError as error:
        raise RefusedOperation(f"Écriture de « {path} » impossible ({error.strerror or error}).") from None
    debit = sum(line.debit_cents for entry in entries for line in entry.lines)
    credit = sum(line.credit_cents for entry in entries for line in entry.lines)
    return FecExport(
        path=path,
        start=start,
        end=end,
        cash_basis=settings.cash_basis,
        entries=len(entries),
        lines=sum(len(entry.lines) for entry in entries),
        debit_cents=debit,
        credit_cents=credit,
    )


def check_file(path: str | Path) -> FecCheckReport:
    """``tuibill accounting check``: the FEC re-read, every problem with its line."""
    try:
        data = Path(path).expanduser().read_bytes()
    except OSError as error:
        raise RefusedOperation(f"Fichier « {path} » illisible ({error.strerror or error}).") from None
    return check_fec(data)


# --- the plain journal of receipts -------------------------------------------------------------

RECEIPT_COLUMNS = (
    "date",
    "montant",
    "libelle_banque",
    "compte",
    "origine",
    "payeur",
    "libelle_annonce",
    "date_annonce",
    "montant_annonce",
    "ecart",
    "rapprochement",
)


@dataclass(frozen=True)
class ReceiptRow:
    booking_date: date
    amount_cents: int
    bank_label: str
    account: str
    kind: str  # « virement », « reglement », or "" (nobody announced it)
    partner: str
    receipt_label: str
    receipt_date: date | None
    expected_cents: int | None
    difference_cents: int | None
    match_id: int | None

    def as_dict(self) -> dict:
        return {
            "date": self.booking_date,
            "montant_cents": self.amount_cents,
            "libelle_banque": self.bank_label,
            "compte": self.account,
            "origine": self.kind or None,
            "payeur": self.partner,
            "libelle_annonce": self.receipt_label,
            "date_annonce": self.receipt_date,
            "montant_annonce_cents": self.expected_cents,
            "ecart_cents": self.difference_cents,
            "rapprochement": self.match_id,
        }


def receipts(start: date, end: date) -> list[ReceiptRow]:
    """Every bank credit from *start* to *end*, and what it was matched to."""
    query = (
        BankOperation.select(BankOperation, BankAccount, BankMatch)
        .join(BankAccount)
        .switch(BankOperation)
        .join(
            BankMatch,
            join_type=peewee.JOIN.LEFT_OUTER,
            on=((BankMatch.operation == BankOperation.id) & (BankMatch.state == ACTIVE)),
            attr="active_match",
        )
        .where(
            (BankOperation.amount_cents > 0)
            & (BankOperation.booking_date >= start)
            & (BankOperation.booking_date <= end)
        )
        .order_by(BankOperation.booking_date, BankOperation.id)
    )
    rows = []
    for row in query:
        match = getattr(row, "active_match", None)
        if match is not None and match.id is None:
            match = None
        receipt = (
            bank_sources.source(match.kind).receipt(match.receipt_id) if match is not None else None
        )
        rows.append(
            ReceiptRow(
                booking_date=row.booking_date,
                amount_cents=row.amount_cents,
                bank_label=_clean(operation_text(row), ""),
                account=row.account.iban or row.account.account_key,
                kind=match.kind if match else "",
                partner=receipt.partner if receipt else "",
                receipt_label=receipt.label if receipt else "",
                receipt_date=receipt.date if receipt else None,
                expected_cents=match.expected_cents if match else None,
                difference_cents=match.difference_cents if match else None,
                match_id=match.id if match else None,
            )
        )
    return rows


def receipts_csv(rows: list[ReceiptRow]) -> str:
    """The receipts as a French spreadsheet reads them: « ; » between fields, decimal comma,
    dates JJ/MM/AAAA, a header line."""

    def money(cents: int | None) -> str:
        return "" if cents is None else format_cents(cents)

    def day(value: date | None) -> str:
        return "" if value is None else f"{value:%d/%m/%Y}"

    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(RECEIPT_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                day(row.booking_date),
                money(row.amount_cents),
                row.bank_label,
                row.account,
                kind_label(row.kind) if row.kind else "non identifiée",
                row.partner,
                row.receipt_label,
                day(row.receipt_date),
                money(row.expected_cents),
                money(row.difference_cents),
                row.match_id or "",
            )
        )
    return out.getvalue()
