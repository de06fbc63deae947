"""What the simulated caisse answers to each lot: answers, responders, scenarios, scripts.

An *answer* names a kind of reply (``positive``, ``negative:004``, ``silent``…). Each kind is
served by a *responder* found in a registry, so that later work adds NOEMIE-like payment and
rejection returns as new kinds (``register_responder("paiement", …)``) without touching the
scenarios or the SMTP side. A *scenario* decides the answers for each reception: always the
same (``--mode``), or per lot and per sending (``--script``).
"""

from __future__ import annotations

import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from tuibill.domain.errors import ConfigError
from tuibill.formats.codec import (
    ArlCodec,
    CaisseCode,
    LotFile,
)
from tuibill.formats.errors import FormatError

POSITIVE = "positive"
NEGATIVE = "negative"
SILENT = "silent"


@dataclass(frozen=True)
class Answer:
    kind: str  # a registered responder
    argument: str = ""  # what the kind needs, e.g. the reason code of a negative ARL

    @classmethod
    def parse(cls, text: str, *, where: str = "") -> Answer:
        """``kind`` or ``kind:argument`` (« negative:004 »)."""
        kind, _, argument = text.strip().partition(":")
        if not kind:
            raise ConfigError(
                "réponse vide (ex. : positive, negative:004, silent).", key=where or None
            )
        return cls(kind=kind, argument=argument)

    def __str__(self) -> str:
        return f"{self.kind}:{self.argument}" if self.argument else self.kind


@dataclass(frozen=True)
class Reception:
    """One lot mail as the caisse received it, read and identified."""

    received_at: datetime
    reply_to: str  # where answers go: the mail's From, else the SMTP envelope sender
    message_id: str | None
    subject: str
    attachment_name: str | None
    data: bytes | None  # the lot file; None when the mail has no attachment
    checksum: str | None  # SHA-256 of data
    lot: LotFile | None  # None when data is missing or unreadable
    error: FormatError | None  # why the strict reader refused data
    practitioner_am: str | None  # from the lot, else from the mail's conventions
    lot_number: int | None
    sender_id: str | None
    destination: CaisseCode  # the caisse that answers
    sequence: int = 0  # 1 for the first reception of this lot number of this PS, 2 for the next…
    # FSE numbers the concentrator refuses as duplicates (« DOUBLON DE FSE »): already received
    # in another lot, neither rejected by the caisse nor recycled since.
    duplicates: frozenset[int] = frozenset()

    @property
    def identified(self) -> bool:
        """Whether the caisse knows which lot this is, hence whom to answer about what."""
        return self.practitioner_am is not None and self.lot_number is not None


@dataclass
class CaisseState:
    """What the caisse remembers from one mail to the next."""

    receptions: Counter[tuple[str, int]] = field(default_factory=Counter)
    accepted: set[str] = field(default_factory=set)  # checksums of positively acknowledged lots
    return_files: int = 0  # NOEMIE returns sent (their file ids)
    # The concentrator's memory of FSE numbers (PS, number): the lot and day first received,
    # those the caisse rejected, those recycled on its portal (seed 002).
    fse_seen: dict[tuple[str, int], tuple[int, datetime]] = field(default_factory=dict)
    fse_rejected: set[tuple[str, int]] = field(default_factory=set)
    fse_recycled: set[tuple[str, int]] = field(default_factory=set)


@dataclass
class ResponderContext:
    now: Callable[[], datetime]
    state: CaisseState
    arl_codec: ArlCodec
    negative_reason: str  # for « negative » without a reason code
    log: Callable[[str], None]


class Responder(Protocol):
    def check(self, answer: Answer) -> None:
        """Raise ConfigError (French) if *answer* cannot be served, before the server starts."""
        ...

    def respond(
        self, reception: Reception, answer: Answer, context: ResponderContext
    ) -> list[EmailMessage]:
        """The mails to put in the practice's mailbox (none for silence)."""
        ...


RESPONDERS: dict[str, Responder] = {}


def register_responder(kind: str, responder: Responder) -> None:
    RESPONDERS[kind] = responder


def check_answers(answers: Iterable[Answer]) -> None:
    for answer in answers:
        responder = RESPONDERS.get(answer.kind)
        if responder is None:
            known = ", ".join(sorted(RESPONDERS))
            raise ConfigError(f"réponse « {answer.kind} » inconnue (possibles : {known}).")
        responder.check(answer)


class Scenario(Protocol):
    def answers_for(self, reception: Reception) -> tuple[Answer, ...]: ...

    def all_answers(self) -> tuple[Answer, ...]:
        """Every answer the scenario may give, to check them all at start-up."""
        ...


@dataclass(frozen=True)
class FixedScenario:
    """The same answers to every lot (``--mode positive|negative|silent``)."""

    answers: tuple[Answer, ...]

    def answers_for(self, reception: Reception) -> tuple[Answer, ...]:
        return self.answers

    def all_answers(self) -> tuple[Answer, ...]:
        return self.answers


@dataclass(frozen=True)
class LotRule:
    """The answers to the 1st, 2nd… sending of the lots it matches; the last step repeats."""

    steps: tuple[tuple[Answer, ...], ...]
    lot_number: int | None = None  # None: any lot number
    practitioner_am: str | None = None  # None: any PS

    def matches(self, reception: Reception) -> bool:
        if self.lot_number is not None and reception.lot_number != self.lot_number:
            return False
        return self.practitioner_am is None or reception.practitioner_am == self.practitioner_am


@dataclass(frozen=True)
class ScriptScenario:
    rules: tuple[LotRule, ...]
    default: tuple[Answer, ...] = (Answer(POSITIVE),)

    def answers_for(self, reception: Reception) -> tuple[Answer, ...]:
        for rule in self.rules:
            if rule.matches(reception):
                step = min(max(reception.sequence, 1), len(rule.steps))
                return rule.steps[step - 1]
        return self.default

    def all_answers(self) -> tuple[Answer, ...]:
        found = list(self.default)
        for rule in self.rules:
            for step in rule.steps:
                found.extend(step)
        return tuple(found)


def _step(value: object, file: str, key: str) -> tuple[Answer, ...]:
    """A step is one answer (« positive ») or several given together (« [\"positive\", …] »)."""
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) for item in items):
        raise ConfigError(
            "une réponse (texte) ou une liste de réponses est attendue.", file=file, key=key
        )
    return tuple(Answer.parse(item, where=key) for item in items)


def parse_script(text: str, file: str = "<script>") -> ScriptScenario:
    """Read a scenario script (TOML); see docs/formats/arl.md, « Caisse simulée »."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"fichier TOML illisible ({error}).", file=file) from None
    unknown = set(data) - {"default", "lot"}
    if unknown:
        raise ConfigError(
            "clé inconnue (possibles : default, lot).", file=file, key=sorted(unknown)[0]
        )
    default = _step(data.get("default", POSITIVE), file, "default")
    entries = data.get("lot", [])
    if not isinstance(entries, list):
        raise ConfigError("une liste de tables [[lot]] est attendue.", file=file, key="lot")
    rules = []
    for index, entry in enumerate(entries):
        where = f"lot[{index}]"
        if not isinstance(entry, dict):
            raise ConfigError("une table [[lot]] est attendue.", file=file, key=where)
        extra = set(entry) - {"number", "practitioner", "answers"}
        if extra:
            raise ConfigError(
                "clé inconnue (possibles : number, practitioner, answers).",
                file=file,
                key=f"{where}.{sorted(extra)[0]}",
            )
        number = entry.get("number")
        if number is not None and (
            not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 999
        ):
            raise ConfigError(
                "un numéro de lot de 1 à 999 est attendu.", file=file, key=f"{where}.number"
            )
        practitioner = entry.get("practitioner")
        if practitioner is not None and not (
            isinstance(practitioner, str) and len(practitioner) == 9 and practitioner.isdigit()
        ):
            raise ConfigError(
                "un numéro AM de 9 chiffres est attendu.", file=file, key=f"{where}.practitioner"
            )
        answers = entry.get("answers")
        if not isinstance(answers, list) or not answers:
            raise ConfigError(
                "une liste de réponses, une par envoi, est attendue.",
                file=file,
                key=f"{where}.answers",
            )
        steps = tuple(_step(item, file, f"{where}.answers[{i}]") for i, item in enumerate(answers))
        rules.append(LotRule(steps=steps, lot_number=number, practitioner_am=practitioner))
    return ScriptScenario(rules=tuple(rules), default=default)


def load_script(path: str | Path) -> ScriptScenario:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"lecture impossible ({error.strerror or error}).", file=str(path)
        ) from None
    except UnicodeDecodeError:
        raise ConfigError("le script doit être en UTF-8.", file=str(path)) from None
    return parse_script(text, str(path))
