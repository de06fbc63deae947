"""The motif table: a caisse's rejection (code, label) → motif → what the desk does (seed 000).

Codes are public only as a caisse memo on the most frequent rejections (see
``/work/shared/formats/noemie-ps.md``); the seeds' motifs (prescripteur inconnu, date de
prescription erronée, date de décès postérieure) have none. So the table is **data**: a shipped
file (``tuibill/data/rejection_motifs.toml``) that the practice extends with its own rules
(stored in the database, ``services.rejection_motifs``). A rule names codes and/or a label pattern;
the first rule that matches gives the motif (the practice's rules first); nothing matching is
« autre ». This module only parses and applies the table: reading the file is the services'.

What to do then depends on more than the motif: an AMC rejection cannot be treated by
SESAM-Vitale (paper with the mutuelle, or the patient pays); an invoice made in mode SESAM-Vitale
is always cancelled by an avoir and replaced; « facture déjà payée » is never re-sent.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from tuibill.domain.errors import ConfigError
from tuibill.domain.invoices import InvoiceAction


class Motif(StrEnum):
    PRESCRIBER_UNKNOWN = "prescripteur_inconnu"
    PRESCRIPTION_DATE = "date_prescription"
    DEATH_DATE = "date_deces"
    RIGHTS = "droits"  # droits / identification of the patient
    ALREADY_PAID = "deja_payee"
    DUPLICATE = "doublon"  # « DOUBLON DE FSE »: the concentrator's integration rejection
    OTHER = "autre"


class Treatment(StrEnum):
    """What the desk does with an invoice rejected for that motif (seed 000)."""

    CORRECT_PRESCRIBER = "prescripteur"  # fix the prescripteur, « Recommencer la FSE »
    CORRECT_PRESCRIPTION_DATE = "date_prescription"
    CORRECT_ACT_DATES = "dates_actes"  # date de décès: act dates before it
    CORRECT_AND_RESTART = "recommencer"  # any motif: fix what is needed, « Recommencer la FSE »
    CREDIT_NOTE = "avoir"  # mode SESAM-Vitale: avoir, then a new invoice in mode dégradé
    NEVER_RESEND = "ne_pas_renvoyer"  # already paid (2900): never re-sent
    PAPER_WITH_AMC = "papier_amc"  # AMC rejection: on paper with the mutuelle, or the patient pays
    RECYCLE = "recycler"  # a duplicate at the concentrator: recycle there, then re-send
    REFUSED_LINES = "lignes_refusees"  # paid in part (seed 001): a status for each refused line

    @property
    def label(self) -> str:
        return TREATMENT_LABELS[self]


TREATMENT_LABELS = {
    Treatment.CORRECT_PRESCRIBER: "Corriger le prescripteur, puis « Recommencer la FSE »",
    Treatment.CORRECT_PRESCRIPTION_DATE: (
        "Corriger la date de prescription, puis « Recommencer la FSE »"
    ),
    Treatment.CORRECT_ACT_DATES: (
        "Revalider les actes à une date antérieure au décès, puis « Recommencer la FSE »"
    ),
    Treatment.CORRECT_AND_RESTART: (
        "Faire les corrections nécessaires, puis « Recommencer la FSE » (ou avoir + nouvelle "
        "facture)"
    ),
    Treatment.CREDIT_NOTE: (
        "Facture SESAM-Vitale : « Créer un avoir », puis « Nouvelle facture » en mode dégradé "
        "(signer, joindre les pièces SCOR)"
    ),
    Treatment.NEVER_RESEND: "Ne jamais renvoyer : la caisse a déjà payé cette facture",
    Treatment.PAPER_WITH_AMC: (
        "Traiter sur papier avec la mutuelle, ou demander le règlement au patient"
    ),
    Treatment.RECYCLE: (
        "Recycler la FSE chez le concentrateur, puis « Réactiver Télétrans » (même numéro)"
    ),
    Treatment.REFUSED_LINES: (
        "Facture payée en partie : donner à chaque ligne refusée son statut (touche l) — "
        "refacturer à la prochaine facturation, régulariser, ou accepter le refus"
    ),
}

# The field a motif asks to correct (what the treatment screen takes the clerk to).
FIELD_LABELS = {
    "prescripteur": "Prescripteur",
    "date_prescription": "Date de prescription",
    "dates_actes": "Dates des actes",
    "patient": "Fiche du patient (droits, NIR, caisse, exonération)",
    "": "",
}

# The actions each treatment offers, in the order the screen shows them.
TREATMENT_ACTIONS: dict[Treatment, tuple[InvoiceAction, ...]] = {
    Treatment.CORRECT_PRESCRIBER: (InvoiceAction.RESTART, InvoiceAction.CREDIT_NOTE),
    Treatment.CORRECT_PRESCRIPTION_DATE: (InvoiceAction.RESTART, InvoiceAction.CREDIT_NOTE),
    Treatment.CORRECT_ACT_DATES: (InvoiceAction.RESTART, InvoiceAction.CREDIT_NOTE),
    Treatment.CORRECT_AND_RESTART: (InvoiceAction.RESTART, InvoiceAction.CREDIT_NOTE),
    Treatment.CREDIT_NOTE: (InvoiceAction.CREDIT_NOTE,),
    Treatment.NEVER_RESEND: (InvoiceAction.MARK_TREATED,),
    Treatment.PAPER_WITH_AMC: (InvoiceAction.AMC_PAPER, InvoiceAction.BILL_PATIENT),
    Treatment.RECYCLE: (InvoiceAction.RECYCLE, InvoiceAction.REACTIVATE),
    Treatment.REFUSED_LINES: (),  # the lines' own dialog, not a move of the invoice
}


@dataclass(frozen=True)
class MotifSpec:
    """One motif: its French label, its treatment, the field to correct, what to do."""

    motif: Motif
    label: str
    treatment: Treatment
    field: str = ""  # a key of FIELD_LABELS
    help: str = ""


@dataclass(frozen=True)
class Rule:
    """Codes and/or a label pattern → a motif. ``source``: « livré » (shipped) or « cabinet »."""

    motif: Motif
    codes: tuple[str, ...] = ()
    pattern: str = ""  # a regular expression on the label, capitals without accents
    label: str = ""  # the caisse's label for the first code (what a return writes)
    refinement: str = ""  # the 3-digit code of the level-A line that usually goes with it
    source: str = "livré"

    def matches(self, code: str, label: str) -> bool:
        if self.codes and code.strip() in self.codes:
            return True
        return bool(self.pattern) and re.search(self.pattern, normalize(label)) is not None


def normalize(text: str) -> str:
    """Capitals without accents, single spaces: how label patterns read a label."""
    plain = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return " ".join(plain.upper().split())


@dataclass(frozen=True)
class MotifTable:
    motifs: dict[Motif, MotifSpec]
    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def rule_for(self, code: str, label: str = "") -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(code, label)), None)

    def motif_for(self, code: str, label: str = "") -> MotifSpec:
        rule = self.rule_for(code, label)
        return self.motifs[rule.motif if rule else Motif.OTHER]

    def label_of(self, code: str) -> str:
        """The caisse's label of *code* (for the simulated caisse), or ""."""
        return next((r.label for r in self.rules if code in r.codes and r.label), "")

    def with_rules(self, first: list[Rule]) -> MotifTable:
        """The table with *first* (the practice's rules) tried before the shipped ones."""
        return MotifTable(self.motifs, tuple(first) + self.rules)


def check_rule(motif: str, codes: tuple[str, ...], pattern: str) -> Rule:
    """A practice's rule, checked: a known motif, 4-character codes, a valid pattern."""
    try:
        which = Motif(motif)
    except ValueError:
        known = ", ".join(m.value for m in Motif)
        raise ConfigError(f"motif « {motif} » inconnu (possibles : {known}).") from None
    for code in codes:
        if not re.fullmatch(r"[0-9A-Z]{4}", code):
            raise ConfigError(f"code de rejet « {code} » : 4 chiffres ou capitales attendus.")
    if not codes and not pattern.strip():
        raise ConfigError("une règle donne au moins un code ou un motif de libellé.")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ConfigError(f"motif de libellé « {pattern} » invalide ({error}).") from None
    return Rule(which, codes, normalize(pattern) if pattern else "", source="cabinet")


def parse_table(text: str, file: str = "rejection_motifs.toml") -> MotifTable:
    """The shipped table from its TOML text ([[motif]] and [[regle]] tables, French keys)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"fichier TOML illisible ({error}).", file) from None
    motifs: dict[Motif, MotifSpec] = {}
    for index, raw in enumerate(data.get("motif", [])):
        where = f"motif[{index}]"
        try:
            spec = MotifSpec(
                motif=Motif(raw["code"]),
                label=str(raw["libelle"]),
                treatment=Treatment(raw["traitement"]),
                field=str(raw.get("champ", "")),
                help=str(raw.get("aide", "")),
            )
        except (KeyError, ValueError) as error:
            raise ConfigError(f"motif mal décrit ({error}).", file, where) from None
        if spec.field not in FIELD_LABELS:
            raise ConfigError(f"champ « {spec.field} » inconnu.", file, f"{where}.champ")
        motifs[spec.motif] = spec
    missing = [m.value for m in Motif if m not in motifs]
    if missing:
        raise ConfigError(f"motifs absents : {', '.join(missing)}.", file)
    rules = []
    for index, raw in enumerate(data.get("regle", [])):
        where = f"regle[{index}]"
        try:
            motif = Motif(raw["motif"])
        except (KeyError, ValueError) as error:
            raise ConfigError(f"règle sans motif connu ({error}).", file, where) from None
        pattern = str(raw.get("libelle_contient", ""))
        if pattern:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigError(f"expression invalide ({error}).", file, where) from None
        rules.append(
            Rule(
                motif=motif,
                codes=tuple(str(code) for code in raw.get("codes", [])),
                pattern=pattern,
                label=str(raw.get("libelle", "")),
                refinement=str(raw.get("affine", "")),
            )
        )
    return MotifTable(motifs, tuple(rules))


@dataclass(frozen=True)
class Guidance:
    """What the treatment screen and ``tuibill rejection show`` say about one rejected invoice."""

    motif: MotifSpec
    treatment: Treatment
    actions: tuple[InvoiceAction, ...]  # the moves offered, allowed from the invoice's state
    text: str  # what to do, in French


def guidance(
    spec: MotifSpec,
    *,
    sesam_vitale: bool,
    amc_only: bool,
    allowed: frozenset[InvoiceAction] | set[InvoiceAction],
    partly_paid: bool = False,
) -> Guidance:
    """The treatment for *spec* given how the invoice was made and which part was rejected;
    the actions it offers that the invoice's state allows. *partly_paid*: the caisse paid the
    invoice and refused lines of it — those lines are what is treated (seed 001)."""
    if amc_only:
        treatment = Treatment.PAPER_WITH_AMC
    elif partly_paid:
        treatment = Treatment.REFUSED_LINES
    elif spec.motif in (Motif.ALREADY_PAID, Motif.DUPLICATE):
        treatment = spec.treatment
    elif sesam_vitale:
        treatment = Treatment.CREDIT_NOTE  # seed 000: always an avoir, then a new invoice
    else:
        treatment = spec.treatment
    actions = tuple(a for a in TREATMENT_ACTIONS[treatment] if a in allowed)
    text = spec.help if treatment is spec.treatment and spec.help else treatment.label
    return Guidance(spec, treatment, actions, text)
