"""The practice and its practitioners (PS), including their invoice and lot numbering set-up.

« Données › Praticiens » reads :func:`practitioner_rows` and saves a
:class:`PractitionerInput` with :func:`save_practitioner` (one transaction: the record and both
numberings).
"""

from __future__ import annotations

from dataclasses import dataclass

from tuibill.config import PracticeSettings
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.domain.numbering import LOT_NUMBER_MAX, LOT_NUMBER_MIN
from tuibill.models import Invoice, Lot, Practice, Practitioner
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


# --- « Données › Praticiens » ------------------------------------------------------------------


def specialties() -> dict[str, str]:
    """Code → label of the specialties a practitioner may have (« 24 » → « Infirmier »)."""
    return dict(SPECIALTIES)


@dataclass(frozen=True)
class PractitionerRow:
    """A practitioner as the screen shows it: identity, numbering, the CPS expected."""

    id: int
    last_name: str
    first_name: str
    am_number: str
    rpps: str
    specialty: str
    specialty_label: str
    zone: str
    active: bool
    next_invoice_number: int | None  # None: no numbering, cannot validate yet
    next_lot_number: int | None
    has_billed: bool  # an invoice or a lot carries its AM number: the number is kept

    @property
    def display_name(self) -> str:
        return f"{self.last_name} {self.first_name}".strip()

    @property
    def cps_number(self) -> str:
        """The number the exécutant's CPS carries: his AM number (checked when signing)."""
        return self.am_number


@dataclass(frozen=True)
class PractitionerInput:
    """A practitioner as the form or the command line gives it, before it is checked."""

    last_name: str
    first_name: str
    am_number: str
    rpps: str = ""
    specialty: str = "24"
    zone: str = "01"
    active: bool = True
    next_invoice_number: int | None = None  # None: left as it is (or not set up)
    next_lot_number: int | None = None


def _row(practitioner: Practitioner) -> PractitionerRow:
    billed = (
        Invoice.select().where(Invoice.practitioner == practitioner.id).exists()
        or Lot.select().where(Lot.practitioner == practitioner.id).exists()
    )
    return PractitionerRow(
        id=practitioner.id,
        last_name=practitioner.last_name,
        first_name=practitioner.first_name,
        am_number=practitioner.am_number,
        rpps=practitioner.rpps,
        specialty=practitioner.specialty,
        specialty_label=practitioner.specialty_label,
        zone=practitioner.zone,
        active=practitioner.active,
        next_invoice_number=numbering.peek(practitioner),
        next_lot_number=numbering.peek(practitioner, numbering.LOT),
        has_billed=billed,
    )


def practitioner_rows() -> list[PractitionerRow]:
    """Every practitioner, active or not, by name (a practice has a few)."""
    return [_row(p) for p in list_practitioners(active_only=False)]


def practitioner_row(practitioner_id: int) -> PractitionerRow:
    return _row(get_practitioner(practitioner_id))


def _check_identity(data: PractitionerInput) -> None:
    if not data.last_name.strip():
        raise ValidationError("Le nom du praticien est obligatoire.", field="last_name")
    if not (data.am_number.isdigit() and len(data.am_number) == 9):
        raise ValidationError("Le numéro AM du praticien compte 9 chiffres.", field="am_number")
    if data.rpps and not (data.rpps.isdigit() and len(data.rpps) == 11):
        raise ValidationError("Le numéro RPPS compte 11 chiffres.", field="rpps")
    if data.specialty not in SPECIALTIES:
        raise ValidationError(f"Spécialité « {data.specialty} » inconnue.", field="specialty")
    if not (data.zone.isdigit() and len(data.zone) == 2):
        raise ValidationError("La zone tarifaire compte 2 chiffres (01 par défaut).", field="zone")


def _set_lot_next(practitioner: Practitioner, value: int) -> None:
    if not LOT_NUMBER_MIN <= value <= LOT_NUMBER_MAX:
        raise ValidationError(
            f"Les numéros de lot vont de {LOT_NUMBER_MIN} à {LOT_NUMBER_MAX}.",
            field="next_lot_number",
        )
    current = numbering.peek(practitioner, numbering.LOT)
    if current is not None and value < current:
        raise ValidationError(
            f"Le prochain numéro de lot est déjà {current:03d} : impossible de revenir en "
            "arrière (numéros déjà attribués).",
            field="next_lot_number",
        )
    if value != current:
        numbering.set_start(practitioner, value, numbering.LOT)


def save_practitioner(
    practitioner_id: int | None, data: PractitionerInput, *, user: str
) -> Practitioner:
    """Create (*practitioner_id* None) or correct a practitioner, with his numbering, in one
    transaction. The AM number of a practitioner who has billed is kept: his invoices, lots and
    signatures carry it. Only an administrateur may (``domain.permissions``)."""
    from tuibill.domain.permissions import Family
    from tuibill.services import users

    users.require(user, Family.PRACTICE)
    _check_identity(data)
    with immediate():
        other = Practitioner.get_or_none(Practitioner.am_number == data.am_number)
        if other is not None and other.id != practitioner_id:
            raise ValidationError(
                f"Le numéro AM {data.am_number} est déjà celui de {other.display_name}.",
                field="am_number",
            )
        if practitioner_id is None:
            practitioner = Practitioner(am_number=data.am_number)
        else:
            practitioner = get_practitioner(practitioner_id)
            if data.am_number != practitioner.am_number and _row(practitioner).has_billed:
                raise ValidationError(
                    f"{practitioner.display_name} a déjà facturé sous le numéro AM "
                    f"{practitioner.am_number} : il ne change plus (créez un autre praticien).",
                    field="am_number",
                )
        practitioner.last_name = data.last_name.strip().upper()
        practitioner.first_name = data.first_name.strip()
        practitioner.am_number = data.am_number
        practitioner.rpps = data.rpps
        practitioner.specialty = data.specialty
        practitioner.zone = data.zone
        practitioner.active = data.active
        practitioner.save()
        if data.next_invoice_number is not None:
            current = numbering.peek(practitioner)
            if data.next_invoice_number != current:
                try:
                    numbering.set_start(practitioner, data.next_invoice_number)
                except ValidationError as error:  # the form's field for it
                    raise ValidationError(str(error), field="next_invoice_number") from None
        if data.next_lot_number is not None:
            _set_lot_next(practitioner, data.next_lot_number)
        elif numbering.peek(practitioner, numbering.LOT) is None:
            numbering.set_start(practitioner, 1, numbering.LOT)  # lots always numbered
    return practitioner
