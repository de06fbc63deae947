"""A simulated caisse: receives lots by SMTP, answers ARLs into the practice's maildir.

Three layers, each usable alone:

* :class:`CaisseSimulator` — pure decisions: ``receive(raw mail)`` reads and identifies the
  lot, asks the scenario for answers and the responders for the mails; ``deliver`` puts
  mails into the maildir (stdlib ``mailbox.Maildir``, which dovecot can serve).
* the ARL responders (``positive``, ``negative``, ``silent``) and the NOEMIE return ones
  (:mod:`tuibill.simulator.returns`), registered in
  :data:`tuibill.simulator.scenarios.RESPONDERS` beside the kinds later work adds.
* :class:`SmtpCaisse` — a real SMTP server (aiosmtpd, optional extra ``simulator``) on
  127.0.0.1 that feeds ``receive`` and ``deliver``.
"""

from __future__ import annotations

import mailbox
from collections.abc import Callable, Iterable
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parseaddr
from pathlib import Path
from typing import cast

from tuibill.domain.errors import ConfigError
from tuibill.domain.returns import DEFAULT_RECYCLING_DAYS
from tuibill.formats import get_arl_codec
from tuibill.formats.arl import (
    ARL_REASONS,
    REASON_CHECKSUM,
    REASON_DUPLICATE,
    REASON_NO_ATTACHMENT,
    REASON_UNREADABLE,
    REASON_VERSION,
    fit_detail,
)
from tuibill.formats.codec import (
    Arl,
    ArlCodec,
    ArlStatus,
    CaisseCode,
    FseRecord,
    LotFile,
    LotFileCodec,
    LotHeader,
    file_checksum,
)
from tuibill.formats.errors import ChecksumError, FormatError, UnsupportedVersionError
from tuibill.formats.lot_file import TuibillLotCodec
from tuibill.formats.scor_lot import ScorLotCodec
from tuibill.simulator.scenarios import (
    NEGATIVE,
    POSITIVE,
    RESPONDERS,
    SILENT,
    Answer,
    CaisseState,
    Reception,
    ResponderContext,
    Scenario,
    check_answers,
    register_responder,
)
from tuibill.transport.envelopes import (
    LOT_REFERENCE_HEADER,
    build_arl_message,
    find_lot_attachment,
    parse_lot_attachment_name,
    parse_lot_reference,
)

SIMULATOR_HOST = "127.0.0.1"
SIMULATOR_DOMAIN = "simulateur.tuibill.invalid"
UNKNOWN_DESTINATION = CaisseCode("00", "000", "0000")


def caisse_address(code: CaisseCode) -> str:
    return f"caisse-{code.destination}@{SIMULATOR_DOMAIN}"


def _quiet(message: str) -> None:
    """Default log: the simulator says nothing unless given somewhere to say it."""


# --- ARL responders -------------------------------------------------------------------------


def _refusal(reception: Reception) -> tuple[str, str | None] | None:
    """The reason code and detail that make any ARL negative, whatever the scenario says."""
    if reception.data is None:
        return REASON_NO_ATTACHMENT, "Aucun fichier de lot joint au message."
    error = reception.error
    if error is None:
        return None
    if isinstance(error, ChecksumError):
        return REASON_CHECKSUM, fit_detail(str(error))
    if isinstance(error, UnsupportedVersionError):
        return REASON_VERSION, fit_detail(str(error))
    return REASON_UNREADABLE, fit_detail(str(error))


class ArlResponder:
    """Answers an ARL. A malformed or missing lot always gets a negative one with the reason;
    an identical lot already acknowledged positively gets « lot en double »."""

    def __init__(self, status: ArlStatus) -> None:
        self.status = status

    def check(self, answer: Answer) -> None:
        if self.status is ArlStatus.POSITIVE and answer.argument:
            raise ConfigError(f"« {answer} » : la réponse positive ne prend pas de motif.")
        if answer.argument and answer.argument not in ARL_REASONS:
            raise ConfigError(
                f"motif d'ARL « {answer.argument} » inconnu (possibles : {_reasons()})."
            )

    def respond(
        self, reception: Reception, answer: Answer, context: ResponderContext
    ) -> list[EmailMessage]:
        if not reception.identified:
            context.log(
                "  lot non identifiable (ni en-tête lisible, ni objet, ni pièce jointe nommée) : pas d'ARL"
            )
            return []
        refusal = _refusal(reception)
        detail = None
        if refusal is not None:
            code, detail = refusal
        elif self.status is ArlStatus.NEGATIVE:
            code = answer.argument or context.negative_reason
        elif reception.checksum in context.state.accepted:
            code = REASON_DUPLICATE
            detail = "Ce fichier a déjà reçu un ARL positif."
        else:
            code = None
            context.state.accepted.add(reception.checksum or "")
        arl = Arl(
            emitter=reception.destination,
            created_at=context.now().replace(microsecond=0, tzinfo=None),
            sender_id=reception.sender_id,
            practitioner_am=reception.practitioner_am or "",
            lot_number=reception.lot_number or 0,
            lot_checksum=reception.checksum or file_checksum(b""),
            status=ArlStatus.POSITIVE if code is None else ArlStatus.NEGATIVE,
            reason_code=code,
            reason_label=None if code is None else ARL_REASONS[code],
            detail=detail,
        )
        data = context.arl_codec.write(arl)
        if code is None:
            context.log("  → ARL positif")
        else:
            context.log(f"  → ARL négatif {code} « {ARL_REASONS[code]} »")
        message = build_arl_message(
            data,
            arl,
            sender=caisse_address(reception.destination),
            recipient=reception.reply_to,
            sent_at=context.now(),
            in_reply_to=reception.message_id,
        )
        return [message]


class SilentResponder:
    """No answer at all: the practice's ARL time-out (48 h) will have to notice."""

    def check(self, answer: Answer) -> None:
        if answer.argument:
            raise ConfigError(f"« {answer} » : le silence ne prend pas d'argument.")

    def respond(
        self, reception: Reception, answer: Answer, context: ResponderContext
    ) -> list[EmailMessage]:
        context.log("  → pas de réponse (silence)")
        return []


def _reasons() -> str:
    return ", ".join(f"{code} {label}" for code, label in ARL_REASONS.items())


register_responder(POSITIVE, ArlResponder(ArlStatus.POSITIVE))
register_responder(NEGATIVE, ArlResponder(ArlStatus.NEGATIVE))
register_responder(SILENT, SilentResponder())
# The NOEMIE return kinds (paiement, rejet…) register themselves on import.
from tuibill.simulator.returns import RETURN_KINDS, duplicate_return  # noqa: E402

# --- the simulator --------------------------------------------------------------------------


class CaisseLotReader:
    """What the simulated caisse reads: FSE lots, and SCOR lots (a ZIP: « PK » magic) as a
    header without FSE, so that a SCOR lot is acknowledged like any lot."""

    name = "tuibill-caisse"

    def write(self, lot: LotFile) -> bytes:
        return TuibillLotCodec().write(lot)

    def signing_payload(self, fse: FseRecord) -> bytes:
        return TuibillLotCodec().signing_payload(fse)

    def read(self, data: bytes) -> LotFile:
        if not bytes(data).startswith(b"PK"):
            return TuibillLotCodec().read(data)
        header = ScorLotCodec().read(data).header
        return LotFile(
            header=LotHeader(
                sender_id=header.sender_id,
                sender_name=header.sender_name,
                practitioner_am=header.practitioner_am,
                destination=header.destination,
                lot_number=header.lot_number,
                created_at=header.created_at,
                software_name="tuibill",
                software_version="SCOR",
            ),
            fses=(),
        )


class CaisseSimulator:
    """Reads the lots it receives and answers them, per scenario, into a maildir."""

    def __init__(
        self,
        outbox: str | Path,
        scenario: Scenario,
        *,
        negative_reason: str = REASON_UNREADABLE,
        lot_codec: LotFileCodec | None = None,
        arl_codec: ArlCodec | None = None,
        clock: Callable[[], datetime] = datetime.now,
        log: Callable[[str], None] = _quiet,
        recycling_days: int = DEFAULT_RECYCLING_DAYS,
    ) -> None:
        if negative_reason not in ARL_REASONS:
            raise ConfigError(
                f"motif d'ARL « {negative_reason} » inconnu (possibles : {_reasons()})."
            )
        check_answers(scenario.all_answers())
        try:
            folder = Path(outbox).expanduser()
            folder.parent.mkdir(parents=True, exist_ok=True)
            self.maildir = mailbox.Maildir(folder, create=True)
            # An existing folder that is not a maildir yet gets its parts now: Maildir(create=
            # True) only makes them for a folder it creates, and add() would fail later.
            for part in ("tmp", "new", "cur"):
                (folder / part).mkdir(exist_ok=True)
        except OSError as error:
            raise ConfigError(
                f"dossier de réponses « {outbox} » inutilisable ({error.strerror or error})."
            ) from None
        self.outbox = Path(outbox).expanduser()
        self.scenario = scenario
        self.lot_codec = lot_codec or CaisseLotReader()
        self.state = CaisseState()
        self.clock = clock
        self.log = log
        self.recycling_days = recycling_days
        self.context = ResponderContext(
            now=clock,
            state=self.state,
            arl_codec=arl_codec or get_arl_codec(),
            negative_reason=negative_reason,
            log=log,
        )

    def read(self, raw: bytes, envelope_sender: str = "") -> Reception:
        """Parse a received mail, read its lot strictly and work out which lot it is."""
        # policy.default gives an EmailMessage (iter_attachments, decoded headers).
        message = cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))
        subject = str(message.get("Subject", ""))
        found = find_lot_attachment(message)
        name, data = found if found else (None, None)
        lot = error = None
        if data is not None:
            try:
                lot = self.lot_codec.read(data)
            except FormatError as exc:
                error = exc

        # The lot's own header identifies it best; an unreadable lot is identified by the
        # mail's conventions (X-Tuibill-Lot header, subject, attachment name), in that order.
        am = number = sender_id = None
        destination = UNKNOWN_DESTINATION
        if lot is not None:
            header = lot.header
            am, number, sender_id = header.practitioner_am, header.lot_number, header.sender_id
            destination = header.destination
        else:
            reference = parse_lot_reference(str(message.get(LOT_REFERENCE_HEADER, ""))) or (
                parse_lot_reference(subject)
            )
            if reference is not None:
                am, number, code = reference
                destination = CaisseCode(code[:2], code[2:], "0000")
            else:
                named = parse_lot_attachment_name(name or "")
                if named is not None:
                    am, number = named

        if number is not None and not 1 <= number <= 999:  # « 000 » names no lot
            am = number = None
        sequence = 0
        if am is not None and number is not None:
            self.state.receptions[(am, number)] += 1
            sequence = self.state.receptions[(am, number)]
        # A DRE lot carries the numbers of FSE already sent: no duplicates there.
        duplicates = (
            self._duplicates(lot) if lot is not None and lot.header.kind != "DRE" else frozenset()
        )
        reply_to = parseaddr(str(message.get("From", "")))[1] or envelope_sender
        return Reception(
            received_at=self.clock(),
            reply_to=reply_to or f"cabinet@{SIMULATOR_DOMAIN}",
            message_id=str(message.get("Message-ID", "")) or None,
            subject=subject,
            attachment_name=name,
            data=data,
            checksum=None if data is None else file_checksum(data),
            lot=lot,
            error=error,
            practitioner_am=am,
            lot_number=number,
            sender_id=sender_id,
            destination=destination,
            sequence=sequence,
            duplicates=duplicates,
        )

    def _duplicates(self, lot: LotFile) -> frozenset[int]:
        """The concentrator's check (seed 002): an FSE number already received in another lot
        less than *recycling_days* ago is refused unless the caisse rejected it or it was
        recycled since; an accepted one is remembered (and its recycling used up)."""
        am, number, now = lot.header.practitioner_am, lot.header.lot_number, self.clock()
        refused = set()
        for fse in lot.fses:
            key = (am, fse.invoice_number)
            seen = self.state.fse_seen.get(key)
            cleared = key in self.state.fse_rejected or key in self.state.fse_recycled
            if seen is not None and seen[0] != number and not cleared:
                if (now - seen[1]).days < self.recycling_days:
                    refused.add(fse.invoice_number)
                    continue
            if seen is None or seen[0] != number:
                self.state.fse_seen[key] = (number, now)
                self.state.fse_rejected.discard(key)
                self.state.fse_recycled.discard(key)
        return frozenset(refused)

    def recycle(self, practitioner_am: str, invoice_number: int) -> None:
        """The concentrator's portal: « recycler » an FSE so that its number may be re-sent."""
        self.state.fse_recycled.add((practitioner_am, invoice_number))

    def receive(self, raw: bytes, envelope_sender: str = "") -> list[EmailMessage]:
        """The answer mails for one received mail (not yet delivered)."""
        reception = self.read(raw, envelope_sender)
        self.log(_describe(reception))
        messages: list[EmailMessage] = []
        answers = self.scenario.answers_for(reception)
        for answer in answers:
            messages.extend(RESPONDERS[answer.kind].respond(reception, answer, self.context))
        if reception.duplicates and not any(a.kind in RETURN_KINDS for a in answers):
            # The duplicates are refused whatever the scenario says: a return of their own.
            messages.extend(duplicate_return(reception, self.context))
        return messages

    def deliver(self, messages: Iterable[EmailMessage]) -> None:
        for message in messages:
            self.maildir.add(message)

    def handle(self, raw: bytes, envelope_sender: str = "") -> list[EmailMessage]:
        """Receive and deliver at once: what the SMTP server does without ``--delay``."""
        messages = self.receive(raw, envelope_sender)
        self.deliver(messages)
        return messages


def _describe(reception: Reception) -> str:
    if reception.identified:
        what = f"lot {reception.lot_number:03d} du PS {reception.practitioner_am}"
        if reception.sequence > 1:
            what += f" ({reception.sequence}e envoi)"
    else:
        what = f"message « {reception.subject} »"
    if reception.lot is not None:
        return f"Reçu : {what}, {len(reception.lot.fses)} FSE."
    if reception.data is None:
        return f"Reçu : {what}, sans fichier de lot joint."
    return f"Reçu : {what}, refusé par le lecteur : {reception.error}"


# --- the SMTP server ------------------------------------------------------------------------


class _Handler:
    """aiosmtpd handler: one DATA command, one received mail."""

    def __init__(self, simulator: CaisseSimulator, delay: float) -> None:
        self.simulator = simulator
        self.delay = delay

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        import asyncio

        content = getattr(envelope, "content", b"")
        raw = content if isinstance(content, bytes) else str(content).encode("utf-8")
        try:
            messages = self.simulator.receive(raw, getattr(envelope, "mail_from", "") or "")
        except Exception as error:  # a simulator bug must show, not hang the sender
            self.simulator.log(f"Erreur du simulateur : {error!r}")
            return "451 4.3.0 Erreur interne du simulateur"
        if self.delay > 0:
            asyncio.get_running_loop().call_later(self.delay, self._deliver, messages)
            return "250 2.0.0 Lot reçu"
        if not self._deliver(messages):
            return "451 4.3.0 Réponse impossible à déposer : renvoyez plus tard"
        return "250 2.0.0 Lot reçu"

    def _deliver(self, messages: list) -> bool:
        """Deliver the answers; a failure is logged and answered, never left to break the
        SMTP session (the next lots' answers must not be lost)."""
        try:
            self.simulator.deliver(messages)
        except Exception as error:  # the outbox vanished, a full disk…
            self.simulator.log(f"Erreur du simulateur au dépôt des réponses : {error!r}")
            return False
        return True


def _accept_any_login(
    server: object, session: object, envelope: object, mechanism: str, data: object
) -> object:
    """The simulator accepts any user and password: the practice's SMTP settings just work."""
    from aiosmtpd.smtp import AuthResult

    return AuthResult(success=True)


class SmtpCaisse:
    """The simulator behind a real SMTP server on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, simulator: CaisseSimulator, *, port: int = 2525, delay: float = 0.0) -> None:
        self.simulator = simulator
        self.requested_port = port
        self.delay = delay
        self._controller = None

    @property
    def port(self) -> int:
        return self._controller.port if self._controller is not None else self.requested_port

    def start(self) -> None:
        """Listen; raises ConfigError without aiosmtpd, OSError if the port is taken."""
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            raise ConfigError(
                "le simulateur a besoin du paquet aiosmtpd (dépendance de tuibill) : réinstallez tuibill."
            ) from None

        class _Controller(Controller):
            def _trigger_server(self) -> None:
                # With port 0 the system picks the port: read it back before aiosmtpd's self-test.
                if self.server is not None and self.server.sockets:
                    self.port = self.server.sockets[0].getsockname()[1]
                super()._trigger_server()

        if self.requested_port:
            # Fail at once on a taken port (aiosmtpd would first wait for its ready time-out).
            import socket

            socket.create_server((SIMULATOR_HOST, self.requested_port)).close()
        controller = _Controller(
            _Handler(self.simulator, self.delay),
            hostname=SIMULATOR_HOST,
            port=self.requested_port,
            server_hostname=SIMULATOR_DOMAIN,
            authenticator=_accept_any_login,
            auth_require_tls=False,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop listening; answers still waiting for their ``delay`` are dropped."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpCaisse:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
