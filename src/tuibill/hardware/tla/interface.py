"""What the desk services use of a portable reader (TLA), whatever is behind it.

:class:`PortableReader` is the interface. :class:`CommandReader` implements it once on top of a
single primitive, "send one command, get its decoded answer", so the serial client and the
in-process :class:`EmulatedPortableReader` share every rule: version negotiation, the capacity
pre-check and batching of LOAD, LIST paging, error classes.

The two-phase transfers the desk builds on it (docs/formats/tla-protocol.md, "Transfers"):

- unload: ``fetch_all()`` → commit to the database → ``erase(committed keys)``;
- load: mark the invoices → ``load(invoices)`` (idempotent) → record them as loaded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, runtime_checkable

from tuibill.domain.errors import ValidationError
from tuibill.hardware.tla.errors import TlaError, TlaProtocolError
from tuibill.hardware.tla.frames import MAX_PAYLOAD
from tuibill.hardware.tla.protocol import (
    BASE_VERSION,
    PROTOCOL_VERSIONS,
    Command,
    DeviceIdentity,
    EraseAnswer,
    ErrorCode,
    InvoiceSummary,
    InvoiceToLoad,
    ListPage,
    LoadAnswer,
    StoredInvoice,
    clock_payload,
    decode_payload,
    device_error,
    encode_payload,
    erase_request,
    fetch_request,
    identify_request,
    invoice_reserve,
    list_request,
    load_request,
    parse_clock,
    parse_erased_count,
)


@runtime_checkable
class PortableReader(Protocol):
    """A portable card reader, as the desk sees it. Every method may raise a
    :class:`~tuibill.hardware.tla.errors.TlaError` (French message)."""

    def identify(self) -> DeviceIdentity:
        """Model, serial number, firmware, protocol version, capacity, invoices stored."""
        ...

    def get_clock(self) -> datetime: ...

    def set_clock(self, when: datetime | None = None) -> datetime:
        """Set the device clock (default: the desk's clock now); returns the device's new time."""
        ...

    def contents(self) -> list[InvoiceSummary]:
        """Every stored invoice, in loading order."""
        ...

    def load(self, invoices: Sequence[InvoiceToLoad]) -> list[str]:
        """Store *invoices* (idempotent by key); returns their keys, all now on the device.

        Nothing is sent if they cannot all fit (:class:`TlaDeviceFull`)."""
        ...

    def fetch(self, key: str) -> StoredInvoice: ...

    def fetch_all(self) -> list[StoredInvoice]:
        """Every stored invoice in full, with its securing data. Changes nothing on the device."""
        ...

    def erase(self, keys: Iterable[str]) -> list[str]:
        """Erase these keys; returns those that were there (absent keys are no error)."""
        ...

    def erase_all(self) -> int:
        """Erase everything; returns how many invoices were erased."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None: ...


def _batches(items: Sequence[Any], sizes: Sequence[int], room: int) -> list[list[Any]]:
    """Greedy split so that each batch's encoded size (sum of *sizes* + commas) fits in *room*."""
    batches: list[list[Any]] = []
    current: list[Any] = []
    used = 0
    for item, size in zip(items, sizes, strict=True):
        if current and used + size + 1 > room:
            batches.append(current)
            current, used = [], 0
        current.append(item)
        used += size + 1
    if current:
        batches.append(current)
    return batches


class CommandReader(ABC):
    """:class:`PortableReader` on top of :meth:`_call`.

    *versions* are the protocol versions the desk offers at IDENTIFY (default: every version
    this software speaks); the device picks the highest one both speak.
    """

    def __init__(self, versions: Sequence[int] = PROTOCOL_VERSIONS) -> None:
        self._identity: DeviceIdentity | None = None
        self.versions = tuple(sorted(set(versions)))
        unknown = [v for v in self.versions if v not in PROTOCOL_VERSIONS]
        if not self.versions or unknown:
            raise ValueError(f"unsupported protocol versions: {list(versions)}")

    @abstractmethod
    def _call(self, command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        """Send one command and return the decoded answer; raise the device's error as a
        :class:`~tuibill.hardware.tla.errors.TlaDeviceError`."""

    @property
    def protocol_version(self) -> int:
        """The version in use: the base version until IDENTIFY has negotiated one."""
        return self._identity.protocol_version if self._identity else BASE_VERSION

    def _session(self) -> DeviceIdentity:
        return self._identity or self.identify()

    def _request(self, command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        self._session()  # negotiate the version before the first real command
        return self._call(command, payload)

    def _room(self) -> int:
        """Payload bytes available for a request, minus a margin for the JSON envelope."""
        return min(self._session().max_payload, MAX_PAYLOAD) - 32

    def identify(self) -> DeviceIdentity:
        identity = DeviceIdentity.from_payload(
            self._call(Command.IDENTIFY, identify_request(self.versions))
        )
        if identity.protocol_version not in self.versions:
            raise TlaProtocolError(
                f"Le lecteur portable a choisi la version de protocole "
                f"{identity.protocol_version}, que ce logiciel ne parle pas."
            )
        self._identity = identity
        return identity

    def get_clock(self) -> datetime:
        return parse_clock(self._request(Command.GET_CLOCK, {}))

    def set_clock(self, when: datetime | None = None) -> datetime:
        return parse_clock(self._request(Command.SET_CLOCK, clock_payload(when or datetime.now())))

    def contents(self) -> list[InvoiceSummary]:
        invoices: list[InvoiceSummary] = []
        start = 0
        while True:
            page = ListPage.from_payload(self._request(Command.LIST, list_request(start)))
            invoices.extend(page.invoices)
            if page.next is None:
                return invoices
            if page.next <= start:  # a device that does not move forward would loop for ever
                raise TlaProtocolError("Liste du lecteur portable incohérente (page sans fin).")
            start = page.next

    def load(self, invoices: Sequence[InvoiceToLoad]) -> list[str]:
        keys = [invoice.key for invoice in invoices]
        doubles = sorted(key for key, count in Counter(keys).items() if count > 1)
        if doubles:
            raise ValidationError(
                f"Facture(s) en double dans le chargement : {', '.join(doubles)}."
            )
        if not invoices:
            return []
        identity = self._session()
        room = self._room()
        largest = room - invoice_reserve(identity.protocol_version)
        sizes = [len(encode_payload(invoice.to_payload())) for invoice in invoices]
        for invoice, size in zip(invoices, sizes, strict=True):
            if size > largest:
                raise TlaError(
                    f"Facture « {invoice.key} » trop volumineuse pour le lecteur portable "
                    f"({size} octets, {largest} au plus)."
                )
        # Refuse before sending anything rather than leave half of the invoices loaded.
        present = {summary.key for summary in self.contents()}
        new = [key for key in keys if key not in present]
        if len(present) + len(new) > identity.capacity:
            raise device_error(
                ErrorCode.DEVICE_FULL,
                {"capacity": identity.capacity, "stored": len(present), "requested": len(new)},
            )
        for batch in _batches(invoices, sizes, room):
            answer = LoadAnswer.from_payload(self._request(Command.LOAD, load_request(batch)))
            acknowledged = set(answer.stored) | set(answer.already) | set(answer.replaced)
            if acknowledged != {invoice.key for invoice in batch}:
                raise TlaProtocolError(
                    "Le lecteur portable n'a pas acquitté exactement les factures envoyées."
                )
        return keys

    def fetch(self, key: str) -> StoredInvoice:
        answer = self._request(Command.FETCH, fetch_request(key))
        invoice = StoredInvoice.from_payload(answer, self.protocol_version)
        if invoice.key != key:
            raise TlaProtocolError(
                f"Le lecteur portable a renvoyé la facture « {invoice.key} » au lieu de « {key} »."
            )
        return invoice

    def fetch_all(self) -> list[StoredInvoice]:
        return [self.fetch(summary.key) for summary in self.contents()]

    def erase(self, keys: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(keys))  # once each, order kept
        if not wanted:
            return []
        sizes = [len(key) + 2 for key in wanted]  # quotes
        erased: list[str] = []
        for batch in _batches(wanted, sizes, self._room()):
            answer = EraseAnswer.from_payload(self._request(Command.ERASE, erase_request(batch)))
            if set(answer.erased) | set(answer.absent) != set(batch):
                raise TlaProtocolError(
                    "Le lecteur portable n'a pas acquitté exactement les factures à effacer."
                )
            erased.extend(answer.erased)
        return erased

    def erase_all(self) -> int:
        return parse_erased_count(self._request(Command.ERASE_ALL, {}))

    @abstractmethod
    def close(self) -> None:
        """Release the line (the reader cannot be used afterwards)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class EmulatedPortableReader(CommandReader):
    """The emulated device called in-process: no serial port at all, same semantics.

    Every payload still goes through JSON both ways, so what the desk sends must be exactly what
    would travel on a line, in the version the session negotiated. ``device`` is exposed for the
    demo's "secure at the patient's home"; *desk_versions* are the versions the desk offers,
    ``versions`` (a device option) those the device speaks.
    """

    def __init__(
        self,
        state_file: str | Path | None = None,
        *,
        desk_versions: Sequence[int] = PROTOCOL_VERSIONS,
        **device_options: Any,
    ) -> None:
        from tuibill.hardware.tla.emulator import TlaDevice

        super().__init__(desk_versions)
        self.device = TlaDevice(state_file, **device_options)

    def _call(self, command: Command, payload: dict[str, Any]) -> dict[str, Any]:
        version = BASE_VERSION if command is Command.IDENTIFY else self.protocol_version
        answer = self.device.execute(command, decode_payload(encode_payload(payload)), version)
        return decode_payload(encode_payload(answer))

    def close(self) -> None:
        """No line to release: the state is saved after every command."""
