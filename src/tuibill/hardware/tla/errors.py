"""TLA errors: each carries a French sentence fit to show at the reception desk.

:class:`TlaError` subclasses :class:`~tuibill.domain.errors.RefusedOperation`, so any command
(ours, or the desk's « tla load / unload ») reports a device problem in French with exit status 1
and no traceback, without having to catch it itself.
"""

from __future__ import annotations

from typing import Any

from tuibill.domain.errors import RefusedOperation


class TlaError(RefusedOperation):
    """Base of every portable-reader (TLA) problem."""


# --- Framing (frames.py) ------------------------------------------------------------------------


class FrameError(TlaError):
    """Bytes that are not a valid frame. The stream decoder reports these and carries on."""


class FrameFormatError(FrameError):
    """Broken structure: missing STX/ETX, bad escape, header cut short, frame interrupted."""


class FrameGarbageError(FrameError):
    """Bytes found outside any frame (line noise, a device talking nonsense)."""

    def __init__(self, count: int) -> None:
        super().__init__(f"Trame TLA : {count} octet(s) parasite(s) hors trame ignoré(s).")
        self.count = count


class FrameLengthError(FrameError):
    """The length field disagrees with the bytes received, or exceeds the maximum."""


class FrameChecksumError(FrameError):
    """The CRC-16 received differs from the one computed: the frame was damaged on the line."""

    def __init__(self, received: int, computed: int) -> None:
        super().__init__(
            f"Trame TLA : somme de contrôle incorrecte (reçue {received:04X}, "
            f"calculée {computed:04X})."
        )
        self.received = received
        self.computed = computed


# --- Link (client.py) ---------------------------------------------------------------------------


class TlaPortError(TlaError):
    """The port cannot be opened (no such device, permission, connection refused…)."""


class TlaNoAnswer(TlaError):
    """The device stayed silent through every attempt."""


class TlaLineLost(TlaError):
    """The line went away during an exchange (cable pulled, device switched off, peer closed)."""


class TlaTransmissionError(TlaError):
    """Every attempt got a damaged or unreadable answer (checksum errors, noise)."""


class TlaChecksumError(TlaTransmissionError):
    """Every attempt got an answer whose CRC did not match: damaged on the line."""


class TlaProtocolError(TlaError):
    """A well-formed frame with an unexpected content: a device or desk bug, not line noise."""


# --- Device answers (error frames) --------------------------------------------------------------


class TlaDeviceError(TlaError):
    """The device refused the command with an error frame: ``code``, ``details`` and ``reason``
    (the device's own short explanation, as sent in the frame)."""

    def __init__(
        self, message: str, code: int, details: dict[str, Any] | None = None, reason: str = ""
    ) -> None:
        super().__init__(message)
        self.code = code
        self.details = details or {}
        self.reason = reason


class TlaDeviceFull(TlaDeviceError):
    """Not enough room on the device for the invoices to load (nothing was stored)."""


class TlaUnknownInvoice(TlaDeviceError):
    """The invoice key asked for is not on the device."""


class TlaConflict(TlaDeviceError):
    """An invoice with this key is already secured on the device with a different content."""


class TlaVersionError(TlaDeviceError):
    """The device and the desk share no protocol version."""


# --- Emulator (local actions "at the patient's home") --------------------------------------------


class TlaEmulatorError(TlaError):
    """A local action on the emulated device was refused (unknown key, already secured…)."""
