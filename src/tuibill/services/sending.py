"""Sending lots by SMTP, one mail per lot, each sending recorded before and after.

Before: the lot goes « En cours » with ``send_started_at`` and the mail's Message-ID, and that
is *committed* before the server is asked. After: « Transmis » with ``sent_at``, in a second
transaction, together with its invoices « Transmise ». A crash between the two leaves the lot
« En cours »: listed as uncertain for a person to decide (``lots.resolve_uncertain``), never
re-sent silently and never lost. A server that cannot be reached leaves the lot as it was, with
the error noted on it, to retry; a server that refuses the message puts it back where it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from tuibill.config import TransmissionSettings
from tuibill.domain.errors import ConfigError, RefusedOperation
from tuibill.domain.lots import SENDABLE_STATES, LotAction, LotState, next_state
from tuibill.formats.errors import FormatError
from tuibill.models import Lot
from tuibill.models.database import immediate
from tuibill.services import lifecycle, lot_views
from tuibill.services import lots as lot_service
from tuibill.services.lot_views import LotSummary, get_lot, summarize
from tuibill.services.practice import get_practice
from tuibill.transport.envelopes import LotEnvelope, build_lot_message
from tuibill.transport.smtp import (
    SmtpRefused,
    SmtpSession,
    SmtpUnavailable,
    SmtpUncertain,
    mail_password,
)

SENT = "sent"  # accepted by the server: Transmis
FAILED = "failed"  # not sent (server down, refused): state as before, error noted
UNCERTAIN = "uncertain"  # connection lost mid-way: En cours, a person decides
NOT_CONFIGURED = "config"  # no address for the caisse: not tried

OUTCOME_LABELS = {
    SENT: "Transmis",
    FAILED: "Non envoyé",
    UNCERTAIN: "Envoi incertain",
    NOT_CONFIGURED: "Non envoyé (configuration)",
}


@dataclass(frozen=True)
class SendOutcome:
    lot: LotSummary  # as it is after the attempt
    status: str  # SENT / FAILED / UNCERTAIN / NOT_CONFIGURED
    message: str  # French: what happened, what to do

    @property
    def status_label(self) -> str:
        return OUTCOME_LABELS[self.status]

    def as_dict(self) -> dict:
        return {
            "lot": self.lot.as_dict(),
            "resultat": self.status_label,
            "resultat_code": self.status,
            "message": self.message,
        }


@dataclass(frozen=True)
class SendReport:
    outcomes: tuple[SendOutcome, ...] = ()
    uncertain: tuple[LotSummary, ...] = field(default_factory=tuple)  # all lots « En cours »

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    @property
    def all_sent(self) -> bool:
        return all(outcome.status == SENT for outcome in self.outcomes)

    def as_dict(self) -> dict:
        return {
            "envois": [outcome.as_dict() for outcome in self.outcomes],
            "en_cours": [lot.as_dict() for lot in self.uncertain],
        }


def sender_address(settings: TransmissionSettings) -> str:
    """The From of lot mails: ``transmission.smtp.sender``, else the practice's e-mail."""
    if settings.smtp.sender:
        return settings.smtp.sender
    practice = get_practice()
    if practice is not None and practice.email:
        return practice.email
    raise ConfigError(
        "adresse d'expéditeur des lots absente (ni ici, ni e-mail du cabinet) : c'est à elle que "
        "les caisses répondent les ARL.",
        key="transmission.smtp.sender",
    )


def caisse_address(settings: TransmissionSettings, destination: str) -> str:
    """The lot address of a caisse, or ConfigError naming ``transmission.caisses`` and the code."""
    address = settings.caisses.get(destination)
    if not address:
        raise ConfigError(
            f"pas d'adresse d'envoi des lots pour la caisse « {destination} » : ajoutez "
            f'« "{destination}" = "adresse@caisse" » dans [transmission.caisses].',
            key="transmission.caisses",
        )
    return address


def _message(lot: Lot, sender: str, recipient: str, at: datetime, message_id: str) -> EmailMessage:
    # Addressed from the lot's row: its file is sent as it is, never read back.
    envelope = LotEnvelope(
        lot.practitioner.am_number, lot.number, lot.destination, lot.kind, lot.file_name
    )
    return build_lot_message(
        bytes(lot.file_bytes or b""),
        envelope,
        sender=sender,
        recipient=recipient,
        sent_at=at,
        message_id=message_id,
    )


def _to_send(lot_ids: Sequence[int] | None) -> list[Lot]:
    if lot_ids is None:
        ids = [summary.id for summary in lot_views.lots_to_send()]
    else:
        ids = list(dict.fromkeys(lot_ids))
    found = []
    for lot_id in ids:
        lot = get_lot(lot_id)
        state = LotState(lot.state)
        if state not in SENDABLE_STATES:
            raise RefusedOperation(
                f"Le lot {lot.number:03d} est à l'état « {state.label} » : seuls les lots "
                "« À transmettre » et ceux à renvoyer après un ARL négatif partent."
            )
        next_state(state, LotAction.START_SENDING, send_count=lot.send_count)
        found.append(lot)
    # An FSE lot before the SCOR lot of its pieces, oldest first.
    return sorted(found, key=lambda lot: (lot.created_at, lot.id))


def send_lots(
    settings: TransmissionSettings,
    *,
    user: str,
    lot_ids: Sequence[int] | None = None,
    now: datetime | None = None,
    on_accepted: Callable[[Lot], None] | None = None,
) -> SendReport:
    """Send *lot_ids*, or every lot to send (new ones and the re-sendings due).

    ``on_accepted`` is called after the server accepted a lot's mail and before that is
    recorded: the tests raise there to play a crash. Raises ConfigError when the SMTP
    settings are incomplete (sender, password); a caisse without address is reported per lot.
    """
    at = lifecycle.current_time(now)
    lots = _to_send(lot_ids)
    outcomes: list[SendOutcome] = []
    ready: list[tuple[Lot, str]] = []
    for lot in lots:
        try:
            ready.append((lot, caisse_address(settings, lot.destination)))
        except ConfigError as error:
            lot_service.note_error(lot.id, str(error), at=at)
            outcomes.append(_outcome(lot.id, NOT_CONFIGURED, str(error)))
    if ready:
        sender = sender_address(settings)
        password = mail_password(
            settings.smtp.user, settings.smtp.password_env, "transmission.smtp"
        )
        session = SmtpSession(settings.smtp, password=password)
        try:
            session.open()
        except SmtpUnavailable as error:
            # Nothing went out: each lot stays as it was, the error noted on it, to retry.
            for lot, _ in ready:
                lot_service.note_error(lot.id, str(error), at=at)
                outcomes.append(_outcome(lot.id, FAILED, str(error)))
        else:
            with session:
                for index, (lot, recipient) in enumerate(ready):
                    outcome = _send_one(session, lot, sender, recipient, user, at, on_accepted)
                    outcomes.append(outcome)
                    if not session.connected:
                        # The connection is gone: the next lots stay as they are, to retry.
                        why = "Connexion au serveur d'envoi perdue : lot non tenté, à renvoyer."
                        for later, _ in ready[index + 1 :]:
                            lot_service.note_error(later.id, why, at=at)
                            outcomes.append(_outcome(later.id, FAILED, why))
                        break
    uncertain = tuple(lot_views.list_lots([LotState.EN_COURS]))
    return SendReport(outcomes=tuple(outcomes), uncertain=uncertain)


def _outcome(lot_id: int, status: str, message: str) -> SendOutcome:
    return SendOutcome(lot=summarize(get_lot(lot_id)), status=status, message=message)


def _send_one(
    session: SmtpSession,
    lot: Lot,
    sender: str,
    recipient: str,
    user: str,
    at: datetime,
    on_accepted: Callable[[Lot], None] | None,
) -> SendOutcome:
    message_id = make_msgid(domain=sender.rpartition("@")[2] or "tuibill.invalid")
    try:
        message = _message(lot, sender, recipient, at, message_id)
    except FormatError as error:
        text = f"Envoi impossible : {error}"
        lot_service.note_error(lot.id, text, at=at)
        return _outcome(lot.id, FAILED, text)
    resending = lot.state == LotState.ARL_NEGATIF.value
    # Before: committed, so that whatever happens next, the lot says a sending started.
    try:
        with immediate():
            lot = get_lot(lot.id)
            lifecycle.move_lot(
                lot,
                LotAction.START_SENDING,
                user=user,
                reason=(
                    f"renvoi à l'identique vers {recipient}"
                    if resending
                    else f"envoi vers {recipient}"
                ),
                at=at,
                message_id=message_id,
                recipient=recipient,
            )
    except RefusedOperation as error:
        # Another desk sent, deleted or changed it meanwhile: not ours to send any more.
        return _outcome(lot.id, FAILED, f"Lot non envoyé : {error}")
    try:
        session.send(message)
    except SmtpRefused as error:
        with immediate():
            lot = get_lot(lot.id)
            lifecycle.move_lot(
                lot, LotAction.SEND_FAILED, user=user, reason=str(error), at=at
            )
        return _outcome(lot.id, FAILED, str(error))
    except (SmtpUncertain, SmtpUnavailable) as error:
        certain = isinstance(error, SmtpUnavailable)
        if certain:
            with immediate():
                lot = get_lot(lot.id)
                lifecycle.move_lot(
                    lot, LotAction.SEND_FAILED, user=user, reason=str(error), at=at
                )
            return _outcome(lot.id, FAILED, str(error))
        text = (
            f"{error} Le lot reste « En cours » : vérifiez auprès du serveur d'envoi puis "
            f"« tuibill lots resolve {lot.id} --sent » ou « --not-sent »."
        )
        lot_service.note_error(lot.id, text, at=at)
        return _outcome(lot.id, UNCERTAIN, text)
    if on_accepted is not None:
        on_accepted(lot)
    # After: the server has it.
    with immediate():
        lot = get_lot(lot.id)
        lifecycle.move_lot(
            lot,
            LotAction.CONFIRM_SENT,
            user=user,
            reason=f"accepté par le serveur d'envoi ({message_id})",
            at=at,
            sent_at=at,
        )
    return _outcome(lot.id, SENT, f"Transmis à {recipient}.")
