"""Mail to the tiers-payeurs (seed 004): bordereaux « Envoi par courriel » and relances.

One mail per bordereau (its PDF attached, and its Factur-X for a public payer), one per payer
for a relance, through the practice's SMTP server (``transport.smtp``, every reply checked).
A payer without an e-mail address is reported and skipped, never silently. Every mail the
server accepted, refused or may have taken is archived under the payer's « Envois » with the
message as it was handed over; a bordereau becomes « Envoyé » only once the server accepted it.
A printed relance is a PDF kept under the payer's « Documents ».
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from tuibill.config import TransmissionSettings
from tuibill.domain import payers as payer_rules
from tuibill.domain.errors import ConfigError, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_cents
from tuibill.domain.slips import (
    OPEN_STATES,
    SEND_FAILED,
    SEND_STARTED,
    SEND_UNCONFIRMED,
    SlipAction,
    SlipState,
)
from tuibill.domain.slips import format_number as slip_number
from tuibill.formats.slip_pdf import Letter, letter_pdf
from tuibill.models import Payer, PayerDocument, PayerMail, Slip
from tuibill.models.database import immediate
from tuibill.services import homecare_lifecycle as lifecycle
from tuibill.services.homecare import get_service
from tuibill.services.payers import reminder_levels
from tuibill.services.slips import (
    archive_documents,
    font_path,
    get_slip,
    seller,
    slip_document,
)
from tuibill.transport.smtp import (
    SmtpRefused,
    SmtpSession,
    SmtpUnavailable,
    SmtpUncertain,
    mail_password,
)

SENT, NO_EMAIL, FAILED, UNCERTAIN = "envoye", "sans_email", "refuse", "incertain"
LABELS = {
    SENT: "Envoyé",
    NO_EMAIL: "Non envoyé : pas d'adresse e-mail",
    FAILED: "Non envoyé",
    UNCERTAIN: "Envoi incertain",
}


@dataclass(frozen=True)
class MailOutcome:
    payer_id: int
    payer: str
    what: str  # « bordereau B-000012 », « relance niveau 2 »
    status: str
    message: str
    slip_id: int | None = None  # the bordereau, for a send to resolve (``pending``)
    pending: bool = False  # an earlier send not confirmed: resolve before sending again

    @property
    def status_label(self) -> str:
        return LABELS[self.status]

    def as_dict(self) -> dict:
        return {
            "tiers_payeur": self.payer_id, "nom": self.payer, "objet": self.what,
            "resultat": self.status_label, "resultat_code": self.status, "message": self.message,
        }  # fmt: skip


def sender_address(settings: TransmissionSettings) -> str:
    if settings.smtp.sender:
        return settings.smtp.sender
    service = get_service()
    if service is not None and service.email:
        return service.email
    raise ConfigError(
        "adresse d'expéditeur absente (ni ici, ni e-mail du service d'aide à domicile).",
        key="transmission.smtp.sender",
    )


def _message(
    sender: str, recipient: str, subject: str, body: str, at: datetime,
    attachments: Sequence[tuple[str, bytes]] = (),
) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = format_datetime(at.astimezone())
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "tuibill.invalid")
    message.set_content(body)
    for name, data in attachments:
        message.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return message


def _archive(
    payer: Payer, message: EmailMessage, kind: str, status: str, detail: str, *, user: str,
    at: datetime,
) -> None:  # fmt: skip
    with immediate():
        PayerMail.create(
            payer=payer.id, at=at, user=user, kind=kind, recipient=str(message["To"]),
            subject=str(message["Subject"]), message_id=str(message["Message-ID"]),
            status=status.upper(), detail=detail, raw=message.as_bytes(),
        )  # fmt: skip


def _session(settings: TransmissionSettings) -> SmtpSession:
    password = mail_password(settings.smtp.user, settings.smtp.password_env, "transmission.smtp")
    return SmtpSession(settings.smtp, password=password)


def _send(session: SmtpSession, message: EmailMessage) -> tuple[str, str]:
    try:
        session.send(message)
    except SmtpRefused as error:
        return FAILED, str(error)
    except SmtpUncertain as error:
        return UNCERTAIN, f"{error} Vérifiez auprès du serveur avant de renvoyer."
    except SmtpUnavailable as error:
        return FAILED, str(error)
    return SENT, f"Accepté par le serveur ({message['Message-ID']})."


# A bordereau's send is recorded in its history before the mail leaves (with its Message-ID),
# and its end after: a send the server did not confirm (« incertain »), or that a crash cut,
# stays pending — the payer may have the mail, so it is never sent again without a decision.


def pending_send(slip: Slip) -> str:
    """Why *slip* (« Validé ») may already be at the payer's — an earlier send not confirmed —
    in French, or "" when it may be sent."""
    from tuibill.models import SlipTransition

    last = (
        SlipTransition.select()
        .where(SlipTransition.slip == slip.id)
        .order_by(SlipTransition.id.desc())
        .first()
    )
    if last is None or last.action not in (SEND_STARTED, SEND_UNCONFIRMED):
        return ""
    what = "interrompu" if last.action == SEND_STARTED else "sans confirmation du serveur"
    return (
        f"un envoi du {last.at:%d/%m/%Y à %H:%M} ({last.reason}) s'est terminé {what} : le "
        "tiers-payeur l'a peut-être reçu. Vérifiez, puis marquez-le envoyé (« tuibill slip "
        "mark-sent ») ou renvoyez-le (« tuibill slip send --again »)."
    )


def mark_sent(slip_id: int, *, user: str, reason: str = "", now: datetime | None = None) -> Slip:
    """The payer did receive the bordereau of an unconfirmed send: « Envoyé » (courriel)."""
    at = (now or lifecycle.now()).replace(microsecond=0)
    with immediate():
        slip = get_slip(slip_id)
        if not pending_send(slip):
            raise RefusedOperation(
                f"Le bordereau {slip_number(slip.number) or slip.id} n'a pas d'envoi à confirmer."
            )
        lifecycle.move_slip(slip, SlipAction.SEND, user=user, at=at, sent_by="courriel",
                            reason=reason or "envoi confirmé : reçu par le tiers-payeur")  # fmt: skip
        lifecycle.sync_slip_payment(slip, user=user, reason="règlement reçu avant l'envoi", at=at)
    return slip


def send_slips(
    settings: TransmissionSettings,
    slip_ids: Sequence[int] | None = None,
    *,
    user: str,
    now: datetime | None = None,
    again: bool = False,
) -> list[MailOutcome]:
    """« Envoi par courriel » of *slip_ids* (default: every bordereau « Validé »). A bordereau
    whose earlier send was not confirmed is left for a decision, unless *again*."""
    at = (now or lifecycle.now()).replace(microsecond=0)
    if slip_ids is None:
        slips = list(Slip.select().where(Slip.state == SlipState.VALIDE.value).order_by(Slip.id))
    else:
        slips = [get_slip(slip_id) for slip_id in dict.fromkeys(slip_ids)]
    for slip in slips:
        if slip.state != SlipState.VALIDE.value:
            raise RefusedOperation(
                f"Le bordereau {slip_number(slip.number) or slip.id} est « "
                f"{SlipState(slip.state).label} » : seuls les bordereaux validés s'envoient."
            )
    outcomes: list[MailOutcome] = []
    ready = []
    for slip in slips:
        payer = slip.payer
        what = f"bordereau {slip_number(slip.number)}"
        unconfirmed = pending_send(slip)
        if unconfirmed and not again:
            outcomes.append(MailOutcome(payer.id, payer.name, what, UNCERTAIN,
                                        f"Non renvoyé : {unconfirmed}", slip.id, True))  # fmt: skip
            continue
        if not payer.email:
            outcomes.append(
                MailOutcome(payer.id, payer.name, what, NO_EMAIL,
                            f"{payer.name} n'a pas d'adresse e-mail : renseignez-la dans sa "
                            "fiche, ou éditez le bordereau pour l'envoyer par courrier.")
            )  # fmt: skip
            continue
        ready.append(slip)
    if not ready:
        return outcomes
    sender = sender_address(settings)
    service = seller()
    session = _session(settings)
    try:
        session.open()
    except SmtpUnavailable as error:
        return outcomes + [
            MailOutcome(s.payer_id, s.payer.name, f"bordereau {slip_number(s.number)}", FAILED, str(error))
            for s in ready
        ]
    with session:
        for slip in ready:
            payer = slip.payer
            number = slip_number(slip.number)
            with immediate():
                files = archive_documents(slip, at=at)
            document = slip_document(slip)
            body = (
                f"Madame, Monsieur,\n\nVeuillez trouver ci-joint le bordereau {number} de la "
                f"période du {slip.period_start:%d/%m/%Y} au {slip.period_end:%d/%m/%Y}, d'un "
                f"montant de {format_cents(slip.total_cents)} € ({len(document.lines)} facture(s))."
                f"\n\nNous vous prions d'agréer nos salutations distinguées.\n{service.name}\n"
            )
            message = _message(
                sender, payer.email, f"Bordereau {number} — {service.name}", body, at, files
            )
            if not session.connected:
                status, detail = FAILED, "Connexion au serveur d'envoi perdue : à renvoyer."
            else:
                with immediate():  # before the mail leaves: a crash after it is never silent
                    lifecycle.record_slip(slip, slip.state, slip.state, SEND_STARTED, user,
                                          f"message {message['Message-ID']}", at=at)  # fmt: skip
                status, detail = _send(session, message)
            _archive(payer, message, "BORDEREAU", status, detail, user=user, at=at)
            with immediate():
                slip = get_slip(slip.id)
                if status == SENT:
                    lifecycle.move_slip(slip, SlipAction.SEND, user=user, at=at, sent_by="courriel",
                                        reason=f"envoyé à {payer.email}")  # fmt: skip
                    lifecycle.sync_slip_payment(slip, user=user, reason="règlement reçu avant l'envoi", at=at)
                elif status == UNCERTAIN:
                    lifecycle.record_slip(slip, slip.state, slip.state, SEND_UNCONFIRMED, user,
                                          f"message {message['Message-ID']}", at=at)  # fmt: skip
                else:  # refused, or the connection lost before: nothing reached the payer
                    lifecycle.record_slip(slip, slip.state, slip.state, SEND_FAILED, user,
                                          detail[:200], at=at)  # fmt: skip
            outcomes.append(MailOutcome(payer.id, payer.name, f"bordereau {number}", status, detail,
                                        slip.id, status == UNCERTAIN))  # fmt: skip
    return outcomes


# --- relances ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderCandidate:
    payer_id: int
    payer: str
    email: str
    lines: tuple[payer_rules.OpenSlip, ...]

    @property
    def remaining_cents(self) -> int:
        return sum(line.remaining_cents for line in self.lines)

    def as_dict(self) -> dict:
        return {
            "tiers_payeur": self.payer_id, "nom": self.payer, "email": self.email,
            "sans_email": not self.email, "reste_du": self.remaining_cents,
            "bordereaux": [line.number for line in self.lines],
        }  # fmt: skip


def _level(number: int) -> payer_rules.ReminderLevel:
    levels = {level.number: level for level in reminder_levels()}
    if number not in levels:
        known = ", ".join(str(n) for n in sorted(levels)) or "aucun"
        raise ValidationError(f"Niveau de relance {number} inconnu (niveaux : {known}).", field="level")
    return levels[number]


def reminder_candidates(level_number: int, *, today: date | None = None) -> list[ReminderCandidate]:
    """« Relances tiers-payeurs »: the payers with bordereaux still owed at least the level's
    days after they were sent (a partly paid one for what remains)."""
    today = today or date.today()
    level = _level(level_number)
    by_payer: dict[int, list[payer_rules.OpenSlip]] = {}
    for slip in Slip.select().where(Slip.state.in_([s.value for s in OPEN_STATES])):
        if slip.sent_at is None:
            continue
        by_payer.setdefault(slip.payer_id, []).append(
            payer_rules.OpenSlip(slip.id, slip_number(slip.number), slip.sent_at.date(),
                                 slip.total_cents, slip.paid_cents)
        )  # fmt: skip
    candidates = []
    for payer in Payer.select().where(Payer.id.in_(list(by_payer))).order_by(Payer.name):
        lines = payer_rules.reminder_lines(level, by_payer[payer.id], today)
        if lines:
            candidates.append(ReminderCandidate(payer.id, payer.name, payer.email, tuple(lines)))
    return candidates


def send_reminders(
    settings: TransmissionSettings | None,
    level_number: int,
    payer_ids: Sequence[int],
    *,
    method: str,
    user: str,
    today: date | None = None,
    now: datetime | None = None,
) -> tuple[list[MailOutcome], bytes | None]:
    """Send the relance of *level_number* to *payer_ids* by ``courriel`` or ``courrier``
    (printed: one PDF of letters, returned and kept under each payer's Documents)."""
    today = today or date.today()
    at = now or lifecycle.now()
    if method not in ("courriel", "courrier"):
        raise ValidationError(f"Méthode « {method} » inconnue : courriel ou courrier.", field="method")
    level = _level(level_number)
    wanted = set(payer_ids)
    candidates = [c for c in reminder_candidates(level_number, today=today) if c.payer_id in wanted]
    missing = wanted - {c.payer_id for c in candidates}
    outcomes = [
        MailOutcome(pid, Payer.get_by_id(pid).name if Payer.get_or_none(Payer.id == pid) else str(pid),
                    f"relance niveau {level.number}", FAILED,
                    "Rien à relancer à ce niveau pour ce tiers-payeur.")
        for pid in sorted(missing)
    ]  # fmt: skip
    service = seller()
    if method == "courrier":
        letters = [
            Letter(level.title, today, service,
                   _buyer(c.payer_id), payer_rules.reminder_text(level, c.payer, service.name, c.lines))
            for c in candidates
        ]  # fmt: skip
        if not letters:
            return outcomes, None
        data = letter_pdf(letters, font_path=font_path())
        with immediate():
            for candidate, letter in zip(candidates, letters, strict=True):
                PayerDocument.create(
                    payer=candidate.payer_id, at=at, kind="RELANCE",
                    name=f"relance-{level.number}-{today:%Y%m%d}.pdf",
                    data=letter_pdf([letter], font_path=font_path()),
                )  # fmt: skip
                _mark_reminded(candidate, level, "courrier", user=user, at=at)
                outcomes.append(MailOutcome(candidate.payer_id, candidate.payer,
                                            f"relance niveau {level.number}", SENT, "Imprimée."))  # fmt: skip
        return outcomes, data
    assert settings is not None
    ready = []
    for candidate in candidates:
        if not candidate.email:
            outcomes.append(MailOutcome(candidate.payer_id, candidate.payer,
                                        f"relance niveau {level.number}", NO_EMAIL,
                                        f"{candidate.payer} n'a pas d'adresse e-mail : relance "
                                        "non envoyée (choisissez l'envoi par courrier)."))  # fmt: skip
        else:
            ready.append(candidate)
    if not ready:
        return outcomes, None
    sender = sender_address(settings)
    session = _session(settings)
    try:
        session.open()
    except SmtpUnavailable as error:
        return outcomes + [
            MailOutcome(c.payer_id, c.payer, f"relance niveau {level.number}", FAILED, str(error))
            for c in ready
        ], None
    with session:
        for candidate in ready:
            body = payer_rules.reminder_text(level, candidate.payer, service.name, candidate.lines)
            message = _message(
                sender, candidate.email, f"{level.title} — {service.name}", body, at
            )
            status, detail = (
                _send(session, message)
                if session.connected
                else (FAILED, "Connexion au serveur d'envoi perdue : à renvoyer.")
            )
            _archive(Payer.get_by_id(candidate.payer_id), message, "RELANCE", status, detail,
                     user=user, at=at)  # fmt: skip
            if status == SENT:
                with immediate():
                    _mark_reminded(candidate, level, "courriel", user=user, at=at)
            outcomes.append(MailOutcome(candidate.payer_id, candidate.payer,
                                        f"relance niveau {level.number}", status, detail))  # fmt: skip
    return outcomes, None


def _buyer(payer_id: int):
    from tuibill.formats.slip_pdf import Party

    payer = Payer.get_by_id(payer_id)
    return Party(payer.name, payer.address, payer.postcode, payer.city, payer.siret, payer.email)


def _mark_reminded(
    candidate: ReminderCandidate, level: payer_rules.ReminderLevel, method: str, *, user: str,
    at: datetime,
) -> None:  # fmt: skip
    for line in candidate.lines:
        slip = Slip.get_by_id(line.key)
        Slip.update(reminder_level=level.number, reminded_at=at).where(Slip.id == slip.id).execute()
        lifecycle.record_slip(
            slip, slip.state, slip.state, "remind", user,
            f"{level.title} (niveau {level.number}) par {method}, reste "
            f"{format_cents(line.remaining_cents)} €", at=at,
        )  # fmt: skip
