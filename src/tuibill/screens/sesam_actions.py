"""Screen-side flows of mode SESAM-Vitale, for any screen to bind to a key.

- :func:`validate_with_cards` — « Valider » with the cards: read the patient's Vitale, confirm
  the bénéficiaire (and update the file from the card), ask the CPS PIN, sign, say the outcome.
  A Vitale 1 offers the mode dégradé instead.
- :func:`secure_batch` — « FSE à sécuriser »: sign invoices semi-secured by a CPE with the
  exécutant's CPS.

Both are ``async`` and need a worker (their dialogs wait for an answer): awaited inside a
worker they run there; called anywhere else they start their own worker and return at once.
So a screen binds them either way::

    def action_validate_cards(self) -> None:
        self.run_worker(validate_with_cards(self, self.selected_ids(), on_done=self.reload_cb))

    async def action_validate_cards(self) -> None:
        await validate_with_cards(self, self.selected_ids(), on_done=self.reload_cb)

Card and database work runs in threads (the interface never freezes on a slow card); each
thread's database connection is closed when it ends. The PIN goes from the dialog to the
service call and nowhere else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from textual.screen import Screen
from textual.worker import NoActiveWorker, get_current_worker

from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.pin_entry import PinDialog
from tuibill.dialogs.vitale_patient import UPDATE, VitalePatientDialog
from tuibill.domain.errors import TuibillError
from tuibill.services.database import close_thread_connection

if TYPE_CHECKING:
    from tuibill.services.devices import CardReader, CpsHolder
    from tuibill.services.securing import SecuringOutcome

T = TypeVar("T")
OnDone = Callable[["SecuringOutcome | None"], None]
MAX_REPORTED = 4  # refusals spelt out in one notification


def in_worker() -> bool:
    try:
        get_current_worker()
    except NoActiveWorker:
        return False
    return True


async def in_thread(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking work (card, database) in a thread; close that thread's database
    connection afterwards (peewee keeps one per thread)."""

    def run() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            close_thread_connection()

    return await asyncio.to_thread(run)


def card_reader(screen: Screen) -> CardReader:
    from tuibill.services.devices import open_card_reader

    return open_card_reader(screen.app.settings.devices)


def report(screen: Screen, outcome: SecuringOutcome, done_text: str) -> None:
    """One notification for what was done, one (error) for the refusals."""
    app = screen.app
    if outcome.done:
        app.notify(f"{len(outcome.done)} facture(s) {done_text}.", title="SESAM-Vitale")
    if outcome.refused:
        lines = [message for _, message in outcome.refused[:MAX_REPORTED]]
        more = len(outcome.refused) - len(lines)
        if more > 0:
            lines.append(f"… et {more} autre(s) refus.")
        app.notify("\n".join(lines), title="Refusé", severity="error", timeout=12)


async def ask_pin_and_run(
    screen: Screen,
    reader: CardReader,
    holder: CpsHolder,
    purpose: str,
    operation: Callable[[str], T],
) -> T | None:
    """Ask the PIN until *operation(pin)* stops refusing it; None if the user gives up.

    A wrong PIN is asked again with the tries left; a blocked card or any other refusal ends
    here with its French message.
    """
    from tuibill.services.devices import PinFormatError, WrongPinError

    app = screen.app
    error = ""
    try:
        tries = await in_thread(reader.pin_tries_left)
    except TuibillError as problem:
        app.notify(str(problem), title="Carte CPS", severity="error", timeout=10)
        return None
    label = f"{holder.card_type.label} de {holder.name} (n° {holder.ps_number})"
    while True:
        pin = await app.push_screen_wait(PinDialog(label, tries, purpose=purpose, error=error))
        if pin is None:
            app.notify("Abandonné : aucune facture n'a été modifiée.", severity="warning")
            return None
        try:
            return await in_thread(operation, pin)
        except WrongPinError as problem:
            tries, error = problem.tries_left, str(problem)
        except PinFormatError as problem:
            error = str(problem)
        except TuibillError as problem:
            app.notify(str(problem), title="Carte CPS", severity="error", timeout=12)
            return None


async def _offer_degraded(screen: Screen, ids: list[int], message: str) -> SecuringOutcome | None:
    from tuibill.domain.invoices import InvoiceAction
    from tuibill.services import invoices as invoice_service
    from tuibill.services.securing import SecuringOutcome

    app = screen.app
    question = f"Valider {len(ids)} facture(s) en mode dégradé ?"
    if not await app.push_screen_wait(ConfirmDialog(question, message)):
        return None
    done, refused = await in_thread(
        invoice_service.apply_many, ids, InvoiceAction.VALIDATE, user=app.user
    )
    outcome = SecuringOutcome(done=done, refused=refused)
    report(screen, outcome, "validée(s) en mode dégradé (joignez les pièces SCOR)")
    return outcome


def _invoice_names(invoice_ids: list[int], limit: int = 4) -> str:
    """« DUPONT Anne (n° 000000123), … et 2 autre(s) »: which invoices a PIN will sign."""
    from tuibill.domain.formatting import format_invoice_number
    from tuibill.services import securing

    invoices = securing.get_invoices(invoice_ids)
    names = []
    for invoice in invoices[:limit]:
        number = format_invoice_number(invoice.number)
        names.append(
            f"{invoice.patient.display_name} (n° {number})" if number
            else invoice.patient.display_name
        )
    if len(invoices) > limit:
        names.append(f"et {len(invoices) - limit} autre(s)")
    return ", ".join(names)


async def _signable(
    screen: Screen, ids: list[int], holder: CpsHolder, *, finishing: bool = False
) -> tuple[list[int], list[tuple[int, str]]]:
    """The invoices this card will sign, and the others with why — checked before the PIN is
    asked, so that the PIN is never spent on a card that is not the exécutant's."""
    from tuibill.services import securing

    refused = await in_thread(securing.card_refusals, ids, holder, finishing=finishing)
    skipped = {invoice_id for invoice_id, _ in refused}
    return [i for i in ids if i not in skipped], refused


def _patient_names(invoice_ids: list[int]) -> dict[int, str]:
    """The invoices' patients (id → name), in the invoices' order, each once."""
    from tuibill.services import securing

    return {
        invoice.patient_id: invoice.patient.display_name
        for invoice in securing.get_invoices(invoice_ids)
    }


async def _confirm_patients(screen: Screen, ids: list[int], vitale) -> bool:
    """Each invoice's patient on the card: shown (and the file updated) when the card and the
    file differ, or when he is not on the card. False when the user gives up."""
    from tuibill.services import vitale_patients

    app = screen.app
    names = await in_thread(_patient_names, ids)  # read in the thread, not in the UI's
    matches = await in_thread(vitale_patients.match_beneficiaries, vitale)
    reading = vitale_patients.CardReading(vitale, matches)
    for patient_id, name in names.items():
        match = next((m for m in matches if m.patient and m.patient.id == patient_id), None)
        if match is not None and not match.differences:
            continue
        choice = await app.push_screen_wait(
            VitalePatientDialog(
                reading,
                expected_patient_id=patient_id,
                title=f"Carte Vitale — facture de {name}",
            )
        )
        if choice is None:
            app.notify(
                "Validation abandonnée : aucune facture n'a été modifiée.", severity="warning"
            )
            return False
        if choice.action == UPDATE and match is not None:
            await in_thread(vitale_patients.update_patient_from_card, patient_id, match.beneficiary)
            app.notify(f"Fiche de {name} mise à jour d'après la carte Vitale.")
    return True


async def validate_with_cards(
    screen: Screen, invoice_ids: Sequence[int], *, on_done: OnDone | None = None
) -> SecuringOutcome | None:
    """« Valider » in mode SESAM-Vitale (Vitale of the patient + CPS of the exécutant)."""
    if not in_worker():
        screen.run_worker(
            validate_with_cards(screen, invoice_ids, on_done=on_done),
            group="sesam",
            exclusive=True,
            exit_on_error=False,
        )
        return None
    from tuibill.services import securing
    from tuibill.services.devices import CardType, Vitale1Error

    app = screen.app
    ids = list(dict.fromkeys(invoice_ids))
    outcome = None
    try:
        if not ids:
            app.notify("Sélectionnez les factures à valider.", severity="warning")
            return None
        reader = card_reader(screen)
        try:
            vitale = await in_thread(reader.read_vitale)
        except Vitale1Error as problem:
            outcome = await _offer_degraded(screen, ids, str(problem))
            return outcome
        if not await _confirm_patients(screen, ids, vitale):
            return None
        holder = await in_thread(securing.signing_holder, reader, allow_cpe=True)
        semi = holder.card_type is CardType.CPE
        ids, refused = await _signable(screen, ids, holder)
        if not ids:
            outcome = securing.SecuringOutcome(refused=refused)
            report(screen, outcome, "")
            return outcome
        names = await in_thread(_invoice_names, ids)
        purpose = (
            f"Semi-sécuriser avec la CPE (la CPS de l'exécutant finira) : {names}."
            if semi
            else f"Signer en mode SESAM-Vitale : {names}."
        )
        outcome = await ask_pin_and_run(
            screen,
            reader,
            holder,
            purpose,
            lambda pin: securing.validate_with_cards(
                ids,
                reader=reader,
                pin=pin,
                user=app.user,
                vitale=vitale,
                lot_codec=app.settings.transmission.lot_codec,
            ),
        )
        if outcome is not None:
            outcome.refused[:0] = refused
            done = (
                "semi-sécurisée(s) avec la CPE : « À sécuriser », à signer avec la CPS de "
                "l'exécutant (FSE à sécuriser)"
                if semi
                else "validée(s) en mode SESAM-Vitale"
            )
            report(screen, outcome, done)
        return outcome
    except TuibillError as problem:
        app.notify(str(problem), title="Validation SESAM-Vitale", severity="error", timeout=12)
        return None
    finally:
        if on_done is not None:
            on_done(outcome)


async def secure_batch(
    screen: Screen, invoice_ids: Sequence[int] | None = None, *, on_done: OnDone | None = None
) -> SecuringOutcome | None:
    """« FSE à sécuriser »: sign these invoices (default: all of them) with the CPS."""
    if not in_worker():
        screen.run_worker(
            secure_batch(screen, invoice_ids, on_done=on_done),
            group="sesam",
            exclusive=True,
            exit_on_error=False,
        )
        return None
    from tuibill.services import securing

    app = screen.app
    outcome = None
    try:
        if invoice_ids is None:
            pending = await in_thread(securing.invoices_to_secure)
            ids = [invoice.id for invoice in pending]
        else:
            ids = list(dict.fromkeys(invoice_ids))
        if not ids:
            app.notify("Aucune FSE à sécuriser.")
            return None
        reader = card_reader(screen)
        holder = await in_thread(securing.signing_holder, reader)
        ids, refused = await _signable(screen, ids, holder, finishing=True)
        if not ids:
            outcome = securing.SecuringOutcome(refused=refused)
            report(screen, outcome, "")
            return outcome
        names = await in_thread(_invoice_names, ids)
        outcome = await ask_pin_and_run(
            screen,
            reader,
            holder,
            f"Sécuriser avec la CPS de l'exécutant : {names}.",
            lambda pin: securing.secure_invoices(
                ids,
                reader=reader,
                pin=pin,
                user=app.user,
                lot_codec=app.settings.transmission.lot_codec,
            ),
        )
        if outcome is not None:
            outcome.refused[:0] = refused
            report(screen, outcome, "sécurisée(s) avec la CPS")
        return outcome
    except TuibillError as problem:
        app.notify(str(problem), title="FSE à sécuriser", severity="error", timeout=12)
        return None
    finally:
        if on_done is not None:
            on_done(outcome)
