"""Peewee models over one database proxy (SQLite by default, PostgreSQL for larger sites)."""

from tuibill.models.base import BaseModel, db
from tuibill.models.invoices import Invoice, InvoiceLine, InvoiceTransition, IsolatedAct
from tuibill.models.parties import Mutuelle, Organism, Prescriber
from tuibill.models.patients import Patient
from tuibill.models.practice import Counter, Practice, Practitioner
from tuibill.models.prescriptions import Prescription, PrescriptionItem
from tuibill.models.tariffs import Tariff

ALL_MODELS: list[type[BaseModel]] = [
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

__all__ = [
    "ALL_MODELS",
    "BaseModel",
    "Counter",
    "Invoice",
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
