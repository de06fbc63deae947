"""Bordereaux (seed 004): made per payer and period from the financed shares of validated
invoices (Individuelle: one per beneficiary; Globale: one for all), avoir deductions taken,
simulated or created, validated in bulk (only those dated today or earlier), printed as one PDF,
exported; public payers also get each one as Factur-X. E-mail: ``services.payer_mail``.

:func:`simulate_slips` and :func:`create_slips` share one computation (``_plan``): what the
simulation shows is what is created, and a bordereau's total is the sum of the shares it holds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import peewee

from tuibill.domain import payers as payer_rules
from tuibill.domain.errors import NotFound, RefusedOperation, TuibillError
from tuibill.domain.formatting import format_cents
from tuibill.domain.homecare_invoices import COUNTED_STATES, format_number
from tuibill.domain.slips import (
    CREATE,
    SlipAction,
    SlipKind,
    SlipState,
    validation_refusal,
)
from tuibill.domain.slips import format_number as slip_number
from tuibill.formats import facturx
from tuibill.formats.homecare_csv import SlipExportRow, write_slip_export
from tuibill.formats.slip_pdf import Party, SlipDocument, SlipLine, slip_pdf
from tuibill.models import (
    Client,
    Funding,
    HomecareInvoice,
    HomecareInvoiceLine,
    Payer,
    PayerDocument,
    Slip,
    SlipTransition,
)
from tuibill.models.database import immediate
from tuibill.services import homecare_lifecycle as lifecycle
from tuibill.services.homecare import get_service

# Where a font with accents and the euro sign is usually found (Debian: fonts-liberation, the
# quickest to load, then fonts-dejavu-core).
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)
PAYMENT_DAYS = 30  # the due date printed on a bordereau (and its Factur-X)


def font_path() -> str | None:
    return next((path for path in FONT_CANDIDATES if os.path.exists(path)), None)


# --- making bordereaux ------------------------------------------------------------------------


@dataclass(frozen=True)
class SlipPlan:
    """A bordereau as it would be (or was) made."""

    payer_id: int
    payer: str
    kind: str
    client_id: int | None  # Individuelle
    beneficiaries: tuple[str, ...]
    funding_ids: tuple[int, ...]
    total_cents: int
    deductions_cents: int  # the avoirs deducted (≤ 0)
    refusal: str = ""

    def as_dict(self) -> dict:
        return {
            "tiers_payeur": self.payer_id, "nom": self.payer,
            "type": SlipKind(self.kind).label if self.kind else "",
            "client": self.client_id, "beneficiaires": list(self.beneficiaries),
            "factures": len(self.funding_ids), "montant": self.total_cents,
            "avoirs_deduits": self.deductions_cents, "refus": self.refusal,
        }  # fmt: skip


def _pending(payer: Payer, start: date, end: date) -> list[tuple[Funding, HomecareInvoice]]:
    """The payer's shares on no bordereau yet: invoices of the period, avoirs of any date up to
    its end (a deduction waits for the next bordereau)."""
    counted = [s.value for s in COUNTED_STATES]
    query = (
        Funding.select(Funding, HomecareInvoice)
        .join(HomecareInvoice)
        .where(
            (Funding.payer == payer.id) & Funding.slip.is_null()
            & HomecareInvoice.state.in_(counted) & HomecareInvoice.number.is_null(False)
            & (HomecareInvoice.period_start <= end)
            & ((Funding.cents < 0) | (HomecareInvoice.period_start >= start))
        )
        .order_by(HomecareInvoice.issue_date, HomecareInvoice.number)
    )  # fmt: skip
    return [(funding, funding.invoice) for funding in query]


def _plan(start: date, end: date, payer_ids: Sequence[int] | None) -> list[SlipPlan]:
    if end < start:
        raise RefusedOperation("La fin de la période précède son début.")
    payers = Payer.select().where(Payer.active).order_by(Payer.name)
    if payer_ids:
        payers = payers.where(Payer.id.in_(list(payer_ids)))
    names = {c.id: c.display_name for c in Client.select(Client.id, Client.last_name, Client.first_name)}
    plans: list[SlipPlan] = []
    for payer in payers:
        pending = _pending(payer, start, end)
        if not pending:
            continue
        try:
            payer_rules.check_can_make_slips(
                payer.name, payer_rules.PayerSettings(payer.slip_kind, payer.aid_paid_to_client)
            )
        except TuibillError as error:
            plans.append(SlipPlan(payer.id, payer.name, "", None, (), (), 0, 0, str(error)))
            continue
        groups = payer_rules.slip_groups(payer.slip_kind, {inv.client_id for _, inv in pending})
        for group in groups:
            shares = [(f, inv) for f, inv in pending if inv.client_id in group]
            positive = [f for f, _ in shares if f.cents >= 0]
            base = sum(f.cents for f in positive)
            if not positive:
                continue  # only avoirs: they wait for an invoice to be deducted from
            taken = payer_rules.take_deductions(
                base, [payer_rules.Deduction(f.id, f.cents) for f, _ in shares if f.cents < 0]
            )
            ids = tuple(f.id for f in positive) + tuple(d.key for d in taken)
            deductions = sum(d.cents for d in taken)
            plans.append(
                SlipPlan(
                    payer.id, payer.name, payer.slip_kind,
                    group[0] if payer.slip_kind == SlipKind.INDIVIDUELLE.value else None,
                    tuple(names.get(c, str(c)) for c in group), ids, base + deductions,
                    deductions,
                )  # fmt: skip
            )
    return plans


def simulate_slips(start: date, end: date, payer_ids: Sequence[int] | None = None) -> list[SlipPlan]:
    """« Simuler »: the bordereaux that would be made; nothing is written."""
    return _plan(start, end, payer_ids)


def create_slips(
    start: date,
    end: date,
    payer_ids: Sequence[int] | None = None,
    *,
    user: str,
    slip_date: date | None = None,
    at: datetime | None = None,
) -> tuple[list[int], list[SlipPlan]]:
    """« Créer »: the bordereaux of the simulation, « Créé », in one transaction."""
    slip_date = slip_date or date.today()
    created: list[int] = []
    with immediate():
        plans = _plan(start, end, payer_ids)
        for plan in plans:
            if plan.refusal:
                continue
            slip = Slip.create(
                payer=plan.payer_id, client=plan.client_id, kind=plan.kind,
                state=SlipState.CREE.value, period_start=start, period_end=end,
                slip_date=slip_date, total_cents=plan.total_cents,
                created_at=at or lifecycle.now(),
            )  # fmt: skip
            updated = (
                Funding.update(slip=slip.id)
                .where(Funding.id.in_(list(plan.funding_ids)) & Funding.slip.is_null())
                .execute()
            )
            if updated != len(plan.funding_ids):
                raise RefusedOperation(
                    "Des factures ont été mises sur un bordereau par un autre poste : "
                    "rien n'a été créé, recommencez."
                )
            reason = f"{len(plan.funding_ids)} facture(s)"
            if plan.deductions_cents:
                reason += f", avoirs déduits {format_cents(plan.deductions_cents)} €"
            lifecycle.record_slip(slip, None, slip.state, CREATE, user, reason, at=at)
            created.append(slip.id)
    return created, plans


def get_slip(slip_id: int) -> Slip:
    slip = Slip.get_or_none(Slip.id == slip_id)
    if slip is None:
        raise NotFound(f"Bordereau {slip_id} introuvable.")
    return slip


def validate_slip(slip_id: int, *, user: str, today: date | None = None) -> Slip:
    today = today or date.today()
    with immediate():
        slip = get_slip(slip_id)
        refusal = validation_refusal(slip.slip_date, today)
        if refusal:
            raise RefusedOperation(refusal)
        lifecycle.move_slip(slip, SlipAction.VALIDATE, user=user)
        return slip


@dataclass(frozen=True)
class BulkResult:
    done: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...] = field(default_factory=tuple)  # (slip id, why)

    def as_dict(self) -> dict:
        return {
            "faits": list(self.done),
            "ecartes": [{"bordereau": slip, "motif": why} for slip, why in self.skipped],
        }


def validate_slips(
    start: date, end: date, payer_ids: Sequence[int] | None = None, *, user: str,
    today: date | None = None,
) -> BulkResult:  # fmt: skip
    """« Validation » in bulk: every bordereau « Créé » of the period dated today or earlier;
    the others are listed with the reason."""
    today = today or date.today()
    done, skipped = [], []
    with immediate():
        query = Slip.select().where(
            (Slip.state == SlipState.CREE.value) & (Slip.period_start >= start)
            & (Slip.period_end <= end)
        )  # fmt: skip
        if payer_ids:
            query = query.where(Slip.payer.in_(list(payer_ids)))
        for slip in query.order_by(Slip.slip_date, Slip.id):
            refusal = validation_refusal(slip.slip_date, today)
            if refusal:
                skipped.append((slip.id, refusal))
                continue
            lifecycle.move_slip(slip, SlipAction.VALIDATE, user=user)
            done.append(slip.id)
    return BulkResult(tuple(done), tuple(skipped))


def delete_slip(slip_id: int, *, user: str, reason: str = "") -> Slip:
    with immediate():
        slip = get_slip(slip_id)
        lifecycle.move_slip(slip, SlipAction.DELETE, user=user, reason=reason)
        return slip


# --- documents ---------------------------------------------------------------------------------


def _party_of_payer(payer: Payer) -> Party:
    return Party(payer.name, payer.address, payer.postcode, payer.city, payer.siret, payer.email)


def seller() -> Party:
    service = get_service()
    if service is None:
        raise RefusedOperation(
            "Le service d'aide à domicile n'est pas renseigné (nom, adresse, SIRET) : "
            "« tuibill payer service … »."
        )
    return Party(
        service.name, service.address, service.postcode, service.city, service.siret,
        service.email,
    )  # fmt: skip


def slip_document(slip: Slip) -> SlipDocument:
    lines = []
    query = (
        Funding.select(Funding, HomecareInvoice, Client)
        .join(HomecareInvoice)
        .join(Client)
        .where(Funding.slip == slip.id)
        .order_by(Client.search_name, HomecareInvoice.number)
    )
    for funding in query:
        invoice = funding.invoice
        minutes = (
            HomecareInvoiceLine.select(
                peewee.fn.COALESCE(peewee.fn.SUM(
                    HomecareInvoiceLine.end_minute - HomecareInvoiceLine.start_minute), 0)
            )
            .where((HomecareInvoiceLine.invoice == invoice.id)
                   & (HomecareInvoiceLine.payer == funding.payer_id))
            .scalar()
        )  # fmt: skip
        sign = -1 if funding.cents < 0 else 1
        lines.append(
            SlipLine(
                invoice.client.display_name, format_number(invoice.number, invoice.kind),
                f"{invoice.period_start:%m/%Y}", sign * int(minutes or 0), invoice.total_cents,
                funding.cents,
            )  # fmt: skip
        )
    payer = slip.payer
    kind = SlipKind(slip.kind).label
    notes = []
    if slip.number is None:
        notes.append("Bordereau non validé : document de travail, sans valeur de facture.")
    return SlipDocument(
        slip_number(slip.number) or "(non validé)", slip.slip_date, slip.period_start,
        slip.period_end, kind, seller(), _party_of_payer(payer), tuple(lines), slip.total_cents,
        slip.paid_cents, tuple(notes),
    )  # fmt: skip


def slip_file_name(slip: Slip, suffix: str) -> str:
    return f"bordereau-{slip_number(slip.number) or slip.id}{suffix}"


def slip_pdf_bytes(slip: Slip) -> bytes:
    return slip_pdf([slip_document(slip)], font_path=font_path())


def slip_facturx_bytes(slip: Slip, pdf: bytes | None = None) -> bytes:
    """The bordereau as Factur-X (PDF/A-3 with its EN 16931 XML): only once validated. *pdf*:
    the bordereau's PDF when the caller has just made it."""
    if slip.number is None:
        raise RefusedOperation("Un bordereau non validé n'a pas de Factur-X (pas de numéro).")
    document = slip_document(slip)
    xml = facturx.cii_xml(
        document,
        due_date=slip.slip_date + timedelta(days=PAYMENT_DAYS),
        buyer_reference=slip.payer.service_code,
    )
    return facturx.facturx_pdf(
        pdf or slip_pdf([document], font_path=font_path()), xml,
        title=f"Bordereau {document.number}", seller=document.seller.name,
    )  # fmt: skip


def archive_documents(slip: Slip, *, at: datetime) -> list[tuple[str, bytes]]:
    """The bordereau's files (PDF, and Factur-X for a public payer), kept under the payer's
    Documents; returned for the mail or the printer."""
    pdf = slip_pdf_bytes(slip)
    files = [(slip_file_name(slip, ".pdf"), pdf, "PDF")]
    if slip.payer.public:
        files.append(
            (slip_file_name(slip, "-facturx.pdf"), slip_facturx_bytes(slip, pdf), "FACTURX")
        )
    for name, data, kind in files:
        PayerDocument.create(payer=slip.payer_id, slip=slip.id, at=at, name=name, kind=kind, data=data)
    return [(name, data) for name, data, _ in files]


def print_slips(slip_ids: Sequence[int], *, user: str, at: datetime | None = None) -> bytes:
    """« Édition d'un lot »: one PDF of the bordereaux « Validé » (they become « Envoyé », by
    post); each bordereau's own files are kept under its payer's Documents."""
    at = at or lifecycle.now()
    if not slip_ids:
        raise RefusedOperation("Aucun bordereau choisi.")
    documents = []
    with immediate():
        for slip_id in dict.fromkeys(slip_ids):
            slip = get_slip(slip_id)
            if slip.state != SlipState.VALIDE.value:
                raise RefusedOperation(
                    f"Le bordereau {slip_number(slip.number) or slip.id} est « "
                    f"{SlipState(slip.state).label} » : seuls les bordereaux validés s'éditent."
                )
            archive_documents(slip, at=at)
            lifecycle.move_slip(slip, SlipAction.PRINT, user=user, at=at, sent_by="courrier",
                                reason="édition d'un lot (envoi postal)")  # fmt: skip
            lifecycle.sync_slip_payment(slip, user=user, reason="règlement reçu avant l'envoi", at=at)
            documents.append(slip_document(slip))
    return slip_pdf(documents, font_path=font_path())


def export_slips(start: date, end: date) -> bytes:
    """« Export »: the bordereaux issued for the period, as CSV."""
    query = (
        Slip.select(Slip, Payer)
        .join(Payer)
        .where(
            (Slip.period_start >= start) & (Slip.period_end <= end)
            & (Slip.state != SlipState.SUPPRIME.value)
        )
        .order_by(Slip.number, Slip.id)
    )  # fmt: skip
    names = {c.id: c.display_name for c in Client.select(Client.id, Client.last_name, Client.first_name)}
    return write_slip_export(
        SlipExportRow(
            slip_number(s.number), s.payer.name, SlipKind(s.kind).label,
            names.get(s.client_id, "") if s.client_id else "(tous)", s.period_start,
            s.period_end, s.slip_date, SlipState(s.state).label, s.total_cents, s.paid_cents,
            s.payer.account,
        )  # fmt: skip
        for s in query
    )


# --- lists --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlipRow:
    id: int
    number: str
    payer_id: int
    payer: str
    payer_email: str
    kind: str
    beneficiary: str
    period_start: date
    period_end: date
    slip_date: date
    state: str
    total_cents: int
    paid_cents: int
    sent_at: datetime | None
    reminder_level: int

    @property
    def state_label(self) -> str:
        return SlipState(self.state).label

    @property
    def remaining_cents(self) -> int:
        return self.total_cents - self.paid_cents

    @property
    def partly_paid(self) -> bool:
        return 0 < self.paid_cents < self.total_cents

    def as_dict(self) -> dict:
        return {
            "id": self.id, "numero": self.number, "tiers_payeur": self.payer_id,
            "tiers_payeur_nom": self.payer, "email": self.payer_email,
            "type": SlipKind(self.kind).label, "beneficiaire": self.beneficiary,
            "periode_debut": self.period_start, "periode_fin": self.period_end,
            "date": self.slip_date, "etat": self.state, "etat_libelle": self.state_label,
            "montant": self.total_cents, "montant_regle": self.paid_cents,
            "reste": self.remaining_cents, "envoye_le": self.sent_at,
            "niveau_relance": self.reminder_level,
        }  # fmt: skip


def list_slips(
    *, payer_id: int | None = None, states: Sequence[str] | None = None,
    start: date | None = None, end: date | None = None,
) -> list[SlipRow]:  # fmt: skip
    query = Slip.select(Slip, Payer).join(Payer)
    if payer_id is not None:
        query = query.where(Slip.payer == payer_id)
    if states:
        query = query.where(Slip.state.in_(list(states)))
    else:
        query = query.where(Slip.state != SlipState.SUPPRIME.value)
    if start is not None:
        query = query.where(Slip.period_start >= start)
    if end is not None:
        query = query.where(Slip.period_end <= end)
    names = {c.id: c.display_name for c in Client.select(Client.id, Client.last_name, Client.first_name)}
    return [
        SlipRow(
            s.id, slip_number(s.number), s.payer_id, s.payer.name, s.payer.email, s.kind,
            names.get(s.client_id, "") if s.client_id else "(tous)", s.period_start,
            s.period_end, s.slip_date, s.state, s.total_cents, s.paid_cents, s.sent_at,
            s.reminder_level,
        )  # fmt: skip
        for s in query.order_by(Slip.slip_date.desc(), Slip.id.desc())
    ]


def slip_history(slip_id: int) -> list[tuple[datetime, str, str, str]]:
    from tuibill.domain.slips import history_label

    return [
        (row.at, row.user, history_label(row.action), row.reason)
        for row in SlipTransition.select().where(SlipTransition.slip == slip_id).order_by(SlipTransition.seq)
    ]


def write_file(path: str, data: bytes) -> str:
    """Write a document where the user asked (the screens' « Édition », « Export »)."""
    from pathlib import Path

    target = Path(path).expanduser()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    except OSError as error:
        raise RefusedOperation(
            f"Impossible d'écrire « {target} » ({error.strerror or error}) : choisissez un autre "
            "dossier."
        ) from None
    return str(target)
