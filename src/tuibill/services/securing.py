"""Mode SESAM-Vitale: the patient's carte Vitale, the PS's CPS, and the signature of the FSE.

- Reading a Vitale card: each bénéficiaire is looked up in the file (NIR, then birth date and
  rank, then name) and compared with it; the differences are returned for the user to confirm
  (:func:`read_card_patients`, :func:`create_patient_from_card`, :func:`update_patient_from_card`).
- Validating with the cards (:func:`validate_with_cards`): the invoice's patient must be on the
  Vitale card present, the CPS must be the exécutant's; the invoice is numbered, its canonical
  content signed by the CPS, and it becomes « Validée » in mode SESAM-Vitale — one transaction
  per invoice, so a refused signature gives its number back. With a staff CPE instead of the
  CPS, the same steps semi-secure it: signed by the CPE, « À sécuriser ».
- « FSE à sécuriser » (:func:`invoices_to_secure`, :func:`secure_invoices`): invoices
  semi-secured with a CPE (at the desk or in the portable reader), or unloaded from a reader
  that gave no signature, are signed in a batch with the exécutant's CPS → « Validée ».

What the card signs is :func:`signing_payload`: the FSE's records 10, 11 and 20 exactly as the
lot file carries them (``formats.lot_file.fse_signing_payload`` of :func:`fse_record`), so the
caisse can verify the signature on the lot itself. See docs/hardware/securing.md.

The PIN is only ever a parameter of the call that presents it: never stored, never logged.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.invoices import InvoiceAction, InvoiceState, find_move
from tuibill.domain.numbering import format_invoice_number
from tuibill.domain.patients import QUALITIES
from tuibill.formats.errors import FormatError
from tuibill.formats.interface import (
    FseMode,
    FseRecord,
    FseSignature,
)
from tuibill.formats.lot_file import fse_signing_payload
from tuibill.hardware.cards import (
    Beneficiary,
    CardError,
    CardReader,
    CardType,
    CpsHolder,
    Signature,
    VitaleData,
    verify_signature,
)
from tuibill.models import Invoice, Patient, Practitioner
from tuibill.models.database import immediate
from tuibill.services import invoices as invoice_service
from tuibill.services import lifecycle
from tuibill.services import patients as patient_service
from tuibill.services.patients import search_key

SESAM_VITALE = FseMode.SESAM_VITALE.value  # Invoice.mode of a secured invoice
TO_SECURE_LIMIT = 500


# --- The canonical content: the FSE as the lot file carries it ------------------------------


def fse_record(
    invoice: Invoice, *, number: int | None = None, mode: str | None = None
) -> FseRecord:
    """The unsigned FSE of *invoice*, built by the lot service's own builder
    (``lot_content.fse_record``): one builder, so the bytes a card signs are the bytes the
    caisse receives.

    *number* and *mode* override the invoice's (a validation signs the number and mode it is
    about to record); the builder works on a copy, never on the caller's invoice.
    """
    from tuibill.services import lot_content  # here: the lot services may come to use this one

    copy = Invoice(**invoice.__data__)
    if number is not None:
        copy.number = number
    # Unsigned: the signature is what is being made (a stale one of an earlier validation,
    # or none on an invoice secured in the portable reader, must not get in the way).
    copy.mode, copy.signature = FseMode.DEGRADE.value, ""
    record = lot_content.fse_record(copy)
    return replace(record, mode=FseMode(mode or invoice.mode), signature=FseSignature.unsigned())


def signing_payload(
    invoice: Invoice, *, number: int | None = None, mode: str | None = None
) -> bytes:
    """The bytes the CPS signs: the FSE's records 10, 11 and 20 of the lot file."""
    record = fse_record(invoice, number=number, mode=mode)
    try:
        return fse_signing_payload(record)
    except FormatError as error:
        label = format_invoice_number(record.invoice_number)
        raise RefusedOperation(f"Facture n° {label} : impossible de la signer : {error}") from None


def stored_signature(invoice: Invoice) -> Signature | None:
    """The signature stored on *invoice*, as the card layer returned it (None if unsigned)."""
    if not invoice.signature:
        return None
    return Signature(
        value=base64.b64decode(invoice.signature),
        certificate_der=base64.b64decode(invoice.signer_certificate),
        algorithm=invoice.signature_algorithm,
    )


def verify_invoice_signature(invoice: Invoice) -> bool:
    """True when the stored signature is valid for the invoice's canonical content *now*."""
    signature = stored_signature(invoice)
    return signature is not None and verify_signature(
        signing_payload(invoice, mode=SESAM_VITALE), signature
    )


# --- The Vitale card and the file ------------------------------------------------------------


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


def _check_on_card(patient: Patient, vitale: VitaleData) -> None:
    if beneficiary_for(patient, vitale) is not None:
        return
    if any(b.nir == patient.nir for b in vitale.beneficiaries):
        raise RefusedOperation(
            f"La carte Vitale porte le NIR de {patient.display_name} avec une autre date de "
            "naissance ou un autre rang : mettez la fiche patient à jour depuis la carte "
            "(Lecteur, F4), puis validez de nouveau."
        )
    raise RefusedOperation(
        f"La carte Vitale insérée ne porte pas {patient.display_name} : insérez la carte du "
        "patient, ou validez la facture en mode dégradé."
    )


# --- The CPS and the signature ---------------------------------------------------------------


@dataclass
class SecuringOutcome:
    """Per invoice: done, or refused with the French reason. One refusal stops no other."""

    done: list[Invoice] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def signer_label(holder: CpsHolder) -> str:
    return f"{holder.name} ({holder.ps_number})"


def signing_holder(reader: CardReader, *, allow_cpe: bool = False) -> CpsHolder:
    """The holder of the professional card present: a CPS, or with *allow_cpe* a CPE (a staff
    card only semi-secures: « Valider » with it leaves the invoice « À sécuriser »). Finishing
    a securing (« FSE à sécuriser ») takes the exécutant's CPS: a CPE is refused there."""
    holder = reader.read_cps_holder()
    if holder.card_type is CardType.CPE and not allow_cpe:
        raise RefusedOperation(
            f"La carte insérée est une CPE ({holder.name}) : une carte d'établissement ne fait "
            "que semi-sécuriser une facture, elle ne peut pas finir sa sécurisation. Insérez "
            "la carte CPS du praticien exécutant."
        )
    if holder.card_type not in (CardType.CPS, CardType.CPE):
        raise RefusedOperation("La carte insérée n'est pas une carte CPS : insérez la CPS.")
    return holder


def _check_signer(holder: CpsHolder, practitioner: Practitioner, label: str) -> None:
    # The FSE is signed by the PS who performed the acts: his card, his number.
    if holder.ps_number != practitioner.am_number:
        raise RefusedOperation(
            f"Facture n° {label} : la carte CPS de {holder.name} (n° {holder.ps_number}) n'est "
            f"pas celle de l'exécutant ({practitioner.display_name}, n° AM "
            f"{practitioner.am_number}). Insérez la CPS de l'exécutant."
        )


def _certificate_serial(der: bytes) -> str:
    from tuibill.hardware.cards.cps import certificate_summary

    try:
        return certificate_summary(der)["serial_number"]
    except ValueError:
        return ""


def _signature_columns(signature: Signature, holder: CpsHolder) -> dict:
    serial = _certificate_serial(signature.certificate_der)
    return {
        "signature": base64.b64encode(signature.value).decode("ascii"),
        "signature_algorithm": signature.algorithm,
        "signer": signer_label(holder),
        "signing_card": f"{holder.card_type.value.upper()} {serial}".strip(),
        "signer_certificate": base64.b64encode(signature.certificate_der).decode("ascii"),
    }


def _sign(reader: CardReader, payload: bytes, pin: str, label: str) -> Signature:
    signature = reader.sign(payload, pin=pin)
    if not verify_signature(payload, signature):
        # A card whose key does not match its certificate: nothing the caisse could verify.
        raise RefusedOperation(
            f"Facture n° {label} : la signature de la carte ne se vérifie pas avec son "
            "certificat. Essayez une autre carte ou contactez le support."
        )
    return signature


def _run_batch(invoice_ids: Sequence[int], one) -> SecuringOutcome:
    """Each invoice on its own; a card problem (pulled, blocked…) stops the rest of the batch,
    which would only fail the same way."""
    outcome = SecuringOutcome()
    ids = list(dict.fromkeys(invoice_ids))
    for index, invoice_id in enumerate(ids):
        try:
            outcome.done.append(one(invoice_id))
        except CardError as error:
            outcome.refused.append((invoice_id, str(error)))
            outcome.refused.extend((other, f"non traitée : {error}") for other in ids[index + 1 :])
            break
        except RefusedOperation as error:
            outcome.refused.append((invoice_id, str(error)))
    return outcome


def validate_with_cards(
    invoice_ids: Sequence[int],
    *,
    reader: CardReader,
    pin: str,
    user: str,
    vitale: VitaleData | None = None,
) -> SecuringOutcome:
    """« Valider » in mode SESAM-Vitale: Saisie → Validée, signed with the exécutant's CPS.

    With a staff CPE in the card slot instead, the invoice is semi-secured: the Vitale is read
    and checked the same way, the invoice numbered and signed by the CPE, and it becomes
    « À sécuriser » (seed 003: « faite avec une carte CPE »), for the exécutant's CPS to finish
    in « FSE à sécuriser » (:func:`secure_invoices`). A CPE works for the practice: any
    exécutant's invoice can be semi-secured with it.

    The Vitale card is read once (or *vitale*, just read by the caller, is used); the PIN is
    checked once before anything changes (a wrong PIN raises
    :class:`~tuibill.hardware.cards.WrongPinError`: nothing validated).
    """
    if not invoice_ids:
        raise ValidationError("Aucune facture à valider.")
    if vitale is None:
        vitale = reader.read_vitale()
    holder = signing_holder(reader, allow_cpe=True)
    semi = holder.card_type is CardType.CPE
    action = InvoiceAction.SEMI_SECURE if semi else InvoiceAction.VALIDATE
    reader.verify_pin(pin)

    def one(invoice_id: int) -> Invoice:
        with immediate():
            invoice = invoice_service.get_invoice(invoice_id)
            find_move(InvoiceState(invoice.state), action)  # refused before the cards are used
            practitioner = Practitioner.get_by_id(invoice.practitioner_id)
            label = format_invoice_number(invoice.number) or f"(facture {invoice.id})"
            if not semi:
                _check_signer(holder, practitioner, label)
            _check_on_card(Patient.get_by_id(invoice.patient_id), vitale)

            def sign(number: int) -> dict:
                # The number the move allocates is part of what the card signs.
                payload = signing_payload(invoice, number=number, mode=SESAM_VITALE)
                signature = _sign(reader, payload, pin, format_invoice_number(number))
                return {
                    "mode": SESAM_VITALE,
                    "secured_with_vitale": True,
                    "secured_at": lifecycle.now(),
                    **_signature_columns(signature, holder),
                }

            lifecycle.move_invoice(
                invoice,
                action,
                user=user,
                reason="SESAM-Vitale, semi-sécurisée avec la CPE" if semi else "SESAM-Vitale",
                securing=sign,
            )
        return invoice

    return _run_batch(invoice_ids, one)


def invoices_to_secure(
    practitioner_id: int | None = None, *, limit: int = TO_SECURE_LIMIT
) -> list[Invoice]:
    """« FSE à sécuriser »: the invoices semi-secured with a CPE, oldest first."""
    query = Invoice.select().where(Invoice.state == InvoiceState.A_SECURISER.value)
    if practitioner_id is not None:
        query = query.where(Invoice.practitioner == practitioner_id)
    return list(query.order_by(Invoice.billing_date, Invoice.id).limit(limit))


def secure_invoices(
    invoice_ids: Sequence[int], *, reader: CardReader, pin: str, user: str
) -> SecuringOutcome:
    """Sign « À sécuriser » invoices with the exécutant's CPS → « Validée ».

    The CPS signature replaces the one the invoice had (a CPE's, or none); the history keeps
    both moves. ``secured_at`` keeps the time the patient's card was used (at the desk, or at
    the patient's home); the time of this signature is the transition's.
    """
    if not invoice_ids:
        raise ValidationError("Aucune facture à sécuriser.")
    holder = signing_holder(reader)
    reader.verify_pin(pin)

    def one(invoice_id: int) -> Invoice:
        with immediate():
            invoice = invoice_service.get_invoice(invoice_id)
            find_move(InvoiceState(invoice.state), InvoiceAction.SECURE)
            practitioner = Practitioner.get_by_id(invoice.practitioner_id)
            label = format_invoice_number(invoice.number)
            _check_signer(holder, practitioner, label)
            payload = signing_payload(invoice, mode=SESAM_VITALE)
            signature = _sign(reader, payload, pin, label)
            lifecycle.move_invoice(
                invoice,
                InvoiceAction.SECURE,
                user=user,
                reason="Signature CPS",
                securing={
                    "mode": SESAM_VITALE,
                    "secured_at": invoice.secured_at or lifecycle.now(),
                    **_signature_columns(signature, holder),
                },
            )
        return invoice

    return _run_batch(invoice_ids, one)


def get_invoices(invoice_ids: Sequence[int]) -> list[Invoice]:
    """The invoices, in the order given; :class:`NotFound` for an unknown id."""
    found = {i.id: i for i in Invoice.select().where(Invoice.id.in_(list(invoice_ids)))}
    missing = [i for i in invoice_ids if i not in found]
    if missing:
        raise NotFound(f"Facture(s) introuvable(s) : {', '.join(map(str, missing))}.")
    return [found[i] for i in invoice_ids]


def securing_summary(invoice: Invoice) -> dict[str, object]:
    """What securing recorded on an invoice, for display (no signature bytes)."""
    return {
        "mode": invoice.mode,
        "secured_with_vitale": invoice.secured_with_vitale,
        "signed": bool(invoice.signature),
        "algorithm": invoice.signature_algorithm,
        "signer": invoice.signer,
        "card": invoice.signing_card,
        "secured_at": invoice.secured_at,
        "tla_key": invoice.tla_key,
    }
