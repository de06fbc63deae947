"""Mode SESAM-Vitale: the patient's carte Vitale, the PS's CPS, and the signature of the FSE.

- Reading a Vitale card and matching its bénéficiaires to the file is ``services.vitale_patients``.
- Validating with the cards (:func:`validate_with_cards`): the invoice's patient must be on the
  Vitale card present, the CPS must be the exécutant's; the invoice is numbered, its canonical
  content signed by the CPS, and it becomes « Validée » in mode SESAM-Vitale — one transaction
  per invoice, so a refused signature gives its number back. With a staff CPE instead of the
  CPS, the same steps semi-secure it: signed by the CPE, « À sécuriser ».
- « FSE à sécuriser » (:func:`invoices_to_secure`, :func:`secure_invoices`): invoices
  semi-secured with a CPE (at the desk or in the portable reader), or unloaded from a reader
  that gave no signature, are signed in a batch with the exécutant's CPS → « Validée ».

What the card signs is :func:`signing_payload`: the FSE exactly as the configured lot codec
writes it (its ``signing_payload`` of :func:`fse_record`), so the caisse can verify the
signature on the lot itself. See docs/hardware/securing.md.

The PIN is only ever a parameter of the call that presents it: never stored, never logged.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from tuibill.domain.errors import NotFound, RefusedOperation, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceAction, InvoiceState, find_move
from tuibill.formats import DEFAULT_CODEC, get_lot_codec
from tuibill.formats.codec import FseMode, FseRecord, FseSignature
from tuibill.formats.errors import FormatError
from tuibill.hardware.cards import (
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
from tuibill.services.vitale_patients import beneficiary_for

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
    invoice: Invoice,
    *,
    number: int | None = None,
    mode: str | None = None,
    lot_codec: str = DEFAULT_CODEC,
) -> bytes:
    """The bytes the CPS signs: the FSE as the lot codec called *lot_codec* carries it."""
    record = fse_record(invoice, number=number, mode=mode)
    try:
        return get_lot_codec(lot_codec).signing_payload(record)
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


def verify_invoice_signature(invoice: Invoice, *, lot_codec: str = DEFAULT_CODEC) -> bool:
    """True when the stored signature is valid for the invoice's canonical content *now*."""
    signature = stored_signature(invoice)
    return signature is not None and verify_signature(
        signing_payload(invoice, mode=SESAM_VITALE, lot_codec=lot_codec), signature
    )


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


def card_refusals(
    invoice_ids: Sequence[int], holder: CpsHolder, *, finishing: bool = False
) -> list[tuple[int, str]]:
    """Before the PIN is asked: the invoices the card present will not sign, each with why —
    not in a state the action applies to, or a CPS that is not the exécutant's (a CPE only
    semi-secures, for any exécutant). *finishing*: « FSE à sécuriser » (the CPS signs)."""
    if finishing:
        action = InvoiceAction.SECURE
    elif holder.card_type is CardType.CPE:
        action = InvoiceAction.SEMI_SECURE
    else:
        action = InvoiceAction.VALIDATE
    refused: list[tuple[int, str]] = []
    for invoice in get_invoices(list(dict.fromkeys(invoice_ids))):
        label = format_invoice_number(invoice.number) or f"(facture {invoice.id})"
        try:
            find_move(InvoiceState(invoice.state), action)
            if action is not InvoiceAction.SEMI_SECURE:
                _check_signer(holder, Practitioner.get_by_id(invoice.practitioner_id), label)
        except RefusedOperation as error:
            refused.append((invoice.id, str(error)))
    return refused


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
    lot_codec: str = DEFAULT_CODEC,
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
                payload = signing_payload(
                    invoice, number=number, mode=SESAM_VITALE, lot_codec=lot_codec
                )
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
    invoice_ids: Sequence[int],
    *,
    reader: CardReader,
    pin: str,
    user: str,
    lot_codec: str = DEFAULT_CODEC,
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
            payload = signing_payload(invoice, mode=SESAM_VITALE, lot_codec=lot_codec)
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
