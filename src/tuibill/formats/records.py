"""The fixed-width record kit every tuibill file format is written on.

A record is a run of fields, each with a width and a *kind* that both encodes and decodes with
the same rules, so that a file the reader accepts is exactly the file the writer would produce
from what it read (one canonical spelling for every value). The lot file, the ARL and the SCOR
manifest use 128-character Latin-1 records, one per line (:func:`split_records`); formats with
another physical layout (NOEMIE's entity stream) use the same kinds, fields and
:class:`RecordSpec` with their own type width and record length.

Errors name the record (number and type) and the field, in French; the specification tables in
``docs/formats/`` are rendered from the specs (:func:`describe_layout`) and a test keeps them equal.

A little over 600 lines on purpose: one kit — each field kind writes and reads with the same rule
and its own French refusal, next to the record spec and the framing that use them; every format
module builds on it, and they must change together.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, NoReturn

from tuibill.formats.errors import ChecksumError, FormatError

RECORD_WIDTH = 128
FRAME = RECORD_WIDTH + 1  # the record and its LF
ENCODING = "latin-1"
MIN_YEAR, MAX_YEAR = 1900, 2099

# Printable Latin-1 without the invisible ones (no-break space, soft hyphen): a name must look
# the same on the caisse's screen as on ours.
PRINTABLE = re.compile(r"[\x20-\x7e\xa1-\xac\xae-\xff]*")
# Two bytes UTF-8 writes for one accented letter (« é » is C3 A9, read « Ã© » in Latin-1): a
# text holding such a pair was written in UTF-8, and is refused both ways (one spelling).
_UTF8_PAIR = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
UTF8_LOOK = re.compile("[\xc2-\xf4][\x80-\xbf]")


def utf8_problem(value: str) -> str | None:
    """Why a Latin-1 text looks written in UTF-8, or None."""
    found = UTF8_LOOK.search(value)
    if found is None:
        return None
    return f"« {found.group()} » : texte écrit en UTF-8 au lieu de Latin-1 (ISO-8859-1)"
_DIGITS = re.compile(r"[0-9]+")


class Reject(Exception):
    """A field value the format refuses; the record layer adds the record and field."""


def show(text: str, limit: int = 40) -> str:
    """A value as it may appear in an error message: controls escaped, long values cut."""
    shown = []
    for char in text[:limit]:
        if PRINTABLE.fullmatch(char):
            shown.append(char)
        elif ord(char) <= 0xFF:
            shown.append(f"\\x{ord(char):02x}")
        else:
            shown.append(f"\\u{ord(char):04x}")
    return "".join(shown) + ("..." if len(text) > limit else "")


class Kind(ABC):
    """How one field is spelled. ``type_code`` is the letter of the specification's tables."""

    type_code = "?"

    @abstractmethod
    def allowed(self, width: int) -> str:
        """The allowed values, in French, for the specification's tables."""

    @abstractmethod
    def encode(self, value: object, width: int) -> str:
        """The field's *width* characters for *value*, or Reject."""

    @abstractmethod
    def decode(self, text: str) -> object:
        """The value spelled by *text*, or Reject: only the canonical spelling is accepted."""


class Literal(Kind):
    type_code = "L"

    def __init__(self, text: str) -> None:
        self.text = text

    def allowed(self, width: int) -> str:
        return f"« {self.text} »"

    def encode(self, value: object, width: int) -> str:
        return self.text

    def decode(self, text: str) -> object:
        if text != self.text:
            raise Reject(f"« {show(text)} » au lieu de « {self.text} »")
        return None


class Filler(Kind):
    type_code = "F"

    def allowed(self, width: int) -> str:
        return "espaces"

    def encode(self, value: object, width: int) -> str:
        return " " * width

    def decode(self, text: str) -> object:
        if text.strip(" "):
            raise Reject(f"« {show(text)} » au lieu d'espaces")
        return None


class Number(Kind):
    """A non-negative integer, right-aligned, zero-padded."""

    type_code = "N"

    def __init__(self, low: int, high: int) -> None:
        self.low, self.high = low, high

    def allowed(self, width: int) -> str:
        return f"{self.low:0{width}d} à {self.high:0{width}d}"

    def encode(self, value: object, width: int) -> str:
        if type(value) is not int and (not isinstance(value, int) or isinstance(value, bool)):
            raise Reject(f"{show(repr(value))} : un entier est attendu")
        if not self.low <= value <= self.high:
            raise Reject(f"{value} hors de l'intervalle {self.low} à {self.high}")
        return f"{value:0{width}d}"

    def decode(self, text: str) -> object:
        if not _DIGITS.fullmatch(text):
            raise Reject(f"« {show(text)} » n'est pas un nombre de {len(text)} chiffres")
        value = int(text)
        if not self.low <= value <= self.high:
            raise Reject(f"{text} hors de l'intervalle {self.low} à {self.high}")
        return value


class Code(Kind):
    """An identifier from a fixed character set, left-aligned, space-padded."""

    type_code = "C"

    def __init__(
        self,
        pattern: str,
        description: str,
        *,
        optional: bool = False,
        check: Callable[[str], str | None] | None = None,
    ) -> None:
        self.regex = re.compile(pattern)
        self.description = description
        self.optional = optional
        self.check = check  # extra rule (a NIR key...): returns the reason for refusing, or None

    def allowed(self, width: int) -> str:
        return self.description + (" ; espaces si absent" if self.optional else "")

    def _validate(self, value: str, width: int) -> None:
        if len(value) > width or not self.regex.fullmatch(value):
            raise Reject(f"« {show(value)} » : {self.description} attendu")
        if self.check is not None:
            reason = self.check(value)
            if reason:
                raise Reject(reason)

    def encode(self, value: object, width: int) -> str:
        if value is None:
            if self.optional:
                return " " * width
            raise Reject("valeur obligatoire absente")
        if not isinstance(value, str):
            raise Reject(f"{show(repr(value))} : un texte est attendu")
        self._validate(value, width)
        return value.ljust(width)

    def decode(self, text: str) -> object:
        value = text.rstrip(" ")
        if not value:
            if self.optional:
                return None
            raise Reject("valeur obligatoire absente")
        self._validate(value, len(text))
        return value


class Text(Kind):
    """Free text: printable Latin-1, left-aligned, space-padded, no space at either end."""

    type_code = "A"

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def allowed(self, width: int) -> str:
        text = (
            f"texte de 1 à {width} caractères imprimables Latin-1, sans espace au début ni à la fin"
        )
        return text + (" ; espaces si absent" if self.optional else "")

    def encode(self, value: object, width: int) -> str:
        if value is None:
            if self.optional:
                return " " * width
            raise Reject("valeur obligatoire absente")
        if not isinstance(value, str):
            raise Reject(f"{show(repr(value))} : un texte est attendu")
        if not value:
            raise Reject(
                "texte vide" + (" (une valeur absente s'écrit None)" if self.optional else "")
            )
        if not PRINTABLE.fullmatch(value):
            raise Reject(f"« {show(value)} » contient un caractère non imprimable ou hors Latin-1")
        if value != value.strip(" "):
            raise Reject(f"« {show(value)} » commence ou finit par une espace")
        if len(value) > width:
            raise Reject(f"{len(value)} caractères, {width} au plus")
        if problem := utf8_problem(value):
            raise Reject(problem)
        return value.ljust(width)

    def decode(self, text: str) -> object:
        if not PRINTABLE.fullmatch(text):
            raise Reject(f"« {show(text)} » contient un caractère non imprimable")
        if problem := utf8_problem(text):
            raise Reject(problem)
        value = text.rstrip(" ")
        if not value:
            if self.optional:
                return None
            raise Reject("valeur obligatoire absente")
        if value[0] == " ":
            raise Reject(f"« {show(text)} » n'est pas cadré à gauche")
        return value


class Raw(Kind):
    """A slice of a longer text, kept as is (spaces included); the record group reassembles it."""

    type_code = "A"

    def allowed(self, width: int) -> str:
        return f"{width} caractères imprimables Latin-1 (le dernier morceau complété d'espaces)"

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, str) or not PRINTABLE.fullmatch(value) or len(value) > width:
            raise Reject(f"« {show(str(value))} » : texte imprimable Latin-1 attendu")
        if problem := utf8_problem(value):
            raise Reject(problem)
        return value.ljust(width)

    def decode(self, text: str) -> object:
        if not PRINTABLE.fullmatch(text):
            raise Reject(f"« {show(text)} » contient un caractère non imprimable")
        if problem := utf8_problem(text):
            raise Reject(problem)
        return text


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Reject(f"année {year} hors de {MIN_YEAR} à {MAX_YEAR}")


class DateKind(Kind):
    type_code = "D"

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def allowed(self, width: int) -> str:
        text = f"AAAAMMJJ, date réelle, année {MIN_YEAR} à {MAX_YEAR}"
        return text + (" ; espaces si absente" if self.optional else "")

    def encode(self, value: object, width: int) -> str:
        if value is None:
            if self.optional:
                return " " * width
            raise Reject("date obligatoire absente")
        if not isinstance(value, date) or isinstance(value, datetime):
            raise Reject(f"{show(repr(value))} : une date est attendue")
        _check_year(value.year)
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"

    def decode(self, text: str) -> object:
        if self.optional and text == " " * len(text):
            return None
        if not _DIGITS.fullmatch(text):
            raise Reject(f"« {show(text)} » n'est pas une date AAAAMMJJ")
        try:
            value = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            raise Reject(f"« {text} » n'est pas une date du calendrier") from None
        _check_year(value.year)
        return value


class TimeKind(Kind):
    type_code = "H"

    def allowed(self, width: int) -> str:
        return "HHMM, 0000 à 2359 ; espaces si absente"

    def encode(self, value: object, width: int) -> str:
        if value is None:
            return " " * width
        if not isinstance(value, time):
            raise Reject(f"{show(repr(value))} : une heure est attendue")
        if value.second or value.microsecond or value.tzinfo is not None:
            raise Reject(f"{value.isoformat()} : heures et minutes seulement, sans fuseau")
        return f"{value.hour:02d}{value.minute:02d}"

    def decode(self, text: str) -> object:
        if text == " " * len(text):
            return None
        if not _DIGITS.fullmatch(text):
            raise Reject(f"« {show(text)} » n'est pas une heure HHMM")
        try:
            return time(int(text[:2]), int(text[2:]))
        except ValueError:
            raise Reject(f"« {text} » n'est pas une heure valide") from None


class Timestamp(Kind):
    type_code = "T"

    def allowed(self, width: int) -> str:
        return f"AAAAMMJJHHMMSS, heure locale, année {MIN_YEAR} à {MAX_YEAR}"

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, datetime):
            raise Reject(f"{show(repr(value))} : une date et heure est attendue")
        if value.microsecond or value.tzinfo is not None:
            raise Reject(f"{value.isoformat()} : secondes entières, sans fuseau")
        _check_year(value.year)
        return f"{value.year:04d}{value:%m%d%H%M%S}"

    def decode(self, text: str) -> object:
        if not _DIGITS.fullmatch(text):
            raise Reject(f"« {show(text)} » n'est pas une date et heure AAAAMMJJHHMMSS")
        try:
            value = datetime(
                int(text[:4]),
                int(text[4:6]),
                int(text[6:8]),
                int(text[8:10]),
                int(text[10:12]),
                int(text[12:14]),
            )
        except ValueError:
            raise Reject(f"« {text} » n'est pas une date et heure valide") from None
        _check_year(value.year)
        return value


class Flag(Kind):
    type_code = "B"

    def allowed(self, width: int) -> str:
        return "« 1 » oui, « 0 » non"

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, bool):
            raise Reject(f"{show(repr(value))} : oui ou non (booléen) est attendu")
        return "1" if value else "0"

    def decode(self, text: str) -> object:
        if text not in ("0", "1"):
            raise Reject(f"« {show(text)} » au lieu de « 0 » ou « 1 »")
        return text == "1"


class Choice(Kind):
    """A code from a closed list; each code stands for one Python value."""

    type_code = "E"

    def __init__(
        self, options: Sequence[tuple[str, object, str]], *, optional: bool = False
    ) -> None:
        self.options = tuple(options)  # (code in the file, value, description)
        self.optional = optional

    def allowed(self, width: int) -> str:
        text = " ; ".join(f"« {code} » {doc}".rstrip() for code, _, doc in self.options)
        return text + (" ; espaces si absent" if self.optional else "")

    def encode(self, value: object, width: int) -> str:
        if value is None and self.optional:
            return " " * width
        for code, option, _ in self.options:
            # StrEnum members equal their plain values: « degrade » is accepted for the mode.
            if isinstance(value, str) and value == option:
                return code.ljust(width)
        raise Reject(f"{show(repr(value))} : valeur non prévue")

    def decode(self, text: str) -> object:
        if self.optional and text == " " * len(text):
            return None
        for code, option, _ in self.options:
            if text == code.ljust(len(text)):
                return option
        codes = ", ".join(code for code, _, _ in self.options)
        raise Reject(f"« {show(text)} » n'est pas un code prévu ({codes})")


class Alpha(Kind):
    """Free text as NOEMIE writes it: printable Latin-1, space-padded on the right.

    Trailing spaces are padding (stripped on reading); leading spaces are content (kept), so a
    value read is written back identically. Blank means absent: ``None`` where *optional*.
    """

    type_code = "A"

    def __init__(self, *, optional: bool = False) -> None:
        self.optional = optional

    def allowed(self, width: int) -> str:
        text = "texte Latin-1 imprimable, complété d'espaces à droite"
        return text + (" ; espaces si absent" if self.optional else "")

    def encode(self, value: object, width: int) -> str:
        if value is None:
            if self.optional:
                return " " * width
            raise Reject("valeur obligatoire absente")
        if not isinstance(value, str):
            raise Reject(f"{show(repr(value))} : un texte est attendu")
        if not value or value.endswith(" "):
            raise Reject(
                f"« {show(value)} » : texte vide ou finissant par une espace"
                + (" (une valeur absente s'écrit None)" if self.optional else "")
            )
        if not PRINTABLE.fullmatch(value):
            raise Reject(f"« {show(value)} » contient un caractère non imprimable ou hors Latin-1")
        if len(value) > width:
            raise Reject(f"{len(value)} caractères, {width} au plus")
        return value.ljust(width)

    def decode(self, text: str) -> object:
        if not PRINTABLE.fullmatch(text):
            raise Reject(f"« {show(text)} » contient un caractère non imprimable")
        value = text.rstrip(" ")
        if not value:
            if self.optional:
                return None
            raise Reject("valeur obligatoire absente")
        return value


SHORT_DATE_PIVOT = 80  # AAMMJJ: AA below the pivot is 20AA, from it 19AA


class ShortDate(Kind):
    """A date written AAMMJJ: ``00``-``79`` are 2000-2079, ``80``-``99`` are 1980-1999."""

    type_code = "D"

    def allowed(self, width: int) -> str:
        return (
            f"AAMMJJ, date réelle ; AA 00 à {SHORT_DATE_PIVOT - 1} : 20AA, "
            f"{SHORT_DATE_PIVOT} à 99 : 19AA"
        )

    def encode(self, value: object, width: int) -> str:
        if not isinstance(value, date) or isinstance(value, datetime):
            raise Reject(f"{show(repr(value))} : une date est attendue")
        low, high = 1900 + SHORT_DATE_PIVOT, 1999 + SHORT_DATE_PIVOT
        if not low <= value.year <= high:
            raise Reject(f"année {value.year} hors de {low} à {high} (écrite sur deux chiffres)")
        return f"{value.year % 100:02d}{value.month:02d}{value.day:02d}"

    def decode(self, text: str) -> object:
        if not _DIGITS.fullmatch(text) or len(text) != 6:
            raise Reject(f"« {show(text)} » n'est pas une date AAMMJJ")
        year = int(text[:2])
        year += 2000 if year < SHORT_DATE_PIVOT else 1900
        try:
            return date(year, int(text[2:4]), int(text[4:6]))
        except ValueError:
            raise Reject(f"« {text} » n'est pas une date du calendrier") from None


class BlankOr(Kind):
    """An optional field: blank is ``None``, anything else is read by *kind*."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.type_code = kind.type_code

    def allowed(self, width: int) -> str:
        return self.kind.allowed(width) + " ; espaces si absent"

    def encode(self, value: object, width: int) -> str:
        if value is None:
            return " " * width
        return self.kind.encode(value, width)

    def decode(self, text: str) -> object:
        if not text.strip(" "):
            return None
        return self.kind.decode(text)


@dataclass(frozen=True)
class Field:
    name: str  # key of the values dict (the dataclass attribute where there is one)
    label: str  # French, in error messages and in the specification
    width: int
    kind: Kind


class RecordSpec:
    """One record type: its code, French label and fields.

    The type field (a literal of *type_width* characters) comes first. With *width* set, the
    fields must fill exactly that many characters (128 for the line-based formats); with
    ``width=None`` the record is as long as its fields (an entity of NOEMIE's stream).
    """

    def __init__(
        self,
        code: str,
        label: str,
        fields: Iterable[Field],
        *,
        width: int | None = RECORD_WIDTH,
    ) -> None:
        self.code = code
        self.label = label
        self.fields = (Field("type", "type d'enregistrement", len(code), Literal(code)), *fields)
        self.starts: dict[str, int] = {}
        start = 0
        for item in self.fields:
            self.starts[item.name] = start
            start += item.width
            # Layout mistakes are caught at import, not in a caisse's file.
            too_wide = (
                isinstance(item.kind, Number) and len(str(item.kind.high)) > item.width
            ) or (isinstance(item.kind, Literal) and len(item.kind.text) != item.width)
            if too_wide:
                raise ValueError(f"record {code}, field {item.name}: does not fit {item.width}")
        if width is not None and start != width:
            raise ValueError(f"record {code}: {start} characters instead of {width}")
        self.width = start
        # What encode() runs for each field, looked up once, and the texts it gave: a lot file
        # has some 60,000 records whose values repeat (dates, codes, amounts, names…), and a
        # kind's encoding is a function of the value alone.
        self._encoders = tuple(
            (item.name, item.kind.encode, item.width, {}) for item in self.fields
        )

    def field(self, name: str) -> Field:
        return next(item for item in self.fields if item.name == name)

    def error(
        self,
        number: int,
        name: str,
        reason: str,
        *,
        writing: bool = False,
        cls: type[FormatError] = FormatError,
    ) -> FormatError:
        item = self.field(name)
        start = self.starts[name] + 1
        where = f"enregistrement {number} (type {self.code}, {self.label}), champ « {item.label} »"
        if writing:
            message = f"Écriture impossible : {where} : {_sentence(reason)}"
        else:
            message = f"{where[0].upper()}{where[1:]} (positions {start} à {start + item.width - 1}) : {_sentence(reason)}"
        return cls(message, record_number=number, record_type=self.code, field=name)

    def encode(self, values: Mapping[str, object], number: int) -> str:
        get = values.get
        try:
            return _encode_fields(self._encoders, [get(name) for name, *_ in self._encoders])
        except Reject:
            pass
        self._name_refusal(self.fields, [values.get(item.name) for item in self.fields], number)

    def run(self, first: str, last: str, *, keep: bool = False) -> FieldRun:
        """An encoder of the fields *first* to *last* (consecutive), their values given in
        order, without a dict; fillers and the type take none. See :class:`FieldRun`."""
        names = [item.name for item in self.fields]
        return FieldRun(self, names.index(first), names.index(last) + 1, keep=keep)

    def _name_refusal(
        self, items: Sequence[Field], values: Sequence[object], number: int
    ) -> NoReturn:
        # Refused: again field by field, to name the field (the kinds' encoders are pure).
        for item, value in zip(items, values, strict=True):
            try:
                item.kind.encode(value, item.width)
            except Reject as reason:
                raise self.error(number, item.name, str(reason), writing=True) from None
        raise AssertionError(f"record {self.code}: a field refused once, not twice")

    def decode(self, text: str, number: int, names: Iterable[str] | None = None) -> dict[str, Any]:
        """The values of a record's fields (of *names* only, if given); fillers are checked too."""
        wanted = None if names is None else set(names)
        values: dict[str, Any] = {}
        for item in self.fields:
            if wanted is not None and item.name not in wanted:
                continue
            start = self.starts[item.name]
            try:
                value = item.kind.decode(text[start : start + item.width])
            except Reject as reason:
                raise self.error(number, item.name, str(reason)) from None
            if not isinstance(item.kind, Literal | Filler):
                values[item.name] = value
        return values


def _encode_fields(encoders: Sequence[tuple], values: Iterable[object]) -> str:
    """The fields' texts joined, each value's encoding kept per field (``RecordSpec._encoders``)."""
    parts = []
    for (_, encode, width, known), value in zip(encoders, values, strict=True):
        key = (value.__class__, value)  # 1 and True, "A" and an enum: not the same
        # get, not [] and KeyError: a value seen for the first time (every invoice number)
        # would raise and catch an exception, 2.5 times the cost of the lookup.
        try:
            text = known.get(key)
        except TypeError:  # not hashable
            text = encode(value, width)
        else:
            if text is None:
                text = encode(value, width)
                if len(known) < _KNOWN_TEXTS:
                    known[key] = text
        parts.append(text)
    return "".join(parts)


_CONSTANT_KINDS = (Literal, Filler)


class FieldRun:
    """Consecutive fields of one record written from their values in order (the type and
    fillers take none), the same texts as :meth:`RecordSpec.encode` gives.

    A record whose parts repeat apart (a patient's fields over his invoices, an act's code and
    amounts over days) is written as runs; with *keep*, a run's whole text is kept per values.
    """

    def __init__(self, spec: RecordSpec, start: int, stop: int, *, keep: bool) -> None:
        if not 0 <= start < stop:
            raise ValueError(f"record {spec.code}: empty run")
        self.spec = spec
        self.items = spec.fields[start:stop]
        variable = [
            i for i, item in enumerate(self.items) if not isinstance(item.kind, _CONSTANT_KINDS)
        ]
        self.names = tuple(self.items[i].name for i in variable)
        self._variable = tuple(variable)
        self._encoders = spec._encoders[start:stop]
        self._known: dict | None = {} if keep else None
        # The type and fillers before and after the fields that take values, written once: the
        # fields in between are encoded from the values as given (no list with their places).
        # A run with a constant between two fields that take values goes the general way.
        if variable and variable == list(range(variable[0], variable[-1] + 1)):
            before = self.items[: variable[0]]
            after = self.items[variable[-1] + 1 :]
            self._ends: tuple[str, str] | None = (
                "".join(item.kind.encode(None, item.width) for item in before),
                "".join(item.kind.encode(None, item.width) for item in after),
            )
            self._middle = self._encoders[variable[0] : variable[-1] + 1]
        else:
            self._ends = None

    def _all_values(self, values: Sequence[object]) -> list[object]:
        if len(values) != len(self._variable):
            raise TypeError(f"record {self.spec.code}: {len(self._variable)} values expected")
        every: list[object] = [None] * len(self.items)
        for index, value in zip(self._variable, values, strict=True):
            every[index] = value
        return every

    def encode(self, values: tuple, number: int) -> str:
        """The run's text for *values* (in the order of ``names``); *number*: the record's
        number, for the error (FormatError naming the field) when a value is refused."""
        known = self._known
        if known is not None:
            key = (values, tuple(map(type, values)))  # 1 and True: not the same
            try:
                text = known.get(key)  # not []: see _encode_fields
            except TypeError:  # not hashable
                known = None
            else:
                if text is not None:
                    return text
        try:
            if self._ends is None:
                text = _encode_fields(self._encoders, self._all_values(values))
            elif len(values) != len(self._middle):
                raise TypeError(f"record {self.spec.code}: {len(self._middle)} values expected")
            else:
                head, tail = self._ends
                text = head + _encode_fields(self._middle, values) + tail
        except Reject:
            self.spec._name_refusal(self.items, self._all_values(values), number)
        if known is not None:
            if len(known) >= _KNOWN_RUNS:
                known.clear()
            known[key] = text
        return text


_KNOWN_TEXTS = 4096  # per field: the encodings kept for values seen again
_KNOWN_RUNS = 8192  # per kept run: its texts (then forgotten all at once)


def _sentence(reason: str) -> str:
    return reason if reason.endswith(("?", ".")) else reason + "."


def record_error(number: int, found: str, reason: str) -> FormatError:
    return FormatError(
        f"Enregistrement {number} (type « {show(found)} ») : {_sentence(reason)}",
        record_number=number,
        record_type=found,
    )


def expect_record(
    records: Sequence[str], index: int, spec: RecordSpec, what: str
) -> dict[str, Any]:
    """The values of ``records[index]``, which must be a *spec* record (*what*, in French)."""
    found = records[index][: len(spec.code)]
    if found != spec.code:
        raise record_error(index + 1, found, f"{what} (type {spec.code}) attendu ici")
    return spec.decode(records[index], index + 1)


def refuse_utf8(data: bytes, what: str) -> None:
    """A Latin-1 file that was written in UTF-8 reads « Ã© » for « é »: refuse it, named.

    Two bytes that UTF-8 uses for one accented letter almost never follow each other in French
    Latin-1 text (the second would be a control or a rare sign); when the whole file also reads
    as UTF-8, it was written in UTF-8.
    """
    found = _UTF8_PAIR.search(data)
    if found is None:
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    index = next(i for i, char in enumerate(text) if ord(char) > 0x7F)
    line = text.count("\n", 0, index) + 1
    sample = text[index]
    raise FormatError(
        f"{what} : fichier encodé en UTF-8 (« {sample} » écrit sur deux octets, enregistrement "
        f"{line}) au lieu de Latin-1 (ISO-8859-1, un octet par caractère) : mis de côté, "
        "rien n'a changé.",
        record_number=line,
    )


def split_records(data: object, what: str) -> list[str]:
    """The records of a file, each 128 characters followed by LF, decoded from Latin-1."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise FormatError(f"{what} : des octets sont attendus.")
    if not data:
        raise FormatError(f"{what} : fichier vide.")
    refuse_utf8(data, what)
    records = []
    for number, start in enumerate(range(0, len(data), FRAME), 1):
        chunk = data[start : start + FRAME]
        body = chunk[:RECORD_WIDTH]
        newline = body.find(b"\n")
        if newline >= 0:
            crlf = (
                " (fin de ligne CR LF : LF seul attendu)" if body[:newline].endswith(b"\r") else ""
            )
            raise FormatError(
                f"{what}, enregistrement {number} : {newline} caractères avant le saut de ligne "
                f"au lieu de {RECORD_WIDTH}{crlf}.",
                record_number=number,
            )
        if len(chunk) < FRAME:
            raise FormatError(
                f"{what}, enregistrement {number} : incomplet, {len(chunk)} octets au lieu de "
                f"{FRAME} ({RECORD_WIDTH} caractères et un saut de ligne) : fichier tronqué ?",
                record_number=number,
            )
        if chunk[RECORD_WIDTH] != 0x0A:
            crlf = " (fin de ligne CR LF : LF seul attendu)" if chunk[RECORD_WIDTH] == 0x0D else ""
            raise FormatError(
                f"{what}, enregistrement {number} : plus de {RECORD_WIDTH} caractères, pas de saut "
                f"de ligne en position {FRAME}{crlf}.",
                record_number=number,
            )
        records.append(body.decode(ENCODING))
    return records


def join_records(records: Iterable[str]) -> bytes:
    items = records if isinstance(records, list) else list(records)
    if not items:
        return b""
    # One join, not one new string per record: a lot file is some 60,000 records.
    return ("\n".join(items) + "\n").encode(ENCODING)


def verify_checksum(
    data: bytes, records: list[str], trailer: RecordSpec, field_name: str = "checksum"
) -> None:
    """Check the trailer's SHA-256, which covers every byte before the checksum field."""
    number = len(records)
    stored = trailer.decode(records[-1], number, (field_name,))[field_name]
    covered = (number - 1) * FRAME + trailer.starts[field_name]
    actual = hashlib.sha256(data[:covered]).hexdigest()
    if stored != actual:
        raise trailer.error(
            number,
            field_name,
            f"l'empreinte du contenu est {actual[:16]}..., pas {str(stored)[:16]}... "
            "(fichier altéré ou tronqué en route)",
            cls=ChecksumError,
        )


def seal(records: list[str], trailer: RecordSpec, values: dict[str, object]) -> bytes:
    """Append the trailer, its checksum computed over everything before the checksum field."""
    number = len(records) + 1
    draft = trailer.encode({**values, "checksum": "0" * 64}, number)
    body = join_records(records)  # joined once: a lot file is some 60,000 records
    prefix = body + draft[: trailer.starts["checksum"]].encode(ENCODING)
    final = trailer.encode({**values, "checksum": hashlib.sha256(prefix).hexdigest()}, number)
    return body + join_records([final])


def describe_layout(spec: RecordSpec) -> str:
    """The Markdown table of a record, as published in docs/formats/."""
    lines = [
        "| Pos. | Long. | Type | Champ | Valeurs |",
        "|---:|---:|:-:|---|---|",
    ]
    for item in spec.fields:
        start = spec.starts[item.name] + 1
        lines.append(
            f"| {start} | {item.width} | {item.kind.type_code} | {item.label} "
            f"| {item.kind.allowed(item.width)} |"
        )
    return "\n".join(lines)
