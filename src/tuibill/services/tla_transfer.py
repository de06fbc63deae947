"""Loading invoices into the portable reader (TLA) and unloading them, with the database.

Exactly the two-phase sequences of docs/formats/tla-protocol.md §8: **the device is only ever
changed after the database holds the result, and every step can be run again.**

- :func:`load_prepared` — the « À charger » invoices go to the device (LOAD is idempotent by
  key), then, in one transaction, become « Chargée dans le TLA ».
- :func:`unload` — read everything (nothing changes), commit the secured invoices in one
  transaction (« Validée » with the exécutant's CPS, « À sécuriser » with a CPE), then erase
  exactly the committed keys. A re-run after any interruption finishes the work without a
  duplicate. The device's signature (protocol version 2) is verified against the invoice's own
  signing payload before anything is recorded; one that does not verify leaves the invoice on
  the device. A device that gives no signature (version 1) leaves the signing to the
  exécutant's CPS at the desk (« À sécuriser »).
- :func:`cancel_preparation_on_device` — « Annuler préparation » of an invoice that may have
  reached the device: erased from it first, then back to « Saisie ».
- :func:`erase_from_device` / :func:`erase_all_from_device` — device clean-up that refuses to
  strand an invoice the desk still counts as « Chargée dans le TLA ».

Every function takes an open :class:`~tuibill.hardware.tla.PortableReader`; device problems are
:class:`~tuibill.hardware.tla.TlaError` (French, with what to do). ``progress(done, total,
message)`` is called from the caller's thread as the transfer advances.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tuibill.domain.errors import RefusedOperation, ValidationError
from tuibill.domain.formatting import format_invoice_number
from tuibill.domain.invoices import InvoiceAction, InvoiceState
from tuibill.formats import DEFAULT_CODEC
from tuibill.hardware.cards import verify_signature
from tuibill.hardware.tla import (
    CardType,
    InvoiceToLoad,
    PortableReader,
    StoredInvoice,
    TlaError,
    invoice_key,
)
from tuibill.hardware.tla.protocol import (
    SIGNING_PAYLOAD,
    DeviceInvoiceState,
    Securing,
    content_signing_payload,
)
from tuibill.models import Invoice, InvoiceLine, Patient, Practitioner, db
from tuibill.models.database import immediate
from tuibill.services import lifecycle, securing
from tuibill.services.securing import SESAM_VITALE

Progress = Callable[[int, int, str], None]
# Version of the « content » object the desk loads (see securing.md). 2: it carries the FSE's
# signing payload, which a device speaking protocol version 2 signs.
CONTENT_FORMAT = 2
PATIENT_WIDTH = 80  # the device shows at most this many characters


def _quiet(done: int, total: int, message: str) -> None:
    """The default progress: nobody is watching."""


def _label(invoice: Invoice) -> str:
    return f"n° {format_invoice_number(invoice.number)}"


# --- What goes to the device ------------------------------------------------------------------


def load_content(invoice: Invoice, lot_codec: str = DEFAULT_CODEC) -> dict[str, Any]:
    """The invoice as the device stores it and gives it back: what the PS sees at the
    patient's home, and the exact bytes the card there signs (``signing_payload``: the FSE's
    records as the lot file carries them, base64). Built from the invoice alone (no clock), so
    that loading it twice sends the same content and the device answers « already there ».

    An invoice whose FSE cannot be written (no caisse…) is refused here (French): it could
    never be signed.
    """
    payload = securing.signing_payload(invoice, mode=SESAM_VITALE, lot_codec=lot_codec)
    patient = Patient.get_by_id(invoice.patient_id)
    lines = (
        InvoiceLine.select().where(InvoiceLine.invoice == invoice.id).order_by(InvoiceLine.position)
    )
    return {
        "format": CONTENT_FORMAT,
        "practitioner": Practitioner.get_by_id(invoice.practitioner_id).am_number,
        "billing_date": invoice.billing_date.isoformat(),
        "patient": {
            "last_name": patient.last_name,
            "first_name": patient.first_name,
            "birth_date": patient.birth_date.isoformat(),
            "nir": patient.nir,
            "rank": patient.rank,
        },
        "acts": [
            {
                "date": line.act_date.isoformat(),
                "time": line.act_time,
                "code": line.code,
                "coefficient_x100": line.coefficient_x100,
                "quantity": line.quantity,
                "total_cents": line.total_cents,
            }
            for line in lines
        ],
        "total_cents": invoice.total_cents,
        "amo_cents": invoice.amo_cents,
        "amc_cents": invoice.amc_cents,
        "patient_cents": invoice.patient_cents,
        SIGNING_PAYLOAD: base64.b64encode(payload).decode("ascii"),
    }


def to_load(invoice: Invoice, lot_codec: str = DEFAULT_CODEC) -> InvoiceToLoad:
    """The LOAD entry of a numbered invoice."""
    if invoice.number is None:
        raise RefusedOperation(f"Facture {invoice.id} sans numéro : préparez-la de nouveau.")
    practitioner = Practitioner.get_by_id(invoice.practitioner_id)
    patient = Patient.get_by_id(invoice.patient_id)
    return InvoiceToLoad(
        key=invoice_key(practitioner.am_number, invoice.number),
        number=format_invoice_number(invoice.number),
        patient=patient.display_name[:PATIENT_WIDTH],
        amount_cents=invoice.total_cents,
        content=load_content(invoice, lot_codec),
    )


def desk_invoice(key: str) -> Invoice | None:
    """The desk's invoice for a device key « <numéro AM>-<numéro> », or None."""
    am, dash, number = key.partition("-")
    if not dash or not number.isdigit():
        return None
    return (
        Invoice.select()
        .join(Practitioner)
        .where((Practitioner.am_number == am) & (Invoice.number == int(number)))
        .first()
    )


# --- Load -------------------------------------------------------------------------------------


@dataclass
class LoadOutcome:
    loaded: list[str] = field(default_factory=list)  # keys now « Chargée dans le TLA »
    already: list[str] = field(default_factory=list)  # recorded by an earlier run
    refused: list[tuple[int, str]] = field(default_factory=list)  # not sent (invoice id, why)
    # On the device, but the desk moved them meanwhile (another desk): not recorded.
    not_recorded: list[tuple[str, str]] = field(default_factory=list)


def prepared_invoices(
    invoice_ids: Sequence[int] | None = None, practitioner_id: int | None = None
) -> list[Invoice]:
    """The « À charger » invoices (all, or among *invoice_ids*), oldest first."""
    query = Invoice.select().where(Invoice.state == InvoiceState.A_CHARGER.value)
    if invoice_ids is not None:
        query = query.where(Invoice.id.in_(list(invoice_ids)))
    if practitioner_id is not None:
        query = query.where(Invoice.practitioner == practitioner_id)
    return list(query.order_by(Invoice.billing_date, Invoice.id))


def prepared_per_practitioner() -> list[tuple[str, int]]:
    """(practitioner, how many « À charger » invoices), in the order of the load."""
    counts: dict[str, int] = {}
    for invoice in prepared_invoices():
        name = invoice.practitioner.display_name
        counts[name] = counts.get(name, 0) + 1
    return list(counts.items())


def load_prepared(
    reader: PortableReader,
    user: str,
    *,
    invoice_ids: Sequence[int] | None = None,
    practitioner_id: int | None = None,
    progress: Progress = _quiet,
    lot_codec: str = DEFAULT_CODEC,
) -> LoadOutcome:
    """« Charger dans lecteur »: send the « À charger » invoices, then record them as loaded.

    Nothing is sent if they do not all fit (:class:`~tuibill.hardware.tla.TlaDeviceFull`);
    an interrupted load is simply run again (the device answers « already there »).
    """
    outcome = LoadOutcome()
    invoices = prepared_invoices(invoice_ids, practitioner_id)
    if invoice_ids is not None:
        found = {invoice.id for invoice in invoices}
        for invoice_id in dict.fromkeys(invoice_ids):
            if invoice_id not in found:
                outcome.refused.append(
                    (invoice_id, f"Facture {invoice_id} introuvable ou pas « À charger ».")
                )
    entries: dict[str, tuple[int, InvoiceToLoad]] = {}
    for invoice in invoices:
        try:
            entry = to_load(invoice, lot_codec)
        except RefusedOperation as error:
            outcome.refused.append((invoice.id, str(error)))
            continue
        entries[entry.key] = (invoice.id, entry)
    if not entries:
        return outcome

    total = len(entries)
    progress(0, total, "Lecture du contenu du lecteur portable…")
    on_device = {summary.key: summary.state for summary in reader.contents()}
    # Secured there already (an earlier load whose recording was lost, then a visit): sending it
    # again could only conflict. It is on the device: record it, the unload will take it.
    sendable = [
        entry
        for key, (_, entry) in entries.items()
        if on_device.get(key, DeviceInvoiceState.LOADED) is DeviceInvoiceState.LOADED
    ]
    progress(0, total, f"Envoi de {len(sendable)} facture(s) au lecteur portable…")
    acknowledged = set(reader.load(sendable)) | {
        key
        for key in entries
        if key in on_device and on_device[key] is not DeviceInvoiceState.LOADED
    }
    progress(total, total, "Enregistrement au poste…")
    with immediate():
        for key, (invoice_id, _) in entries.items():
            if key not in acknowledged:
                continue
            with db.atomic():  # a savepoint: one invoice moved meanwhile spoils no other
                invoice = Invoice.get_by_id(invoice_id)
                if invoice.state == InvoiceState.A_CHARGER.value:
                    lifecycle.move_invoice(invoice, InvoiceAction.LOAD_TLA, user=user, tla_key=key)
                    outcome.loaded.append(key)
                elif invoice.state == InvoiceState.CHARGEE_TLA.value and invoice.tla_key == key:
                    outcome.already.append(key)
                else:
                    outcome.not_recorded.append(
                        (
                            key,
                            f"Facture {_label(invoice)} passée à l'état "
                            f"« {InvoiceState(invoice.state).label} » sur un autre poste pendant "
                            "le chargement : effacez-la du lecteur portable.",
                        )
                    )
    return outcome


# --- Unload -----------------------------------------------------------------------------------


@dataclass
class UnloadOutcome:
    validated: list[str] = field(default_factory=list)  # → « Validée » (exécutant's CPS)
    to_secure: list[str] = field(default_factory=list)  # → « À sécuriser » (CPE, or see notes)
    already: list[str] = field(default_factory=list)  # committed by an earlier run
    not_secured: list[str] = field(default_factory=list)  # still « loaded »: stay on the device
    rejected: list[tuple[str, str]] = field(default_factory=list)  # left on the device, why
    # Committed « À sécuriser » although secured with a CPS: why (no signature, another PS).
    notes: list[tuple[str, str]] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)
    erase_error: str | None = None  # the commit holds; run the unload again to erase

    @property
    def committed(self) -> list[str]:
        return self.validated + self.to_secure + self.already


def _fetch_all(reader: PortableReader, progress: Progress) -> list[StoredInvoice]:
    summaries = reader.contents()
    total = len(summaries)
    fetched = []
    progress(0, total, f"Lecture de {total} facture(s) du lecteur portable…")
    for index, summary in enumerate(summaries, start=1):
        fetched.append(reader.fetch(summary.key))
        progress(index, total, f"Lecture de la facture {summary.number} ({index}/{total})…")
    return fetched


def _signer_label(device_securing: Securing) -> str:
    if device_securing.ps_number:
        return f"{device_securing.signer} ({device_securing.ps_number})"
    return device_securing.signer


def _certificate_serial(der: bytes) -> str:
    from tuibill.hardware.cards.cps import certificate_summary

    try:
        return certificate_summary(der)["serial_number"]
    except ValueError:
        return ""


def _device_signature_refusal(stored: StoredInvoice, invoice: Invoice, payload: bytes) -> str:
    """Why a device signature does not verify, in French, with what to do."""
    label = _label(invoice)
    try:
        loaded = content_signing_payload(stored.content)
    except TlaError:
        loaded = None
    if loaded is not None and loaded != payload:
        return (
            f"Facture {label} : le contenu signé dans le lecteur n'est plus celui de la facture "
            "au poste (dossier du patient ou caisse modifiés depuis le chargement ?) : "
            "laissée dans le lecteur. Remettez le dossier tel qu'au chargement et déchargez de "
            "nouveau, puis « Défacturer » pour le corriger et valider de nouveau."
        )
    return (
        f"Facture {label} : la signature du lecteur portable ne se vérifie pas avec le "
        "certificat de la carte : laissée dans le lecteur. Vérifiez la carte utilisée et le "
        "lecteur, ou contactez le support."
    )


def _securing_columns(
    device_securing: Securing, device_serial: str, signed: bool
) -> dict[str, Any]:
    """What the invoice records of a securing made in the device: who, which card, when, and
    the signature when there is a verified one (else none: the desk's CPS will sign)."""
    signature = device_securing.signature if signed else None
    card = device_securing.card_type.value.upper()  # « CPS » / « CPE », as the desk writes it
    if signature is not None:
        card = f"{card} {_certificate_serial(signature.certificate_der)}".strip()
    return {
        "mode": SESAM_VITALE,
        "secured_with_vitale": True,
        "signer": _signer_label(device_securing),
        "signing_card": f"{card} (TLA {device_serial})",
        "secured_at": device_securing.secured_at,
        "signature": base64.b64encode(signature.value).decode("ascii") if signature else "",
        "signature_algorithm": signature.algorithm if signature else "",
        "signer_certificate": (
            base64.b64encode(signature.certificate_der).decode("ascii") if signature else ""
        ),
    }


def _commit_one(
    stored: StoredInvoice, device_serial: str, user: str, outcome: UnloadOutcome, lot_codec: str
) -> None:
    device_securing = stored.securing
    assert device_securing is not None
    invoice = desk_invoice(stored.key)
    if invoice is None:
        outcome.rejected.append(
            (stored.key, f"Facture {stored.number} inconnue de ce poste : laissée dans le lecteur.")
        )
        return
    state = InvoiceState(invoice.state)
    if (
        invoice.tla_key == stored.key
        and invoice.secured_at == device_securing.secured_at
        and state not in (InvoiceState.A_CHARGER, InvoiceState.CHARGEE_TLA)
    ):
        outcome.already.append(stored.key)  # an earlier run committed it; its erase was lost
        return
    if state not in (InvoiceState.A_CHARGER, InvoiceState.CHARGEE_TLA):
        outcome.rejected.append(
            (
                stored.key,
                f"Facture {_label(invoice)} à l'état « {state.label} » au poste : la "
                "sécurisation du lecteur n'y est pas reprise (laissée dans le lecteur).",
            )
        )
        return
    if stored.amount_cents != invoice.total_cents:
        outcome.rejected.append(
            (
                stored.key,
                f"Facture {_label(invoice)} : montant du lecteur ({stored.amount_cents} "
                f"centimes) différent de celui du poste ({invoice.total_cents}) : laissée "
                "dans le lecteur.",
            )
        )
        return
    signature = device_securing.signature
    if signature is not None:
        # The signature must hold for the FSE the lot will carry: the invoice's own bytes, now.
        payload = securing.signing_payload(invoice, mode=SESAM_VITALE, lot_codec=lot_codec)
        if not verify_signature(payload, signature):
            outcome.rejected.append(
                (stored.key, _device_signature_refusal(stored, invoice, payload))
            )
            return
    practitioner = Practitioner.get_by_id(invoice.practitioner_id)
    cps = device_securing.card_type is CardType.CPS
    secured = cps and signature is not None and device_securing.ps_number == practitioner.am_number
    if cps and not secured:
        if signature is None:
            why = (
                "sécurisée dans le lecteur portable sans signature (lecteur en protocole "
                "version 1, ou facture chargée sans contenu à signer)"
            )
        else:
            why = (
                f"signée dans le lecteur portable par la CPS de {device_securing.signer} "
                f"(n° {device_securing.ps_number}), qui n'est pas celle de l'exécutant "
                f"({practitioner.display_name}, n° AM {practitioner.am_number})"
            )
        outcome.notes.append(
            (
                stored.key,
                f"Facture {_label(invoice)} {why} : « À sécuriser », à signer avec la CPS de "
                "l'exécutant (« FSE à sécuriser »).",
            )
        )
    if state is InvoiceState.A_CHARGER:
        # Loaded by a run whose recording was lost, then secured: record the load first.
        lifecycle.move_invoice(
            invoice,
            InvoiceAction.LOAD_TLA,
            user=user,
            reason="Reprise au déchargement",
            tla_key=stored.key,
        )
    lifecycle.move_invoice(
        invoice,
        InvoiceAction.UNLOAD_SECURED if secured else InvoiceAction.UNLOAD_SEMI_SECURED,
        user=user,
        reason=f"Lecteur portable {device_serial}",
        tla_key=stored.key,
        securing=_securing_columns(device_securing, device_serial, signed=signature is not None),
    )
    (outcome.validated if secured else outcome.to_secure).append(stored.key)


def unload(
    reader: PortableReader,
    user: str,
    *,
    progress: Progress = _quiet,
    lot_codec: str = DEFAULT_CODEC,
) -> UnloadOutcome:
    """« Décharger le lecteur »: §8.1 — fetch all, commit in one transaction, erase the
    committed keys. Invoices not secured at the patient's home stay on the device."""
    outcome = UnloadOutcome()
    serial = reader.identify().serial
    fetched = _fetch_all(reader, progress)  # phase 1: nothing changes anywhere
    total = len(fetched)
    progress(total, total, "Enregistrement au poste…")
    with immediate():  # phase 2: one transaction
        for stored in fetched:
            if stored.state is DeviceInvoiceState.LOADED:
                outcome.not_secured.append(stored.key)
                continue
            try:
                with db.atomic():  # savepoint: one invoice moved meanwhile spoils no other
                    _commit_one(stored, serial, user, outcome, lot_codec)
            except RefusedOperation as error:
                outcome.rejected.append((stored.key, str(error)))
    committed = outcome.committed
    if committed:  # phase 3: only after the commit, exactly the committed keys
        progress(total, total, f"Effacement de {len(committed)} facture(s) du lecteur…")
        try:
            outcome.erased = reader.erase(committed)
        except TlaError as error:
            outcome.erase_error = (
                f"{error} Les factures sont enregistrées au poste ; relancez « Décharger » pour "
                "les effacer du lecteur."
            )
    return outcome


# --- Cancel a preparation, erase --------------------------------------------------------------


@dataclass
class CancelOutcome:
    done: list[Invoice] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)


def cancel_preparation_on_device(
    reader: PortableReader, invoice_ids: Sequence[int], user: str
) -> CancelOutcome:
    """« Annuler préparation » (À charger or Chargée dans le TLA → Saisie) of invoices that
    may be on the device: erased from it first, then moved back at the desk. An « À charger »
    one absent from the device is no error (a load that broke before it); a « Chargée dans le
    TLA » one must be on this device, not secured (the visit will not happen).

    An invoice already secured in the device is refused: unload it instead, or the securing
    made at the patient's home would be lost.
    """
    outcome = CancelOutcome()
    if not invoice_ids:
        raise ValidationError("Aucune facture sélectionnée.")
    keys: dict[int, str] = {}
    loaded: set[int] = set()  # « Chargée dans le TLA »: must be found on this device
    for invoice_id in dict.fromkeys(invoice_ids):
        invoice = Invoice.get_or_none(Invoice.id == invoice_id)
        if invoice is None:
            outcome.refused.append((invoice_id, f"Facture {invoice_id} introuvable."))
        elif invoice.state not in (InvoiceState.A_CHARGER.value, InvoiceState.CHARGEE_TLA.value):
            outcome.refused.append(
                (
                    invoice_id,
                    f"Facture {_label(invoice)} à l'état « {InvoiceState(invoice.state).label} » : "
                    "seule une facture « À charger » ou « Chargée dans le TLA » voit sa "
                    "préparation annulée.",
                )
            )
        else:
            am = Practitioner.get_by_id(invoice.practitioner_id).am_number
            keys[invoice_id] = invoice.tla_key or invoice_key(am, invoice.number)
            if invoice.state == InvoiceState.CHARGEE_TLA.value:
                loaded.add(invoice_id)
    if not keys:
        return outcome
    on_device = {summary.key: summary for summary in reader.contents()}
    for invoice_id, key in list(keys.items()):
        summary = on_device.get(key)
        if summary is None and invoice_id in loaded:
            # Loaded into a reader, but not this one: taking it back here would leave a copy
            # there that the desk no longer knows.
            outcome.refused.append(
                (
                    invoice_id,
                    f"Facture n° {format_invoice_number(Invoice.get_by_id(invoice_id).number)} "
                    "absente de ce lecteur portable : branchez celui où elle a été chargée.",
                )
            )
            del keys[invoice_id]
        elif summary is not None and summary.state is not DeviceInvoiceState.LOADED:
            outcome.refused.append(
                (
                    invoice_id,
                    f"Facture n° {summary.number} déjà {summary.state.label.lower()} dans le "
                    "lecteur portable : déchargez le lecteur au lieu d'annuler la préparation.",
                )
            )
            del keys[invoice_id]
    if not keys:
        return outcome
    reader.erase(keys.values())  # first the device: the desk must never lose track of it
    with immediate():
        for invoice_id in keys:
            try:
                with db.atomic():
                    invoice = Invoice.get_by_id(invoice_id)
                    lifecycle.move_invoice(invoice, InvoiceAction.CANCEL_PREPARATION, user=user)
                    outcome.done.append(invoice)
            except RefusedOperation as error:
                outcome.refused.append((invoice_id, str(error)))
    return outcome


def _stranded(keys: Iterable[str]) -> list[str]:
    """Among device keys, those the desk holds as « Chargée dans le TLA »: erasing them would
    leave the invoice with no way forward."""
    labels = []
    for key in keys:
        invoice = desk_invoice(key)
        if invoice is not None and invoice.state == InvoiceState.CHARGEE_TLA.value:
            labels.append(format_invoice_number(invoice.number))
    return labels


def _stranded_text(labels: list[str]) -> str:
    return (
        f"Facture(s) {', '.join(labels)} « Chargée(s) dans le TLA » au poste : les effacer "
        "du lecteur les bloquerait. Faites-les sécuriser puis déchargez le lecteur, ou "
        "« Annuler préparation » (Facturer, touche a) si elles ne seront pas sécurisées."
    )


def _refuse_stranded(labels: list[str]) -> None:
    if labels:
        raise RefusedOperation(_stranded_text(labels))


def erase_refusal(keys: Iterable[str]) -> str | None:
    """Why erasing these keys from the device is refused (checked before asking), or None."""
    labels = _stranded(keys)
    return _stranded_text(labels) if labels else None


def erase_from_device(reader: PortableReader, keys: Sequence[str]) -> list[str]:
    """Erase these keys from the device (the caller asked the user); returns those erased."""
    _refuse_stranded(_stranded(keys))
    return reader.erase(keys)


def erase_all_from_device(reader: PortableReader) -> int:
    """Erase the whole device, unless an invoice on it is still « Chargée dans le TLA »."""
    _refuse_stranded(_stranded(summary.key for summary in reader.contents()))
    return reader.erase_all()
