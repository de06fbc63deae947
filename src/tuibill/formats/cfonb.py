"""CFONB 120: the French banks' « relevé de compte » in 120-character records; reader and writer.

Records 01 (ancien solde), 04 (opération), 05 (complément of the 04 before it) and 07 (nouveau
solde); a file holds one or more statements, each 01 [04 [05…]…] 07. The layout (CFONB « relevé
de compte sur support informatique ») is restated in ``docs/formats/cfonb120.md``, whose tables
are rendered from the specs below.

The reader is strict on what carries meaning (codes, digits, dates, amounts, the order of the
records, the balance) and lenient on the reserved zones, which some banks fill: they are read as
any printable text and ignored, and written as spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tuibill.formats.bank import (
    FORMAT_CFONB,
    BankLine,
    BankStatement,
    balance_problem,
    french_iban,
    rib_parts,
    with_keys,
)
from tuibill.formats.errors import FormatError
from tuibill.formats.records import (
    PRINTABLE,
    Code,
    Field,
    Filler,
    Kind,
    Number,
    RecordSpec,
    Reject,
    show,
)

WIDTH = 120
ENCODING = "latin-1"  # every byte decodes; controls and C1 characters are then refused
WHAT = "Relevé CFONB 120"
WRITTEN_DECIMALS = 2  # the writer always writes cents

# The last character of an amount carries its sign and its last digit.
POSITIVE_SIGNS = "{ABCDEFGHI"  # +0 … +9
NEGATIVE_SIGNS = "}JKLMNOPQR"  # -0 … -9


class Reserved(Filler):
    """A reserved zone: any printable text is read (and ignored), spaces are written."""

    def allowed(self, width: int) -> str:
        return "espaces à l'écriture, ignoré à la lecture"

    def decode(self, text: str) -> object:
        if not PRINTABLE.fullmatch(text):
            raise Reject(f"« {show(text)} » contient un caractère non imprimable")
        return None


class SignedAmount(Kind):
    """13 digits and a sign character that also carries the last digit; an integer of minor units
    (the record's « nombre de décimales » says how many digits are decimals)."""

    type_code = "M"

    def allowed(self, width: int) -> str:
        return (
            f"{width - 1} chiffres puis un caractère portant le signe et le dernier chiffre : "
            "« { » A à I = +0 à +9, « } » J à R = -0 à -9"
        )

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, int) or isinstance(value, bool):
            raise Reject(f"{show(repr(value))} : un entier est attendu")
        if abs(value) >= 10**width:
            raise Reject(f"{value} : plus de {width} chiffres")
        digits = f"{abs(value):0{width}d}"
        signs = NEGATIVE_SIGNS if value < 0 else POSITIVE_SIGNS
        return digits[:-1] + signs[int(digits[-1])]

    def decode(self, text: str) -> object:
        body, last = text[:-1], text[-1:]
        if not re.fullmatch(r"[0-9]+", body):
            raise Reject(f"« {show(text)} » : {len(text) - 1} chiffres attendus avant le signe")
        if last in POSITIVE_SIGNS:
            return int(body + str(POSITIVE_SIGNS.index(last)))
        if last in NEGATIVE_SIGNS:
            return -int(body + str(NEGATIVE_SIGNS.index(last)))
        raise Reject(
            f"caractère de signe « {show(last)} » inconnu (« {{ » ou A à I pour un montant positif, "
            "« } » ou J à R pour un montant négatif)"
        )


class ShortDate(Kind):
    """JJMMAA; the century is 20 (a statement of the 1900s is not expected)."""

    type_code = "D"

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def allowed(self, width: int) -> str:
        return "JJMMAA, année 20AA" + (" ; espaces si absente" if self.optional else "")

    def encode(self, value: object, width: int) -> str:
        if value is None and self.optional:
            return " " * width
        if not isinstance(value, date):
            raise Reject(f"{show(repr(value))} : une date est attendue")
        if not 2000 <= value.year <= 2099:
            raise Reject(f"année {value.year} hors de 2000 à 2099")
        return f"{value.day:02d}{value.month:02d}{value.year % 100:02d}"

    def decode(self, text: str) -> object:
        if self.optional and text == " " * len(text):
            return None
        if not re.fullmatch(r"[0-9]{6}", text):
            raise Reject(f"« {show(text)} » n'est pas une date JJMMAA")
        try:
            return date(2000 + int(text[4:]), int(text[2:4]), int(text[:2]))
        except ValueError:
            raise Reject(f"« {text} » n'est pas une date du calendrier") from None


class Label(Kind):
    """Free text, printable Latin-1; read with the spaces around it removed (banks sometimes
    start a label with a space), written left-aligned."""

    type_code = "A"

    def __init__(self, *, optional: bool = True) -> None:
        self.optional = optional

    def allowed(self, width: int) -> str:
        return f"texte libre de {width} caractères au plus" + (
            " ; espaces si absent" if self.optional else ""
        )

    def encode(self, value: object, width: int) -> str:
        if value is None or value == "":
            if self.optional:
                return " " * width
            raise Reject("valeur obligatoire absente")
        if not isinstance(value, str):
            raise Reject(f"{show(repr(value))} : un texte est attendu")
        if not PRINTABLE.fullmatch(value):
            raise Reject(f"« {show(value)} » contient un caractère non imprimable ou hors Latin-1")
        if value != value.strip(" "):
            raise Reject(f"« {show(value)} » commence ou finit par une espace")
        if len(value) > width:
            raise Reject(f"« {show(value)} » : {len(value)} caractères, {width} au plus")
        return value.ljust(width)

    def decode(self, text: str) -> object:
        if not PRINTABLE.fullmatch(text):
            raise Reject(f"« {show(text)} » contient un caractère non imprimable")
        value = text.strip(" ")
        if not value and not self.optional:
            raise Reject("valeur obligatoire absente")
        return value or None


def _code(pattern: str, description: str, *, optional: bool = False) -> Code:
    return Code(pattern, description, optional=optional)


def _account_fields(second: Field, interbank: Field) -> list[Field]:
    """Positions 3 to 40, the same in every record but for 8-11 and 33-34."""
    return [
        Field("bank_code", "code banque", 5, _code(r"[0-9]{5}", "5 chiffres")),
        second,
        Field("branch_code", "code guichet", 5, _code(r"[0-9]{5}", "5 chiffres")),
        Field("currency", "code devise", 3, _code(r"[A-Z]{3}", "3 lettres (ISO 4217)")),
        Field("decimals", "nombre de décimales", 1, Number(0, 3)),
        Field("reserved_21", "réservé", 1, Reserved()),
        Field(
            "account_number",
            "numéro de compte",
            11,
            _code(r"[0-9A-Z]{11}", "11 chiffres ou lettres majuscules"),
        ),
        interbank,
    ]


def _balance_spec(code: str, label: str, date_label: str) -> RecordSpec:
    return RecordSpec(
        code,
        label,
        [
            *_account_fields(
                Field("reserved_8", "réservé", 4, Reserved()),
                Field("reserved_33", "réservé", 2, Reserved()),
            ),
            Field("date", date_label, 6, ShortDate()),
            Field("reserved_41", "réservé", 50, Reserved()),
            Field("amount", "montant du solde", 14, SignedAmount()),
            Field("reserved_105", "réservé", 16, Reserved()),
        ],
        width=WIDTH,
    )


_OPTIONAL_ALNUM = r"[0-9A-Z]+"

OLD_BALANCE = _balance_spec("01", "ancien solde", "date de l'ancien solde")
NEW_BALANCE = _balance_spec("07", "nouveau solde", "date du nouveau solde")

_INTERNAL = Field(
    "internal_code",
    "code opération interne",
    4,
    _code(_OPTIONAL_ALNUM, "chiffres ou lettres majuscules", optional=True),
)
_INTERBANK = Field(
    "interbank_code",
    "code opération interbancaire",
    2,
    _code(_OPTIONAL_ALNUM, "chiffres ou lettres majuscules", optional=True),
)

OPERATION = RecordSpec(
    "04",
    "opération",
    [
        *_account_fields(_INTERNAL, _INTERBANK),
        Field("booking_date", "date de comptabilisation", 6, ShortDate()),
        Field(
            "rejection_code",
            "code motif de rejet",
            2,
            _code(_OPTIONAL_ALNUM, "chiffres ou lettres majuscules", optional=True),
        ),
        Field("value_date", "date de valeur", 6, ShortDate(optional=True)),
        Field("label", "libellé", 31, Label()),
        Field("reserved_80", "réservé", 2, Reserved()),
        Field(
            "entry_number",
            "numéro d'écriture",
            7,
            _code(_OPTIONAL_ALNUM, "chiffres ou lettres majuscules", optional=True),
        ),
        Field(
            "exemption",
            "indice d'exonération de commission",
            1,
            _code(r"[0-9A-Z]", "chiffre ou lettre", optional=True),
        ),
        Field(
            "unavailability",
            "indice d'indisponibilité",
            1,
            _code(r"[0-9A-Z]", "chiffre ou lettre", optional=True),
        ),
        Field("amount", "montant de l'opération", 14, SignedAmount()),
        Field("reference", "zone référence", 16, Label()),
    ],
    width=WIDTH,
)

COMPLEMENT = RecordSpec(
    "05",
    "complément d'opération",
    [
        *_account_fields(_INTERNAL, _INTERBANK),
        Field("booking_date", "date de comptabilisation", 6, ShortDate()),
        Field("reserved_41", "réservé", 5, Reserved()),
        Field(
            "qualifier",
            "qualifiant",
            3,
            _code(r"[0-9A-Z]{3}", "3 chiffres ou lettres majuscules (LIB, NPY, NBE, REF…)"),
        ),
        Field("text", "informations complémentaires", 70, Label()),
        Field("reserved_119", "réservé", 2, Reserved()),
    ],
    width=WIDTH,
)

CFONB_RECORDS = (OLD_BALANCE, OPERATION, COMPLEMENT, NEW_BALANCE)
_BY_CODE = {spec.code: spec for spec in CFONB_RECORDS}

# The 05 qualifiers naming the other party: the payer of a credit, the payee of a debit.
PAYER_QUALIFIER = "NPY"
PAYEE_QUALIFIER = "NBE"


# -- reading ----------------------------------------------------------------------------------


def _fail(
    line: int, reason: str, *, code: str | None = None, name: str | None = None
) -> FormatError:
    return FormatError(
        f"{WHAT}, ligne {line} : {reason}", record_number=line, record_type=code, field=name
    )


def _field_error(spec: RecordSpec, line: int, name: str, reason: str) -> FormatError:
    item = spec.field(name)
    start = spec.starts[name] + 1
    where = (
        f"enregistrement {spec.code} ({spec.label}), champ « {item.label} » "
        f"(positions {start} à {start + item.width - 1})"
    )
    reason = reason if reason.endswith(".") else reason + "."
    return _fail(line, f"{where} : {reason}", code=spec.code, name=name)


def _decode(spec: RecordSpec, text: str, line: int) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in spec.fields:
        start = spec.starts[item.name]
        try:
            value = item.kind.decode(text[start : start + item.width])
        except Reject as reason:
            raise _field_error(spec, line, item.name, str(reason)) from None
        values[item.name] = value
    return values


def split_lines(data: bytes) -> list[str]:
    """The records of a file: 120 characters each, followed by LF or CR LF, or by nothing at all
    (records run together). The last record may end with or without a line end."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise FormatError(f"{WHAT} : des octets sont attendus.")
    if not data:
        raise FormatError(f"{WHAT} : fichier vide.")
    text = data.decode(ENCODING)
    if "\n" in text:
        rows = text.split("\n")
        if rows[-1] == "":
            rows.pop()  # the line end of the last record
        rows = [row[:-1] if row.endswith("\r") else row for row in rows]
    else:
        if len(text) % WIDTH:
            raise _fail(
                len(text) // WIDTH + 1,
                f"fichier de {len(text)} caractères sans saut de ligne, pas un multiple de "
                f"{WIDTH} : dernier enregistrement incomplet ({len(text) % WIDTH} caractères).",
            )
        rows = [text[start : start + WIDTH] for start in range(0, len(text), WIDTH)]
    for number, row in enumerate(rows, 1):
        if len(row) != WIDTH:
            empty = " (ligne vide)" if not row else ""
            raise _fail(number, f"{len(row)} caractères au lieu de {WIDTH}{empty}.")
    return rows


@dataclass
class _Open:
    """A statement being read: its 01, its operations, the line it started on."""

    line: int
    head: dict[str, Any]
    operations: list[dict[str, Any]] = field(default_factory=list)
    details: list[list[tuple[str, str]]] = field(default_factory=list)


def _cents(spec: RecordSpec, values: dict[str, Any], line: int) -> int:
    amount, decimals = values["amount"], values["decimals"]
    if decimals <= 2:
        return amount * 10 ** (2 - decimals)
    scale = 10 ** (decimals - 2)
    if amount % scale:
        raise _field_error(
            spec,
            line,
            "amount",
            f"{amount} à {decimals} décimales ne tombe pas sur un centime",
        )
    return amount // scale


_SAME_ACCOUNT = ("bank_code", "branch_code", "account_number", "currency")


def _check_account(spec: RecordSpec, values: dict[str, Any], line: int, current: _Open) -> None:
    for name in _SAME_ACCOUNT:
        if values[name] != current.head[name]:
            raise _field_error(
                spec,
                line,
                name,
                f"« {values[name]} » alors que le relevé commencé ligne {current.line} est "
                f"« {current.head[name]} »",
            )


def read_cfonb(data: bytes) -> tuple[BankStatement, ...]:
    """The statements of a CFONB 120 file, or FormatError naming the line and the field."""
    rows = split_lines(data)
    statements: list[BankStatement] = []
    current: _Open | None = None
    last_code = ""
    for line, row in enumerate(rows, 1):
        code = row[:2]
        spec = _BY_CODE.get(code)
        if spec is None:
            raise _fail(
                line,
                f"code d'enregistrement « {show(code)} » inconnu (01, 04, 05 ou 07 attendu).",
                code=code,
                name="type",
            )
        values = _decode(spec, row, line)
        if spec is OLD_BALANCE:
            if current is not None:
                raise _fail(
                    line,
                    f"ancien solde (01) alors que le relevé commencé ligne {current.line} n'a "
                    "pas de nouveau solde (07).",
                    code=code,
                )
            values["cents"] = _cents(spec, values, line)
            current = _Open(line, values)
        elif current is None:
            raise _fail(
                line,
                f"enregistrement {code} ({spec.label}) hors d'un relevé : aucun ancien solde (01) "
                "ne le précède.",
                code=code,
            )
        elif spec is OPERATION:
            _check_account(spec, values, line, current)
            values["cents"] = _cents(spec, values, line)
            current.operations.append(values)
            current.details.append([])
        elif spec is COMPLEMENT:
            if last_code not in ("04", "05"):
                raise _fail(
                    line,
                    "complément d'opération (05) sans opération (04) juste avant.",
                    code=code,
                )
            _check_account(spec, values, line, current)
            current.details[-1].append((values["qualifier"], values["text"] or ""))
        else:
            _check_account(spec, values, line, current)
            statements.append(_close(current, values, line))
            current = None
        last_code = code
    if current is not None:
        raise _fail(
            len(rows),
            f"fin du fichier : le relevé commencé ligne {current.line} n'a pas de nouveau "
            "solde (07).",
        )
    return tuple(statements)


def _close(current: _Open, closing: dict[str, Any], line: int) -> BankStatement:
    closing_cents = _cents(NEW_BALANCE, closing, line)
    head = current.head
    problem = balance_problem(
        head["cents"], (values["cents"] for values in current.operations), closing_cents
    )
    if problem:
        raise _field_error(NEW_BALANCE, line, "amount", problem)
    lines = []
    for values, details in zip(current.operations, current.details, strict=True):
        amount = values["cents"]
        wanted = PAYER_QUALIFIER if amount >= 0 else PAYEE_QUALIFIER
        party = next((text for qualifier, text in details if qualifier == wanted and text), None)
        lines.append(
            BankLine(
                booking_date=values["booking_date"],
                value_date=values["value_date"],
                amount_cents=amount,
                label=values["label"] or "",
                reference=values["reference"],
                counterparty=party,
                details=tuple(details),
                bank_ref=values["entry_number"],
                operation_code=values["interbank_code"],
            )
        )
    statement = BankStatement(
        format=FORMAT_CFONB,
        currency=head["currency"],
        lines=tuple(lines),
        account_iban=french_iban(head["bank_code"], head["branch_code"], head["account_number"]),
        bank_code=head["bank_code"],
        branch_code=head["branch_code"],
        account_number=head["account_number"],
        opening_date=head["date"],
        opening_balance_cents=head["cents"],
        closing_date=closing["date"],
        closing_balance_cents=closing_cents,
    )
    return with_keys(statement)


# -- writing ----------------------------------------------------------------------------------


def _write_error(number: int, reason: str) -> FormatError:
    return FormatError(f"Écriture du relevé CFONB impossible : relevé {number} : {reason}")


def _account(statement: BankStatement, number: int) -> tuple[str, str, str]:
    parts = (statement.bank_code, statement.branch_code, statement.account_number)
    if all(parts):
        return parts  # type: ignore[return-value]
    from_iban = rib_parts(statement.account_iban) if statement.account_iban else None
    if from_iban is None:
        raise _write_error(
            number, "codes banque, guichet et numéro de compte absents (et pas d'IBAN français)."
        )
    return from_iban


def write_cfonb(statements: Sequence[BankStatement] | Iterable[BankStatement]) -> bytes:
    """A CFONB 120 file (records ending with CR LF, as banks send them) for *statements*.

    Each statement needs both balances and dates, and must balance. A line's ``details`` become
    05 records; its counterparty is added as an NPY (credit) or NBE (debit) 05 unless the details
    already hold one. The internal operation code is left blank.
    """
    records: list[str] = []
    for number, statement in enumerate(statements, 1):
        bank, branch, account = _account(statement, number)
        if (
            statement.opening_date is None
            or statement.closing_date is None
            or statement.opening_balance_cents is None
            or statement.closing_balance_cents is None
        ):
            raise _write_error(number, "dates et soldes d'ouverture et de clôture obligatoires.")
        problem = balance_problem(
            statement.opening_balance_cents,
            (line.amount_cents for line in statement.lines),
            statement.closing_balance_cents,
        )
        if problem:
            raise _write_error(number, problem + ".")
        common = {
            "bank_code": bank,
            "branch_code": branch,
            "account_number": account,
            "currency": statement.currency,
            "decimals": WRITTEN_DECIMALS,
        }
        records.append(
            OLD_BALANCE.encode(
                {
                    **common,
                    "date": statement.opening_date,
                    "amount": statement.opening_balance_cents,
                },
                len(records) + 1,
            )
        )
        for line in statement.lines:
            operation = {
                **common,
                "interbank_code": line.operation_code,
                "booking_date": line.booking_date,
                "value_date": line.value_date,
                "label": line.label or None,
                "entry_number": line.bank_ref,
                "amount": line.amount_cents,
                "reference": line.reference,
            }
            records.append(OPERATION.encode(operation, len(records) + 1))
            details = list(line.details)
            party = PAYER_QUALIFIER if line.amount_cents >= 0 else PAYEE_QUALIFIER
            if line.counterparty and not any(q == party for q, _ in details):
                details.append((party, line.counterparty))
            for qualifier, text in details:
                complement = {
                    **common,
                    "interbank_code": line.operation_code,
                    "booking_date": line.booking_date,
                    "qualifier": qualifier,
                    "text": text or None,
                }
                records.append(COMPLEMENT.encode(complement, len(records) + 1))
        records.append(
            NEW_BALANCE.encode(
                {
                    **common,
                    "date": statement.closing_date,
                    "amount": statement.closing_balance_cents,
                },
                len(records) + 1,
            )
        )
    if not records:
        raise FormatError("Écriture du relevé CFONB impossible : aucun relevé.")
    return "".join(record + "\r\n" for record in records).encode(ENCODING)
