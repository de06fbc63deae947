"""CAMT.053 (ISO 20022 BankToCustomerStatement): schema-checked reader and writer.

A file is parsed with a parser that loads nothing from outside (no network, no DTD, no entity
expansion, no DOCTYPE at all), checked against the official schema of its version
(camt.053.001.02, which French banks commonly send, or camt.053.001.08; both ship in
``tuibill/data/``) and refused whole at the first schema error. Only then are the statements
mapped; ``docs/formats/camt053.md`` gives the mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources

from lxml import etree

from tuibill.formats.bank import (
    FORMAT_CAMT,
    BankLine,
    BankStatement,
    balance_problem,
    french_iban,
    rib_parts,
    with_keys,
)
from tuibill.formats.errors import FormatError, UnsupportedVersionError

WHAT = "Relevé CAMT.053"
NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:camt.053.001."
SUPPORTED_VERSIONS = ("001.02", "001.08")
DEFAULT_VERSION = "001.02"

OPENING_CODES = ("OPBD", "PRCD")  # opening booked; previously closed booked (some banks)
CLOSING_CODE = "CLBD"
BOOKED = "BOOK"
NOT_PROVIDED = "NOTPROVIDED"  # ISO's placeholder for an absent EndToEndId

# The details a line carries from CAMT, and the writer writes back.
DETAIL_USTRD = "Ustrd"  # RmtInf/Ustrd: the payer's unstructured remittance text
DETAIL_ADDTL_TX = "AddtlTxInf"  # TxDtls/AddtlTxInf
_DOMAIN_CODE = re.compile(r"([A-Z0-9]{4})/([A-Z0-9]{4})/([A-Z0-9]{4})")


def namespace(version: str) -> str:
    return NAMESPACE_PREFIX + version.removeprefix("001.").rjust(2, "0")


def _parser() -> etree.XMLParser:
    # Nothing is fetched or expanded: a statement is data, never a pointer to more data.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


@cache
def schema(version: str) -> etree.XMLSchema:
    """The official XSD of camt.053.*version* shipped with tuibill."""
    name = f"camt.053.{version}.xsd"
    data = resources.files("tuibill.data").joinpath(name).read_bytes()
    return etree.XMLSchema(etree.fromstring(data, _parser()))


# -- reading ----------------------------------------------------------------------------------


def _fail(reason: str, line: int | None = None, *, element: str | None = None) -> FormatError:
    where = f", ligne {line}" if line else ""
    return FormatError(f"{WHAT}{where} : {reason}", record_number=line, record_type=element)


def _parse(data: bytes) -> tuple[etree._ElementTree, str]:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise _fail("des octets sont attendus.")
    if not data.strip():
        raise _fail("fichier vide.")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as error:
        line = error.lineno or None
        message = error.msg or str(error)
        raise _fail(f"XML mal formé ({message}).", line) from None
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise _fail("déclaration DOCTYPE refusée (un relevé n'en a pas besoin).", 1)
    tag = etree.QName(root)
    if not (tag.namespace or "").startswith(NAMESPACE_PREFIX) or tag.localname != "Document":
        raise _fail(
            f"l'élément racine est « {tag.localname} » dans l'espace de noms "
            f"« {tag.namespace or 'aucun'} », pas un Document camt.053.",
            root.sourceline,
        )
    version = "001." + tag.namespace.removeprefix(NAMESPACE_PREFIX)
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersionError(
            f"{WHAT} : version camt.053.{version} non prise en charge "
            f"({' ou '.join('camt.053.' + v for v in SUPPORTED_VERSIONS)} attendue).",
            record_number=root.sourceline,
        )
    return tree, version


def validate(data: bytes) -> tuple[etree._ElementTree, str]:
    """The parsed document and its version, or FormatError with the first schema error."""
    tree, version = _parse(data)
    checker = schema(version)
    if not checker.validate(tree):
        error = checker.error_log[0]
        message = error.message.replace("{" + namespace(version) + "}", "")
        raise _fail(
            f"non conforme au schéma camt.053.{version} : {message}",
            error.line or None,
        )
    return tree, version


class _Reader:
    def __init__(self, version: str) -> None:
        self.ns = {"c": namespace(version)}

    def find(self, element: etree._Element, path: str) -> etree._Element | None:
        return element.find(self.q(path), self.ns)

    def findall(self, element: etree._Element, path: str) -> list[etree._Element]:
        return element.findall(self.q(path), self.ns)

    def text(self, element: etree._Element, path: str) -> str | None:
        found = self.find(element, path)
        if found is None or found.text is None:
            return None
        return found.text.strip() or None

    @staticmethod
    def q(path: str) -> str:
        return "/".join(f"c:{part}" for part in path.split("/"))

    def date(self, element: etree._Element | None) -> date | None:
        """A DateAndDateTimeChoice: the date as the bank wrote it (a DtTm's own day)."""
        if element is None:
            return None
        text = self.text(element, "Dt") or self.text(element, "DtTm")
        if not text:
            return None
        try:
            return date.fromisoformat(text[:10])
        except ValueError:  # the schema's xs:date allows years Python's date does not
            raise _fail(
                f"date « {text[:30]} » hors des années 1 à 9999.", element.sourceline
            ) from None

    def amount(self, element: etree._Element, path: str, currency: str | None) -> int:
        """Signed cents of an Amt + CdtDbtInd pair (the schema made both present and well-formed)."""
        amount = self.find(element, path)
        assert amount is not None and amount.text is not None  # the schema requires it
        ccy = amount.get("Ccy")
        if currency is not None and ccy != currency:
            raise _fail(
                f"montant en {ccy} dans un relevé en {currency}.", amount.sourceline, element="Amt"
            )
        try:
            value = Decimal(amount.text.strip()) * 100
        except InvalidOperation:  # pragma: no cover - the schema refuses it first
            raise _fail(f"montant « {amount.text} » illisible.", amount.sourceline) from None
        if value != value.to_integral_value():
            raise _fail(
                f"montant {amount.text.strip()} {ccy} plus précis que le centime.",
                amount.sourceline,
                element="Amt",
            )
        sign = -1 if self.text(element, "CdtDbtInd") == "DBIT" else 1
        return sign * int(value)


def read_camt(data: bytes) -> tuple[BankStatement, ...]:
    """The statements of a camt.053 file (001.02 or 001.08), or FormatError.

    Only booked entries (status BOOK) become lines; an entry with other statuses (PDNG, INFO) is
    information, not money on the account, and is left out of the lines and of the balance check.
    """
    tree, version = validate(data)
    reader = _Reader(version)
    statements = [
        _statement(reader, element)
        for element in reader.findall(tree.getroot(), "BkToCstmrStmt/Stmt")
    ]
    return tuple(statements)


def _balance(
    reader: _Reader, statement: etree._Element, codes: Iterable[str], currency: str | None
) -> tuple[date | None, int | None]:
    for balance in reader.findall(statement, "Bal"):
        if reader.text(balance, "Tp/CdOrPrtry/Cd") in codes:
            return reader.date(reader.find(balance, "Dt")), reader.amount(balance, "Amt", currency)
    return None, None


def _status(reader: _Reader, entry: etree._Element) -> str | None:
    return reader.text(entry, "Sts/Cd") or reader.text(entry, "Sts")


def _statement(reader: _Reader, element: etree._Element) -> BankStatement:
    iban = reader.text(element, "Acct/Id/IBAN")
    other = reader.text(element, "Acct/Id/Othr/Id")
    currency = reader.text(element, "Acct/Ccy")
    if currency is None:
        first = reader.find(element, "Bal/Amt")
        currency = first.get("Ccy") if first is not None else None
    opening_date, opening = _balance(reader, element, OPENING_CODES, currency)
    closing_date, closing = _balance(reader, element, (CLOSING_CODE,), currency)
    lines = [
        _line(reader, entry, currency)
        for entry in reader.findall(element, "Ntry")
        if _status(reader, entry) == BOOKED
    ]
    problem = balance_problem(opening, (line.amount_cents for line in lines), closing)
    if problem:
        raise _fail(problem + ".", element.sourceline, element="Stmt")
    parts = rib_parts(iban) if iban else None
    statement = BankStatement(
        format=FORMAT_CAMT,
        currency=currency or "",
        lines=tuple(lines),
        account_iban=iban,
        bank_code=parts[0] if parts else None,
        branch_code=parts[1] if parts else None,
        account_number=parts[2] if parts else other,
        opening_date=opening_date,
        opening_balance_cents=opening,
        closing_date=closing_date,
        closing_balance_cents=closing,
        statement_id=reader.text(element, "Id"),
    )
    return with_keys(statement)


def _party(reader: _Reader, details: etree._Element, role: str) -> str | None:
    # 001.02: RltdPties/Dbtr/Nm; 001.08: RltdPties/Dbtr/Pty/Nm.
    return reader.text(details, f"RltdPties/{role}/Nm") or reader.text(
        details, f"RltdPties/{role}/Pty/Nm"
    )


def _operation_code(reader: _Reader, entry: etree._Element) -> str | None:
    domain = reader.text(entry, "BkTxCd/Domn/Cd")
    if domain:
        family = reader.text(entry, "BkTxCd/Domn/Fmly/Cd")
        sub = reader.text(entry, "BkTxCd/Domn/Fmly/SubFmlyCd")
        return f"{domain}/{family}/{sub}"
    return reader.text(entry, "BkTxCd/Prtry/Cd")


def _line(reader: _Reader, entry: etree._Element, currency: str | None) -> BankLine:
    booking = reader.date(reader.find(entry, "BookgDt"))
    if booking is None:
        raise _fail(
            "écriture comptabilisée (BOOK) sans date de comptabilisation (BookgDt).",
            entry.sourceline,
            element="Ntry",
        )
    amount = reader.amount(entry, "Amt", currency)
    transactions = reader.findall(entry, "NtryDtls/TxDtls")
    details: list[tuple[str, str]] = []
    reference = counterparty = None
    role = "Dbtr" if amount >= 0 else "Cdtr"
    for transaction in transactions:
        for text in reader.findall(transaction, "RmtInf/Ustrd"):
            if text.text and text.text.strip():
                details.append((DETAIL_USTRD, text.text.strip()))
        extra = reader.text(transaction, "AddtlTxInf")
        if extra:
            details.append((DETAIL_ADDTL_TX, extra))
        end_to_end = reader.text(transaction, "Refs/EndToEndId")
        if reference is None and end_to_end and end_to_end != NOT_PROVIDED:
            reference = end_to_end
        counterparty = counterparty or _party(reader, transaction, role)
    label = reader.text(entry, "AddtlNtryInf") or next(
        (text for key, text in details if key in (DETAIL_USTRD, DETAIL_ADDTL_TX)), ""
    )
    return BankLine(
        booking_date=booking,
        value_date=reader.date(reader.find(entry, "ValDt")),
        amount_cents=amount,
        label=label,
        reference=reference,
        counterparty=counterparty,
        details=tuple(details),
        bank_ref=reader.text(entry, "AcctSvcrRef") or reader.text(entry, "NtryRef"),
        operation_code=_operation_code(reader, entry),
    )


# -- writing ----------------------------------------------------------------------------------


class _Writer:
    def __init__(self, version: str) -> None:
        self.version = version
        self.ns = namespace(version)

    def sub(self, parent: etree._Element, tag: str, text: str | None = None, **attrs: str):
        element = etree.SubElement(parent, f"{{{self.ns}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    def amount(self, parent: etree._Element, cents: int, currency: str) -> None:
        self.sub(parent, "Amt", _decimal(abs(cents)), Ccy=currency)
        self.sub(parent, "CdtDbtInd", "DBIT" if cents < 0 else "CRDT")

    def day(self, parent: etree._Element, tag: str, value: date) -> None:
        self.sub(self.sub(parent, tag), "Dt", value.isoformat())

    def party(self, parent: etree._Element, role: str, name: str) -> None:
        holder = self.sub(parent, role)
        if self.version != "001.02":
            holder = self.sub(holder, "Pty")
        self.sub(holder, "Nm", name)


def _decimal(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _write_error(reason: str) -> FormatError:
    return FormatError(f"Écriture du relevé CAMT.053 impossible : {reason}")


def write_camt(
    statements: Iterable[BankStatement],
    *,
    message_id: str,
    created_at: datetime,
    version: str = DEFAULT_VERSION,
) -> bytes:
    """A camt.053 file (UTF-8) holding *statements*, checked against the schema before it is
    returned (a writer bug or a too-long text is a FormatError, never a file a bank would refuse).

    Each statement needs both balances and dates and must balance. A line's label becomes
    AddtlNtryInf, its reference EndToEndId, its counterparty the debtor of a credit or the
    creditor of a debit, its ``Ustrd`` and ``AddtlTxInf`` details the same elements; its
    operation code a BkTxCd domain (« PMNT/RCDT/ESCT ») or proprietary code.
    """
    if version not in SUPPORTED_VERSIONS:
        raise _write_error(f"version camt.053.{version} non prise en charge.")
    writer = _Writer(version)
    root = etree.Element(f"{{{writer.ns}}}Document", nsmap={None: writer.ns})
    message = writer.sub(root, "BkToCstmrStmt")
    header = writer.sub(message, "GrpHdr")
    writer.sub(header, "MsgId", message_id)
    writer.sub(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    count = 0
    for count, statement in enumerate(statements, 1):
        _write_statement(writer, message, statement, count, message_id, created_at)
    if not count:
        raise _write_error("aucun relevé.")
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    try:
        validate(data)
    except FormatError as error:
        raise _write_error(str(error)) from None
    return data


def _write_statement(
    writer: _Writer,
    parent: etree._Element,
    statement: BankStatement,
    number: int,
    message_id: str,
    created_at: datetime,
) -> None:
    if (
        statement.opening_date is None
        or statement.closing_date is None
        or statement.opening_balance_cents is None
        or statement.closing_balance_cents is None
    ):
        raise _write_error(f"relevé {number} : dates et soldes d'ouverture et de clôture requis.")
    problem = balance_problem(
        statement.opening_balance_cents,
        (line.amount_cents for line in statement.lines),
        statement.closing_balance_cents,
    )
    if problem:
        raise _write_error(f"relevé {number} : {problem}.")
    element = writer.sub(parent, "Stmt")
    writer.sub(element, "Id", statement.statement_id or f"{message_id}-{number}")
    writer.sub(element, "CreDtTm", created_at.isoformat(timespec="seconds"))
    account = writer.sub(element, "Acct")
    ident = writer.sub(account, "Id")
    iban = statement.account_iban
    if iban is None and statement.bank_code and statement.branch_code and statement.account_number:
        iban = french_iban(statement.bank_code, statement.branch_code, statement.account_number)
    if iban:
        writer.sub(ident, "IBAN", iban)
    elif statement.account_number:
        writer.sub(writer.sub(ident, "Othr"), "Id", statement.account_number)
    else:
        raise _write_error(f"relevé {number} : ni IBAN ni numéro de compte.")
    writer.sub(account, "Ccy", statement.currency)
    for code, day, cents in (
        (OPENING_CODES[0], statement.opening_date, statement.opening_balance_cents),
        (CLOSING_CODE, statement.closing_date, statement.closing_balance_cents),
    ):
        balance = writer.sub(element, "Bal")
        writer.sub(writer.sub(writer.sub(balance, "Tp"), "CdOrPrtry"), "Cd", code)
        writer.amount(balance, cents, statement.currency)
        writer.day(balance, "Dt", day)
    for line in statement.lines:
        _write_line(writer, element, line, statement.currency, number)


def _write_line(
    writer: _Writer, parent: etree._Element, line: BankLine, currency: str, number: int
) -> None:
    entry = writer.sub(parent, "Ntry")
    writer.amount(entry, line.amount_cents, currency)
    status = writer.sub(entry, "Sts")
    if writer.version == "001.02":
        status.text = BOOKED
    else:
        writer.sub(status, "Cd", BOOKED)
    writer.day(entry, "BookgDt", line.booking_date)
    if line.value_date is not None:
        writer.day(entry, "ValDt", line.value_date)
    if line.bank_ref:
        writer.sub(entry, "AcctSvcrRef", line.bank_ref)
    code = writer.sub(entry, "BkTxCd")
    if line.operation_code:
        domain = _DOMAIN_CODE.fullmatch(line.operation_code)
        if domain:
            holder = writer.sub(code, "Domn")
            writer.sub(holder, "Cd", domain[1])
            family = writer.sub(holder, "Fmly")
            writer.sub(family, "Cd", domain[2])
            writer.sub(family, "SubFmlyCd", domain[3])
        else:
            writer.sub(writer.sub(code, "Prtry"), "Cd", line.operation_code)
    unknown = [key for key, _ in line.details if key not in (DETAIL_USTRD, DETAIL_ADDTL_TX)]
    if unknown:
        raise _write_error(
            f"relevé {number}, opération du {line.booking_date:%d/%m/%Y} : détail « {unknown[0]} » "
            f"sans équivalent CAMT ({DETAIL_USTRD} ou {DETAIL_ADDTL_TX} attendu)."
        )
    ustrd = [text for key, text in line.details if key == DETAIL_USTRD]
    extra = [text for key, text in line.details if key == DETAIL_ADDTL_TX]
    if len(extra) > 1:
        raise _write_error(
            f"relevé {number}, opération du {line.booking_date:%d/%m/%Y} : un seul "
            f"{DETAIL_ADDTL_TX} possible."
        )
    if line.reference or line.counterparty or ustrd or extra:
        transaction = writer.sub(writer.sub(entry, "NtryDtls"), "TxDtls")
        if line.reference:
            writer.sub(writer.sub(transaction, "Refs"), "EndToEndId", line.reference)
        if line.counterparty:
            role = "Dbtr" if line.amount_cents >= 0 else "Cdtr"
            writer.party(writer.sub(transaction, "RltdPties"), role, line.counterparty)
        if ustrd:
            remittance = writer.sub(transaction, "RmtInf")
            for text in ustrd:
                writer.sub(remittance, "Ustrd", text)
        if extra:
            writer.sub(transaction, "AddtlTxInf", extra[0])
    if line.label:
        writer.sub(entry, "AddtlNtryInf", line.label)
