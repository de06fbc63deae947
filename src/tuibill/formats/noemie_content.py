"""What a NOEMIE PS return says, as the posting code uses it: frozen dataclasses.

:func:`tuibill.formats.noemie.read_return` gives a :class:`NoemieReturn`;
:func:`tuibill.formats.noemie.write_return` writes one back, byte for byte. The shape is flat
for posting: the transfers (:class:`Virement`) in file order, then every *item* of the file in
file order (invoices, withholdings, flat-rate payments, extra controls), each saying where it
sits: the index of its virement, its type of return (081) and its lot (080). The writer
rebuilds the 020/040/070/071/081/080 headers from those and computes the 990 of each lot and
the 999; the content holds nothing that can be computed.

Conventions (see :mod:`tuibill.formats.noemie_layout`): amounts are integer cents, signed
where the file has a sign; dates are ``datetime.date``; birth dates are the six AAMMJJ digits
as written; identifiers written in digits are strings; blank optional fields are ``None``;
``depth`` is the entity's *niveau de rupture*, tuibill's defaults unless the file said another.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import TypeVar

from tuibill.formats.noemie_layout import (
    DEPTH_INVOICE,
    DEPTH_INVOICE_ENTITY,
    DEPTH_LOT,
    DEPTH_OTHER,
)

# Part states (198/199) and rejection levels (294), as written in the file.
PAID, REJECTED, DEFERRED = "P", "R", "D"
LEVEL_INVOICE, LEVEL_LINE, LEVEL_REFINED = "F", "L", "A"
PART_MANDATORY, PART_COMPLEMENTARY = "O", "C"


@dataclass(frozen=True, kw_only=True)
class ReturnHeader:
    """The 000 (the 999 repeats its identification)."""

    emitter_type: str  # ORGANISMS code: "CP" for a CPAM
    emitter_number: str  # 14 digits
    recipient_type: str
    recipient_number: str
    file_id: str
    created: date
    norm: str
    emitter_program: str | None = None
    recipient_program: str | None = None
    application_type: str | None = None
    version: str | None = None
    compaction: str | None = None
    encryption: str | None = None  # "O" / "N"
    flow_type: str | None = None  # None (blank) or "R": réel; "T" test; "D" démo
    password: str | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class Virement:
    """A 070 (accounting date only) or a 071 (a bank transfer), with its 020 and 040.

    ``index`` is its position in :attr:`NoemieReturn.virements`; what it pays is the items
    whose ``virement`` is that index (:meth:`NoemieReturn.invoices_of`,
    :meth:`NoemieReturn.paid_cents_of`).
    """

    index: int
    mandataire: str  # 020: 15 digits
    payee: str  # 040: the PS's 9-digit number
    accounting_date: date
    label1: str | None = None  # None: a 070, no transfer reference
    label2: str | None = None
    paying_body: str | None = None

    @property
    def is_transfer(self) -> bool:
        """A 071 (a transfer with its label), not a bare 070 accounting date."""
        return self.label1 is not None


@dataclass(frozen=True)
class Lot:
    """A 080: the lot an item belongs to."""

    number: int
    created: date
    depth: int = DEPTH_LOT


# --- the entities of an invoice ---------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InsuredPatient:
    """103: insured person and beneficiary."""

    nir: str
    nir_key: str
    birth_date: str  # AAMMJJ as written
    birth_rank: int
    birth_name: str | None = None
    usage_name: str | None = None
    first_name: str | None = None
    individual_nir: str | None = None
    individual_nir_key: str | None = None
    beneficiary_name: str | None = None
    beneficiary_first_name: str | None = None
    management_unit: str | None = None
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Insured:
    """110: the insured person."""

    nir: str
    nir_key: str
    name_nature: str  # M marital, P patronymique, U usage
    name: str
    first_name: str
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Patient:
    """120: the patient (malade)."""

    birth_date: str  # AAMMJJ as written
    rank: str
    name: str
    first_name: str
    management_unit: str
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class InsuranceNature:
    """150: AS maladie, AT accident du travail, AM maternité."""

    code: str
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Archive:
    """160: the caisse's archive number (17 digits)."""

    number: str
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class AmoPart:
    """198: the AMO part: asked, state (P paid, R rejected, D deferred, None untreated), paid."""

    asked_cents: int
    state: str | None
    paid_cents: int | None = None  # signed; None when the file leaves it blank
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class AmcPart:
    """199: the AMC part, as the AMO part plus the AMC's number and the member's id."""

    asked_cents: int
    state: str | None
    amc_number: str  # 10 digits
    paid_cents: int | None = None
    member_id: str | None = None
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class ActLine:
    """210: one act line of the invoice, with what was refunded for it."""

    line: int  # the line's rank in the invoice, from 1
    regime_code: str
    exoneration: str
    processing_mode: str
    discipline: str
    prescription_date: date
    care_date: date
    care_end_date: date
    unit_price_cents: int
    base_cents: int
    rate: int  # percent
    refunded_cents: int  # signed
    nature: str  # "AMI", "AMK"…
    quantity: int
    coefficient_x100: int  # 00200 = 2, 00150 = 1,5
    count: int
    expense_cents: int
    complement: str | None = None  # N night, F holiday… (None: ordinary act)
    qualifier: str | None = None
    am_rate: int = 0
    am_cents: int = 0
    amc_rate: int = 0
    amc_cents: int = 0
    amc_base_cents: int = 0
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Signalement:
    """290: a rejection or warning: code (10) and label (80), with the line it names."""

    line: int
    code: str
    label: str
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Rejection:
    """294: a rejection line: level F invoice / L act line / A refined code, part O or C."""

    code: str
    label: str
    level: str
    part: str
    nature: str | None = None
    care_date: date | None = None
    executant: str | None = None  # 9 digits
    line: int | None = None  # the 210 line it points at (level L)
    rank: int | None = None
    info: str | None = None
    depth: int = DEPTH_INVOICE_ENTITY


@dataclass(frozen=True, kw_only=True)
class Comment:
    """295: a comment line."""

    text: str
    code: str | None = None
    depth: int = DEPTH_INVOICE_ENTITY


InvoiceEntity = (
    InsuredPatient
    | Insured
    | Patient
    | InsuranceNature
    | Archive
    | AmoPart
    | AmcPart
    | ActLine
    | Signalement
    | Rejection
    | Comment
)
# The invoice entities by type code, and back.
ENTITY_CLASSES: dict[str, type] = {
    "103": InsuredPatient,
    "110": Insured,
    "120": Patient,
    "150": InsuranceNature,
    "160": Archive,
    "198": AmoPart,
    "199": AmcPart,
    "210": ActLine,
    "290": Signalement,
    "294": Rejection,
    "295": Comment,
}
ENTITY_CODES = {cls: code for code, cls in ENTITY_CLASSES.items()}
# Entities an invoice has at most once; the others repeat.
SINGLE_ENTITIES = (InsuredPatient, Insured, Patient, InsuranceNature, Archive, AmoPart, AmcPart)

_E = TypeVar("_E")


# --- the items of the file --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Placed:
    """Where an item sits: its virement (index), its 081 and its lot (080), if any."""

    virement: int
    return_type: str | None = None  # 081 code "01"…"05"; None only for a Control before any 081
    execution_place: str | None = None  # 081 lieu d'exécution
    lot: Lot | None = None

    @property
    def lot_number(self) -> int | None:
        return self.lot.number if self.lot else None

    @property
    def lot_date(self) -> date | None:
        return self.lot.created if self.lot else None


@dataclass(frozen=True, kw_only=True)
class ReturnInvoice(Placed):
    """A 102 (or a bare 100) and its entities, in file order.

    ``invoice_type`` is ``None`` exactly when the file gave a 100, which carries the number only
    (then ``complement`` … ``insurance_nature`` are ``None`` too).
    """

    number: str  # as written: tuibill's invoices have 9 digits (matching_number)
    invoice_type: str | None = "F"
    complement: str | None = None
    invoice_lot: str | None = None  # the 102's n° de lot, as written
    invoice_lot_date: date | None = None
    billing_date: date | None = None
    amc_treatment: str | None = None
    insurance_nature: str | None = None
    entities: tuple[InvoiceEntity, ...] = ()
    depth: int = DEPTH_INVOICE

    # The entities never change (frozen): they are sorted by class once, when the invoice is
    # made (the posting of a return reads each kind several times per invoice; a scan per read
    # was a fifth of the posting). Not a field: equality, repr and asdict ignore it.

    def __post_init__(self) -> None:
        kinds: dict[type, list] = {}
        for item in self.entities:
            kinds.setdefault(type(item), []).append(item)
        object.__setattr__(self, "_kinds", {cls: tuple(found) for cls, found in kinds.items()})
        digits = self.number.strip(" ")
        readable = digits.isascii() and digits.isdigit() and len(digits) <= 9
        object.__setattr__(self, "_matching", digits.zfill(9) if readable else None)

    def _one(self, cls: type[_E]) -> _E | None:
        found = self._kinds.get(cls)
        return found[0] if found else None

    def _all(self, cls: type[_E]) -> tuple[_E, ...]:
        return self._kinds.get(cls, ())

    @property
    def insured_patient(self) -> InsuredPatient | None:
        return self._one(InsuredPatient)

    @property
    def insured(self) -> Insured | None:
        return self._one(Insured)

    @property
    def patient(self) -> Patient | None:
        return self._one(Patient)

    @property
    def nature(self) -> InsuranceNature | None:
        return self._one(InsuranceNature)

    @property
    def archive(self) -> Archive | None:
        return self._one(Archive)

    @property
    def amo(self) -> AmoPart | None:
        found = self._kinds.get(AmoPart)
        return found[0] if found else None

    @property
    def amc(self) -> AmcPart | None:
        found = self._kinds.get(AmcPart)
        return found[0] if found else None

    @property
    def lines(self) -> tuple[ActLine, ...]:
        return self._kinds.get(ActLine, ())

    @property
    def signalements(self) -> tuple[Signalement, ...]:
        return self._kinds.get(Signalement, ())

    @property
    def rejections(self) -> tuple[Rejection, ...]:
        return self._kinds.get(Rejection, ())

    @property
    def comments(self) -> tuple[Comment, ...]:
        return self._all(Comment)

    @property
    def matching_number(self) -> str | None:
        """The number as tuibill's 9 digits, if the field holds digits only (padded either way)."""
        return self._matching

    @property
    def asked_cents(self) -> int:
        """AMO + AMC asked."""
        return sum(part.asked_cents for part in (self.amo, self.amc) if part is not None)

    @property
    def paid_cents(self) -> int:
        """AMO + AMC paid, signed (a blank paid amount counts 0)."""
        amo, amc = self.amo, self.amc
        return ((amo.paid_cents or 0) if amo else 0) + ((amc.paid_cents or 0) if amc else 0)

    @property
    def amo_rejected(self) -> bool:
        """The 198 says R."""
        return self.amo is not None and self.amo.state == REJECTED

    @property
    def is_rejected(self) -> bool:
        """Rejected whole: the 198 says R and a 294 rejects at invoice level (F)."""
        return self.amo_rejected and any(r.level == LEVEL_INVOICE for r in self.rejections)

    @property
    def is_deferred(self) -> bool:
        """A part (AMO or AMC) is deferred (D): the caisse will say later."""
        return any(p is not None and p.state == DEFERRED for p in (self.amo, self.amc))

    @property
    def is_partially_paid(self) -> bool:
        """The 198 says P and the AMO paid less than asked."""
        amo = self.amo
        return amo is not None and amo.state == PAID and (amo.paid_cents or 0) < amo.asked_cents

    @property
    def rejected_lines(self) -> tuple[int, ...]:
        """The act lines (210 numbers) a 294 at line level (L) refuses, sorted, once each."""
        return tuple(
            sorted(
                {r.line for r in self.rejections if r.level == LEVEL_LINE and r.line is not None}
            )
        )

    def rejections_of_line(self, line: int) -> tuple[Rejection, ...]:
        """The 294 of level L that point at act line *line*."""
        return tuple(r for r in self.rejections if r.level == LEVEL_LINE and r.line == line)


@dataclass(frozen=True, kw_only=True)
class Withholding(Placed):
    """250: a withholding (retenue) or debt movement."""

    line: int
    debt_reference: str
    debt_date: date
    debt_nature: str  # DEBT_NATURES code
    operation: str  # RECOVERY_OPERATIONS code
    amount_cents: int  # signed
    balance_cents: int | None = None
    depth: int = DEPTH_OTHER


@dataclass(frozen=True, kw_only=True)
class FlatPaymentDetail:
    """262: one detail line of a flat-rate payment."""

    period: str  # H, M, T, S, A, P
    amount_cents: int
    code: str | None = None
    label: str | None = None
    nir: str | None = None
    nir_key: str | None = None
    birth_date: str | None = None
    birth_rank: int | None = None
    period_start: date | None = None
    period_end: date | None = None
    depth: int = DEPTH_OTHER


@dataclass(frozen=True, kw_only=True)
class FlatPayment(Placed):
    """261: a one-off or flat-rate payment, with the 262 details that follow it."""

    code: str  # 5 digits
    amount_cents: int
    details: tuple[FlatPaymentDetail, ...] = ()
    depth: int = DEPTH_OTHER


@dataclass(frozen=True, kw_only=True)
class Control(Placed):
    """A 990 that closes no lot (kept as read, unchecked); the lots' 990 are computed."""

    identification: str | None
    count: int
    amount_cents: int  # signed


ReturnItem = ReturnInvoice | Withholding | FlatPayment | Control


@dataclass(frozen=True, kw_only=True)
class NoemieReturn:
    """A whole NOEMIE PS return file."""

    header: ReturnHeader
    virements: tuple[Virement, ...] = ()
    items: tuple[ReturnItem, ...] = ()
    other_currency_cents: int | None = None  # 999, unchecked

    def _all(self, cls: type[_E]) -> tuple[_E, ...]:
        return tuple(item for item in self.items if isinstance(item, cls))

    @cached_property
    def invoices(self) -> tuple[ReturnInvoice, ...]:
        return self._all(ReturnInvoice)

    @property
    def withholdings(self) -> tuple[Withholding, ...]:
        return self._all(Withholding)

    @property
    def flat_payments(self) -> tuple[FlatPayment, ...]:
        return self._all(FlatPayment)

    @property
    def controls(self) -> tuple[Control, ...]:
        """The 990 that close no lot, as read."""
        return self._all(Control)

    @property
    def total_paid_cents(self) -> int:
        """The 999 cumul: every 198 + 199 paid amount, signed."""
        return sum(invoice.paid_cents for invoice in self.invoices)

    @property
    def lot_count(self) -> int:
        """The number of 080 the file has (the 999's count)."""
        return lot_openings(self.items)

    def invoices_of(self, virement: int) -> tuple[ReturnInvoice, ...]:
        """The invoices that virement *virement* (index) pays or reports."""
        return tuple(invoice for invoice in self.invoices if invoice.virement == virement)

    def paid_cents_of(self, virement: int) -> int:
        """What virement *virement* pays for invoices: its 198 + 199 paid amounts, signed."""
        return sum(invoice.paid_cents for invoice in self.invoices_of(virement))

    def payee_of(self, item: Placed) -> str:
        """The 9-digit PS number (040) an item is addressed to."""
        return self.virements[item.virement].payee


def lot_openings(items: Iterable[ReturnItem]) -> int:
    """How many 080 the writer emits for *items* (a lot opens when an item's lot changes)."""
    count, previous = 0, None
    for item in items:
        key = (item.virement, item.return_type, item.execution_place, item.lot)
        if item.lot is not None and (previous is None or previous != key):
            count += 1
        previous = key
    return count
