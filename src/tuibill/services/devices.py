"""The desk's devices as the screens and the command line reach them.

The card reader (PC/SC, or the emulated one) and the portable reader (TLA) are opened from the
settings here; the UI and the CLI hold the interfaces and the data they return, never a backend.
The names below are the hardware layer's own, re-exported so that nothing above the services
imports ``tuibill.hardware`` (an import contract checks it).
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

from tuibill.config import DeviceSettings
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
    DeviceInvoiceState,
    InvoiceSummary,
    PortableReader,
)
from tuibill.hardware.tla import open_portable_reader as _open_portable_reader

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


EMULATED = "emulated"


def emulated_tla_state(database_url: str) -> Path:
    """Where the emulated portable reader of *database_url* keeps its memory.

    An emulated device belongs to its database, never to the machine: beside a SQLite file
    (« cabinet.sqlite » → « cabinet.tla-emule.json »), else in the user's data folder under a
    name drawn from the URL. A fresh database therefore starts with an empty reader.
    """
    from tuibill.models.database import is_postgres, sqlite_path

    if not is_postgres(database_url):
        path = sqlite_path(database_url)
        if path != ":memory:":
            target = Path(path)
            return target.with_name(f"{target.stem}.tla-emule.json")
    from platformdirs import user_data_dir

    digest = hashlib.sha256(database_url.encode("utf-8")).hexdigest()[:16]
    return Path(user_data_dir("tuibill")) / f"tla-emule-{digest}.json"


def open_portable_reader(
    devices: DeviceSettings, *, database_url: str | None = None
) -> PortableReader:
    """The portable reader of ``[devices]``; « emulated » is the database's own (*database_url*,
    else the database the models are bound to)."""
    from tuibill.services.database import current_url

    url = database_url or current_url()
    if devices.tla_url.strip() == EMULATED and url is not None:
        devices = dataclasses.replace(devices, tla_url=f"{EMULATED}:{emulated_tla_state(url)}")
    return _open_portable_reader(devices)
