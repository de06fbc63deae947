"""Pick the bénéficiaire read from a carte Vitale; see how the file differs; confirm.

Returns a :class:`VitaleChoice` — use the patient as filed, update the file from the card, or
create the patient (with the qualité and caisse chosen here) — or None. The caller does the
writing (``services.securing``), so the dialog never touches the database beyond reading the
caisses for its list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from tuibill.domain.formatting import format_day
from tuibill.domain.patients import QUALITIES
from tuibill.services.vitale_patients import ABSENT, DIFFERENT, BeneficiaryMatch, CardReading

USE, UPDATE, CREATE = "use", "update", "create"
NO_ORGANISM = -1  # the Select's « à compléter » entry


@dataclass(frozen=True)
class VitaleChoice:
    position: int  # of the bénéficiaire on the card (0-based)
    action: str  # USE, UPDATE or CREATE
    quality: str | None = None  # CREATE only
    organism_id: int | None = None  # CREATE only; None: copied from the assuré, or to complete


def format_nir(nir: str) -> str:
    """« 2 82 03 28 085 042 51 »: the grouping printed on the card."""
    if len(nir) != 15:
        return nir
    return f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"


def beneficiary_line(match: BeneficiaryMatch) -> Text:
    person = match.beneficiary
    return Text(
        f"{match.position + 1} {person.last_name} {person.first_name}"[:30].ljust(31)
        + f"{format_day(person.birth_date)}  {match.status_label}"
    )


class VitalePatientDialog(ModalScreen[VitaleChoice | None]):
    """The card's bénéficiaires; Entrée applies the proposed action to the highlighted one.

    With *expected_patient_id* (validating an invoice), only that patient's line can be chosen.
    """

    DEFAULT_CSS = """
    VitalePatientDialog #vitale-beneficiaries {
        height: auto;
        max-height: 8;
        border: $frame $primary;
    }
    VitalePatientDialog #vitale-beneficiaries:focus {
        border: $frame $accent;
    }
    VitalePatientDialog #vitale-create {
        height: auto;
    }
    VitalePatientDialog .vitale-row {
        height: 1;
    }
    VitalePatientDialog .vitale-label {
        width: 10;
        padding: 0 1;
    }
    VitalePatientDialog #vitale-create Select {
        width: 1fr;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Annuler", id="vitale_annuler"),
        Binding("g", "keep", "Garder la fiche", id="vitale_garder"),
        Binding("q", "focus_quality", "Qualité", show=False, id="vitale_qualite"),
        Binding("o", "focus_organism", "Caisse", show=False, id="vitale_caisse"),
    ]

    def __init__(
        self,
        reading: CardReading,
        *,
        expected_patient_id: int | None = None,
        title: str = "Carte Vitale — bénéficiaires",
        position: int = 0,
    ) -> None:
        super().__init__()
        self.reading = reading
        self.expected_patient_id = expected_patient_id
        self.title_text = title
        self.start = position
        if expected_patient_id is not None:
            for match in reading.matches:
                if match.patient is not None and match.patient.id == expected_patient_id:
                    self.start = match.position

    def compose(self) -> ComposeResult:
        from tuibill.services.patients import list_organisms

        organisms = [(f"{o.code} {o.name}", o.id) for o in list_organisms()]
        with Vertical(classes="dialog", id="vitale-dialog"):
            yield Static(self.title_text, classes="title", markup=False)
            yield Static("", id="vitale-warning", classes="error", markup=False)
            yield OptionList(
                *[Option(beneficiary_line(m), id=str(m.position)) for m in self.reading.matches],
                id="vitale-beneficiaries",
            )
            yield Static("", id="vitale-details", markup=False)
            with Vertical(id="vitale-create"):
                with Horizontal(classes="vitale-row"):
                    yield Label("Qualité", classes="vitale-label")
                    yield Select(
                        [(f"{code} {label}", code) for code, label in QUALITIES.items()],
                        allow_blank=False,
                        compact=True,
                        id="vitale-quality",
                    )
                with Horizontal(classes="vitale-row"):
                    yield Label("Caisse", classes="vitale-label")
                    yield Select(
                        [("À compléter plus tard", NO_ORGANISM), *organisms],
                        allow_blank=False,
                        compact=True,
                        id="vitale-organism",
                    )
            yield Static("", id="vitale-hint", classes="hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one("#vitale-beneficiaries", OptionList)
        if self.reading.matches:
            options.highlighted = min(self.start, len(self.reading.matches) - 1)
        options.focus()
        warning = self.query_one("#vitale-warning", Static)
        warning.display = self.expected_patient_id is not None and not self._expected_match()
        if warning.display:
            warning.update(
                "Le patient de la facture n'est pas sur cette carte : insérez sa carte Vitale, "
                "ou validez en mode dégradé (Échap)."
            )
        self._show_details()

    # --- the highlighted bénéficiaire --------------------------------------------------------

    def _expected_match(self) -> BeneficiaryMatch | None:
        for match in self.reading.matches:
            if match.patient is not None and match.patient.id == self.expected_patient_id:
                return match
        return None

    def current(self) -> BeneficiaryMatch | None:
        index = self.query_one("#vitale-beneficiaries", OptionList).highlighted
        if index is None or not self.reading.matches:
            return None
        return self.reading.matches[index]

    def _choosable(self, match: BeneficiaryMatch) -> bool:
        if self.expected_patient_id is None:
            return True
        return match.patient is not None and match.patient.id == self.expected_patient_id

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_details()

    def _show_details(self) -> None:
        from tuibill.services.vitale_patients import new_patient_input

        match = self.current()
        details = self.query_one("#vitale-details", Static)
        create = self.query_one("#vitale-create")
        hint = self.query_one("#vitale-hint", Static)
        if match is None:
            details.update("Aucun bénéficiaire sur la carte.")
            create.display = False
            hint.update("Échap : fermer")
            return
        lines = [f"NIR {format_nir(match.beneficiary.nir)} — {match.status_label}"]
        if match.patient is not None:
            lines.append(f"Fiche : {match.patient.display_name} (patient {match.patient.id})")
        for difference in match.differences:
            lines.append(
                f"  {difference.label} : carte « {difference.card} », fichier « {difference.file} »"
            )
        others = [p for p in match.same_nir if match.patient is None or p.id != match.patient.id]
        if others:
            names = ", ".join(p.display_name for p in others[:3])
            lines.append(f"Même NIR dans le fichier : {names}")
        details.update("\n".join(lines))
        creating = match.status == ABSENT and self.expected_patient_id is None
        create.display = creating
        if creating:
            data = new_patient_input(self.reading, match.position)
            self.query_one("#vitale-quality", Select).value = data.quality
            organism = self.query_one("#vitale-organism", Select)
            organism.value = data.organism_id if data.organism_id is not None else NO_ORGANISM
            inherited = data.insured_id is not None
            organism.disabled = inherited  # a dependant is covered by the assuré's caisse
        if not self._choosable(match):
            hint.update("Ce bénéficiaire n'est pas le patient de la facture — Échap : annuler")
        elif match.status == ABSENT:
            hint.update("Entrée : créer la fiche — q : qualité, o : caisse — Échap : annuler")
        elif match.status == DIFFERENT:
            keep = "" if match.identity_differs else " — g : garder la fiche"
            hint.update(f"Entrée : mettre la fiche à jour d'après la carte{keep} — Échap : annuler")
        else:
            hint.update("Entrée : choisir ce patient — Échap : annuler")
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        match = self.current() if self.is_mounted else None
        if action == "keep":
            return (
                match is not None
                and match.status == DIFFERENT
                and not match.identity_differs
                and self._choosable(match)
            )
        if action in ("focus_quality", "focus_organism"):
            return match is not None and match.status == ABSENT
        return True

    # --- choosing ------------------------------------------------------------------------------

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose()

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        # Back to the list once a value is picked: the next Entrée creates the patient.
        self.query_one("#vitale-beneficiaries", OptionList).focus()

    def _choose(self) -> None:
        match = self.current()
        if match is None or not self._choosable(match):
            self.app.bell()
            return
        if match.status == ABSENT:
            organism = self.query_one("#vitale-organism", Select)
            chosen = organism.value
            self.dismiss(
                VitaleChoice(
                    match.position,
                    CREATE,
                    quality=str(self.query_one("#vitale-quality", Select).value),
                    organism_id=None
                    if organism.disabled or chosen in (NO_ORGANISM, Select.NULL)
                    else int(chosen),
                )
            )
        elif match.status == DIFFERENT:
            self.dismiss(VitaleChoice(match.position, UPDATE))
        else:
            self.dismiss(VitaleChoice(match.position, USE))

    def action_keep(self) -> None:
        match = self.current()
        if match is not None and self.check_action("keep", ()):
            self.dismiss(VitaleChoice(match.position, USE))

    def action_focus_quality(self) -> None:
        self.query_one("#vitale-quality", Select).focus()

    def action_focus_organism(self) -> None:
        organism = self.query_one("#vitale-organism", Select)
        if not organism.disabled:
            organism.focus()

    def action_cancel(self) -> None:
        self.dismiss(None)
