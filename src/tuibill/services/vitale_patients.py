"""The patients of a carte Vitale: each bénéficiaire read is looked up in the file (NIR, then
birth date and rank, then name) and compared with it; the differences are shown for the user to
confirm before the file is created or updated from the card."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.patients import QUALITIES
from tuibill.hardware.cards import (
    Beneficiary,
    CardReader,
    VitaleData,
)
from tuibill.models import Patient
from tuibill.services import patients as patient_service
from tuibill.services.patients import search_key


@dataclass(frozen=True)
class Difference:
    """One field where the card and the patient file disagree."""

    field: str  # PatientInput attribute
    label: str  # French, for the user
    card: str
    file: str


ABSENT, SAME, DIFFERENT = "absent", "identique", "differences"


STATUS_LABELS = {
    ABSENT: "Absent du fichier",
    SAME: "Identique au fichier",
    DIFFERENT: "Différences avec le fichier",
}


# A difference on these means the card's bénéficiaire is not the file's patient as recorded:
# validation refuses until the file is updated from the card.
IDENTITY_FIELDS = frozenset({"birth_date", "rank"})


@dataclass(frozen=True)
class BeneficiaryMatch:
    position: int  # 0-based, in the card's order (the first is the assuré)
    beneficiary: Beneficiary
    patient: Patient | None
    differences: tuple[Difference, ...] = ()
    same_nir: tuple[Patient, ...] = ()  # every patient of the file with this NIR

    @property
    def status(self) -> str:
        if self.patient is None:
            return ABSENT
        return DIFFERENT if self.differences else SAME

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def identity_differs(self) -> bool:
        return any(d.field in IDENTITY_FIELDS for d in self.differences)


@dataclass(frozen=True)
class CardReading:
    vitale: VitaleData
    matches: tuple[BeneficiaryMatch, ...]


def _same_name(patient: Patient, beneficiary: Beneficiary) -> bool:
    return search_key(patient.last_name, patient.first_name) == search_key(
        beneficiary.last_name, beneficiary.first_name
    )


def differences(patient: Patient, beneficiary: Beneficiary) -> tuple[Difference, ...]:
    """Where the card and the file disagree. Names compare without case nor accents: a card
    writes « HELENE » for the file's « Hélène »."""
    found = []
    if search_key(patient.last_name) != search_key(beneficiary.last_name):
        found.append(Difference("last_name", "Nom", beneficiary.last_name, patient.last_name))
    if search_key(patient.first_name) != search_key(beneficiary.first_name):
        found.append(Difference("first_name", "Prénom", beneficiary.first_name, patient.first_name))
    if patient.birth_date != beneficiary.birth_date:
        found.append(
            Difference(
                "birth_date",
                "Date de naissance",
                f"{beneficiary.birth_date:%d/%m/%Y}",
                f"{patient.birth_date:%d/%m/%Y}",
            )
        )
    if beneficiary.rank is not None and patient.rank != beneficiary.rank:
        found.append(
            Difference("rank", "Rang de naissance", str(beneficiary.rank), str(patient.rank))
        )
    return tuple(found)


def _own_nir(nir: str, birth_date: date) -> bool:
    """True when *nir* encodes *birth_date*'s year and month (not a parent's NIR)."""
    return nir[1:5] == f"{birth_date:%y%m}"


def find_patient(beneficiary: Beneficiary) -> tuple[Patient | None, tuple[Patient, ...]]:
    """The file's patient for a card's bénéficiaire, and every patient with the same NIR.

    Children may carry their parent's NIR: the birth date (and the rank, twins) tells them
    apart; the name settles what is left. Same NIR but nothing else alike: not this patient,
    unless the NIR is the person's own (it encodes the birth year and month).
    """
    same_nir = tuple(sorted(patient_service.find_by_nir(beneficiary.nir), key=lambda p: p.id))
    rank_ok = [p for p in same_nir if beneficiary.rank is None or p.rank == beneficiary.rank]
    own = _own_nir(beneficiary.nir, beneficiary.birth_date)
    for pool in (
        [p for p in rank_ok if p.birth_date == beneficiary.birth_date],
        # Another rank on file: the same child only if the name is the same (else: a twin).
        [
            p
            for p in same_nir
            if p.birth_date == beneficiary.birth_date and _same_name(p, beneficiary)
        ],
        [p for p in same_nir if _same_name(p, beneficiary)],
        # The card's NIR is the person's own (it encodes her birth year and month): a file entry
        # with that NIR born the same month is her, whatever typo the file holds.
        [p for p in same_nir if own and _own_nir(p.nir, p.birth_date)],
    ):
        if pool:
            named = [p for p in pool if _same_name(p, beneficiary)]
            return (named or pool)[0], same_nir
    return None, same_nir


def match_beneficiaries(vitale: VitaleData) -> tuple[BeneficiaryMatch, ...]:
    matches = []
    for position, beneficiary in enumerate(vitale.beneficiaries):
        patient, same_nir = find_patient(beneficiary)
        matches.append(
            BeneficiaryMatch(
                position=position,
                beneficiary=beneficiary,
                patient=patient,
                differences=differences(patient, beneficiary) if patient else (),
                same_nir=same_nir,
            )
        )
    return tuple(matches)


def read_card_patients(reader: CardReader) -> CardReading:
    """Read the Vitale card present and look its bénéficiaires up in the file.

    A Vitale 1 raises :class:`~tuibill.hardware.cards.Vitale1Error`, whose message offers the
    mode dégradé.
    """
    vitale = reader.read_vitale()
    return CardReading(vitale, match_beneficiaries(vitale))


def _first_name(text: str) -> str:
    """« JEAN-PIERRE » → « Jean-Pierre »: the file's spelling of first names."""
    return re.sub(r"[^\s\-']+", lambda m: m.group(0).capitalize(), text.strip())


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def default_quality(vitale: VitaleData, position: int) -> str:
    """The first bénéficiaire is the assuré; a dependant born 16 years or more after the
    assuré is taken for a child, another one for a spouse (the user confirms)."""
    if position == 0:
        return "00"
    assure = vitale.beneficiaries[0].birth_date
    born = vitale.beneficiaries[position].birth_date
    return "06" if born >= _years_after(assure, 16) else "02"


def new_patient_input(
    reading: CardReading,
    position: int,
    *,
    quality: str | None = None,
    organism_id: int | None = None,
) -> patient_service.PatientInput:
    """The patient the card describes, ready to create: identity from the card; caisse,
    mutuelle, sector and address copied from the assuré when the file already holds him."""
    if not 0 <= position < len(reading.matches):
        raise ValidationError(
            f"Bénéficiaire {position + 1} absent de la carte "
            f"({len(reading.matches)} bénéficiaire(s))."
        )
    beneficiary = reading.matches[position].beneficiary
    quality = quality or default_quality(reading.vitale, position)
    if quality not in QUALITIES:
        raise ValidationError(f"Qualité « {quality} » inconnue.", field="quality")
    assure = reading.matches[0].patient if position > 0 else None
    data = patient_service.PatientInput(
        last_name=beneficiary.last_name.upper(),
        first_name=_first_name(beneficiary.first_name),
        birth_date=beneficiary.birth_date,
        nir=beneficiary.nir,
        rank=beneficiary.rank or 1,
        quality=quality,
    )
    if assure is not None and quality != "00":
        data = replace(
            data,
            insured_id=assure.id,
            organism_id=assure.organism_id,
            mutuelle_id=assure.mutuelle_id,
            amc_member_number=assure.amc_member_number,
            amo_tiers_payant=assure.amo_tiers_payant,
            amc_tiers_payant=assure.amc_tiers_payant,
            sector=assure.sector,
            address=assure.address,
            phone=assure.phone,
        )
    if organism_id is not None:
        data = replace(data, organism_id=organism_id)
    return data


def create_patient_from_card(
    reading: CardReading,
    position: int,
    *,
    quality: str | None = None,
    organism_id: int | None = None,
    today: date | None = None,
) -> Patient:
    """Create the card's bénéficiaire at *position* in the file (refused if already there)."""
    data = new_patient_input(reading, position, quality=quality, organism_id=organism_id)
    existing, _ = find_patient(reading.matches[position].beneficiary)
    if existing is not None:
        raise RefusedOperation(
            f"{existing.display_name} est déjà dans le fichier (patient {existing.id}) : "
            "mettez sa fiche à jour au lieu d'en créer une autre."
        )
    return patient_service.create_patient(data, today=today)


def update_patient_from_card(
    patient_id: int,
    beneficiary: Beneficiary,
    fields: Sequence[str] | None = None,
    *,
    today: date | None = None,
) -> Patient:
    """Copy the card's values into the file for *fields* (default: every difference).

    The NIR is never changed here: it is what tied the card to this patient.
    """
    patient = patient_service.get_patient(patient_id)
    if patient.nir != beneficiary.nir:
        raise RefusedOperation(
            f"La carte ne porte pas le NIR de {patient.display_name} : fiche non modifiée."
        )
    wanted = {d.field for d in differences(patient, beneficiary)}
    if fields is not None:
        wanted &= set(fields)
    if not wanted:
        return patient
    data = patient_service.patient_input(patient)
    values = {
        "last_name": beneficiary.last_name.upper(),
        "first_name": _first_name(beneficiary.first_name),
        "birth_date": beneficiary.birth_date,
        "rank": beneficiary.rank,
    }
    data = replace(data, **{name: values[name] for name in wanted})
    return patient_service.update_patient(patient_id, data, today=today)


def beneficiary_for(patient: Patient, vitale: VitaleData) -> Beneficiary | None:
    """The card's bénéficiaire who is *patient*: same NIR, birth date and (if known) rank."""
    for beneficiary in vitale.beneficiaries:
        if (
            beneficiary.nir == patient.nir
            and beneficiary.birth_date == patient.birth_date
            and (beneficiary.rank is None or beneficiary.rank == patient.rank)
        ):
            return beneficiary
    return None
