"""The practice and its practitioners (PS), including their invoice numbering set-up."""

from __future__ import annotations

from tuibill.config import PracticeSettings
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.models import Practice, Practitioner
from tuibill.models.database import immediate
from tuibill.models.practice import SPECIALTIES
from tuibill.services import numbering


def get_practice() -> Practice | None:
    return Practice.select().order_by(Practice.id).first()


def save_practice(name: str, address: str = "", phone: str = "", email: str = "") -> Practice:
    if not name.strip():
        raise ValidationError("Le nom du cabinet est obligatoire.", field="name")
    with immediate():
        practice = get_practice() or Practice(name=name)
        practice.name, practice.address, practice.phone, practice.email = name, address, phone, email
        practice.save()
        return practice


def create_practitioner(
    last_name: str,
    first_name: str,
    am_number: str,
    *,
    rpps: str = "",
    specialty: str = "24",
    zone: str = "01",
    invoice_number_start: int | None = 1,
) -> Practitioner:
    """A PS; without *invoice_number_start* it cannot validate until its numbering is set up."""
    if not (am_number.isdigit() and len(am_number) == 9):
        raise ValidationError("Le numéro AM du praticien compte 9 chiffres.", field="am_number")
    if rpps and not (rpps.isdigit() and len(rpps) == 11):
        raise ValidationError("Le numéro RPPS compte 11 chiffres.", field="rpps")
    if specialty not in SPECIALTIES:
        raise ValidationError(f"Spécialité « {specialty} » inconnue.", field="specialty")
    if not last_name.strip():
        raise ValidationError("Le nom du praticien est obligatoire.", field="last_name")
    with immediate():
        if Practitioner.get_or_none(Practitioner.am_number == am_number) is not None:
            raise ValidationError(f"Le praticien {am_number} existe déjà.", field="am_number")
        practitioner = Practitioner.create(
            last_name=last_name.strip().upper(),
            first_name=first_name.strip(),
            am_number=am_number,
            rpps=rpps,
            specialty=specialty,
            zone=zone,
        )
        if invoice_number_start is not None:
            numbering.set_start(practitioner, invoice_number_start)
        numbering.set_start(practitioner, 1, numbering.LOT)
    return practitioner


def list_practitioners(active_only: bool = True) -> list[Practitioner]:
    query = Practitioner.select()
    if active_only:
        query = query.where(Practitioner.active)
    return list(query.order_by(Practitioner.last_name, Practitioner.first_name))


def get_practitioner(practitioner_id: int) -> Practitioner:
    practitioner = Practitioner.get_or_none(Practitioner.id == practitioner_id)
    if practitioner is None:
        raise NotFound(f"Praticien {practitioner_id} introuvable.")
    return practitioner


def find_practitioner(reference: str) -> Practitioner:
    """By AM number (9 digits) or by id."""
    practitioner = Practitioner.get_or_none(Practitioner.am_number == reference)
    if practitioner is None and reference.isdigit() and len(reference) < 9:
        practitioner = Practitioner.get_or_none(Practitioner.id == int(reference))
    if practitioner is None:
        raise NotFound(f"Praticien « {reference} » introuvable (numéro AM ou identifiant).")
    return practitioner


def set_numbering(practitioner_id: int, start: int) -> None:
    with immediate():
        numbering.set_start(get_practitioner(practitioner_id), start)


def apply_settings(settings: PracticeSettings) -> list[str]:
    """Create the practice and the practitioners named in the config file that are not there."""
    done: list[str] = []
    if settings.name and get_practice() is None:
        save_practice(settings.name, settings.address, settings.phone, settings.email)
        done.append(f"cabinet « {settings.name} » créé")
    for ps in settings.practitioners:
        if Practitioner.get_or_none(Practitioner.am_number == ps.am_number) is None:
            create_practitioner(
                ps.last_name,
                ps.first_name,
                ps.am_number,
                rpps=ps.rpps,
                specialty=ps.specialty,
                zone=ps.zone,
                invoice_number_start=ps.invoice_number_start,
            )
            done.append(f"praticien {ps.am_number} créé")
    return done
