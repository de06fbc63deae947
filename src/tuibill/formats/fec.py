"""The FEC (fichier des écritures comptables, article A47 A-1 of the LPF): writer and checker.

One line per accounting line, tab-separated, the field names on the first line, dates AAAAMMJJ,
amounts with a decimal comma; entries in validation order, numbered without gaps, each balanced.
Cash-basis books (BNC « recettes-dépenses ») add DateRglt, ModeRglt and NatOp. The file is named
``<SIREN>FEC<AAAAMMJJ>.txt`` after the closing date. ``docs/formats/fec.md`` restates the rules.

Encoding: UTF-8 without BOM (:data:`FEC_ENCODING`, the one place it is set). The administration
accepts it as well as ISO-8859-15; UTF-8 writes every name the application holds without
refusing or altering a character, and a checker reading it back detects a file saved in another
encoding (an ISO-8859-15 reading never fails, so it would not).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from stdnum import exceptions as stdnum_errors
from stdnum.fr import siren as stdnum_siren

from tuibill.domain.errors import ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.formats.bank import euros
from tuibill.formats.errors import FormatError

FEC_ENCODING = "utf-8"
FEC_SEPARATOR = "\t"
FEC_NEWLINE = "\r\n"  # « retour chariot et saut de ligne »; the checker accepts LF alone too

FEC_FIELDS = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
CASH_BASIS_FIELDS = ("DateRglt", "ModeRglt", "NatOp")

_REQUIRED = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "ValidDate",
)
_DATES = ("EcritureDate", "PieceDate", "DateLet", "ValidDate", "DateRglt")
_AMOUNT = re.compile(r"[0-9]+(,[0-9]{1,2})?")
_SIGNED_AMOUNT = re.compile(r"-?[0-9]+(,[0-9]{1,2})?")
_ACCOUNT = re.compile(r"[0-9]{3}.*")  # the PCG's first three digits, then free
_FORBIDDEN = re.compile(r"[\t\r\n]")  # the separator and line ends


@dataclass(frozen=True)
class FecLine:
    """One accounting line: an account debited or credited."""

    account: str  # CompteNum (PCG: 3 digits first)
    account_label: str  # CompteLib
    aux_account: str | None = None  # CompAuxNum (a patient's or payer's sub-account)
    aux_label: str | None = None  # CompAuxLib, required with aux_account
    debit_cents: int = 0
    credit_cents: int = 0
    lettering: str | None = None  # EcritureLet
    lettering_date: date | None = None  # DateLet, with lettering


@dataclass(frozen=True)
class FecEntry:
    """One balanced entry (écriture) of a journal."""

    journal_code: str
    journal_label: str
    number: int  # EcritureNum: consecutive through the file
    date: date  # EcritureDate
    piece_ref: str
    piece_date: date
    label: str  # EcritureLib
    validation_date: date  # ValidDate: the file is in this order
    lines: tuple[FecLine, ...]
    payment_date: date | None = None  # DateRglt (cash basis)
    payment_mode: str | None = None  # ModeRglt (cash basis): virement, chèque, espèces…
    nature: str | None = None  # NatOp (cash basis)


# -- file name --------------------------------------------------------------------------------


def check_siren(text: str) -> str:
    """The 9-digit SIREN, or a French ValidationError (length, digits, Luhn key)."""
    try:
        return stdnum_siren.validate(text)
    except stdnum_errors.InvalidChecksum:
        reason = "clé de contrôle fausse"
    except stdnum_errors.InvalidLength:
        reason = "9 chiffres attendus"
    except stdnum_errors.ValidationError:
        reason = "9 chiffres attendus"
    raise ValidationError(f"SIREN « {str(text)[:20]} » invalide : {reason}.", field="siren")


def fec_filename(siren: str, closing_date: date) -> str:
    """``<SIREN>FEC<AAAAMMJJ>.txt``, the closing date of the financial year."""
    return f"{check_siren(siren)}FEC{closing_date:%Y%m%d}.txt"


# -- writing ----------------------------------------------------------------------------------


def _day(value: date | None) -> str:
    return "" if value is None else f"{value.year:04d}{value.month:02d}{value.day:02d}"


def _entry_error(entry: FecEntry, reason: str, *, line: int | None = None) -> FormatError:
    where = f"écriture {entry.number} (pièce {entry.piece_ref})"
    if line is not None:
        where += f", ligne {line}"
    return FormatError(
        f"Écriture du FEC impossible : {where} : {reason}",
        record_number=entry.number,
        record_type="écriture",
    )


def _text(entry: FecEntry, name: str, value: str | None, *, required: bool, line=None) -> str:
    if value is None or value == "":
        if required:
            raise _entry_error(entry, f"{name} vide.", line=line)
        return ""
    if not isinstance(value, str):
        raise _entry_error(entry, f"{name} : un texte est attendu.", line=line)
    if _FORBIDDEN.search(value):
        raise _entry_error(entry, f"{name} contient une tabulation ou un saut de ligne.", line=line)
    return value


def _check_entry(entry: FecEntry, cash_basis: bool) -> None:
    if not entry.lines:
        raise _entry_error(entry, "aucune ligne.")
    if not cash_basis and (entry.payment_date or entry.payment_mode or entry.nature):
        raise _entry_error(
            entry,
            "date, mode de règlement ou nature renseignés dans un FEC qui n'est pas en "
            "comptabilité de trésorerie.",
        )
    debit = credit = 0
    for index, line in enumerate(entry.lines, 1):
        for name, value in (("Debit", line.debit_cents), ("Credit", line.credit_cents)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise _entry_error(
                    entry, f"{name} {value!r} : montant positif attendu.", line=index
                )
        if line.debit_cents and line.credit_cents:
            raise _entry_error(entry, "à la fois au débit et au crédit.", line=index)
        if not line.debit_cents and not line.credit_cents:
            raise _entry_error(entry, "ni débit ni crédit.", line=index)
        if not _ACCOUNT.fullmatch(line.account or ""):
            raise _entry_error(
                entry,
                f"CompteNum « {line.account} » : les 3 premiers caractères doivent être des "
                "chiffres (plan comptable).",
                line=index,
            )
        if line.aux_account and not line.aux_label:
            raise _entry_error(entry, "CompAuxNum sans CompAuxLib.", line=index)
        if line.lettering_date and not line.lettering:
            raise _entry_error(entry, "DateLet sans EcritureLet.", line=index)
        debit += line.debit_cents
        credit += line.credit_cents
    if debit != credit:
        raise _entry_error(
            entry,
            f"écriture déséquilibrée : débit {euros(debit)}, crédit {euros(credit)} "
            f"(écart {euros(debit - credit)}).",
        )


def write_fec(entries: Iterable[FecEntry], *, cash_basis: bool = False) -> bytes:
    """The FEC of *entries* (in validation order, numbered without gaps), or FormatError.

    *cash_basis* adds DateRglt, ModeRglt and NatOp (BNC books kept on a cash basis).
    """
    header = FEC_FIELDS + (CASH_BASIS_FIELDS if cash_basis else ())
    rows = [FEC_SEPARATOR.join(header)]
    previous: FecEntry | None = None
    for entry in entries:
        if previous is None:
            if entry.number < 1:
                raise _entry_error(entry, "la numérotation commence à 1 au moins.")
        else:
            if entry.number != previous.number + 1:
                raise _entry_error(
                    entry,
                    f"numéro {entry.number} après {previous.number} : les écritures sont "
                    "numérotées sans trou, dans l'ordre du fichier.",
                )
            if entry.validation_date < previous.validation_date:
                raise _entry_error(
                    entry,
                    f"validée le {entry.validation_date:%d/%m/%Y}, avant l'écriture "
                    f"{previous.number} ({previous.validation_date:%d/%m/%Y}) : les écritures "
                    "sont classées par date de validation.",
                )
        _check_entry(entry, cash_basis)
        common = {
            "JournalCode": _text(entry, "JournalCode", entry.journal_code, required=True),
            "JournalLib": _text(entry, "JournalLib", entry.journal_label, required=True),
            "EcritureNum": str(entry.number),
            "EcritureDate": _day(entry.date),
            "PieceRef": _text(entry, "PieceRef", entry.piece_ref, required=True),
            "PieceDate": _day(entry.piece_date),
            "EcritureLib": _text(entry, "EcritureLib", entry.label, required=True),
            "ValidDate": _day(entry.validation_date),
            "Montantdevise": "",
            "Idevise": "",
            "DateRglt": _day(entry.payment_date),
            "ModeRglt": _text(entry, "ModeRglt", entry.payment_mode, required=False),
            "NatOp": _text(entry, "NatOp", entry.nature, required=False),
        }
        for index, line in enumerate(entry.lines, 1):
            values = {
                **common,
                "CompteNum": _text(entry, "CompteNum", line.account, required=True, line=index),
                "CompteLib": _text(
                    entry, "CompteLib", line.account_label, required=True, line=index
                ),
                "CompAuxNum": _text(
                    entry, "CompAuxNum", line.aux_account, required=False, line=index
                ),
                "CompAuxLib": _text(
                    entry, "CompAuxLib", line.aux_label, required=False, line=index
                ),
                "Debit": format_cents(line.debit_cents),
                "Credit": format_cents(line.credit_cents),
                "EcritureLet": _text(
                    entry, "EcritureLet", line.lettering, required=False, line=index
                ),
                "DateLet": _day(line.lettering_date),
            }
            rows.append(FEC_SEPARATOR.join(values[name] for name in header))
        previous = entry
    return (FEC_NEWLINE.join(rows) + FEC_NEWLINE).encode(FEC_ENCODING)


# -- checking ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FecProblem:
    line: int  # 1 = the header
    message: str  # French

    def __str__(self) -> str:
        return f"ligne {self.line} : {self.message}"


@dataclass(frozen=True)
class FecCheckReport:
    problems: tuple[FecProblem, ...]
    cash_basis: bool | None  # None when the header could not be read
    line_count: int  # accounting lines, header excluded
    entry_count: int
    total_debit_cents: int
    total_credit_cents: int

    @property
    def ok(self) -> bool:
        return not self.problems


def _cents(text: str) -> int:
    euros_part, _, decimals = text.lstrip("-").partition(",")
    cents = int(euros_part) * 100 + int(decimals.ljust(2, "0") or 0)
    return -cents if text.startswith("-") else cents


def _parse_day(text: str) -> date | None:
    if not re.fullmatch(r"[0-9]{8}", text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


@dataclass
class _Group:
    """The consecutive lines of one entry."""

    first_line: int
    number_text: str
    journal: str
    entry_date: str
    valid_date: date | None
    debit: int = 0
    credit: int = 0


def check_fec(data: bytes) -> FecCheckReport:
    """Re-read a FEC and list every problem with its line, in French.

    Checked: the header (the 18 names, or 21 with the cash-basis ones), the number of fields of
    each line, required fields, dates, amounts, the PCG account number, each entry balanced
    (lines grouped by EcritureNum, contiguous), entries numbered without gaps and in
    chronological order of validation.
    """
    problems: list[FecProblem] = []

    def report(line: int, message: str) -> None:
        problems.append(FecProblem(line, message))

    def done(cash_basis: bool | None, lines: int = 0, groups: int = 0, debit=0, credit=0):
        return FecCheckReport(tuple(problems), cash_basis, lines, groups, debit, credit)

    try:
        text = bytes(data).decode(FEC_ENCODING)
    except UnicodeDecodeError as error:
        line = bytes(data)[: error.start].count(b"\n") + 1
        report(line, f"octet non {FEC_ENCODING.upper()} : le fichier n'est pas encodé en UTF-8.")
        return done(None)
    text = text.removeprefix("\ufeff")
    rows = text.split("\n")
    if rows and rows[-1] == "":
        rows.pop()
    rows = [row.removesuffix("\r") for row in rows]
    if not rows:
        report(1, "fichier vide : la première ligne doit porter les noms des champs.")
        return done(None)
    header_row = rows[0]
    separator = FEC_SEPARATOR if FEC_SEPARATOR in header_row else "|"
    header = tuple(header_row.split(separator))
    if header == FEC_FIELDS:
        cash_basis = False
    elif header == FEC_FIELDS + CASH_BASIS_FIELDS:
        cash_basis = True
    else:
        report(
            1,
            "en-tête incorrect : les noms des 18 champs (ou 21 en comptabilité de trésorerie) "
            f"sont attendus dans l'ordre, séparés par des tabulations ; lu « {header_row[:120]} ».",
        )
        return done(None)

    groups: list[_Group] = []
    seen: dict[str, int] = {}
    total_debit = total_credit = 0
    count = 0
    for number, row in enumerate(rows[1:], 2):
        fields = row.split(separator)
        if len(fields) != len(header):
            report(number, f"{len(fields)} champs au lieu de {len(header)}.")
            continue
        count += 1
        values = dict(zip(header, fields, strict=True))
        missing = [name for name in _REQUIRED if not values[name]]
        if missing:
            report(number, f"champ(s) obligatoire(s) vide(s) : {', '.join(missing)}.")
        for name in _DATES:
            value = values.get(name, "")
            if value and _parse_day(value) is None:
                report(number, f"{name} « {value} » n'est pas une date AAAAMMJJ.")
        amounts = {}
        for name in ("Debit", "Credit"):
            value = values[name]
            if value and not _AMOUNT.fullmatch(value):
                report(number, f"{name} « {value} » n'est pas un montant (virgule décimale).")
            amounts[name] = _cents(value) if _AMOUNT.fullmatch(value) else 0
        if values["Montantdevise"] and not _SIGNED_AMOUNT.fullmatch(values["Montantdevise"]):
            report(number, f"Montantdevise « {values['Montantdevise']} » n'est pas un montant.")
        if amounts["Debit"] and amounts["Credit"]:
            report(number, "Debit et Credit tous deux non nuls.")
        if values["CompteNum"] and not _ACCOUNT.fullmatch(values["CompteNum"]):
            report(
                number,
                f"CompteNum « {values['CompteNum']} » : les 3 premiers caractères doivent être "
                "des chiffres (plan comptable).",
            )
        if values["CompAuxNum"] and not values["CompAuxLib"]:
            report(number, "CompAuxNum sans CompAuxLib.")
        total_debit += amounts["Debit"]
        total_credit += amounts["Credit"]

        entry_number = values["EcritureNum"]
        group = groups[-1] if groups else None
        if group is None or group.number_text != entry_number:
            if entry_number in seen:
                report(
                    number,
                    f"écriture {entry_number} reprise ici alors qu'elle a commencé ligne "
                    f"{seen[entry_number]} : ses lignes doivent se suivre.",
                )
            seen.setdefault(entry_number, number)
            group = _Group(
                number,
                entry_number,
                values["JournalCode"],
                values["EcritureDate"],
                _parse_day(values["ValidDate"]),
            )
            groups.append(group)
        else:
            for name, expected in (
                ("JournalCode", group.journal),
                ("EcritureDate", group.entry_date),
            ):
                if values[name] != expected:
                    report(
                        number,
                        f"{name} « {values[name]} » différent de la ligne {group.first_line} "
                        f"(« {expected} ») dans la même écriture {entry_number}.",
                    )
            if _parse_day(values["ValidDate"]) != group.valid_date:
                report(
                    number,
                    f"ValidDate différente de la ligne {group.first_line} dans la même écriture "
                    f"{entry_number}.",
                )
        group.debit += amounts["Debit"]
        group.credit += amounts["Credit"]

    _check_groups(groups, report)
    return done(cash_basis, count, len(groups), total_debit, total_credit)


def _check_groups(groups: list[_Group], report) -> None:
    previous: _Group | None = None
    numbering_ok = True
    for group in groups:
        if group.debit != group.credit:
            report(
                group.first_line,
                f"écriture {group.number_text} déséquilibrée : débit {euros(group.debit)}, "
                f"crédit {euros(group.credit)} (écart {euros(group.debit - group.credit)}).",
            )
        if numbering_ok and not re.fullmatch(r"[0-9]+", group.number_text):
            report(
                group.first_line,
                f"EcritureNum « {group.number_text} » n'est pas un numéro : la numérotation "
                "continue ne peut être vérifiée.",
            )
            numbering_ok = False
        if previous is not None:
            if numbering_ok and re.fullmatch(r"[0-9]+", previous.number_text):
                expected = int(previous.number_text) + 1
                if int(group.number_text) != expected:
                    report(
                        group.first_line,
                        f"écriture {group.number_text} après l'écriture {previous.number_text} : "
                        f"{expected} attendue (numérotation sans trou, dans l'ordre).",
                    )
            if group.valid_date and previous.valid_date and group.valid_date < previous.valid_date:
                report(
                    group.first_line,
                    f"écriture {group.number_text} validée le {group.valid_date:%d/%m/%Y}, avant "
                    f"l'écriture {previous.number_text} ({previous.valid_date:%d/%m/%Y}) : ordre "
                    "chronologique de validation non respecté.",
                )
        previous = group
