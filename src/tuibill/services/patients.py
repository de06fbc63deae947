"""Patients (bénéficiaires and their assuré), prescripteurs, caisses and mutuelles."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from datetime import date

from tuibill.domain import patients as rules
from tuibill.domain.errors import NotFound, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceState
from tuibill.domain.patients import QUALITIES
from tuibill.models import (
    Invoice,
    Mutuelle,
    Organism,
    Patient,
    Practitioner,
    Prescriber,
)
from tuibill.models.database import immediate


def search_key(last_name: str, first_name: str = "") -> str:
    """« Dupuis Alain » → « DUPUIS ALAIN »: upper-case, accents removed, single spaces."""
    text = f"{last_name} {first_name}".strip()
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.upper().split())


def prefix_range(prefix: str) -> tuple[str, str]:
    """Bounds for an index range scan matching *prefix* (works with any collation-less index)."""
    return prefix, prefix + "\uffff"


@dataclass
class PatientInput:
    last_name: str
    first_name: str
    birth_date: date
    nir: str
    rank: int = 1
    quality: str = "00"
    insured_id: int | None = None
    death_date: date | None = None
    organism_id: int | None = None
    mutuelle_id: int | None = None
    amc_member_number: str = ""
    amo_tiers_payant: bool = True
    amc_tiers_payant: bool = False
    ald: bool = False
    maternity: bool = False
    exoneration: str = ""
    sector: str = ""
    address: str = ""
    phone: str = ""


def _check(data: PatientInput, today: date) -> dict:
    if not data.last_name.strip():
        raise ValidationError("Le nom est obligatoire.", field="last_name")
    if not data.first_name.strip():
        raise ValidationError("Le prénom est obligatoire.", field="first_name")
    nir = rules.check_nir(data.nir)
    rules.check_rank(data.rank)
    rules.check_quality(data.quality)
    rules.check_dates(data.birth_date, data.death_date, today)
    if data.organism_id is not None and Organism.get_or_none(Organism.id == data.organism_id) is None:
        raise ValidationError("Caisse (AMO) inconnue.", field="organism")
    if data.mutuelle_id is not None and Mutuelle.get_or_none(Mutuelle.id == data.mutuelle_id) is None:
        raise ValidationError("Mutuelle (AMC) inconnue.", field="mutuelle")
    insured = None
    if data.insured_id is not None:
        insured = Patient.get_or_none(Patient.id == data.insured_id)
        if insured is None:
            raise ValidationError("Assuré inconnu.", field="insured")
    # An assuré's NIR is their own; a bénéficiaire may be known under their assuré's (which can
    # only be checked when the assuré is in the file).
    if data.quality == "00" and insured is None:
        rules.check_nir_birth(nir, data.birth_date)
    elif insured is not None:
        rules.check_nir_birth(nir, data.birth_date, insured_nir=insured.nir)
    if data.quality == "00" and data.insured_id is not None:
        raise ValidationError(
            "Un bénéficiaire rattaché à un assuré n'a pas la qualité « Assuré ».", field="quality"
        )
    values = {f.name: getattr(data, f.name) for f in fields(data)}
    values["last_name"] = data.last_name.strip().upper()
    values["first_name"] = data.first_name.strip()
    values["nir"] = nir
    values["search_name"] = search_key(data.last_name, data.first_name)
    for key in ("insured_id", "organism_id", "mutuelle_id"):
        values[key.removesuffix("_id")] = values.pop(key)
    return values


def create_patient(data: PatientInput, *, today: date | None = None) -> Patient:
    with immediate():
        return Patient.create(**_check(data, today or date.today()))


def update_patient(patient_id: int, data: PatientInput, *, today: date | None = None) -> Patient:
    with immediate():
        get_patient(patient_id)  # NotFound before any check
        if data.insured_id == patient_id:
            raise ValidationError("Un patient ne peut être son propre assuré.", field="insured")
        values = _check(data, today or date.today())
        Patient.update(**values).where(Patient.id == patient_id).execute()
        return get_patient(patient_id)


def get_patient(patient_id: int) -> Patient:
    patient = Patient.get_or_none(Patient.id == patient_id)
    if patient is None:
        raise NotFound(f"Patient {patient_id} introuvable.")
    return patient


def patient_input(patient: Patient) -> PatientInput:
    """The editable form of a patient (for the edit screen)."""
    return PatientInput(
        last_name=patient.last_name,
        first_name=patient.first_name,
        birth_date=patient.birth_date,
        nir=patient.nir,
        rank=patient.rank,
        quality=patient.quality,
        insured_id=patient.insured_id,
        death_date=patient.death_date,
        organism_id=patient.organism_id,
        mutuelle_id=patient.mutuelle_id,
        amc_member_number=patient.amc_member_number,
        amo_tiers_payant=patient.amo_tiers_payant,
        amc_tiers_payant=patient.amc_tiers_payant,
        ald=patient.ald,
        maternity=patient.maternity,
        exoneration=patient.exoneration,
        sector=patient.sector,
        address=patient.address,
        phone=patient.phone,
    )


def search_patients(text: str = "", *, limit: int = 50, after_key: tuple[str, int] | None = None) -> list[Patient]:
    """Patients whose name starts with *text*, or whose NIR starts with it (digits)."""
    query = Patient.select()
    cleaned = "".join(text.split())
    if cleaned and cleaned[:1].isdigit():
        low, high = prefix_range(cleaned.upper())
        query = query.where((Patient.nir >= low) & (Patient.nir < high))
        query = query.order_by(Patient.nir, Patient.id)
        return list(query.limit(limit))
    key = search_key(text)
    if key:
        low, high = prefix_range(key)
        query = query.where((Patient.search_name >= low) & (Patient.search_name < high))
    if after_key is not None:
        name, pid = after_key
        query = query.where(
            (Patient.search_name > name) | ((Patient.search_name == name) & (Patient.id > pid))
        )
    return list(query.order_by(Patient.search_name, Patient.id).limit(limit))


def find_by_nir(nir: str) -> list[Patient]:
    return list(Patient.select().where(Patient.nir == rules.normalize_nir(nir)))


# --- prescripteurs (« Données › Prescripteurs ») ---


def _check_prescriber(number: str, last_name: str) -> str:
    number = number.strip()
    if not (number.isdigit() and len(number) in (9, 11)):
        raise ValidationError(
            "Le numéro du prescripteur compte 9 chiffres (AM) ou 11 (RPPS).", field="number"
        )
    if not last_name.strip():
        raise ValidationError("Le nom du prescripteur est obligatoire.", field="last_name")
    return number


def create_prescriber(number: str, last_name: str, first_name: str = "", specialty: str = "Médecine générale") -> Prescriber:
    with immediate():
        number = _check_prescriber(number, last_name)
        if Prescriber.get_or_none(Prescriber.number == number) is not None:
            raise ValidationError(f"Le prescripteur {number} existe déjà.", field="number")
        return Prescriber.create(
            number=number,
            last_name=last_name.strip().upper(),
            first_name=first_name.strip(),
            specialty=specialty.strip() or "Médecine générale",
        )


def update_prescriber(prescriber_id: int, number: str, last_name: str, first_name: str = "", specialty: str = "") -> Prescriber:
    with immediate():
        prescriber = Prescriber.get_or_none(Prescriber.id == prescriber_id)
        if prescriber is None:
            raise NotFound(f"Prescripteur {prescriber_id} introuvable.")
        number = _check_prescriber(number, last_name)
        other = Prescriber.get_or_none(Prescriber.number == number)
        if other is not None and other.id != prescriber_id:
            raise ValidationError(f"Le numéro {number} est déjà celui d'un autre prescripteur.", field="number")
        prescriber.number = number
        prescriber.last_name = last_name.strip().upper()
        prescriber.first_name = first_name.strip()
        prescriber.specialty = specialty.strip() or prescriber.specialty
        prescriber.save()
        return prescriber


def find_prescriber(number: str) -> Prescriber:
    prescriber = Prescriber.get_or_none(Prescriber.number == number.strip())
    if prescriber is None:
        raise ValidationError(
            f"Prescripteur {number} inconnu : créez-le dans « Données › Prescripteurs ».",
            field="prescriber",
        )
    return prescriber


def list_prescribers(text: str = "", limit: int = 200) -> list[Prescriber]:
    query = Prescriber.select()
    if text:
        if text.strip().isdigit():
            query = query.where(Prescriber.number.startswith(text.strip()))
        else:
            query = query.where(Prescriber.last_name.startswith(text.strip().upper()))
    return list(query.order_by(Prescriber.last_name, Prescriber.id).limit(limit))


@dataclass(frozen=True)
class PrescriberRow:
    """A prescripteur as the screens list, pick and correct it."""

    id: int
    number: str
    last_name: str
    first_name: str
    specialty: str

    @property
    def display_name(self) -> str:
        return f"Dr {self.last_name} {self.first_name}".strip()


def prescriber_row(prescriber: Prescriber) -> PrescriberRow:
    p = prescriber
    return PrescriberRow(p.id, p.number, p.last_name, p.first_name, p.specialty)


def prescriber_rows(text: str = "", limit: int = 200) -> list[PrescriberRow]:
    """:func:`list_prescribers` as plain rows."""
    return [prescriber_row(p) for p in list_prescribers(text, limit)]


def list_organisms() -> list[Organism]:
    return list(Organism.select().order_by(Organism.regime, Organism.caisse, Organism.centre))


def find_organism(reference: str) -> Organism:
    """A caisse by régime + caisse (« 01281 ») or by its id."""
    code = reference.strip()
    organism = None
    if len(code) == 5 and code.isdigit():
        organism = (
            Organism.select()
            .where((Organism.regime == code[:2]) & (Organism.caisse == code[2:]))
            .order_by(Organism.centre)
            .first()
        )
    elif code.isdigit():
        organism = Organism.get_or_none(Organism.id == int(code))
    if organism is None:
        raise ValidationError(f"Caisse « {code} » inconnue.")
    return organism


def list_mutuelles() -> list[Mutuelle]:
    return list(Mutuelle.select().order_by(Mutuelle.name))


def create_organism(regime: str, caisse: str, centre: str, name: str, email: str = "") -> Organism:
    if not (len(regime) == 2 and regime.isdigit() and len(caisse) == 3 and caisse.isdigit()
            and len(centre) == 4 and centre.isdigit()):
        raise ValidationError("Régime (2 chiffres), caisse (3) et centre (4) attendus.", field="organism")
    if not name.strip():
        raise ValidationError("Le nom de la caisse est obligatoire.", field="name")
    with immediate():
        return Organism.create(regime=regime, caisse=caisse, centre=centre, name=name.strip(), email=email)


def create_mutuelle(number: str, name: str, email: str = "") -> Mutuelle:
    if not (number.isdigit() and 1 <= len(number) <= 10):
        raise ValidationError("Le numéro AMC compte jusqu'à 10 chiffres.", field="number")
    if not name.strip():
        raise ValidationError("Le nom de la mutuelle est obligatoire.", field="name")
    with immediate():
        return Mutuelle.create(number=number, name=name.strip(), email=email)


@dataclass(frozen=True)
class PatientInvoiceRow:
    """A row of the patient's « Factures » tab (seed 003 columns)."""

    id: int
    number_text: str
    tiers_payant: str
    state_label: str
    billing_date: date
    total_cents: int
    first_act: date
    last_act: date
    amo_cents: int
    amc_cents: int
    patient_cents: int
    practitioner: str

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def patient_invoices(patient_id: int, *, limit: int = 500) -> list[PatientInvoiceRow]:

    query = (
        Invoice.select(Invoice, Practitioner)
        .join(Practitioner)
        .where(Invoice.patient == patient_id)
        .order_by(Invoice.billing_date.desc(), Invoice.id.desc())
        .limit(limit)
    )
    rows = []
    for inv in query:
        tp = "+".join(
            part for part, on in (("AMO", inv.amo_tiers_payant), ("AMC", inv.amc_tiers_payant)) if on
        )
        rows.append(
            PatientInvoiceRow(
                id=inv.id,
                number_text=format_invoice_number(inv.number),
                tiers_payant=tp or "—",
                state_label=InvoiceState(inv.state).short_label,  # a list column: 13 characters
                billing_date=inv.billing_date,
                total_cents=inv.total_cents,
                first_act=inv.first_act_date,
                last_act=inv.last_act_date,
                amo_cents=inv.amo_cents,
                amc_cents=inv.amc_cents,
                patient_cents=inv.patient_cents,
                practitioner=inv.practitioner.display_name,
            )
        )
    return rows


def patient_record(patient: Patient) -> dict:
    return {
        "id": patient.id,
        "nom": patient.last_name,
        "prenom": patient.first_name,
        "naissance": patient.birth_date,
        "nir": patient.nir,
        "rang": patient.rank,
        "qualite": QUALITIES.get(patient.quality, patient.quality),
        "assure_id": patient.insured_id,
        "deces": patient.death_date,
        "caisse": patient.organism.name if patient.organism_id else None,
        "mutuelle": patient.mutuelle.name if patient.mutuelle_id else None,
        "numero_adherent_amc": patient.amc_member_number,
        "tiers_payant_amo": patient.amo_tiers_payant,
        "tiers_payant_amc": patient.amc_tiers_payant,
        "ald": patient.ald,
        "maternite": patient.maternity,
        "exoneration": patient.exoneration,
        "secteur": patient.sector,
        "adresse": patient.address,
        "telephone": patient.phone,
    }


PageKey = tuple[str, int]


def is_nir_search(text: str) -> bool:
    """A search text starting with a digit is a NIR prefix; anything else is a name prefix."""
    return "".join(text.split())[:1].isdigit()


def search_patients_page(
    text: str = "", *, limit: int = 50, after_key: PageKey | None = None
) -> tuple[list[Patient], PageKey | None]:
    """One page of :func:`search_patients`, and the key of the next page (``None``: last page).

    ``search_patients`` pages by key on names only; a NIR prefix search is paged here on
    (nir, id) the same way, so neither mode ever reads the whole table.
    """
    if not is_nir_search(text):
        rows = search_patients(text, limit=limit, after_key=after_key)
        last = (rows[-1].search_name, rows[-1].id) if rows else None
    else:
        low, high = prefix_range("".join(text.split()).upper())
        query = Patient.select().where((Patient.nir >= low) & (Patient.nir < high))
        if after_key is not None:
            nir, pid = after_key
            query = query.where((Patient.nir > nir) | ((Patient.nir == nir) & (Patient.id > pid)))
        rows = list(query.order_by(Patient.nir, Patient.id).limit(limit))
        last = (rows[-1].nir, rows[-1].id) if rows else None
    return rows, (last if len(rows) == limit else None)
