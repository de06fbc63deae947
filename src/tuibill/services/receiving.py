"""Receiving the caisses' answers: fetch, archive, record, delete from the server, then act.

The order is the safety: every file of a mail is archived (content-addressed by SHA-256) and
recorded as a :class:`~tuibill.models.ReceivedFile` « reçu » **before** anything acts on it, and
the mail is deleted from the server only after its files are recorded. Acting comes last, from
the recorded files (:func:`process_pending`), one transaction per file: a crash anywhere loses
nothing and applies nothing twice — a mail fetched again is recognised (same Message-ID, same
SHA-256), a file recorded but not yet acted on is acted on at the next run.

Only the caisses' mails are taken, recognised by their headers, read first (subject
« TUIBILL … » or an ``X-Tuibill-…`` header; an ``*.arl`` attachment too when a mail is read
whole anyway): any other mail of the box is neither downloaded nor touched.

An unreadable ARL is kept (archived), recorded « refusé » with the reader's French message and
flagged; nothing changes because of it. An ARL that names no lot awaiting it is recorded « sans
effet » with the reason, flagged too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import cast

from tuibill.config import TransmissionSettings
from tuibill.domain.lots import LotAction, LotState
from tuibill.formats import get_arl_codec
from tuibill.formats.arl import REASON_DUPLICATE
from tuibill.formats.codec import Arl
from tuibill.formats.errors import FormatError
from tuibill.formats.noemie import is_noemie_return
from tuibill.models import Lot, Practitioner, ReceivedFile
from tuibill.models.database import immediate
from tuibill.services import lifecycle, returns
from tuibill.services.archives import archive_directory
from tuibill.services.lot_views import LotSummary, ReceivedSummary, received_summary, summarize
from tuibill.transport import archive
from tuibill.transport.archive import ArchiveError
from tuibill.transport.envelopes import (
    ARL_STATUS_HEADER,
    LOT_REFERENCE_HEADER,
    RETURN_FILE_EXTENSION,
    RETURN_HEADER,
    attachments,
    find_arl_attachment,
    find_return_attachment,
)
from tuibill.transport.mailbox import FetchedMail, open_mailbox
from tuibill.transport.smtp import mail_password

ARL = "arl"
RETURN = returns.RETURN
UNKNOWN = "inconnu"
RECEIVED, APPLIED, REFUSED, IGNORED = "recu", "applique", "refuse", "ignore"
_ARL_SUFFIX = ".arl"


# --- reading a mail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    kind: str
    name: str
    data: bytes
    status: str = RECEIVED  # decided now for what needs no reading (no file, stray attachment)
    error: str = ""


def parse_mail(raw: bytes) -> EmailMessage | None:
    try:
        return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(raw))
    except Exception:  # a hostile mail must not stop the others: it is kept raw instead
        return None


def _header(message: EmailMessage, name: str) -> str:
    try:
        return str(message.get(name, "") or "").strip()
    except Exception:  # malformed header under policy.default
        return ""


def is_caisse_mail(message: EmailMessage | None) -> bool:
    """Whether a mail is an answer from a caisse (ours to take): else it stays on the server."""
    if message is None:
        return False
    for name in (ARL_STATUS_HEADER, LOT_REFERENCE_HEADER, RETURN_HEADER):
        if _header(message, name):
            return True
    if _header(message, "Subject").upper().startswith("TUIBILL "):
        return True
    try:
        return any(
            name.lower().endswith((_ARL_SUFFIX, RETURN_FILE_EXTENSION))
            for name, _ in attachments(message)
        )
    except Exception:
        return False


def _files_of(mail: FetchedMail, message: EmailMessage | None) -> list[_File]:
    if not mail.is_mail:
        name = mail.bare_name or "fichier"
        if name.lower().endswith(_ARL_SUFFIX):
            return [_File(ARL, name, mail.raw)]
        if name.lower().endswith(RETURN_FILE_EXTENSION) or is_noemie_return(mail.raw):
            return [_File(RETURN, name, mail.raw)]
        return [_File(UNKNOWN, name, mail.raw, IGNORED, "Fichier non reconnu (ni ARL, ni retour).")]
    unreadable = [
        _File(ARL, "message.eml", mail.raw, REFUSED, "Message de la caisse illisible (MIME).")
    ]
    if message is None:
        return unreadable
    try:
        found = find_return_attachment(message)
        kind = RETURN
        if found is None:
            found, kind = find_arl_attachment(message), ARL
        others = [item for item in attachments(message) if found is None or item[0] != found[0]]
    except Exception:  # a broken MIME structure: the raw mail is kept instead
        return unreadable
    if found is None:
        return [
            _File(
                ARL,
                "message.eml",
                mail.raw,
                REFUSED,
                "Message de la caisse sans fichier ARL ni retour joint : le message est archivé tel quel.",
            )
        ]
    files = [_File(kind, found[0] or ("retour.noe" if kind == RETURN else "arl.arl"), found[1])]
    for name, data in others:
        files.append(
            _File(UNKNOWN, name or "piece-jointe", data, IGNORED, "Pièce jointe non reconnue.")
        )
    return files


def _message_id(mail: FetchedMail, message: EmailMessage | None) -> str:
    if not mail.is_mail:
        return f"fichier:{mail.bare_name}"
    found = _header(message, "Message-ID") if message is not None else ""
    return found or f"<sha256-{hashlib.sha256(mail.raw).hexdigest()}@sans-message-id>"


# --- what a receiving did ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReceivedOutcome:
    file: ReceivedSummary  # after processing: status applique / refuse / ignore (or still recu)
    lot: LotSummary | None
    message: str  # French

    def as_dict(self) -> dict:
        return {
            "fichier": self.file.as_dict(),
            "lot": self.lot.as_dict() if self.lot else None,
            "message": self.message,
        }


@dataclass(frozen=True)
class ReceiveReport:
    fetched: int  # mails (or dropped files) looked at
    recorded: tuple[ReceivedSummary, ...]  # files recorded by this receiving
    already_known: int  # files of mails fetched again, recorded before
    deleted: int  # mails deleted from the server (their files recorded)
    left: int  # mails that are not from a caisse, left on the server
    processed: tuple[ReceivedOutcome, ...]

    @property
    def flagged(self) -> tuple[ReceivedOutcome, ...]:
        return tuple(outcome for outcome in self.processed if outcome.file.flagged)

    def as_dict(self) -> dict:
        return {
            "messages_lus": self.fetched,
            "fichiers_enregistres": [item.as_dict() for item in self.recorded],
            "deja_connus": self.already_known,
            "messages_supprimes": self.deleted,
            "messages_laisses": self.left,
            "traitements": [item.as_dict() for item in self.processed],
        }


def receive(
    settings: TransmissionSettings,
    *,
    user: str,
    now: datetime | None = None,
    process: bool = True,
    on_recorded: Callable[[FetchedMail], None] | None = None,
) -> ReceiveReport:
    """Fetch the caisses' mails from ``transmission.mailbox``, archive and record their files,
    delete the mails, then (``process``) act on every file not acted on yet.

    ``on_recorded`` is called once a mail's files are recorded and before the mail is deleted:
    the tests raise there to play a crash. Raises MailboxError (nothing deleted) or ConfigError.
    """
    at = lifecycle.current_time(now)
    root = archive_directory(settings)
    box = settings.mailbox
    password = None
    if box.protocol != "inbox":
        password = mail_password(box.user, box.password_env, "transmission.mailbox")
    source = open_mailbox(box, password=password)
    fetched = known = deleted = left = 0
    recorded: list[ReceivedSummary] = []
    with source:
        for ref in source.mails():
            fetched += 1
            # Headers first: a mail that is not from a caisse is neither downloaded nor touched.
            if ref.is_mail and ref.headers and not is_caisse_mail(parse_mail(ref.headers)):
                left += 1
                continue
            mail = source.fetch(ref)
            message = parse_mail(mail.raw) if mail.is_mail else None
            if mail.is_mail and not is_caisse_mail(message):
                left += 1
                continue
            files = _files_of(mail, message)
            # Archive first (durably), record next, delete from the server last.
            stored = [archive.store(root, item.data) for item in files]
            new, old = _record(mail, message, files, stored, source.protocol, at)
            recorded.extend(new)
            known += old
            if on_recorded is not None:
                on_recorded(mail)
            source.delete(mail)
            deleted += 1
    processed = process_pending(settings, user=user, now=at) if process else []
    return ReceiveReport(
        fetched=fetched,
        recorded=tuple(recorded),
        already_known=known,
        deleted=deleted,
        left=left,
        processed=tuple(processed),
    )


def _record(
    mail: FetchedMail,
    message: EmailMessage | None,
    files: list[_File],
    stored: list[archive.ArchivedFile],
    source: str,
    at: datetime,
) -> tuple[list[ReceivedSummary], int]:
    message_id = _message_id(mail, message)
    in_reply_to = _header(message, "In-Reply-To") if message is not None else ""
    new: list[ReceivedSummary] = []
    known = 0
    with immediate():
        for item, archived in zip(files, stored, strict=True):
            exists = (
                ReceivedFile.select()
                .where(
                    (ReceivedFile.message_id == message_id)
                    & (ReceivedFile.sha256 == archived.sha256)
                )
                .exists()
            )
            if exists:
                known += 1
                continue
            row = ReceivedFile.create(
                kind=item.kind,
                source=source,
                message_id=message_id[:255],
                in_reply_to=in_reply_to[:255],
                file_name=item.name[:255],
                sha256=archived.sha256,
                archive_path=str(archived.path),
                received_at=at,
                status=item.status,
                error=item.error,
                processed_at=None if item.status == RECEIVED else at,
            )
            new.append(received_summary(row))
    return new, known


# --- acting on what was received --------------------------------------------------------------


def process_pending(
    settings: TransmissionSettings, *, user: str, now: datetime | None = None
) -> list[ReceivedOutcome]:
    """Act on every recorded file still « reçu », oldest first, one transaction each."""
    at = lifecycle.current_time(now)
    outcomes = []
    pending = [
        row_id
        for (row_id,) in ReceivedFile.select(ReceivedFile.id)
        .where(ReceivedFile.status == RECEIVED)
        .order_by(ReceivedFile.id)
        .tuples()
    ]
    for row_id in pending:
        try:
            outcome = _process(row_id, user, at, settings.arl_codec)
            if outcome is None:
                outcome = _process_return(row_id, user, at)
        except ArchiveError as error:
            # Our own archive is damaged: say so, keep the file « reçu » to retry once restored.
            row = ReceivedFile.get_by_id(row_id)
            outcome = ReceivedOutcome(received_summary(row), None, str(error))
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes


def _finish(row: ReceivedFile, status: str, message: str, at: datetime, lot: Lot | None) -> None:
    row.status = status
    row.error = "" if status == APPLIED else message
    row.processed_at = at
    row.lot = lot.id if lot is not None else None
    row.save()


def _process(row_id: int, user: str, at: datetime, arl_codec: str) -> ReceivedOutcome | None:
    with immediate():
        row = ReceivedFile.get_by_id(row_id)
        if row.status != RECEIVED:
            return None  # done meanwhile by another desk
        if row.kind == RETURN:
            return None  # posted in a transaction of its own (_process_return)
        data = archive.load(row.archive_path, row.sha256)
        if row.kind != ARL:
            message = "Fichier non reconnu (ni ARL, ni retour) : conservé dans l'archive."
            _finish(row, IGNORED, message, at, None)
            return ReceivedOutcome(received_summary(row), None, message)
        try:
            arl = get_arl_codec(arl_codec).read(data)
        except FormatError as error:
            message = f"ARL illisible, mis de côté (rien n'a changé) : {error}"
            _finish(row, REFUSED, message, at, None)
            return ReceivedOutcome(received_summary(row), None, message)
        status, message, lot = apply_arl(row, arl, user=user, at=at)
        _finish(row, status, message, at, lot)
        return ReceivedOutcome(received_summary(row), summarize(lot) if lot else None, message)


def _process_return(row_id: int, user: str, at: datetime) -> ReceivedOutcome | None:
    report = returns.post_received(row_id, user=user, now=at)
    if report is None:
        return None
    row = ReceivedFile.get_by_id(row_id)
    message = row.error or returns.summary(report)
    return ReceivedOutcome(received_summary(row), None, f"{row.file_name} : {message}")


def _reason_text(arl: Arl) -> str:
    text = f"{arl.reason_code} {arl.reason_label}"
    return f"{text} : {arl.detail}" if arl.detail else text


def _match(arl: Arl) -> tuple[Lot | None, str]:
    practitioner = Practitioner.get_or_none(Practitioner.am_number == arl.practitioner_am)
    if practitioner is None:
        return None, f"ARL pour le PS {arl.practitioner_am}, inconnu de ce cabinet : sans effet."
    same = (Lot.practitioner == practitioner.id) & (Lot.number == arl.lot_number)
    alive = Lot.state != LotState.SUPPRIME.value
    # A re-sent lot is the identical file: PS + number + checksum names it across sendings.
    lot = (
        Lot.select()
        .where(same & alive & (Lot.file_sha256 == arl.lot_checksum))
        .order_by(Lot.created_at.desc(), Lot.id.desc())
        .first()
    )
    if lot is None and not arl.positive:
        # A file damaged in transit has another checksum: the lot of that number awaiting its ARL.
        lot = (
            Lot.select()
            .where(same & Lot.state.in_([LotState.TRANSMIS.value, LotState.EN_COURS.value]))
            .order_by(Lot.created_at.desc(), Lot.id.desc())
            .first()
        )
    if lot is None:
        what = "positif" if arl.positive else "négatif"
        return None, (
            f"ARL {what} pour le lot {arl.lot_number:03d} du PS {arl.practitioner_am} : aucun lot "
            "envoyé ne correspond (numéro et empreinte du fichier) : sans effet."
        )
    return lot, ""


def apply_arl(
    row: ReceivedFile, arl: Arl, *, user: str, at: datetime
) -> tuple[str, str, Lot | None]:
    """Apply a readable ARL to its lot (caller holds the transaction).

    Returns the file's status (applique / ignore), the French message and the lot.
    """
    lot, why = _match(arl)
    if lot is None:
        return IGNORED, why, None
    name = f"Lot {lot.number:03d}"
    state = LotState(lot.state)
    if not arl.positive and state is LotState.TRANSMIS and row.in_reply_to and lot.message_id:
        if row.in_reply_to != lot.message_id and lot.send_count >= 2:
            # The answer to the first sending, arrived after the lot was re-sent: the re-sending
            # decides. Noted, nothing changes.
            return (
                IGNORED,
                f"{name} : ARL négatif ({_reason_text(arl)}) du premier envoi, reçu après le "
                "renvoi : on attend la réponse au renvoi.",
                lot,
            )
    if state is LotState.EN_COURS:
        # An ARL proves the mail went out: the uncertain sending is settled by the caisse.
        lifecycle.move_lot(
            lot,
            LotAction.RESOLVE_SENT,
            user=user,
            reason="ARL reçu : l'envoi a bien eu lieu",
            at=at,
            sent_at=lot.send_started_at or at,
        )
        state = LotState(lot.state)
    # « Lot en double — déjà reçu un ARL positif » (after an identical re-send) says the caisse
    # has the lot: that is its positive acknowledgement, not a failure sending it to paper.
    duplicate = not arl.positive and arl.reason_code == REASON_DUPLICATE
    if arl.positive or duplicate:
        if state in (LotState.TRANSMIS, LotState.ARL_NEGATIF, LotState.TRAITEMENT_MANUEL):
            reason = "ARL positif"
            message = f"{name} : ARL positif, reçu par la caisse."
            if duplicate:
                reason = f"ARL « {_reason_text(arl)} » : la caisse a déjà ce lot"
                message = (
                    f"{name} : la caisse signale un lot en double, déjà reçu avec un ARL "
                    "positif : elle a ce lot (ARL positif)."
                )
            if state is LotState.TRAITEMENT_MANUEL:
                reason += " reçu après le passage en traitement manuel"
                message += " Il était en traitement manuel : ne l'envoyez pas (plus) sur papier."
            lifecycle.move_lot(lot, LotAction.ARL_POSITIVE, user=user, reason=reason, at=at)
            return APPLIED, message, lot
        if state is LotState.ARL_POSITIF:
            return IGNORED, f"{name} : ARL positif en double (déjà reçu) : sans effet.", lot
        if duplicate:
            return (
                IGNORED,
                f"{name} : ARL « {_reason_text(arl)} » pour un lot à l'état « {state.label} » : "
                "sans effet.",
                lot,
            )
        return (
            IGNORED,
            f"{name} : ARL positif pour un lot à l'état « {state.label} » : sans effet.",
            lot,
        )
    reason = _reason_text(arl)
    if state is LotState.TRANSMIS:
        target = lifecycle.move_lot(
            lot,
            LotAction.ARL_NEGATIVE,
            user=user,
            reason=reason,
            at=at,
            arl_code=arl.reason_code or "",
        )
        after = (
            "il sera renvoyé à l'identique une fois"
            if target is LotState.ARL_NEGATIF
            else "déjà renvoyé une fois : traitement manuel (papier)"
        )
        return APPLIED, f"{name} : ARL négatif ({reason}) ; {after}.", lot
    if state is LotState.ARL_NEGATIF:
        # Already negative (a time-out, usually): the caisse's own reason replaces ours.
        Lot.update(arl_at=at, arl_code=arl.reason_code or "", arl_reason=reason).where(
            Lot.id == lot.id
        ).execute()
        lot.arl_code, lot.arl_reason, lot.arl_at = arl.reason_code or "", reason, at
        return APPLIED, f"{name} : ARL négatif ({reason}), déjà à renvoyer.", lot
    return (
        IGNORED,
        f"{name} : ARL négatif ({reason}) pour un lot à l'état « {state.label} » : sans effet.",
        lot,
    )
