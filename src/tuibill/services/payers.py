"""Tiers-payeurs (seed 004): Définition, Paramétrage (bordereau type, « Aide versée directement
au client », default plan values per prestation), Notes, and what the payer file lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import peewee

from tuibill.domain import aid_plans
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.domain.payers import ReminderLevel, check_email, check_levels, check_siret
from tuibill.domain.slips import OPEN_STATES, SlipKind
from tuibill.models import (
    Payer,
    PayerDefault,
    PayerDocument,
    PayerMail,
    PayerNote,
    Prestation,
    ReminderLevelRow,
    Slip,
)
from tuibill.models.database import immediate


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class PayerInput:
    """Définition and Paramétrage of a payer."""

    name: str
    address: str = ""
    postcode: str = ""
    city: str = ""
    email: str = ""
    phone: str = ""
    siret: str = ""
    account: str = ""
    public: bool = False
    service_code: str = ""
    slip_kind: str = SlipKind.INDIVIDUELLE.value
    aid_paid_to_client: bool = False


def _values(data: PayerInput) -> dict:
    if not data.name.strip():
        raise ValidationError("Le nom du tiers-payeur est obligatoire.", field="name")
    try:
        kind = SlipKind(data.slip_kind.upper()).value
    except ValueError:
        raise ValidationError(
            f"Type de bordereau « {data.slip_kind} » inconnu : Individuelle ou Globale.",
            field="slip_kind",
        ) from None
    return dict(
        name=data.name.strip(), address=data.address.strip(), postcode=data.postcode.strip(),
        city=data.city.strip(), email=check_email(data.email), phone=data.phone.strip(),
        siret=check_siret(data.siret), account=data.account.strip(), public=data.public,
        service_code=data.service_code.strip(), slip_kind=kind,
        aid_paid_to_client=data.aid_paid_to_client,
    )  # fmt: skip


def create_payer(data: PayerInput) -> Payer:
    values = _values(data)
    with immediate():
        if Payer.get_or_none(Payer.name == values["name"]) is not None:
            raise ValidationError(f"Un tiers-payeur « {values['name']} » existe déjà.", field="name")
        return Payer.create(created_at=now(), **values)


def update_payer(payer_id: int, data: PayerInput) -> Payer:
    values = _values(data)
    with immediate():
        payer = get_payer(payer_id)
        other = Payer.get_or_none((Payer.name == values["name"]) & (Payer.id != payer.id))
        if other is not None:
            raise ValidationError(f"Un tiers-payeur « {values['name']} » existe déjà.", field="name")
        Payer.update(**values).where(Payer.id == payer.id).execute()
        return get_payer(payer_id)


def get_payer(payer_id: int) -> Payer:
    payer = Payer.get_or_none(Payer.id == payer_id)
    if payer is None:
        raise NotFound(f"Tiers-payeur {payer_id} introuvable.")
    return payer


def find_payer(reference: str) -> Payer:
    """A payer by its Id or its exact name (the command line takes both)."""
    text = reference.strip()
    payer = (
        Payer.get_or_none(Payer.id == int(text))
        if text.isdigit()
        else Payer.get_or_none(Payer.name == text)
    )
    if payer is None:
        raise NotFound(f"Tiers-payeur « {reference} » introuvable.")
    return payer


def payer_input(payer: Payer) -> PayerInput:
    return PayerInput(
        payer.name, payer.address, payer.postcode, payer.city, payer.email, payer.phone,
        payer.siret, payer.account, payer.public, payer.service_code, payer.slip_kind,
        payer.aid_paid_to_client,
    )  # fmt: skip


@dataclass(frozen=True)
class PayerRow:
    id: int
    name: str
    email: str
    slip_kind: str
    aid_paid_to_client: bool
    public: bool
    open_slips: int
    remaining_cents: int

    @property
    def kind_label(self) -> str:
        return SlipKind(self.slip_kind).label

    def as_dict(self) -> dict:
        return {
            "id": self.id, "nom": self.name, "email": self.email,
            "type_bordereau": self.kind_label, "aide_versee_au_client": self.aid_paid_to_client,
            "public": self.public, "bordereaux_ouverts": self.open_slips,
            "reste_du": self.remaining_cents,
        }  # fmt: skip


def list_payers() -> list[PayerRow]:
    owed = {
        payer_id: (count, due - paid)
        for payer_id, count, due, paid in Slip.select(
            Slip.payer, peewee.fn.COUNT(Slip.id), peewee.fn.SUM(Slip.total_cents),
            peewee.fn.SUM(Slip.paid_cents),
        )
        .where(Slip.state.in_([s.value for s in OPEN_STATES]))
        .group_by(Slip.payer)
        .tuples()
    }  # fmt: skip
    return [
        PayerRow(
            p.id, p.name, p.email, p.slip_kind, p.aid_paid_to_client, p.public,
            *owed.get(p.id, (0, 0)),
        )  # fmt: skip
        for p in Payer.select().where(Payer.active).order_by(Payer.name)
    ]


# --- default plan values (Paramétrage) ---------------------------------------------------------


@dataclass(frozen=True)
class PlanValues:
    """What a plan d'aide holds besides its beneficiary and dates (defaults and plans alike)."""

    monthly_minutes: int
    rates: aid_plans.HourlyRates
    pec_bp: int
    billing_mode: str = aid_plans.BillingMode.PLAN_RATES.value
    sunday_pec_bp: int | None = None
    sunday_cap_minutes: int | None = None

    def check(self) -> None:
        """The domain's own checks (a throw-away plan refuses what a real one would)."""
        from datetime import date

        try:
            mode = aid_plans.BillingMode(self.billing_mode)
        except ValueError:
            raise ValidationError(
                f"Mode de facturation « {self.billing_mode} » inconnu (TARIF_BASE_PEC, "
                "TARIF_PRESTATION).",
                field="billing_mode",
            ) from None
        aid_plans.AidPlan(
            0, 0, "", "", date(2000, 1, 1), self.monthly_minutes, self.rates, self.pec_bp,
            mode, aid_plans.PlanState.SAISI, None, self.sunday_pec_bp, self.sunday_cap_minutes,
        )  # fmt: skip


def set_default(payer_id: int, prestation: str, values: PlanValues) -> PayerDefault:
    payer = get_payer(payer_id)
    code = prestation.strip().upper()
    if Prestation.get_or_none(Prestation.code == code) is None:
        raise ValidationError(f"Prestation « {code} » inconnue.", field="prestation")
    values.check()
    columns = dict(
        monthly_minutes=values.monthly_minutes, base_cents=values.rates.base_cents,
        saturday_cents=values.rates.saturday_cents, sunday_cents=values.rates.sunday_holiday_cents,
        pec_bp=values.pec_bp, sunday_pec_bp=values.sunday_pec_bp,
        sunday_cap_minutes=values.sunday_cap_minutes, billing_mode=values.billing_mode,
    )  # fmt: skip
    with immediate():
        row = PayerDefault.get_or_none(
            (PayerDefault.payer == payer.id) & (PayerDefault.prestation == code)
        )
        if row is None:
            return PayerDefault.create(payer=payer.id, prestation=code, **columns)
        PayerDefault.update(**columns).where(PayerDefault.id == row.id).execute()
        return PayerDefault.get_by_id(row.id)


def defaults_of(payer_id: int) -> dict[str, PlanValues]:
    return {
        row.prestation: PlanValues(
            row.monthly_minutes,
            aid_plans.HourlyRates(row.base_cents, row.saturday_cents, row.sunday_cents),
            row.pec_bp, row.billing_mode, row.sunday_pec_bp, row.sunday_cap_minutes,
        )  # fmt: skip
        for row in PayerDefault.select().where(PayerDefault.payer == payer_id)
    }


# --- notes, envois, documents ----------------------------------------------------------------


def add_note(payer_id: int, text: str, *, user: str, parent_id: int | None = None) -> PayerNote:
    get_payer(payer_id)
    if not text.strip():
        raise ValidationError("La note est vide.", field="text")
    with immediate():
        if parent_id is not None:
            parent = PayerNote.get_or_none(
                (PayerNote.id == parent_id) & (PayerNote.payer == payer_id)
            )
            if parent is None:
                raise NotFound(f"Note {parent_id} introuvable pour ce tiers-payeur.")
            parent_id = parent.parent_id or parent.id  # one level of thread
        return PayerNote.create(
            payer=payer_id, parent=parent_id, at=now(), user=user, text=text.strip()
        )


@dataclass(frozen=True)
class NoteRow:
    id: int
    at: datetime
    user: str
    text: str
    reply: bool


def notes_of(payer_id: int) -> list[NoteRow]:
    """Threads in order, each followed by its replies."""
    notes = list(PayerNote.select().where(PayerNote.payer == payer_id).order_by(PayerNote.id))
    rows: list[NoteRow] = []
    for note in notes:
        if note.parent_id is None:
            rows.append(NoteRow(note.id, note.at, note.user, note.text, False))
            rows += [
                NoteRow(reply.id, reply.at, reply.user, reply.text, True)
                for reply in notes
                if reply.parent_id == note.id
            ]
    return rows


@dataclass(frozen=True)
class MailRow:
    id: int
    at: datetime
    kind: str
    recipient: str
    subject: str
    status: str
    detail: str

    def as_dict(self) -> dict:
        return {
            "id": self.id, "date": self.at, "type": self.kind, "destinataire": self.recipient,
            "objet": self.subject, "statut": self.status, "detail": self.detail,
        }  # fmt: skip


def mails_of(payer_id: int) -> list[MailRow]:
    return [
        MailRow(m.id, m.at, m.kind, m.recipient, m.subject, m.status, m.detail)
        for m in PayerMail.select(
            PayerMail.id, PayerMail.at, PayerMail.kind, PayerMail.recipient, PayerMail.subject,
            PayerMail.status, PayerMail.detail,
        )
        .where(PayerMail.payer == payer_id)
        .order_by(PayerMail.at.desc(), PayerMail.id.desc())
    ]  # fmt: skip


def mail_raw(mail_id: int) -> bytes:
    mail = PayerMail.get_or_none(PayerMail.id == mail_id)
    if mail is None:
        raise NotFound(f"Envoi {mail_id} introuvable.")
    return bytes(mail.raw or b"")


@dataclass(frozen=True)
class DocumentRow:
    id: int
    at: datetime
    name: str
    kind: str
    size: int


def documents_of(payer_id: int) -> list[DocumentRow]:
    size = peewee.fn.LENGTH(PayerDocument.data)
    query = (
        PayerDocument.select(
            PayerDocument.id, PayerDocument.at, PayerDocument.name, PayerDocument.kind, size
        )
        .where(PayerDocument.payer == payer_id)
        .order_by(PayerDocument.at.desc(), PayerDocument.id.desc())
        .tuples()
    )
    return [DocumentRow(*row) for row in query]


def document_data(document_id: int) -> tuple[str, bytes]:
    document = PayerDocument.get_or_none(PayerDocument.id == document_id)
    if document is None:
        raise NotFound(f"Document {document_id} introuvable.")
    return document.name, bytes(document.data)


# --- levels of relance ------------------------------------------------------------------------


def reminder_levels() -> list[ReminderLevel]:
    return [
        ReminderLevel(row.number, row.days, row.title, row.text)
        for row in ReminderLevelRow.select().order_by(ReminderLevelRow.number)
    ]


def save_reminder_level(number: int, days: int, title: str, text: str) -> None:
    if days < 0:
        raise ValidationError("Le délai d'une relance ne peut être négatif.", field="days")
    if not title.strip() or not text.strip():
        raise ValidationError("Une relance a un titre et un texte.", field="title")
    levels = [level for level in reminder_levels() if level.number != number]
    check_levels([*levels, ReminderLevel(number, days, title, text)])
    with immediate():
        row = ReminderLevelRow.get_or_none(ReminderLevelRow.number == number)
        if row is None:
            ReminderLevelRow.create(number=number, days=days, title=title, text=text)
        else:
            ReminderLevelRow.update(days=days, title=title, text=text).where(
                ReminderLevelRow.id == row.id
            ).execute()


def payer_dict(payer: Payer) -> dict:
    return {
        "id": payer.id, "nom": payer.name, "adresse": payer.address,
        "code_postal": payer.postcode, "ville": payer.city, "email": payer.email,
        "telephone": payer.phone, "siret": payer.siret, "compte": payer.account,
        "public": payer.public, "code_service": payer.service_code,
        "type_bordereau": SlipKind(payer.slip_kind).label,
        "aide_versee_au_client": payer.aid_paid_to_client,
        "valeurs_par_defaut": {
            code: {
                "heures_minutes": v.monthly_minutes, "tarif_base": v.rates.base_cents,
                "tarif_samedi": v.rates.saturday_cents,
                "tarif_dimanche_ferie": v.rates.sunday_holiday_cents, "taux_pec": v.pec_bp,
                "taux_pec_dimanche": v.sunday_pec_bp, "plafond_dimanche": v.sunday_cap_minutes,
                "mode": v.billing_mode,
            }
            for code, v in defaults_of(payer.id).items()
        },
    }  # fmt: skip
