"""Peewee models over one database proxy (SQLite by default, PostgreSQL for larger sites).

The models the desk's first screen and most commands reach are imported with the package; the
tiers-payeurs and home-care, bank, rejections, SCOR pieces and tariffs models on first use
(``from tuibill.models import Slip`` loads its module then, PEP 562): the 35 model classes of
those modules are a third of the models' import, paid at every start (issue 12). Their
foreign keys add backrefs to the models above once loaded; nothing reads those backrefs from
the models above (the services query the lazy models themselves). The schema's lists
(``V1_MODELS``… ``ALL_MODELS``) load every model.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from tuibill.models.audit import AuditCheck, AuditHead
from tuibill.models.base import BaseModel, db
from tuibill.models.invoices import Invoice, InvoiceLine, InvoiceTransition, IsolatedAct
from tuibill.models.lots import Lot, LotTransition
from tuibill.models.mail import ReceivedFile
from tuibill.models.parties import Mutuelle, Organism, Prescriber
from tuibill.models.patients import Patient
from tuibill.models.practice import Counter, Practice, Practitioner
from tuibill.models.prescriptions import Prescription, PrescriptionItem
from tuibill.models.returns import ReturnEntry, ReturnLine, ReturnRejection, Virement
from tuibill.models.users import User, UserTransition

if TYPE_CHECKING:
    from tuibill.models.bank import (
        AccountStatement,
        BankAccount,
        BankMatch,
        BankMatchEvent,
        BankOperation,
        MatchRule,
    )
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
    from tuibill.models.payers import Payer, PayerDefault, PayerMail, PayerNote, ReminderLevelRow
    from tuibill.models.pieces import InvoicePiece
    from tuibill.models.rejections import (
        CreditNote,
        Dre,
        LineDecision,
        LotPointage,
        RejectionRule,
    )
    from tuibill.models.tariffs import Tariff

    V1_MODELS: list[type[BaseModel]]
    V2_MODELS: list[type[BaseModel]]
    V4_MODELS: list[type[BaseModel]]
    V5_MODELS: list[type[BaseModel]]
    V6_MODELS: list[type[BaseModel]]
    V7_MODELS: list[type[BaseModel]]
    V8_MODELS: list[type[BaseModel]]
    V10_MODELS: list[type[BaseModel]]
    ALL_MODELS: list[type[BaseModel]]

# The models loaded on first use, by the module that holds them.
LAZY_MODULES: dict[str, tuple[str, ...]] = {
    "bank": ("AccountStatement", "BankAccount", "BankMatch", "BankMatchEvent", "BankOperation",
             "MatchRule"),
    "homecare": ("AidPlan", "Client", "ContractLine", "HomecareService", "Intervention",
                 "Prestation"),
    "homecare_billing": ("Allocation", "Funding", "HomecareCounter", "HomecareInvoice",
                         "HomecareInvoiceLine", "HomecareInvoiceTransition", "PayerDocument",
                         "Payment", "PaymentTransition", "Slip", "SlipTransition"),
    "payers": ("Payer", "PayerDefault", "PayerMail", "PayerNote", "ReminderLevelRow"),
    "pieces": ("InvoicePiece",),
    "rejections": ("CreditNote", "Dre", "LineDecision", "LotPointage", "RejectionRule"),
    "tariffs": ("Tariff",),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in LAZY_MODULES.items() for name in names}


def _schema_lists() -> dict[str, list[type[BaseModel]]]:
    """The models each schema version added, in creation order (every model loaded)."""
    for name in _MODULE_OF:
        __getattr__(name)  # each lazy model into the package's namespace
    g = globals()
    lists: dict[str, list[type[BaseModel]]] = {
        "V1_MODELS": [
            Practice, Practitioner, Counter, Organism, Mutuelle, Prescriber, Patient,
            Prescription, PrescriptionItem, g["Tariff"], Invoice, InvoiceLine,
            InvoiceTransition, IsolatedAct,
        ],
        # Added by schema version 2 (securing, SCOR pieces, lots, received files).
        "V2_MODELS": [Lot, LotTransition, g["InvoicePiece"], ReceivedFile],
        # Added by schema version 4 (the caisses' returns).
        "V4_MODELS": [Virement, ReturnEntry, ReturnLine, ReturnRejection],
        # Added by schema version 5 (the history's hash chain).
        "V5_MODELS": [AuditHead, AuditCheck],
        # Added by schema version 6 (the bank: statements, lines, matches and their rules).
        "V6_MODELS": [g[name] for name in (
            "BankAccount", "AccountStatement", "BankOperation", "MatchRule", "BankMatch",
            "BankMatchEvent")],
        # Added by schema version 7 (staff accounts and their history).
        "V7_MODELS": [User, UserTransition],
        # Added by schema version 8 (tiers-payeurs and the home-care service, seed 004).
        "V8_MODELS": [g[name] for name in (
            "Payer", "PayerDefault", "PayerNote", "PayerMail", "ReminderLevelRow",
            "HomecareService", "Prestation", "Client", "ContractLine", "Intervention", "AidPlan",
            "HomecareCounter", "HomecareInvoice", "HomecareInvoiceLine",
            "HomecareInvoiceTransition", "Slip", "SlipTransition", "Funding", "Payment",
            "Allocation", "PaymentTransition", "PayerDocument")],
        # Added by schema version 10 (treating the returns: avoirs, motif rules, refused
        # lines, DRE).
        "V10_MODELS": [g[name] for name in (
            "CreditNote", "RejectionRule", "LineDecision", "LotPointage", "Dre")],
    }  # fmt: skip
    lists["ALL_MODELS"] = [model for models in lists.values() for model in models]
    return lists


def __getattr__(name: str) -> object:
    module = _MODULE_OF.get(name)
    if module is not None:
        value = getattr(importlib.import_module(f"tuibill.models.{module}"), name)
        globals()[name] = value
        return value
    if name.endswith("_MODELS"):
        lists = _schema_lists()
        globals().update(lists)
        if name in lists:
            return lists[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
