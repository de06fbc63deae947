"""How lots, ARLs and returns travel by e-mail (« Envoi par messagerie »): names, subjects,
messages.

Specified in ``docs/formats/lot-file.md`` (lot mails), ``scor-lot.md`` (SCOR lot mails),
``arl.md`` (ARL mails) and ``noemie-ps.md`` (return mails). The files themselves are opaque here: a lot mail is addressed from what
the lot *is* — its PS, number, destination, kind and file name (:class:`LotEnvelope`, all on the
lot's row) — never by reading its file back, so any lot codec's bytes travel the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from tuibill.formats.codec import Arl
from tuibill.formats.errors import FormatError

if TYPE_CHECKING:  # the email package is imported by what makes messages, not by naming files
    from email.message import EmailMessage

FSE_KIND = "FSE"  # the values of Lot.kind
SCOR_KIND = "SCOR"
DRE_KIND = "DRE"  # the AMC parts in tiers payant (seed 003)
LOT_SUBJECT_PREFIX = "TUIBILL LOT"
SCOR_SUBJECT_PREFIX = "TUIBILL SCOR"
DRE_SUBJECT_PREFIX = "TUIBILL DRE"
ARL_SUBJECT_PREFIX = "TUIBILL ARL"
RETURN_SUBJECT_PREFIX = "TUIBILL RETOUR"
LOT_REFERENCE_HEADER = "X-Tuibill-Lot"
ARL_STATUS_HEADER = "X-Tuibill-Arl"
RETURN_HEADER = "X-Tuibill-Retour"  # the return file's identification (000)
KIND_HEADER = "X-Tuibill-Kind"
LOT_FILE_EXTENSION = ".b2t"
ARL_FILE_EXTENSION = ".arl"
RETURN_FILE_EXTENSION = ".noe"

_SUBJECT_PREFIXES = {
    FSE_KIND: LOT_SUBJECT_PREFIX, SCOR_KIND: SCOR_SUBJECT_PREFIX, DRE_KIND: DRE_SUBJECT_PREFIX,
}
_LOT_ATTACHMENT = re.compile(r"LOT_([0-9]{9})_([0-9]{3})\.b2t")
_REFERENCE = re.compile(r"([0-9]{9}) ([0-9]{3}) ([0-9]{5})")
_AM = re.compile(r"[0-9]{9}")
_DESTINATION = re.compile(r"[0-9]{5}")


# --- names and references -------------------------------------------------------------------


def lot_attachment_name(practitioner_am: str, lot_number: int) -> str:
    return f"LOT_{practitioner_am}_{lot_number:03d}{LOT_FILE_EXTENSION}"


def scor_attachment_name(practitioner_am: str, lot_number: int) -> str:
    return f"SCOR_{practitioner_am}_{lot_number:03d}.zip"


def arl_attachment_name(practitioner_am: str, lot_number: int) -> str:
    return f"ARL_{practitioner_am}_{lot_number:03d}{ARL_FILE_EXTENSION}"


def parse_lot_attachment_name(name: str) -> tuple[str, int] | None:
    """(AM number, lot number) from ``LOT_<am>_<lot>.b2t``, or None."""
    match = _LOT_ATTACHMENT.fullmatch(name or "")
    return (match.group(1), int(match.group(2))) if match else None


def lot_reference(practitioner_am: str, lot_number: int, destination: str) -> str:
    """``<AM> <lot 3 digits> <régime><caisse>``: the X-Tuibill-Lot value and the subject's tail."""
    return f"{practitioner_am} {lot_number:03d} {destination}"


def parse_lot_reference(text: str) -> tuple[str, int, str] | None:
    """(AM number, lot number, régime+caisse) from a reference or a subject ending with one."""
    match = _REFERENCE.search(text or "")
    return (match.group(1), int(match.group(2)), match.group(3)) if match else None


def arl_status_text(arl: Arl) -> str:
    """``POSITIF`` or ``NEGATIF <code>``: the X-Tuibill-Arl value and the subject's end."""
    return "POSITIF" if arl.positive else f"NEGATIF {arl.reason_code}"


def arl_mail_subject(arl: Arl) -> str:
    reference = lot_reference(arl.practitioner_am, arl.lot_number, arl.emitter.destination)
    return f"{ARL_SUBJECT_PREFIX} {reference} {arl_status_text(arl)}"


# --- lot mails ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LotEnvelope:
    """What addresses a lot mail: all of it is known from the lot, none read from its file."""

    practitioner_am: str  # numéro AM of the PS, 9 digits
    lot_number: int  # 1–999
    destination: str  # régime + caisse, 5 digits (« 01281 »)
    kind: str = FSE_KIND  # FSE_KIND or SCOR_KIND
    file_name: str = ""  # the attachment's name; empty: the conventional one

    @property
    def reference(self) -> str:
        return lot_reference(self.practitioner_am, self.lot_number, self.destination)

    @property
    def subject(self) -> str:
        return f"{_SUBJECT_PREFIXES[self.kind]} {self.reference}"

    @property
    def attachment_name(self) -> str:
        if self.file_name:
            return self.file_name
        if self.kind == SCOR_KIND:
            return scor_attachment_name(self.practitioner_am, self.lot_number)
        return lot_attachment_name(self.practitioner_am, self.lot_number)

    def problem(self) -> str | None:
        """Why no caisse could tell which lot a mail with this envelope carries, or None."""
        if self.kind not in _SUBJECT_PREFIXES:
            return f"nature de lot « {self.kind} » inconnue (FSE, SCOR ou DRE)"
        if not _AM.fullmatch(self.practitioner_am or ""):
            return f"numéro AM du PS « {self.practitioner_am} » : 9 chiffres attendus"
        if not 1 <= self.lot_number <= 999:
            return f"numéro de lot {self.lot_number} hors de 1 à 999"
        if not _DESTINATION.fullmatch(self.destination or ""):
            return f"caisse destinataire « {self.destination} » : régime + caisse (5 chiffres) attendus"
        return None


def _mail(
    *,
    sender: str,
    recipient: str,
    subject: str,
    sent_at: datetime,
    message_id: str | None,
    headers: dict[str, str],
    text: str,
    data: bytes,
    file_name: str,
    subtype: str = "octet-stream",
) -> EmailMessage:
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(sent_at if sent_at.tzinfo else sent_at.astimezone())
    message["Message-ID"] = message_id or make_msgid(
        domain=sender.rpartition("@")[2] or "tuibill.invalid"
    )
    for name, value in headers.items():
        message[name] = value
    message.set_content(text)
    message.add_attachment(data, maintype="application", subtype=subtype, filename=file_name)
    return message


def build_lot_message(
    data: bytes,
    envelope: LotEnvelope,
    *,
    sender: str,
    recipient: str,
    sent_at: datetime,
    message_id: str | None = None,
) -> EmailMessage:
    """The RFC 5322 message that carries a lot file (FSE or SCOR) to its caisse.

    :class:`FormatError` (French) when the envelope names no lot a caisse could recognise or
    there is no file to send: nothing would be worth sending.
    """
    problem = envelope.problem() or (None if data else "fichier du lot vide")
    if problem:
        raise FormatError(f"{problem[0].upper()}{problem[1:]}.")
    caisse = f"{envelope.destination[:2]} {envelope.destination[2:]}"
    headers = {LOT_REFERENCE_HEADER: envelope.reference}
    if envelope.kind == SCOR_KIND:
        headers[KIND_HEADER] = SCOR_KIND
        text = (
            f"Lot SCOR {envelope.lot_number:03d} du PS {envelope.practitioner_am} pour la caisse "
            f"{caisse} : pièces justificatives (PDF) de FSE en mode dégradé.\n"
        )
    else:
        text = (
            f"Lot {envelope.lot_number:03d} du PS {envelope.practitioner_am} pour la caisse "
            f"{caisse}.\n"
        )
    return _mail(
        sender=sender,
        recipient=recipient,
        subject=envelope.subject,
        sent_at=sent_at,
        message_id=message_id,
        headers=headers,
        text=text,
        data=bytes(data),
        file_name=envelope.attachment_name,
        subtype="zip" if envelope.kind == SCOR_KIND else "octet-stream",
    )


# --- ARL mails ------------------------------------------------------------------------------


def build_arl_message(
    data: bytes,
    arl: Arl,
    *,
    sender: str,
    recipient: str,
    sent_at: datetime,
    in_reply_to: str | None = None,
) -> EmailMessage:
    """The RFC 5322 message that carries an ARL file back to the practice."""
    headers = {}
    if in_reply_to:
        headers = {"In-Reply-To": in_reply_to, "References": in_reply_to}
    headers[LOT_REFERENCE_HEADER] = lot_reference(
        arl.practitioner_am, arl.lot_number, arl.emitter.destination
    )
    headers[ARL_STATUS_HEADER] = arl_status_text(arl)
    lot = f"Le lot {arl.lot_number:03d} du PS {arl.practitioner_am}"
    if arl.positive:
        text = f"{lot} a été reçu : ARL positif.\n"
    else:
        text = f"{lot} est refusé : ARL négatif, motif {arl.reason_code} « {arl.reason_label} ».\n"
        if arl.detail:
            text += f"\n{arl.detail}\n"
    return _mail(
        sender=sender,
        recipient=recipient,
        subject=arl_mail_subject(arl),
        sent_at=sent_at,
        message_id=None,
        headers=headers,
        text=text,
        data=data,
        file_name=arl_attachment_name(arl.practitioner_am, arl.lot_number),
    )


# --- return mails (NOEMIE PS) ---------------------------------------------------------------


def return_attachment_name(payee: str, file_id: str) -> str:
    return f"RET_{payee}_{file_id}{RETURN_FILE_EXTENSION}"


def build_return_message(
    data: bytes,
    *,
    payee: str,
    lot_number: int,
    destination: str,
    file_id: str,
    sender: str,
    recipient: str,
    sent_at: datetime,
) -> EmailMessage:
    """The RFC 5322 message that carries a NOEMIE PS return to the practice."""
    headers = {
        RETURN_HEADER: file_id,
        LOT_REFERENCE_HEADER: lot_reference(payee, lot_number, destination),
    }
    return _mail(
        sender=sender,
        recipient=recipient,
        subject=f"{RETURN_SUBJECT_PREFIX} {payee} {file_id}",
        sent_at=sent_at,
        message_id=None,
        headers=headers,
        text=f"Retour NOEMIE {file_id} pour le PS {payee} (paiements et rejets).\n",
        data=data,
        file_name=return_attachment_name(payee, file_id),
    )


# --- finding the files in a received message ------------------------------------------------


def attachments(message: EmailMessage) -> list[tuple[str, bytes]]:
    """(file name, bytes) of every attachment of a parsed message (``policy=default``)."""
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            found.append((part.get_filename() or "", payload))
    return found


def _find(message: EmailMessage, extension: str) -> tuple[str, bytes] | None:
    found = attachments(message)
    for name, payload in found:
        if name.lower().endswith(extension):
            return name, payload
    return found[0] if len(found) == 1 else None


def find_lot_attachment(message: EmailMessage) -> tuple[str, bytes] | None:
    """The lot file of a message: the attachment named ``*.b2t``, else its only attachment."""
    return _find(message, LOT_FILE_EXTENSION)


def find_arl_attachment(message: EmailMessage) -> tuple[str, bytes] | None:
    """The ARL file of a message: the attachment named ``*.arl``, else its only attachment."""
    return _find(message, ARL_FILE_EXTENSION)


def find_return_attachment(message: EmailMessage) -> tuple[str, bytes] | None:
    """The NOEMIE return of a message: the attachment named ``*.noe``."""
    for name, payload in attachments(message):
        if name.lower().endswith(RETURN_FILE_EXTENSION):
            return name, payload
    return None
