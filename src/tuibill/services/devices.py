"""The desk's devices as the screens and the command line reach them.

The card reader (PC/SC, or the emulated one) and the portable reader (TLA) are opened from the
settings here; the UI and the CLI hold the interfaces and the data they return, never a backend.
The names below are the hardware layer's own, re-exported so that nothing above the services
imports ``tuibill.hardware`` (an import contract checks it).
"""

from __future__ import annotations

from tuibill.hardware.cards import (
    CardError,
    CardInfo,
    CardReader,
    CardType,
    CpsHolder,
    PinFormatError,
    ReaderStatus,
    Vitale1Error,
    VitaleData,
    WrongPinError,
    open_card_reader,
)
from tuibill.hardware.cards.cps import certificate_summary
from tuibill.hardware.tla import (
    DeviceIdentity,
    InvoiceSummary,
    PortableReader,
    open_portable_reader,
)
from tuibill.hardware.tla import InvoiceState as DeviceInvoiceState

__all__ = [
    "CardError",
    "CardInfo",
    "CardReader",
    "CardType",
    "CpsHolder",
    "DeviceIdentity",
    "DeviceInvoiceState",
    "InvoiceSummary",
    "PinFormatError",
    "PortableReader",
    "ReaderStatus",
    "Vitale1Error",
    "VitaleData",
    "WrongPinError",
    "certificate_summary",
    "open_card_reader",
    "open_portable_reader",
]
