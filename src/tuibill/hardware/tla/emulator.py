"""A portable reader (TLA) emulator: the device itself (its frame layer and the lines that serve
it are in :mod:`tuibill.hardware.tla.emulator_server`).

- :class:`TlaDevice` is the device's logic: identity, clock, capacity, stored invoices, and
  "secure at the patient's home". With a state file, every command reads and writes that file
  under a lock, so the device survives restarts and ``tuibill emulate tla secure`` can change it
  while the emulator is serving. Securing goes through the card layer: the emulated CPS or CPE
  (``emulator_cards.demo_cps`` / ``demo_cpe``, real RSA keys) is inserted in the device's own
  slot and, in protocol version 2, signs the content's signing payload.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from tuibill.hardware.cards import CardError, CpsHolder, EmulatedCardReader, Signature
from tuibill.hardware.cards.emulated_backend import EmulatedSlots
from tuibill.hardware.cards.emulator_cards import CpsCard, demo_cpe, demo_cps
from tuibill.hardware.tla.errors import (
    TlaEmulatorError,
)
from tuibill.hardware.tla.protocol import (
    BASE_VERSION,
    LATEST_VERSION,
    PROTOCOL_VERSIONS,
    SIGNING_VERSION,
    CardType,
    Command,
    DeviceIdentity,
    DeviceInvoiceState,
    EraseAnswer,
    ErrorCode,
    InvoiceToLoad,
    ListPage,
    LoadAnswer,
    PayloadError,
    Securing,
    StoredInvoice,
    clock_payload,
    content_signing_payload,
    device_error,
    encode_payload,
    invoice_reserve,
    parse_clock,
    parse_request_invoices,
    parse_request_key,
    parse_request_keys,
    parse_request_start,
    parse_request_versions,
    securing_state,
)

# 2: the securing data of protocol version 2 (PS number, signature). Format 1 is still read.
STATE_FORMAT = 2
DEFAULT_MODEL = "TLA émulé tuibill"
DEFAULT_FIRMWARE = "1.0.0"
DEFAULT_CAPACITY = 50
# Room for a month of daily acts: in version 2 each act line travels twice in LOAD (readable in
# "acts", and as a 128-character record of the signing payload, in base64).
DEFAULT_MAX_PAYLOAD = 32768
# The emulated cards' PIN (emulator_cards), typed on the device at the patient's home.
DEVICE_PIN = "1234"
DEVICE_SLOT = "Lecteur de carte du TLA émulé"


def default_state_file() -> Path:
    """Where the in-process emulated reader (``devices.tla_url = "emulated"``) keeps its memory."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("tuibill")) / "tla-emule.json"


@dataclass
class _State:
    model: str
    serial: str
    firmware: str
    capacity: int
    clock_offset: float = 0.0  # seconds between the device clock and the host's
    generation: int = 0  # +1 at every change: a cached answer is replayed only if unchanged
    invoices: dict[str, StoredInvoice] = field(default_factory=dict)  # loading order
    dirty: bool = False

    def now(self) -> datetime:
        return (datetime.now() + timedelta(seconds=self.clock_offset)).replace(microsecond=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "model": self.model,
            "serial": self.serial,
            "firmware": self.firmware,
            "capacity": self.capacity,
            "clock_offset": self.clock_offset,
            "generation": self.generation,
            "invoices": [invoice.to_payload(LATEST_VERSION) for invoice in self.invoices.values()],
        }

    @classmethod
    def from_json(cls, data: Any) -> _State:
        if not isinstance(data, dict) or data.get("format") not in (1, STATE_FORMAT):
            raise ValueError(f"format 1 ou {STATE_FORMAT} attendu")
        # A format-1 memory was written before version 2: no PS number, no signature.
        version = LATEST_VERSION if data["format"] == STATE_FORMAT else BASE_VERSION
        invoices = [StoredInvoice.from_payload(item, version) for item in data["invoices"]]
        return cls(
            model=str(data["model"]),
            serial=str(data["serial"]),
            firmware=str(data["firmware"]),
            capacity=int(data["capacity"]),
            clock_offset=float(data["clock_offset"]),
            generation=int(data["generation"]),
            invoices={invoice.key: invoice for invoice in invoices},
        )


class DeviceCardSlot:
    """The device's own card slot: the CPS or CPE used at the patient's home, driven through the
    card layer (real APDUs to an emulated card with a real RSA key).

    The cards are the demo ones (``demo_cps()``, ``demo_cpe()``), with another holder name or
    PS number when asked; each keeps its PIN counter for the device's lifetime.
    """

    def __init__(self) -> None:
        self._reader = EmulatedCardReader(state=EmulatedSlots(names=(DEVICE_SLOT,)))
        self._cards: dict[tuple[CardType, str | None, str | None], CpsCard] = {}

    def card(self, card: CardType, signer: str | None, ps_number: str | None) -> CpsCard:
        wanted = (card, signer, ps_number)
        if wanted not in self._cards:
            options = {"name": signer, "ps_number": ps_number}
            make = demo_cps if card is CardType.CPS else demo_cpe
            try:
                self._cards[wanted] = make(**{k: v for k, v in options.items() if v})
            except UnicodeEncodeError:
                raise TlaEmulatorError(
                    f"Carte {card.value} : le porteur et le n° de PS s'écrivent en caractères "
                    f"Latin-1 (« {signer or ''} {ps_number or ''} »)."
                ) from None
        return self._cards[wanted]

    def use(
        self,
        card: CardType,
        signer: str | None,
        ps_number: str | None,
        pin: str,
        payload: bytes | None,
    ) -> tuple[CpsHolder, Signature | None]:
        """Insert the card, read its holder and, if there is something to sign, sign it (the
        PIN typed on the device); the card is taken out afterwards."""
        self._reader.insert(self.card(card, signer, ps_number), slot=0)
        try:
            holder = self._reader.read_cps_holder()
            signature = None if payload is None else self._reader.sign(payload, pin=pin)
        except CardError as error:
            raise TlaEmulatorError(f"Carte {card.value} du lecteur portable : {error}") from None
        finally:
            self._reader.remove(0)
        return holder, signature


def _new_state(capacity: int | None) -> _State:
    return _State(
        model=DEFAULT_MODEL,
        serial=f"EMU{secrets.randbelow(10**7):07d}",
        firmware=DEFAULT_FIRMWARE,
        capacity=DEFAULT_CAPACITY if capacity is None else capacity,
    )


class TlaDevice:
    """The device's logic, commands in and answers out as JSON-ready dicts.

    Refusals are raised as :class:`TlaDeviceError` built by
    :func:`~tuibill.hardware.tla.protocol.device_error`: exactly what the desk's client raises
    when the same refusal arrives in an error frame.
    """

    def __init__(
        self,
        state_file: str | Path | None = None,
        *,
        capacity: int | None = None,
        max_payload: int = DEFAULT_MAX_PAYLOAD,
        versions: Iterable[int] = PROTOCOL_VERSIONS,
        auto_secure: Iterable[str] | None = None,
        auto_secure_all: bool = False,
        auto_card: CardType = CardType.CPS,
        auto_signer: str | None = None,
        auto_ps_number: str | None = None,
        pin: str = DEVICE_PIN,
    ) -> None:
        if capacity is not None and capacity < 0:
            raise ValueError("capacity must be >= 0")
        self.state_file = Path(state_file) if state_file is not None else None
        self.max_payload = max_payload
        self.versions = tuple(sorted(versions))
        # A device that speaks version 2 signs what the desk gives it to sign.
        self.signs = max(self.versions, default=BASE_VERSION) >= SIGNING_VERSION
        # "Secured at the patient's home" as soon as loaded: for demos and end-to-end tests.
        self.auto_secure = set(auto_secure or ())
        self.auto_secure_all = auto_secure_all
        self.auto_card = auto_card
        self.auto_signer = auto_signer
        self.auto_ps_number = auto_ps_number
        self.pin = pin
        self.card_slot = DeviceCardSlot()
        self.executed: Counter[Command] = Counter()  # commands really executed (not replayed)
        self._lock = threading.RLock()
        # Without a file, the state lives as JSON too: every transaction starts from a fresh copy,
        # so a refused command leaves nothing half-changed, exactly as with a file.
        self._memory = None if self.state_file else _new_state(capacity).to_json()
        with self._transaction() as state:
            if capacity is not None and state.capacity != capacity:
                state.capacity = capacity
                state.dirty = True

    # --- State ----------------------------------------------------------------------------------

    @contextmanager
    def _transaction(self) -> Iterator[_State]:
        """The state, read afresh; written back (atomically) if a handler set ``dirty``."""
        with self._lock:
            if self.state_file is None:
                state = _State.from_json(self._memory)
                yield state
                if state.dirty:
                    state.generation += 1
                    self._memory = state.to_json()
                return
            import fcntl

            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self.state_file.with_name(self.state_file.name + ".lock")
            with open(lock_path, "a") as lock:
                # Another process (« tuibill emulate tla secure ») may change the file meanwhile.
                fcntl.flock(lock, fcntl.LOCK_EX)
                state = self._read()
                yield state
                if state.dirty:
                    state.generation += 1
                    self._write(state)

    def _read(self) -> _State:
        assert self.state_file is not None
        try:
            text = self.state_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            state = _new_state(None)
            state.dirty = True
            return state
        except OSError as error:
            raise TlaEmulatorError(
                f"Mémoire du lecteur émulé illisible ({self.state_file}) : {error}."
            ) from None
        try:
            return _State.from_json(json.loads(text))
        except (ValueError, KeyError, TypeError, PayloadError) as error:
            raise TlaEmulatorError(
                f"Mémoire du lecteur émulé illisible ({self.state_file}) : {error}."
            ) from None

    def _write(self, state: _State) -> None:
        assert self.state_file is not None
        # One temporary name per writer: two desks (or test workers) never share one.
        temporary = self.state_file.with_name(
            f"{self.state_file.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        )
        temporary.write_text(
            json.dumps(state.to_json(), ensure_ascii=False, indent=1), encoding="utf-8"
        )
        os.replace(temporary, self.state_file)  # never half a file, even if killed here

    @property
    def generation(self) -> int:
        with self._transaction() as state:
            return state.generation

    def stored(self) -> list[StoredInvoice]:
        with self._transaction() as state:
            return list(state.invoices.values())

    # --- At the patient's home ------------------------------------------------------------------

    def secure(
        self,
        keys: Iterable[str] | None,
        card: CardType = CardType.CPS,
        signer: str | None = None,
        ps_number: str | None = None,
    ) -> list[str]:
        """Secure invoices with a card, as done on the device at the patient's home.

        *keys* None: every invoice the card can still improve (loaded ones; semi-secured ones
        with a CPS). A CPS secures, a CPE semi-secures; a semi-secured invoice can be secured
        later with a CPS. Either all the keys are secured or none (French error).

        The card is the demo CPS or CPE (*signer* and *ps_number* change its holder); a device
        speaking version 2 has it sign each invoice's signing payload, when the content has one.
        """
        with self._transaction() as state:
            if keys is None:
                chosen = [k for k, inv in state.invoices.items() if self._improves(inv, card)]
            else:
                chosen = list(dict.fromkeys(keys))
                for key in chosen:
                    invoice = state.invoices.get(key)
                    if invoice is None:
                        raise TlaEmulatorError(f"Facture « {key} » absente du lecteur portable.")
                    if not self._improves(invoice, card):
                        raise TlaEmulatorError(
                            f"Facture « {key} » déjà {invoice.state.label.lower()} : "
                            f"la carte {card.value} n'y change rien."
                        )
            self._secure_in(state, chosen, card, signer, ps_number)
            return chosen

    @staticmethod
    def _improves(invoice: StoredInvoice, card: CardType) -> bool:
        return invoice.state is DeviceInvoiceState.LOADED or (
            invoice.state is DeviceInvoiceState.SEMI_SECURED and card is CardType.CPS
        )

    def _secure_in(
        self,
        state: _State,
        keys: list[str],
        card: CardType,
        signer: str | None,
        ps_number: str | None,
    ) -> None:
        now = state.now()
        for key in keys:
            old = state.invoices[key]
            try:
                payload = content_signing_payload(old.content) if self.signs else None
            except PayloadError as error:
                raise TlaEmulatorError(f"Facture « {key} » : {error}") from None
            holder, signature = self.card_slot.use(card, signer, ps_number, self.pin, payload)
            state.invoices[key] = StoredInvoice(
                key=old.key,
                number=old.number,
                state=securing_state(card),
                patient=old.patient,
                amount_cents=old.amount_cents,
                loaded_at=old.loaded_at,
                content=old.content,
                securing=Securing(now, card, holder.name, holder.ps_number, signature),
            )
            state.dirty = True

    # --- Commands -------------------------------------------------------------------------------

    def execute(
        self, command: int, payload: dict[str, Any], version: int | None = None
    ) -> dict[str, Any]:
        """Run one command received in a frame of *version* (default: the highest the device
        speaks). Raises :class:`TlaDeviceError` for a refusal."""
        handler = self._handlers.get(command)
        if handler is None:
            raise device_error(ErrorCode.UNKNOWN_COMMAND, {"command": command})
        if version is None:
            version = max(self.versions, default=BASE_VERSION)
        try:
            with self._transaction() as state:
                answer = handler(self, state, payload, version)
        except PayloadError as error:
            raise device_error(ErrorCode.BAD_PAYLOAD, {}, str(error)) from None
        self.executed[Command(command)] += 1
        return answer

    def _identify(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        common = set(parse_request_versions(payload)) & set(self.versions)
        if not common:
            raise device_error(ErrorCode.UNSUPPORTED_VERSION, {"supported": list(self.versions)})
        return DeviceIdentity(
            model=state.model,
            serial=state.serial,
            firmware=state.firmware,
            protocol_version=max(common),
            protocol_versions=self.versions,
            capacity=state.capacity,
            stored=len(state.invoices),
            max_payload=self.max_payload,
        ).to_payload()

    def _get_clock(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        return clock_payload(state.now())

    def _set_clock(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        wanted = parse_clock(payload)
        state.clock_offset = (wanted - datetime.now()).total_seconds()
        state.dirty = True
        return clock_payload(state.now())

    def _list(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        start = parse_request_start(payload)
        summaries = [invoice.summary for invoice in state.invoices.values()]
        page, used = [], 64  # room for {"total":…,"next":…,"invoices":[]}
        position = start
        while position < len(summaries):
            size = len(encode_payload(summaries[position].to_payload())) + 1
            if page and used + size > self.max_payload:
                break
            page.append(summaries[position])
            used += size
            position += 1
        following = position if position < len(summaries) else None
        return ListPage(len(summaries), page, following).to_payload()

    def _load(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        invoices = parse_request_invoices(payload)
        keys = [invoice.key for invoice in invoices]
        doubles = sorted(key for key, count in Counter(keys).items() if count > 1)
        if doubles:
            raise PayloadError(f"clé(s) en double dans la requête : {', '.join(doubles)}")
        largest = self.max_payload - invoice_reserve(version)
        for invoice in invoices:
            if len(encode_payload(invoice.to_payload())) > largest:
                raise PayloadError(f"facture « {invoice.key} » trop volumineuse")
        # Checked before anything is stored: a LOAD is all or nothing.
        conflicts = [
            invoice.key
            for invoice in invoices
            if (old := state.invoices.get(invoice.key)) is not None
            and old.state is not DeviceInvoiceState.LOADED
            and not old.same_content(invoice)
        ]
        if conflicts:
            raise device_error(ErrorCode.CONFLICT, {"keys": conflicts})
        new = [key for key in keys if key not in state.invoices]
        if len(state.invoices) + len(new) > state.capacity:
            raise device_error(
                ErrorCode.DEVICE_FULL,
                {"capacity": state.capacity, "stored": len(state.invoices), "requested": len(new)},
            )
        answer = LoadAnswer([], [], [], 0)
        now = state.now()
        for invoice in invoices:
            old = state.invoices.get(invoice.key)
            if old is not None and (
                old.state is not DeviceInvoiceState.LOADED or old.same_content(invoice)
            ):
                answer.already.append(invoice.key)
                continue
            (answer.stored if old is None else answer.replaced).append(invoice.key)
            state.invoices[invoice.key] = _stored(invoice, now)
            state.dirty = True
        auto = [
            key
            for key in answer.stored + answer.replaced
            if self.auto_secure_all or key in self.auto_secure
        ]
        self._secure_in(state, auto, self.auto_card, self.auto_signer, self.auto_ps_number)
        return LoadAnswer(
            answer.stored, answer.already, answer.replaced, state.capacity - len(state.invoices)
        ).to_payload()

    def _fetch(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        key = parse_request_key(payload)
        invoice = state.invoices.get(key)
        if invoice is None:
            raise device_error(ErrorCode.NOT_FOUND, {"key": key})
        return invoice.to_payload(version)

    def _erase(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        answer = EraseAnswer([], [])
        for key in dict.fromkeys(parse_request_keys(payload)):
            if state.invoices.pop(key, None) is None:
                answer.absent.append(key)
            else:
                answer.erased.append(key)
                state.dirty = True
        return answer.to_payload()

    def _erase_all(self, state: _State, payload: dict[str, Any], version: int) -> dict[str, Any]:
        count = len(state.invoices)
        if count:
            state.invoices.clear()
            state.dirty = True
        return {"erased": count}

    _handlers: dict[int, Callable[[TlaDevice, _State, dict[str, Any], int], dict[str, Any]]] = {
        Command.IDENTIFY: _identify,
        Command.GET_CLOCK: _get_clock,
        Command.SET_CLOCK: _set_clock,
        Command.LIST: _list,
        Command.LOAD: _load,
        Command.FETCH: _fetch,
        Command.ERASE: _erase,
        Command.ERASE_ALL: _erase_all,
    }


def _stored(invoice: InvoiceToLoad, now: datetime) -> StoredInvoice:
    return StoredInvoice(
        key=invoice.key,
        number=invoice.number,
        state=DeviceInvoiceState.LOADED,
        patient=invoice.patient,
        amount_cents=invoice.amount_cents,
        loaded_at=now,
        content=invoice.content,
    )


# --- Frame layer ----------------------------------------------------------------------------------


# --- Lines ----------------------------------------------------------------------------------------


