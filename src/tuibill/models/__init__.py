"""Peewee models over one database proxy (SQLite by default, PostgreSQL for larger sites)."""

from tuibill.models.audit import AuditCheck, AuditHead
from tuibill.models.base import BaseModel, db
from tuibill.models.invoices import Invoice, InvoiceLine, InvoiceTransition, IsolatedAct
from tuibill.models.lots import Lot, LotTransition
from tuibill.models.mail import ReceivedFile
from tuibill.models.parties import Mutuelle, Organism, Prescriber
from tuibill.models.patients import Patient
from tuibill.models.pieces import InvoicePiece
from tuibill.models.practice import Counter, Practice, Practitioner
from tuibill.models.prescriptions import Prescription, PrescriptionItem
from tuibill.models.rejections import CreditNote, Dre, LineDecision, LotPointage, RejectionRule
from tuibill.models.returns import ReturnEntry, ReturnLine, ReturnRejection, Virement
from tuibill.models.tariffs import Tariff

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
# Added by schema version 11 (treating the returns: avoirs, motif rules, refused lines).
V11_MODELS: list[type[BaseModel]] = [CreditNote, RejectionRule, LineDecision, LotPointage, Dre]
ALL_MODELS: list[type[BaseModel]] = V1_MODELS + V2_MODELS + V4_MODELS + V5_MODELS + V11_MODELS

__all__ = [
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
    "V11_MODELS",
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
    "db",
]
