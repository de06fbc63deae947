"""F4 « Lecteur »: the card readers, the carte Vitale, and the portable reader (TLA).

- The card readers and their cards are shown live: a worker thread polls the readers (cards
  come and go) and posts what it sees; a CPS shows its holder and PIN tries (asked without
  spending one).
- « v » reads the Vitale card: its bénéficiaires, each looked up in the file; Entrée on one
  opens the dialog that creates the patient or updates his file from the card.
- The TLA: identify (« i »), load the « À charger » invoices (« c »), unload (« d »), erase
  one invoice (« e ») or all (ctrl+e), set its clock (« h »). Transfers run in a worker thread
  with a progress bar; the services do the two-phase work (``services.tla_transfer``).
- « s »: « FSE à sécuriser », signed in a batch with the exécutant's CPS.

Every error is shown in French with what to do next. F1–F9 belong to the application.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, ProgressBar, Static

from tuibill.dialogs.confirm import ConfirmDialog
from tuibill.dialogs.vitale_patient import (
    CREATE,
    UPDATE,
    VitaleChoice,
    VitalePatientDialog,
    format_nir,
)
from tuibill.domain.errors import TuibillError
from tuibill.domain.formatting import format_day
from tuibill.domain.invoices import InvoiceState
from tuibill.services.database import close_thread_connection
from tuibill.widgets.card_readers import CardReaders
from tuibill.widgets.cells import money
from tuibill.widgets.footer import AppFooter, AppHeader
from tuibill.widgets.keys import key_hint
from tuibill.widgets.screen_frames import DrawnOnce
from tuibill.widgets.tables import RowTable

if TYPE_CHECKING:
    from tuibill.services.devices import (
        DeviceIdentity,
        InvoiceSummary,
        PortableReader,
        VitaleData,
    )

SHORT_STATUS = {"absent": "Absent", "identique": "Dans le fichier", "differences": "Différent"}

# What a TLA job hands back to the main thread: a function showing its outcome, or None.
Finish = Callable[[], None] | None


class LecteurScreen(DrawnOnce):
    CSS_PATH = "../styles/lecteur.tcss"

    # The footer shows the main keys (80 columns); the line above it the others.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("v", "read_vitale", "Lire Vitale", id="lecteur_lire_vitale"),
        Binding("c", "tla_load", "Charger", id="lecteur_tla_charger"),
        Binding("d", "tla_unload", "Décharger", id="lecteur_tla_decharger"),
        Binding("e", "tla_erase", "Effacer", id="lecteur_tla_effacer"),
        Binding("h", "tla_clock", "Heure TLA", id="lecteur_tla_heure"),
        Binding("s", "secure_pending", "À sécuriser", id="lecteur_fse_a_securiser"),
        Binding("i", "tla_identify", "Identifier TLA", show=False, id="lecteur_tla_identifier"),
        Binding(
            "ctrl+e", "tla_erase_all", "Tout effacer", show=False, id="lecteur_tla_tout_effacer"
        ),
        Binding("r", "refresh", "Actualiser", show=False, id="lecteur_actualiser"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.reading = None  # services.securing.CardReading of the last Vitale read
        self.tla_rows: dict[str, InvoiceSummary] = {}
        self.identity: DeviceIdentity | None = None
        self.clock_drift: int | None = None  # seconds, device minus desk
        self.busy = ""  # the TLA operation running, if any
        self.status_text = ""

    # --- layout --------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield AppHeader()
        cards = CardReaders(id="lecteur-cards")
        cards.border_title = "Lecteurs de cartes"
        yield cards
        vitale = RowTable(id="lecteur-vitale")
        vitale.border_title = "Carte Vitale"
        yield vitale
        yield Static("", id="lecteur-tla-info", markup=False)
        tla = RowTable(id="lecteur-tla")
        tla.border_title = "Lecteur portable (TLA)"
        yield tla
        yield ProgressBar(id="lecteur-progress", show_eta=False)
        yield Static("", id="lecteur-status", markup=False)
        yield Static("", id="lecteur-hint", classes="hint")
        yield AppFooter()

    def on_mount(self) -> None:
        vitale = self.query_one("#lecteur-vitale", DataTable)
        vitale.add_columns("N°", "Nom et prénom", "Naissance", "NIR", "Fichier")
        tla = self.query_one("#lecteur-tla", DataTable)
        tla.add_columns("N° facture", "Patient", "Montant", "État", "Chargée le")
        self.query_one("#lecteur-progress").display = False
        self._show_hint()
        self._show_status()
        tla.focus()
        self.action_tla_identify()

    @property
    def card_readers(self) -> CardReaders:
        return self.query_one(CardReaders)

    def on_screen_suspend(self) -> None:
        self.card_readers.pause()  # no polling behind another menu

    def on_screen_resume(self) -> None:
        self.card_readers.resume()
        self._show_status()

    def _show_hint(self) -> None:
        """The keys the footer has no room for (read from the bindings: a keymap shows)."""
        hint = key_hint(self, "lecteur_", shown=False, lead=[("Entrée", "fiche patient")])
        self.query_one("#lecteur-hint", Static).update(hint)

    # --- status line and counts -----------------------------------------------------------------

    def _counts_text(self) -> str:
        from tuibill.services.dashboard import counts_in

        wanted = (InvoiceState.A_CHARGER, InvoiceState.CHARGEE_TLA, InvoiceState.A_SECURISER)
        return " · ".join(f"{state.label} : {count}" for state, count in counts_in(wanted).items())

    def _show_status(self, text: str | None = None, *, error: bool = False) -> None:
        if text is not None:
            self.status_text = text
        status = self.query_one("#lecteur-status", Static)
        status.set_class(error, "error")
        status.update(self.status_text or self._counts_text())

    # --- the carte Vitale ----------------------------------------------------------------------

    def action_read_vitale(self) -> None:
        self._show_status("Lecture de la carte Vitale…")
        self.run_worker(self._read_vitale, thread=True, group="lecteur-vitale", exclusive=True)

    def _read_vitale(self) -> None:
        from tuibill.services.devices import open_card_reader

        try:
            vitale = open_card_reader(self.app.settings.devices).read_vitale()
        except TuibillError as error:
            self._from_thread(self._vitale_failed, str(error))
            return
        self._from_thread(self._show_vitale, vitale)

    def _vitale_failed(self, message: str) -> None:
        self.reading = None
        self.query_one("#lecteur-vitale", DataTable).clear()
        self._show_status(message, error=True)

    def _show_vitale(self, vitale: VitaleData) -> None:
        from tuibill.services import vitale_patients

        self.reading = vitale_patients.CardReading(vitale, vitale_patients.match_beneficiaries(vitale))
        self._fill_vitale()
        table = self.query_one("#lecteur-vitale", DataTable)
        table.focus()
        absent = sum(1 for m in self.reading.matches if m.patient is None)
        extra = f", {absent} absent(s) du fichier" if absent else ""
        self._show_status(f"Carte Vitale lue : {len(self.reading.matches)} bénéficiaire(s){extra}.")

    def _fill_vitale(self, position: int | None = None) -> None:
        table = self.query_one("#lecteur-vitale", DataTable)
        table.clear()
        if self.reading is None:
            return
        for match in self.reading.matches:
            person = match.beneficiary
            table.add_row(
                str(match.position + 1),
                Text(f"{person.last_name} {person.first_name}"),
                format_day(person.birth_date),
                format_nir(person.nir),
                SHORT_STATUS[match.status],
                key=str(match.position),
            )
        if position is not None and position < table.row_count:
            table.move_cursor(row=position, animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.data_table.id != "lecteur-vitale" or self.reading is None:
            return
        position = int(event.row_key.value)
        self.app.push_screen(
            VitalePatientDialog(self.reading, position=position),
            partial(self._apply_choice, self.reading),
        )

    def _apply_choice(self, reading: Any, choice: VitaleChoice | None) -> None:
        from tuibill.services import vitale_patients

        if choice is None:
            return
        match = reading.matches[choice.position]
        try:
            if choice.action == CREATE:
                patient = vitale_patients.create_patient_from_card(
                    reading, choice.position, quality=choice.quality, organism_id=choice.organism_id
                )
                self.app.notify(
                    f"{patient.display_name} créé(e) d'après la carte (patient {patient.id})."
                )
            elif choice.action == UPDATE:
                patient = vitale_patients.update_patient_from_card(match.patient.id, match.beneficiary)
                self.app.notify(f"Fiche de {patient.display_name} mise à jour d'après la carte.")
            else:
                self.app.notify(f"{match.patient.display_name} : patient {match.patient.id}.")
        except TuibillError as error:
            self._show_status(str(error), error=True)
            return
        vitale = reading.vitale
        self.reading = vitale_patients.CardReading(vitale, vitale_patients.match_beneficiaries(vitale))
        self._fill_vitale(choice.position)
        self._show_status("")

    # --- the portable reader (TLA) -------------------------------------------------------------

    def _from_thread(self, callback: Callable[..., Any], *args: Any) -> None:
        try:
            self.app.call_from_thread(callback, *args)
        except RuntimeError:  # the application is closing
            pass

    def _start_tla(self, label: str, job: Callable[[PortableReader], Finish]) -> None:
        if self.busy:
            self.app.notify(
                f"Opération en cours sur le lecteur portable ({self.busy}) : patientez.",
                severity="warning",
            )
            return
        self.busy = label
        self._set_progress(0, 0, label)
        self.run_worker(
            partial(self._tla_worker, label, job),
            thread=True,
            group="lecteur-tla",
            exit_on_error=False,
        )

    def _tla_worker(self, label: str, job: Callable[[PortableReader], Finish]) -> None:
        """Open the line, run *job*, then re-read the device's identity, clock and contents."""
        from tuibill.services.devices import open_portable_reader

        try:
            with open_portable_reader(self.app.settings.devices) as reader:
                finish = job(reader)
                self._from_thread(self._set_progress, 0, 0, "Lecture du contenu du lecteur…")
                identity = reader.identify()
                desk = datetime.now().replace(microsecond=0)
                drift = round((reader.get_clock() - desk).total_seconds())
                contents = reader.contents()
            self._from_thread(self._tla_done, finish, identity, drift, contents)
        except TuibillError as error:
            self._from_thread(self._tla_failed, str(error))
        except Exception as error:  # a device bug must not take the desk down
            self._from_thread(self._tla_failed, f"Erreur inattendue du lecteur portable : {error}")
        finally:
            close_thread_connection()

    def _progress(self, done: int, total: int, message: str) -> None:
        """The services' progress callback, called in the worker thread."""
        self._from_thread(self._set_progress, done, total, message)

    def _set_progress(self, done: int, total: int, message: str) -> None:
        bar = self.query_one("#lecteur-progress", ProgressBar)
        bar.display = True
        bar.update(total=total or None, progress=done)
        self._show_status(message)

    def _end_progress(self) -> None:
        self.busy = ""
        self.query_one("#lecteur-progress").display = False

    def _tla_failed(self, message: str) -> None:
        self._end_progress()
        self._show_status(message, error=True)

    def _tla_done(
        self, finish: Finish, identity: DeviceIdentity, drift: int, contents: list[InvoiceSummary]
    ) -> None:
        self._end_progress()
        self.identity, self.clock_drift = identity, drift
        self._show_tla(contents)
        self._show_status("")
        if finish is not None:
            finish()

    def _show_tla(self, contents: list[InvoiceSummary]) -> None:
        identity = self.identity
        if identity is not None:
            drift = self.clock_drift or 0
            clock = "à l'heure" if abs(drift) < 60 else f"écart d'horloge {drift:+d} s (h)"
            self.query_one("#lecteur-tla-info", Static).update(
                f"{identity.model} {identity.serial} · {identity.stored}/{identity.capacity} "
                f"factures · {clock}"
            )
        table = self.query_one("#lecteur-tla", DataTable)
        previous = table.cursor_row
        table.clear()
        self.tla_rows = {summary.key: summary for summary in contents}
        for summary in contents:
            table.add_row(
                summary.number,
                Text(summary.patient),
                money(summary.amount_cents),
                summary.state.label,
                f"{summary.loaded_at:%d/%m %H:%M}",
                key=summary.key,
            )
        if contents:
            table.move_cursor(row=min(previous, len(contents) - 1), animate=False)

    def current_tla(self) -> InvoiceSummary | None:
        table = self.query_one("#lecteur-tla", DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return self.tla_rows.get(key)

    # --- TLA actions ---------------------------------------------------------------------------

    def action_tla_identify(self) -> None:
        self._start_tla("interrogation du lecteur", lambda reader: None)

    def action_refresh(self) -> None:
        self.card_readers.poll_now()
        self.action_tla_identify()

    def action_tla_load(self) -> None:
        from tuibill.services import tla_transfer

        names = tla_transfer.prepared_per_practitioner()
        if not names:
            self._show_status(
                "Aucune facture « À charger » : choisissez-les dans Facturer (F2, touche c)."
            )
            return
        count = sum(count for _, count in names)
        detail = ", ".join(f"{name} : {count}" for name, count in names)

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._start_tla("chargement", self._load_job)

        self.app.push_screen(
            ConfirmDialog(f"Charger {count} facture(s) dans le lecteur portable ?", detail),
            confirmed,
        )

    def _load_job(self, reader: PortableReader) -> Finish:
        from tuibill.services import tla_transfer

        outcome = tla_transfer.load_prepared(
            reader,
            self.app.user,
            progress=self._progress,
            lot_codec=self.app.settings.transmission.lot_codec,
        )

        def finish() -> None:
            problems = [m for _, m in outcome.refused] + [m for _, m in outcome.not_recorded]
            text = f"{len(outcome.loaded)} facture(s) chargée(s) dans le lecteur portable."
            if outcome.already:
                text += f" {len(outcome.already)} l'étaient déjà."
            self.app.notify(text, title="Chargement")
            if problems:
                self._show_status(" ".join(problems[:2]), error=True)

        return finish

    def action_tla_unload(self) -> None:
        self._start_tla("déchargement", self._unload_job)

    def _unload_job(self, reader: PortableReader) -> Finish:
        from tuibill.services import tla_transfer

        outcome = tla_transfer.unload(
            reader,
            self.app.user,
            progress=self._progress,
            lot_codec=self.app.settings.transmission.lot_codec,
        )

        def finish() -> None:
            parts = []
            if outcome.validated:
                parts.append(f"{len(outcome.validated)} validée(s)")
            if outcome.to_secure:
                parts.append(f"{len(outcome.to_secure)} à sécuriser (CPS, touche s)")
            if outcome.already:
                parts.append(f"{len(outcome.already)} déjà reprise(s)")
            if outcome.not_secured:
                parts.append(f"{len(outcome.not_secured)} pas encore sécurisée(s), restée(s)")
            self.app.notify(
                (", ".join(parts) or "Aucune facture sécurisée dans le lecteur") + ".",
                title="Déchargement",
            )
            problems = [m for _, m in outcome.rejected]
            if outcome.erase_error:
                problems.insert(0, outcome.erase_error)
            if problems:
                self._show_status(" ".join(problems[:2]), error=True)
            elif outcome.notes:  # « À sécuriser » although a CPS was used: say why
                self._show_status(" ".join(m for _, m in outcome.notes[:2]))

        return finish

    def action_tla_erase(self) -> None:
        from tuibill.services.devices import DeviceInvoiceState

        summary = self.current_tla()
        if summary is None:
            self.app.bell()
            self._show_status("Aucune facture sélectionnée dans le lecteur portable.")
            return
        if summary.state is DeviceInvoiceState.LOADED:
            detail = "Elle n'a pas été sécurisée : elle pourra être chargée de nouveau."
        else:
            detail = (
                f"Elle est {summary.state.label.lower()} : si elle n'a pas été déchargée, "
                "cette sécurisation sera perdue."
            )
        key = summary.key
        from tuibill.services.tla_transfer import erase_refusal

        refusal = erase_refusal([key])
        if refusal is not None:  # said at once: never asked, then refused
            self._show_status(refusal, error=True)
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._start_tla("effacement", partial(self._erase_job, [key]))

        self.app.push_screen(
            ConfirmDialog(f"Effacer la facture {summary.number} ({summary.patient}) ?", detail),
            confirmed,
        )

    def _erase_job(self, keys: list[str], reader: PortableReader) -> Finish:
        from tuibill.services import tla_transfer

        erased = tla_transfer.erase_from_device(reader, keys)
        return lambda: self.app.notify(f"{len(erased)} facture(s) effacée(s) du lecteur portable.")

    def action_tla_erase_all(self) -> None:
        from tuibill.services.tla_transfer import erase_refusal

        count = len(self.tla_rows)
        refusal = erase_refusal(self.tla_rows)
        if refusal is not None:
            self._show_status(refusal, error=True)
            return

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._start_tla("effacement complet", self._erase_all_job)

        self.app.push_screen(
            ConfirmDialog(
                f"Effacer tout le lecteur portable ({count} facture(s)) ?",
                "Les factures sécurisées et non déchargées seraient perdues : déchargez d'abord.",
            ),
            confirmed,
        )

    def _erase_all_job(self, reader: PortableReader) -> Finish:
        from tuibill.services import tla_transfer

        count = tla_transfer.erase_all_from_device(reader)
        return lambda: self.app.notify(f"{count} facture(s) effacée(s) du lecteur portable.")

    def action_tla_clock(self) -> None:
        if self.identity is None or self.clock_drift is None:
            self._show_status("Interrogez d'abord le lecteur portable (touche i).")
            return
        drift = self.clock_drift

        def confirmed(answer: bool | None) -> None:
            if answer:
                self._start_tla("mise à l'heure", self._clock_job)

        self.app.push_screen(
            ConfirmDialog(
                "Mettre le lecteur portable à l'heure du poste ?",
                f"Écart constaté : {drift:+d} s. L'heure de sécurisation des factures vient "
                "de l'horloge du lecteur.",
            ),
            confirmed,
        )

    def _clock_job(self, reader: PortableReader) -> Finish:
        when = reader.set_clock()
        return lambda: self.app.notify(f"Lecteur portable à l'heure : {when:%d/%m/%Y %H:%M:%S}.")

    # --- FSE à sécuriser -----------------------------------------------------------------------

    def action_secure_pending(self) -> None:
        from tuibill.screens.sesam_actions import secure_batch

        def done(_outcome: object) -> None:
            self.card_readers.poll_now()  # the PIN counter may have changed
            self._show_status()

        self.run_worker(secure_batch(self, None, on_done=done), group="sesam", exclusive=True)
