"""OFX bank statements (1.x SGML and 2.x XML), read with ofxtools.

ofxtools parses both OFX flavours (headers, charset, unclosed SGML elements), converts each
aggregate with the OFX specification's types and required elements, and loads nothing from
outside. Two things are done here rather than by its models: dates are taken from the text as the
bank wrote it (ofxtools converts every date to UTC, which moves a « 20240115000000[+1:CET] » to
the 14th), and every failure of the library on a malformed file becomes a FormatError.
``docs/formats/ofx.md`` gives the mapping.
"""

from __future__ import annotations

import io
import re
import warnings
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree

from ofxtools.models.base import Aggregate
from ofxtools.Parser import OFXTree

from tuibill.formats.bank import FORMAT_OFX, BankLine, BankStatement, french_iban, with_keys
from tuibill.formats.errors import FormatError

WHAT = "Relevé OFX"
_DATE = re.compile(r"([0-9]{4})([0-9]{2})([0-9]{2})")


def _fail(reason: str, *, element: str | None = None, number: int | None = None) -> FormatError:
    return FormatError(f"{WHAT} : {reason}", record_type=element, record_number=number)


def _short(error: BaseException) -> str:
    if isinstance(error, InvalidOperation):
        return "nombre illisible"
    text = " ".join(str(error).split()) or type(error).__name__
    return text[:200] + ("..." if len(text) > 200 else "")


def _parse(data: bytes) -> ElementTree.Element:
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise _fail("des octets sont attendus.")
    if not data.strip():
        raise _fail("fichier vide.")
    tree = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # private tags (INTU.XXX…) are skipped, not errors
        try:
            tree.parse(io.BytesIO(data))
            root = tree.getroot()
            # Converting the whole document checks it against the specification.
            tree.convert()
        except Exception as error:  # noqa: BLE001 - any failure of the parser is a bad file
            raise _fail(f"fichier illisible ou non conforme à OFX ({_short(error)}).") from None
    return root


def _date(element: ElementTree.Element, tag: str, where: str, *, required: bool) -> date | None:
    text = (element.findtext(tag) or "").strip()
    if not text:
        if required:
            raise _fail(f"{where} : {tag} absent.", element=tag)
        return None
    match = _DATE.match(text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise _fail(f"{where} : {tag} « {text[:30]} » n'est pas une date AAAAMMJJ.", element=tag)


def _cents(value: Decimal, where: str, tag: str) -> int:
    if not value.is_finite():
        raise _fail(f"{where} : {tag} {value} n'est pas un montant.", element=tag)
    cents = value * 100
    if cents != cents.to_integral_value():
        raise _fail(f"{where} : {tag} {value} plus précis que le centime.", element=tag)
    return int(cents)


def read_ofx(data: bytes) -> tuple[BankStatement, ...]:
    """The bank statements (STMTRS) of an OFX file, or FormatError.

    Credit card (CCSTMTRS) and investment statements are not bank account statements: a file
    holding none of STMTRS is refused.
    """
    root = _parse(data)
    raw_statements = list(root.iter("STMTRS"))
    if not raw_statements:
        raise _fail("aucun relevé de compte bancaire (STMTRS) dans le fichier.")
    statements = []
    for number, raw in enumerate(raw_statements, 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                model: Any = Aggregate.from_etree(raw)
            except Exception as error:  # noqa: BLE001 - see _parse
                raise _fail(f"relevé {number} non conforme ({_short(error)}).") from None
        statements.append(_statement(raw, model, number))
    return tuple(statements)


def _statement(raw: ElementTree.Element, model: Any, number: int) -> BankStatement:
    where = f"relevé {number}"
    account = model.bankacctfrom
    bank_code, branch_code = account.bankid, account.branchid
    account_number = account.acctid
    iban = None
    if bank_code and branch_code and account_number:
        iban = french_iban(bank_code, branch_code, account_number)
    lines = []
    raw_list = raw.find("BANKTRANLIST")
    raw_lines = raw_list.findall("STMTTRN") if raw_list is not None else []
    models = list(model.banktranlist) if model.banktranlist is not None else []
    if len(models) != len(raw_lines):  # pragma: no cover - ofxtools keeps every STMTTRN
        raise _fail(f"{where} : opérations illisibles.", element="BANKTRANLIST")
    for index, (raw_line, line) in enumerate(zip(raw_lines, models, strict=True), 1):
        at = f"{where}, opération {index} (FITID {line.fitid})"
        name = line.payee.name if line.payee is not None else line.name
        details = (("MEMO", line.memo),) if line.memo else ()
        lines.append(
            BankLine(
                booking_date=_date(raw_line, "DTPOSTED", at, required=True),  # type: ignore[arg-type]
                value_date=_date(raw_line, "DTAVAIL", at, required=False),
                amount_cents=_cents(line.trnamt, at, "TRNAMT"),
                label=name or line.memo or "",
                reference=line.checknum or line.refnum,
                counterparty=line.payee.name if line.payee is not None else None,
                details=details,
                bank_ref=line.fitid,
                operation_code=line.trntype,
            )
        )
    closing_date = closing = None
    ledger = raw.find("LEDGERBAL")
    if model.ledgerbal is not None and ledger is not None:
        closing = _cents(model.ledgerbal.balamt, where, "BALAMT")
        closing_date = _date(ledger, "DTASOF", where, required=True)
    statement = BankStatement(
        format=FORMAT_OFX,
        currency=model.curdef,
        lines=tuple(lines),
        account_iban=iban,
        bank_code=bank_code,
        branch_code=branch_code,
        account_number=account_number,
        closing_date=closing_date,
        closing_balance_cents=closing,
    )
    return with_keys(statement)
