"""Smart cards: carte Vitale (read the bénéficiaires) and CPS/CPE (PIN, signature).

Entry point: :func:`open_card_reader` with ``settings.devices``; then the methods of
:class:`CardReader` (``read_vitale``, ``read_cps_holder``, ``verify_pin``, ``sign``,
``read_certificate``, ``wait_for_card``…). Every error is a :class:`CardError` with a French
message. See docs/hardware/cards.md.

Importing this package never imports pyscard: only the ``pcsc`` backend does, when created.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from tuibill.domain.errors import ConfigError
from tuibill.hardware.cards.cps import verify_signature
from tuibill.hardware.cards.data import (
    Beneficiary,
    CardInfo,
    CardType,
    CpsHolder,
    ReaderStatus,
    Signature,
    VitaleData,
)
from tuibill.hardware.cards.emulated_backend import EmulatedCardReader
from tuibill.hardware.cards.errors import (
    CardBlockedError,
    CardCommandError,
    CardDataError,
    CardError,
    CardRemovedError,
    NoCardError,
    NoReaderError,
    PcscUnavailableError,
    PinFormatError,
    PinRequiredError,
    UnsupportedCardError,
    Vitale1Error,
    WrongPinError,
)
from tuibill.hardware.cards.interface import CardReader

if TYPE_CHECKING:
    from tuibill.config import DeviceSettings

__all__ = [
    "Beneficiary",
    "CardBlockedError",
    "CardCommandError",
    "CardDataError",
    "CardError",
    "CardInfo",
    "CardReader",
    "CardRemovedError",
    "CardType",
    "CpsHolder",
    "EmulatedCardReader",
    "NoCardError",
    "NoReaderError",
    "PcscUnavailableError",
    "PinFormatError",
    "PinRequiredError",
    "ReaderStatus",
    "Signature",
    "UnsupportedCardError",
    "Vitale1Error",
    "VitaleData",
    "WrongPinError",
    "demo_card_reader",
    "open_card_reader",
    "verify_signature",
]

_demo_lock = threading.Lock()
_demo: EmulatedCardReader | None = None


def demo_card_reader() -> EmulatedCardReader:
    """The process-wide emulated reader (demo Vitale in slot 0, demo CPS in slot 1).

    Shared, so that a card "inserted" by one screen is seen by every other one.
    """
    global _demo
    with _demo_lock:
        if _demo is None:
            _demo = EmulatedCardReader.demo()
        return _demo


def open_card_reader(
    settings_devices: DeviceSettings, reader_name: str | None = None
) -> CardReader:
    """The card reader chosen by ``devices.card_reader`` (``emulated`` or ``pcsc``).

    ``reader_name`` (a name prefix) overrides ``devices.card_reader_name``. The emulated
    backend ignores the configured name (it is a PC/SC reader's name) but honours an explicit
    ``reader_name``.
    """
    if settings_devices.card_reader == "pcsc":
        from tuibill.hardware.cards.pcsc_backend import PcscCardReader

        name = settings_devices.card_reader_name if reader_name is None else reader_name
        return PcscCardReader(name)
    if settings_devices.card_reader == "emulated":
        return demo_card_reader().view(reader_name or "")
    raise ConfigError(
        f"lecteur « {settings_devices.card_reader} » inconnu (possibles : emulated, pcsc).",
        key="devices.card_reader",
    )
