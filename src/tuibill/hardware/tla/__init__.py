"""The portable card reader (TLA): protocol, serial client, emulator.

The desk services use :func:`open_portable_reader` and the :class:`PortableReader` interface;
``devices.tla_url`` chooses what is behind it:

- ``emulated``: the in-process emulated reader, its memory in the user's data folder
  (``emulated:FILE`` puts it in FILE);
- anything pyserial opens: ``/dev/ttyUSB0``, ``rfc2217://host:port``, ``socket://host:port``.

Importing this package does not import pyserial: only opening a real line does.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tuibill.domain.errors import ConfigError
from tuibill.hardware.tla.errors import (
    TlaChecksumError,
    TlaConflict,
    TlaDeviceError,
    TlaDeviceFull,
    TlaError,
    TlaLineLost,
    TlaNoAnswer,
    TlaPortError,
    TlaProtocolError,
    TlaTransmissionError,
    TlaUnknownInvoice,
)
from tuibill.hardware.tla.interface import EmulatedPortableReader, PortableReader
from tuibill.hardware.tla.protocol import (
    CardType,
    DeviceIdentity,
    DeviceInvoiceState,
    InvoiceSummary,
    InvoiceToLoad,
    Securing,
    StoredInvoice,
    invoice_key,
)

if TYPE_CHECKING:
    from tuibill.config import DeviceSettings

EMULATED = "emulated"

__all__ = [
    "CardType",
    "DeviceIdentity",
    "DeviceInvoiceState",
    "EmulatedPortableReader",
    "InvoiceSummary",
    "InvoiceToLoad",
    "PortableReader",
    "Securing",
    "StoredInvoice",
    "TlaChecksumError",
    "TlaConflict",
    "TlaDeviceError",
    "TlaDeviceFull",
    "TlaError",
    "TlaLineLost",
    "TlaNoAnswer",
    "TlaPortError",
    "TlaProtocolError",
    "TlaTransmissionError",
    "TlaUnknownInvoice",
    "emulated_state_file",
    "invoice_key",
    "open_portable_reader",
]


def emulated_state_file(url: str) -> Path | None:
    """The state file of an ``emulated[:FILE]`` URL; None if *url* names a real line."""
    name, colon, path = url.strip().partition(":")
    if name != EMULATED:
        return None
    if colon and path:
        return Path(path).expanduser()
    from tuibill.hardware.tla.emulator import default_state_file

    return default_state_file()


def open_portable_reader(devices_settings: DeviceSettings) -> PortableReader:
    """The reader configured in ``[devices]`` (tla_url, tla_baudrate, tla_timeout, tla_retries).

    Raises :class:`TlaPortError` if the line cannot be opened, :class:`ConfigError` if no URL is
    configured. Use it as a context manager so that the line is closed.
    """
    url = devices_settings.tla_url.strip()
    if not url:
        raise ConfigError("adresse du lecteur portable vide.", key="devices.tla_url")
    state_file = emulated_state_file(url)
    if state_file is not None:
        return EmulatedPortableReader(state_file)
    from tuibill.hardware.tla.client import TlaClient

    return TlaClient(
        url,
        baudrate=devices_settings.tla_baudrate,
        timeout=devices_settings.tla_timeout,
        retries=devices_settings.tla_retries,
    )
