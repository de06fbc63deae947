"""Peewee models over one database proxy (SQLite by default, PostgreSQL for larger sites)."""

from tuibill.models.audit import AuditCheck, AuditHead
from tuibill.models.base import BaseModel, db
from tuibill.models.homecare import (
    AidPlan,
    Client,
    ContractLine,
    HomecareService,
    Intervention,
    Prestation,
)
from tuibill.models.homecare_billing import (
    Allocation,
    Funding,
    HomecareCounter,
    HomecareInvoice,
    HomecareInvoiceLine,
    HomecareInvoiceTransition,
    PayerDocument,
    Payment,
    PaymentTransition,
    Slip,
    SlipTransition,
)
from tuibill.models.invoices import Invoice, InvoiceLine, InvoiceTransition, IsolatedAct
from tuibill.models.lots import Lot, LotTransition
from tuibill.models.mail import ReceivedFile
from tuibill.models.parties import Mutuelle, Organism, Prescriber
from tuibill.models.patients import Patient
from tuibill.models.payers import Payer, PayerDefault, PayerMail, PayerNote, ReminderLevelRow
from tuibill.models.pieces import InvoicePiece
from tuibill.models.practice import Counter, Practice, Practitioner
from tuibill.models.prescriptions import Prescription, PrescriptionItem
from tuibill.models.rejections import CreditNote, Dre, LineDecision, LotPointage, RejectionRule
from tuibill.models.returns import ReturnEntry, ReturnLine, ReturnRejection, Virement
from tuibill.models.tariffs import Tariff
from tuibill.models.users import User, UserTransition

# isort: split
# Last: models.bank reaches models.lots through models.mail, and Invoice's deferred key to Lot
# is only resolved when Lot is defined after Invoice.
from tuibill.models.bank import (
    AccountStatement,
    BankAccount,
    BankMatch,
    BankMatchEvent,
    BankOperation,
    MatchRule,
)

V1_MODELS: list[type[BaseModel]] = [
    Practice,
    Practitioner,
    Counter,
    Organism,
    Mutuelle,
    Prescriber,
    Patient,
    Prescription,
    PrescriptionItem,
    Tariff,
    Invoice,
    InvoiceLine,
    InvoiceTransition,
    IsolatedAct,
]
# Added by schema version 2 (securing, SCOR pieces, lots, received files).
V2_MODELS: list[type[BaseModel]] = [Lot, LotTransition, InvoicePiece, ReceivedFile]
# Added by schema version 4 (the caisses' returns).
V4_MODELS: list[type[BaseModel]] = [Virement, ReturnEntry, ReturnLine, ReturnRejection]
# Added by schema version 5 (the history's hash chain).
V5_MODELS: list[type[BaseModel]] = [AuditHead, AuditCheck]
# Added by schema version 6 (the bank: statements, lines, matches and their rules).
V6_MODELS: list[type[BaseModel]] = [
    BankAccount,
    AccountStatement,
    BankOperation,
    MatchRule,
    BankMatch,
    BankMatchEvent,
]
# Added by schema version 7 (staff accounts and their history).
V7_MODELS: list[type[BaseModel]] = [User, UserTransition]
# Added by schema version 8 (tiers-payeurs and the home-care service, seed 004).
V8_MODELS: list[type[BaseModel]] = [
    Payer,
    PayerDefault,
    PayerNote,
    PayerMail,
    ReminderLevelRow,
    HomecareService,
    Prestation,
    Client,
    ContractLine,
    Intervention,
    AidPlan,
    HomecareCounter,
    HomecareInvoice,
    HomecareInvoiceLine,
    HomecareInvoiceTransition,
    Slip,
    SlipTransition,
    Funding,
    Payment,
    Allocation,
    PaymentTransition,
    PayerDocument,
]
# Added by schema version 10 (treating the returns: avoirs, motif rules, refused lines, DRE).
V10_MODELS: list[type[BaseModel]] = [CreditNote, RejectionRule, LineDecision, LotPointage, Dre]
ALL_MODELS: list[type[BaseModel]] = (
    V1_MODELS + V2_MODELS + V4_MODELS + V5_MODELS + V6_MODELS + V7_MODELS + V8_MODELS
    + V10_MODELS
)

__all__ = [
    "AidPlan",
    "Allocation",
    "Client",
    "ContractLine",
    "Funding",
    "HomecareCounter",
    "HomecareInvoice",
    "HomecareInvoiceLine",
    "HomecareInvoiceTransition",
    "HomecareService",
    "Intervention",
    "Payer",
    "PayerDefault",
    "PayerDocument",
    "PayerMail",
    "PayerNote",
    "Payment",
    "PaymentTransition",
    "Prestation",
    "ReminderLevelRow",
    "Slip",
    "SlipTransition",
    "V8_MODELS",
    "AccountStatement",
    "BankAccount",
    "BankMatch",
    "BankMatchEvent",
    "BankOperation",
    "MatchRule",
    "V6_MODELS",
    "AuditCheck",
    "AuditHead",
    "V5_MODELS",
    "ALL_MODELS",
    "BaseModel",
    "Counter",
    "CreditNote",
    "Dre",
    "LineDecision",
    "LotPointage",
    "RejectionRule",
    "V10_MODELS",
    "Invoice",
    "InvoicePiece",
    "Lot",
    "LotTransition",
    "ReceivedFile",
    "ReturnEntry",
    "ReturnLine",
    "ReturnRejection",
    "Virement",
    "V4_MODELS",
    "V1_MODELS",
    "V2_MODELS",
    "InvoiceLine",
    "InvoiceTransition",
    "IsolatedAct",
    "Mutuelle",
    "Organism",
    "Patient",
    "Practice",
    "Practitioner",
    "Prescriber",
    "Prescription",
    "PrescriptionItem",
    "Tariff",
    "User",
    "UserTransition",
    "V7_MODELS",
    "db",
]
