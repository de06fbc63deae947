"""The strict NOEMIE PS reader: a whole return or a :class:`NoemieFormatError`, nothing partial.

See ``docs/formats/noemie-ps.md`` for what is checked. What it accepts is canonical: the writer
(:mod:`tuibill.formats.noemie_writer`) gives back the same bytes, except the markers of the
blocks before the last, which a reader must not insist on (tuibill writes ``0``).
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from dataclasses import fields
from datetime import date
from functools import lru_cache
from typing import Any

from tuibill.formats import noemie_layout as layout
from tuibill.formats.errors import FormatError
from tuibill.formats.noemie_content import (
    ENTITY_CLASSES,
    SINGLE_ENTITIES,
    AmcPart,
    AmoPart,
    Control,
    FlatPayment,
    FlatPaymentDetail,
    Lot,
    NoemieReturn,
    ReturnHeader,
    ReturnInvoice,
    ReturnItem,
    Virement,
    Withholding,
)
from tuibill.formats.records import (
    SHORT_DATE_PIVOT,
    Alpha,
    BlankOr,
    Choice,
    Code,
    Filler,
    Kind,
    Literal,
    Number,
    RecordSpec,
    Reject,
    ShortDate,
    show,
)

BLOCK, DATA = layout.BLOCK, layout.BLOCK_DATA
WHAT = "Fichier NOEMIE"
ITEM_STARTS = frozenset({"100", "102", "250", "261"})


class NoemieFormatError(FormatError):
    """A NOEMIE file refused; ``offset`` is the 1-based byte position of the entity at fault."""

    def __init__(
        self,
        message: str,
        *,
        record_number: int | None = None,
        record_type: str | None = None,
        field: str | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(message, record_number=record_number, record_type=record_type, field=field)
        self.offset = offset


def euros(cents: int) -> str:
    """``-1 234,56 €`` style, for messages."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units:,}".replace(",", " ") + f",{rest:02d} €"


def _sentence(reason: str) -> str:
    return reason if reason.endswith((".", "?")) else reason + "."


# --- per-spec decoding plans ----------------------------------------------------------------


_PRINTABLE_CLASS = r"[\x20-\x7e\xa1-\xac\xae-\xff]"


def _missing() -> Any:
    raise Reject("valeur obligatoire absente")


@lru_cache(maxsize=4096)
def _short_date(text: str) -> date:
    """ShortDate.decode for six digits already matched; a return's dates repeat (a month of
    care dates, a few lot dates): each is decoded once (a Reject is not kept)."""
    year = int(text[:2])
    year += 2000 if year < SHORT_DATE_PIVOT else 1900
    try:
        return date(year, int(text[2:4]), int(text[4:6]))
    except ValueError:
        raise Reject(text) from None


def _ranged(low: int, high: int) -> Callable[[str], int]:
    def number(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise Reject(text)
        return value

    return number


def _fast(kind: Kind, width: int, helpers: dict[str, Any], key: str) -> tuple[str, str]:
    """A regex (no group) of a field's canonical spellings, and a Python expression of its value
    from the matched text ``§``. Helpers the expression needs go in *helpers* under *key*.

    The fast form may accept less than the kind, never more: whatever it does not match, or
    raises Reject or KeyError on, goes to the slow path (``kind.decode``), which words the error.
    """
    blank = " " * width
    if isinstance(kind, Literal):
        return re.escape(kind.text), ""
    if isinstance(kind, Filler):
        return blank, ""
    if isinstance(kind, BlankOr):
        pattern, expression = _fast(kind.kind, width, helpers, key)
        return f"(?:{blank}|{pattern})", f"(None if § == {blank!r} else {expression})"
    if isinstance(kind, Number):
        if kind.low == 0 and kind.high == 10**width - 1:
            return f"[0-9]{{{width}}}", "int(§)"
        helpers[key] = _ranged(kind.low, kind.high)
        return f"[0-9]{{{width}}}", f"{key}(§)"
    if isinstance(kind, Alpha):
        absent = "None" if kind.optional else "_missing()"
        return f"{_PRINTABLE_CLASS}{{{width}}}", f"(§.rstrip(' ') or {absent})"
    if isinstance(kind, Choice):
        table = {code.ljust(width): value for code, value, _ in kind.options}
        if kind.optional:
            table[blank] = None
        helpers[key] = table
        return "(?:" + "|".join(map(re.escape, table)) + ")", f"{key}[§]"
    if isinstance(kind, ShortDate):
        return "[0-9]{6}", "_short_date(§)"
    if isinstance(kind, Code) and kind.check is None and kind.regex.pattern == f"[0-9]{{{width}}}":
        if kind.optional:
            return f"(?:[0-9]{{{width}}}|{blank})", f"(None if § == {blank!r} else §)"
        return f"[0-9]{{{width}}}", "§"
    helpers[key] = kind.decode
    return f"[\\s\\S]{{{width}}}", f"{key}(§)"


class _Plan:
    """What decoding one entity type needs, computed once.

    The fast path is one regex for the whole entity and a converter generated from the field
    list (a dict display, no loop: reading 10,000 invoices stays well under a second or two);
    the slow path decodes field by field and words the error.
    """

    def __init__(self, spec: RecordSpec) -> None:
        self.spec = spec
        self.width = spec.width
        self.fields: list[tuple[str, int, int, Kind, bool]] = []
        patterns, items = [], []
        helpers: dict[str, Any] = {"_missing": _missing, "_short_date": _short_date}
        for index, item in enumerate(spec.fields):
            start = spec.starts[item.name]
            keep = not isinstance(item.kind, Literal | Filler)
            pattern, expression = _fast(item.kind, item.width, helpers, f"_h{index}")
            if keep:
                patterns.append(f"({pattern})")
                items.append(f"{item.name!r}: {expression.replace('§', f'g[{len(items)}]')}")
            else:
                patterns.append(pattern)
            if item.name != "type":
                self.fields.append((item.name, start, start + item.width, item.kind, keep))
        self.regex = re.compile("".join(patterns))
        source = f"def convert(g):\n    return {{{', '.join(items)}}}\n"
        exec(source, helpers)  # noqa: S102 - built from the layout's own field list
        self.convert: Callable[[tuple[str, ...]], dict[str, Any]] = helpers["convert"]
        self.signs = [
            (amount, sign) for amount, sign in layout.SIGNED.items() if sign in spec.starts
        ]


PLANS = {spec.code: _Plan(spec) for spec in layout.ENTITIES}


def _made_directly(code: str, cls: type) -> bool:
    """Whether an entity of *cls* can be made from its decoded values without its __init__:
    they are exactly its fields (a frozen dataclass's __init__ sets each through
    object.__setattr__ — a third of reading a return, ~30,000 act lines) and it has nothing
    of its own to compute."""
    plan = PLANS[code]
    decoded = {name for name, *_, keep in plan.fields if keep} - {sign for _, sign in plan.signs}
    return decoded == {item.name for item in fields(cls)} and "__post_init__" not in vars(cls)


DIRECT_ENTITIES = frozenset(
    cls for code, cls in ENTITY_CLASSES.items() if _made_directly(code, cls)
)
_new = object.__new__
_set = object.__setattr__


def _offset(position: int | None) -> int:
    """The 1-based byte position in the file of character *position* of the entity stream
    (``None``: the 000, the first byte)."""
    if position is None:
        return 1
    block, within = divmod(position, DATA)
    return BLOCK * (block + 1) + 1 + within + 1


def _error(
    number: int,
    spec_or_code: RecordSpec | str,
    position: int | None,
    reason: str,
    field: str | None = None,
) -> NoemieFormatError:
    """The error of entity *number* starting at stream *position*, naming *field* if given."""
    if isinstance(spec_or_code, RecordSpec):
        code, kind = spec_or_code.code, f"type {spec_or_code.code}, {spec_or_code.label}"
    else:
        code, kind = spec_or_code, f"type « {show(spec_or_code)} »"
    offset = _offset(position)
    where = f"Entité n° {number} ({kind}) à l'octet {offset}"
    if field is not None and isinstance(spec_or_code, RecordSpec):
        item = spec_or_code.field(field)
        start = spec_or_code.starts[field] + 1
        where += f", champ « {item.label} » (positions {start} à {start + item.width - 1})"
    return NoemieFormatError(
        f"{where} : {_sentence(reason)}",
        record_number=number,
        record_type=code,
        field=field,
        offset=offset,
    )


def _decode(plan: _Plan, text: str, number: int, position: int | None) -> dict[str, Any]:
    """The values of an entity's fields, signed amounts folded; or the error naming the field."""
    match = plan.regex.fullmatch(text)
    if match is None:
        return _decode_slow(plan, text, number, position)
    try:
        values = plan.convert(match.groups())
    except (Reject, KeyError):
        return _decode_slow(plan, text, number, position)
    return _fold_signs(plan, values, number, position) if plan.signs else values


def _decode_slow(plan: _Plan, text: str, number: int, position: int | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, start, stop, kind, keep in plan.fields:
        piece = text[start:stop]
        try:
            value = kind.decode(piece)
        except Reject as reason:
            message = str(reason)
            if not piece.strip(" "):
                message = "champ obligatoire vide"
            raise _error(number, plan.spec, position, message, name) from None
        if keep:
            values[name] = value
    return _fold_signs(plan, values, number, position)


def _fold_signs(
    plan: _Plan, values: dict[str, Any], number: int, position: int | None
) -> dict[str, Any]:
    for amount, sign in plan.signs:
        if values.pop(sign) == "N":
            if not values[amount]:
                raise _error(
                    number,
                    plan.spec,
                    position,
                    "signe N pour un montant nul ou absent (un montant nul est positif : P)",
                    sign,
                )
            values[amount] = -values[amount]
    return values


# --- reading --------------------------------------------------------------------------------


def _blocks(data: object) -> tuple[str, str, int]:
    """(header block, entity stream, block count) of a file, markers checked and stripped."""
    if isinstance(data, bytearray | memoryview):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise NoemieFormatError(f"{WHAT} : des octets sont attendus.")
    if not data:
        raise NoemieFormatError(f"{WHAT} vide.")
    if len(data) % BLOCK:
        raise NoemieFormatError(
            f"{WHAT} de {len(data)} octets, pas un multiple de {BLOCK} (blocs de {BLOCK} "
            f"octets) : fichier tronqué ou altéré ?"
        )
    text = data.decode(layout.ENCODING)
    count = len(text) // BLOCK
    if not text.startswith("000"):
        raise _error(1, text[:3], None, "un fichier NOEMIE commence par l'en-tête (type 000)")
    if count < 2:
        raise NoemieFormatError(
            f"{WHAT} : l'en-tête seul, sans bloc de données ni fin de fichier (999) : "
            "fichier tronqué ?"
        )
    for block in range(1, count):
        marker = text[block * BLOCK]
        if marker == layout.LAST_MARKER and block != count - 1:
            raise NoemieFormatError(
                f"{WHAT} : le bloc n° {block + 1} (octet {block * BLOCK + 1}) est marqué « 1 », "
                f"dernier bloc, mais {count - block - 1} bloc(s) le suivent."
            )
    last = text[(count - 1) * BLOCK]
    if last != layout.LAST_MARKER:
        raise NoemieFormatError(
            f"{WHAT} : le dernier bloc (n° {count}, octet {(count - 1) * BLOCK + 1}) est marqué "
            f"« {show(last)} » et non « 1 » : fichier tronqué ?"
        )
    stream = "".join(text[start + 1 : start + BLOCK] for start in range(BLOCK, len(text), BLOCK))
    return text[:BLOCK], stream, count


class _Reader:
    """The entity stream, read in order, with what is in force at each point."""

    def __init__(self, stream: str, header: dict[str, Any], blocks: int) -> None:
        self.stream = stream
        self.header_values = header
        self.blocks = blocks
        self.virements: list[Virement] = []
        self.items: list[ReturnItem] = []
        self.mandataire: str | None = None
        self.payee: str | None = None
        self.virement: int | None = None
        self.return_key: tuple[str, str | None] | None = None
        self.lot: Lot | None = None
        self.lot_at: tuple[int, int] = (0, 0)  # number and stream position of the open 080
        self.lot_invoices = 0
        self.lot_paid = 0
        self.lots = 0
        self.total_paid = 0
        self.last_place: tuple[Any, ...] | None = None
        # What must come next, and the number of the entity that asks for it.
        self.expect: tuple[str, int] | None = None
        # The invoice being read: its fields, entities, single entities seen, paid so far.
        self.invoice: dict[str, Any] | None = None
        self.invoice_depth = 0
        self.entities: list[Any] = []
        self.singles: set[type] = set()
        self.invoice_paid = 0
        self.flat: dict[str, Any] | None = None
        self.details: list[FlatPaymentDetail] = []

    # The place of an item: virement, 081 and lot in force.
    def _place(self) -> dict[str, Any]:
        return_type, execution_place = self.return_key or (None, None)
        return {
            "virement": self.virement,
            "return_type": return_type,
            "execution_place": execution_place,
            "lot": self.lot,
        }

    def _start_item(self) -> None:
        self.expect = None
        self.last_place = (self.virement, self.return_key, self.lot)

    def _finish_invoice(self) -> None:
        assert self.invoice is not None
        self.items.append(ReturnInvoice(**self.invoice, entities=tuple(self.entities)))
        self.total_paid += self.invoice_paid
        if self.lot is not None:
            self.lot_paid += self.invoice_paid
        self.invoice = None

    def _finish_flat(self) -> None:
        assert self.flat is not None
        self.items.append(FlatPayment(**self.flat, details=tuple(self.details)))
        self.flat = None

    def read(self) -> NoemieReturn:
        stream = self.stream
        position, number = 0, 1
        while True:
            number += 1
            code = stream[position : position + 3]
            plan = PLANS.get(code)
            if plan is None or code == "000" or code == "999":
                if code == "999":
                    assert plan is not None
                    return self._trailer(plan, position, number)
                if not stream[position:].strip(" "):
                    raise NoemieFormatError(
                        f"{WHAT} : pas de fin de fichier (999) après l'entité n° {number - 1} : "
                        "fichier tronqué ?",
                        record_number=number,
                        offset=_offset(position),
                    )
                reason = (
                    "l'en-tête (000) ne se trouve qu'au début du fichier"
                    if code == "000"
                    else f"type d'entité inconnu (types connus : {', '.join(PLANS)})"
                )
                raise _error(number, code, position, reason)
            width = plan.width
            text = stream[position : position + width]
            if len(text) < width:
                raise _error(
                    number,
                    plan.spec,
                    position,
                    f"incomplète, {len(text)} caractères sur {width} : fichier tronqué ?",
                )
            if text[-1] != "@":
                found = text.find("@")
                hint = f" (le premier « @ » est en position {found + 1})" if found >= 0 else ""
                raise _error(
                    number,
                    plan.spec,
                    position,
                    f"délimiteur « @ » attendu en position {width}, « {show(text[-1])} » "
                    f"trouvé : longueur fausse pour ce type{hint}",
                )
            values = _decode(plan, text, number, position)
            cls = ENTITY_CLASSES.get(code)
            if cls is not None and self.invoice is not None:
                self._invoice_entity(cls, plan.spec, values, number, position)
            else:
                self._entity(code, plan.spec, values, number, position)
            position += width

    def _invoice_entity(
        self, cls: type, spec: RecordSpec, values: dict[str, Any], number: int, position: int
    ) -> None:
        """An entity of the open invoice (the common case, kept short)."""
        if values["depth"] <= self.invoice_depth:
            raise _error(
                number,
                spec,
                position,
                f"niveau {values['depth']:02d}, pas plus profond que sa facture "
                f"(niveau {self.invoice_depth:02d})",
                "depth",
            )
        if cls in SINGLE_ENTITIES:
            if cls in self.singles:
                raise _error(
                    number, spec, position, f"deuxième entité {spec.code} dans la même facture"
                )
            self.singles.add(cls)
        if cls in DIRECT_ENTITIES:  # the values are its fields, decoded and checked
            entity = _new(cls)
            _set(entity, "__dict__", values)
        else:
            entity = cls(**values)
        if cls is AmoPart or cls is AmcPart:
            self.invoice_paid += entity.paid_cents or 0
        self.entities.append(entity)

    def _entity(
        self, code: str, spec: RecordSpec, values: dict[str, Any], number: int, position: int
    ) -> None:
        def fail(reason: str, field: str | None = None) -> NoemieFormatError:
            return _error(number, spec, position, reason, field)

        if self.invoice is not None:
            self._finish_invoice()
        if self.flat is not None and code != "262":
            self._finish_flat()
        if self.expect is not None:
            self._check_expected(code, values, fail)

        if code in ("020", "040", "070", "071", "081", "080") and self.lot is not None:
            lot_number, lot_position = self.lot_at
            raise fail(
                f"le lot {self.lot.number:03d} (080, entité n° {lot_number} à l'octet "
                f"{_offset(lot_position)}) n'est pas clos par sa 990"
            )
        if code == "020":
            if values["mandataire"] == self.mandataire:
                raise fail("répète le mandataire en cours sans rien changer", "mandataire")
            self.mandataire = values["mandataire"]
            self.payee = self.virement = self.return_key = None
            self.expect = ("040", number)
        elif code == "040":
            if self.mandataire is None:
                raise fail("destinataire de règlement avant tout mandataire (020)")
            if values["payee"] == self.payee:
                raise fail("répète le destinataire de règlement en cours", "payee")
            self.payee = values["payee"]
            self.virement = self.return_key = None
            self.expect = ("07x", number)
        elif code in ("070", "071"):
            if self.payee is None:
                raise fail("date comptable avant tout destinataire de règlement (040)")
            assert self.mandataire is not None
            self.virement = len(self.virements)
            self.virements.append(
                Virement(
                    index=self.virement, mandataire=self.mandataire, payee=self.payee, **values
                )
            )
            self.return_key = self.expect = None
        elif code == "081":
            if self.virement is None:
                raise fail("type de retour hors d'une date comptable (070 ou 071)")
            key = (values["return_type"], values["execution_place"])
            if key == self.return_key:
                raise fail("répète le type de retour en cours", "return_type")
            self.return_key = key
            self.expect = ("item", number)
        elif code == "080":
            if self.return_key is None:
                raise fail("lot hors d'un type de retour (081)")
            lot = Lot(values["number"], values["created"], values["depth"])
            if self.last_place == (self.virement, self.return_key, lot):
                raise fail(
                    f"rouvre le lot {lot.number:03d} qui vient d'être clos, sans rien entre "
                    "les deux (un seul 080 par lot)",
                    "number",
                )
            self.lot, self.lot_at = lot, (number, position)
            self.lot_invoices = self.lot_paid = 0
            self.lots += 1
            self.expect = ("lot", number)
        elif code == "990":
            self._control(values, fail)
        elif code in ENTITY_CLASSES:
            raise fail("entité de facture hors d'une facture (100 ou 102)")
        elif code == "262":
            if self.flat is None:
                raise fail("détail sans paiement ponctuel ou forfaitaire (261) juste avant")
            if values["depth"] < self.flat["depth"]:
                raise fail(
                    f"niveau {values['depth']:02d}, moins profond que son paiement "
                    f"(niveau {self.flat['depth']:02d})",
                    "depth",
                )
            self.details.append(FlatPaymentDetail(**values))
        else:  # 100, 102, 250, 261: an item in a type of return, in a lot or not
            if self.return_key is None:
                raise fail("hors d'un type de retour (081)")
            if self.lot is not None and values["depth"] <= self.lot.depth:
                raise fail(
                    f"niveau {values['depth']:02d}, pas plus profond que son lot "
                    f"(niveau {self.lot.depth:02d})",
                    "depth",
                )
            self._start_item()
            place = self._place()
            if code in ("100", "102"):
                if code == "100":
                    values["invoice_type"] = None
                self.invoice = {**place, **values}
                self.invoice_depth = values["depth"]
                self.entities, self.singles, self.invoice_paid = [], set(), 0
                self.lot_invoices += 1
            elif code == "250":
                self.items.append(Withholding(**place, **values))
            else:
                self.flat = {**place, **values}
                self.details = []

    def _check_expected(
        self, code: str, values: dict[str, Any], fail: Callable[[str], NoemieFormatError]
    ) -> None:
        assert self.expect is not None
        what, number = self.expect
        closes_lot = code == "990" and (values["identification"] or "").startswith("080")
        if what == "040" and code != "040":
            raise fail(
                f"un 040 (destinataire de règlement) doit suivre le 020 de l'entité n° {number}"
            )
        if what == "07x" and code not in ("070", "071"):
            raise fail(f"un 070 ou 071 (date comptable) doit suivre le 040 de l'entité n° {number}")
        if what == "item" and code not in ITEM_STARTS | {"080"} and (code != "990" or closes_lot):
            raise fail(f"le type de retour (081) de l'entité n° {number} n'a aucun contenu")
        if what == "lot" and (code not in ITEM_STARTS | {"990"} or closes_lot):
            raise fail(f"le lot (080) de l'entité n° {number} ne contient rien")

    def _control(self, values: dict[str, Any], fail: Callable[..., NoemieFormatError]) -> None:
        if self.virement is None:
            raise fail("entité de contrôle hors d'une date comptable (070 ou 071)")
        identification = values["identification"] or ""
        if not identification.startswith("080"):
            self._start_item()
            self.items.append(Control(**self._place(), **values))
            return
        if self.lot is None:
            raise fail("ferme un lot (080…) alors qu'aucun lot n'est ouvert", "identification")
        expected = layout.lot_identification(self.lot.number)
        if identification != expected:
            raise fail(
                f"« {show(identification)} » ne ferme pas le lot ouvert : « {expected} » attendu",
                "identification",
            )
        if values["count"] != self.lot_invoices:
            raise fail(
                f"{values['count']} annoncée(s), le lot {self.lot.number:03d} compte "
                f"{self.lot_invoices} facture(s) (100 ou 102)",
                "count",
            )
        if values["amount_cents"] != self.lot_paid:
            raise fail(
                f"cumul annoncé {euros(values['amount_cents'])}, les montants payés (198 et "
                f"199) du lot {self.lot.number:03d} font {euros(self.lot_paid)}",
                "amount_cents",
            )
        self.lot = None

    def _trailer(self, plan: _Plan, position: int, number: int) -> NoemieReturn:
        spec = plan.spec

        def fail(reason: str, field: str | None = None) -> NoemieFormatError:
            return _error(number, spec, position, reason, field)

        if self.invoice is not None:
            self._finish_invoice()
        if self.flat is not None:
            self._finish_flat()
        if self.expect is not None:
            self._check_expected("999", {}, fail)
        if self.lot is not None:
            raise fail(f"le lot {self.lot.number:03d} (080) n'est pas clos par sa 990")
        tail = self.stream[position:]
        if len(tail) < layout.TRAILER_MIN:
            raise fail(
                f"incomplète, {len(tail)} caractères sur au moins {layout.TRAILER_MIN} : "
                "fichier tronqué ?"
            )
        text = tail[:BLOCK].ljust(BLOCK)
        rest = tail[BLOCK:]
        stray = len(rest) - len(rest.lstrip(" "))
        if stray < len(rest):
            at = _offset(position + BLOCK + stray)
            found = show(rest[stray : stray + 20].rstrip(" "))
            raise NoemieFormatError(
                f"{WHAT} : « {found} » à l'octet {at}, après la fin de fichier (999, entité "
                f"n° {number}) : seuls des espaces peuvent suivre.",
                record_number=number,
                record_type="999",
                offset=at,
            )
        end = position + len(text.rstrip(" "))
        needed = 1 + -(-end // DATA)
        if needed != self.blocks:
            raise fail(
                f"le fichier a {self.blocks} blocs, la fin de fichier tient dans {needed} : "
                f"{self.blocks - needed} bloc(s) d'espaces de trop"
            )
        values = _decode(plan, text, number, position)
        header = self.header_values
        for name in layout.TRAILER_REPEATS:
            if values[name] != header[name]:
                raise fail(
                    f"« {show(str(values[name] or ''))} » au lieu de « "
                    f"{show(str(header[name] or ''))} » de l'en-tête (000)",
                    name,
                )
        if values["block_count"] != self.blocks:
            raise fail(
                f"{values['block_count']} annoncé(s), le fichier a {self.blocks} blocs de "
                f"{BLOCK} octets",
                "block_count",
            )
        if values["lot_count"] != self.lots:
            raise fail(
                f"{values['lot_count']} annoncé(s), le fichier a {self.lots} lot(s) (080)",
                "lot_count",
            )
        total = values["total"]
        if values["total_sign"] == "N":
            if not total:
                raise fail(
                    "signe N pour un cumul nul (un montant nul est positif : P)", "total_sign"
                )
            total = -total
        if total != self.total_paid:
            raise fail(
                f"cumul annoncé {euros(total)}, les montants payés (198 et 199) du fichier font "
                f"{euros(self.total_paid)}",
                "total",
            )
        return NoemieReturn(
            header=ReturnHeader(**header),
            virements=tuple(self.virements),
            items=tuple(self.items),
            other_currency_cents=values["other_currency_cents"],
        )


def read_return(data: bytes) -> NoemieReturn:
    """The whole return in *data*, or :class:`NoemieFormatError`: nothing partial."""
    header_text, stream, blocks = _blocks(data)
    header = _decode(PLANS["000"], header_text, 1, None)
    # Reading allocates ~10 objects per invoice and no cycles: the cyclic collector would only
    # rescan them (a third of the time on a 10,000-invoice file).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _Reader(stream, header, blocks).read()
    finally:
        if collecting:
            gc.enable()
