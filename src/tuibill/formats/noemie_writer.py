"""The NOEMIE PS writer: the canonical file of a :class:`NoemieReturn`.

For the caisse simulator and the tests; the desk only reads. The 020/040/070/071/081/080
headers are rebuilt from where each item sits, the 990 of each lot and the 999 are computed,
the stream is cut into 128-byte blocks marked ``0`` (``1`` for the last, padded with spaces).
"""

from __future__ import annotations

from typing import Any

from tuibill.formats import noemie_layout as layout
from tuibill.formats.errors import FormatError
from tuibill.formats.noemie_content import (
    ENTITY_CODES,
    SINGLE_ENTITIES,
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
from tuibill.formats.records import Field, Filler, Literal, RecordSpec, Reject

DATA = layout.BLOCK_DATA


def _sentence(reason: str) -> str:
    return reason if reason.endswith((".", "?")) else reason + "."


def _write_error(what: str, reason: str, field: str | None = None) -> FormatError:
    return FormatError(f"Écriture impossible : {what} : {_sentence(reason)}", field=field)


_CONSTANT, _ATTRIBUTE, _MAGNITUDE, _SIGN = range(4)


class _Steps:
    """How to spell each field of a spec, computed once: a constant, an attribute, or the
    magnitude or sign of a signed amount."""

    def __init__(self, spec: RecordSpec) -> None:
        signed = {a: s for a, s in layout.SIGNED.items() if s in spec.starts}
        amount_of = {s: a for a, s in signed.items()}
        self.steps: list[tuple[Field, int, str]] = []
        for item in spec.fields:
            if isinstance(item.kind, Literal | Filler):
                self.steps.append((item, _CONSTANT, item.kind.encode(None, item.width)))
            elif item.name in signed:
                self.steps.append((item, _MAGNITUDE, item.name))
            elif item.name in amount_of:
                self.steps.append((item, _SIGN, amount_of[item.name]))
            else:
                self.steps.append((item, _ATTRIBUTE, item.name))


STEPS = {id(spec): _Steps(spec) for spec in layout.ENTITIES}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _encode(spec: RecordSpec, obj: object, what: str, extra: dict[str, Any] | None = None) -> str:
    """The entity *obj* as *spec* spells it (*extra* overrides attributes); *what* names it."""
    parts = []
    for item, how, source in STEPS[id(spec)].steps:
        if how == _CONSTANT:
            parts.append(source)
            continue
        if extra is not None and item.name in extra:
            value = extra[item.name]
        elif how == _ATTRIBUTE:
            value = getattr(obj, source)
        elif how == _MAGNITUDE:
            value = getattr(obj, source)
            value = abs(value) if _is_int(value) else value
        else:
            amount = getattr(obj, source)
            value = "N" if _is_int(amount) and amount < 0 else "P"
        try:
            parts.append(item.kind.encode(value, item.width))
        except Reject as reason:
            raise _write_error(
                f"{what} (type {spec.code}, {spec.label}), champ « {item.label} »",
                str(reason),
                item.name,
            ) from None
    return "".join(parts)


def _check_class(obj: object, classes: tuple[type, ...], what: str) -> None:
    if type(obj) not in classes:
        names = ", ".join(cls.__name__ for cls in classes)
        raise _write_error(what, f"{type(obj).__name__} au lieu de {names}")


class _Writer:
    def __init__(self, content: NoemieReturn) -> None:
        self.content = content
        self.parts: list[str] = []
        self.lots = 0
        self.total = 0
        self.lot: Lot | None = None
        self.lot_invoices = 0
        self.lot_paid = 0

    def _close_lot(self) -> None:
        if self.lot is None:
            return
        if abs(self.lot_paid) > layout.MAX_TOTAL:
            raise _write_error(f"lot {self.lot.number:03d}", "cumul payé trop grand pour la 990")
        self.parts.append(
            _encode(
                layout.CONTROL,
                Control(
                    virement=0,
                    identification=layout.lot_identification(self.lot.number),
                    count=self.lot_invoices,
                    amount_cents=self.lot_paid,
                ),
                f"990 du lot {self.lot.number:03d}",
            )
        )
        self.lot = None

    def write(self) -> bytes:
        content = self.content
        _check_class(content, (NoemieReturn,), "contenu")
        _check_class(content.header, (ReturnHeader,), "en-tête")
        header = _encode(layout.HEADER, content.header, "en-tête")
        virements, items = tuple(content.virements), tuple(content.items)
        next_item = 0
        mandataire = payee = None
        for index, virement in enumerate(virements):
            what = f"virement {index}"
            _check_class(virement, (Virement,), what)
            if virement.index != index:
                raise _write_error(what, f"index {virement.index!r} au lieu de {index}")
            if virement.mandataire != mandataire:
                self.parts.append(_encode(layout.MANDATAIRE, virement, what))
                mandataire, payee = virement.mandataire, None
            if virement.payee != payee:
                self.parts.append(_encode(layout.PAYEE, virement, what))
                payee = virement.payee
            if virement.label1 is None:
                if virement.label2 is not None or virement.paying_body is not None:
                    raise _write_error(
                        what, "libellé 2 ou organisme payeur sans libellé 1 (un 070 n'en a pas)"
                    )
                self.parts.append(_encode(layout.ACCOUNTING_DATE, virement, what))
            else:
                self.parts.append(_encode(layout.TRANSFER, virement, what))
            next_item = self._virement_items(index, items, next_item)
        if next_item < len(items):
            item = items[next_item]
            raise _write_error(
                f"élément {next_item}",
                f"virement {getattr(item, 'virement', None)!r} : hors de la liste des virements "
                "ou pas dans l'ordre",
            )
        return self._finish(header)

    def _virement_items(self, index: int, items: tuple[ReturnItem, ...], start: int) -> int:
        return_key: tuple[str | None, str | None] | None = None
        position = start
        while position < len(items) and getattr(items[position], "virement", None) == index:
            item = items[position]
            what = f"élément {position}"
            _check_class(item, (ReturnInvoice, Withholding, FlatPayment, Control), what)
            key = (item.return_type, item.execution_place)
            if item.return_type is None:
                if not isinstance(item, Control) or return_key is not None:
                    raise _write_error(
                        what, "sans type de retour (081) : seule une 990 avant tout 081 le peut"
                    )
                if item.execution_place is not None or item.lot is not None:
                    raise _write_error(what, "lieu d'exécution ou lot sans type de retour (081)")
            elif key != return_key:
                self._close_lot()
                self.parts.append(_encode(layout.RETURN_TYPE, item, what))
                return_key = key
            if item.lot != self.lot:
                self._close_lot()
                if item.lot is not None:
                    _check_class(item.lot, (Lot,), what + ", lot")
                    self.parts.append(_encode(layout.LOT, item.lot, what + ", lot"))
                    self.lot, self.lot_invoices, self.lot_paid = item.lot, 0, 0
                    self.lots += 1
            self._item(item, what)
            position += 1
        self._close_lot()
        return position

    def _nested(self, depth: object, parent: int, what: str, parent_what: str) -> None:
        if isinstance(depth, int) and not isinstance(depth, bool) and depth <= parent:
            raise _write_error(
                what, f"niveau {depth}, pas plus profond que {parent_what} (niveau {parent})"
            )

    def _item(self, item: ReturnItem, what: str) -> None:
        if isinstance(item, Control):
            if (item.identification or "").startswith("080"):
                raise _write_error(
                    what,
                    "une 990 qui ferme un lot (080…) est calculée, pas écrite",
                    "identification",
                )
            self.parts.append(_encode(layout.CONTROL, item, what))
            return
        if self.lot is not None:
            self._nested(item.depth, self.lot.depth, what, "son lot")
        if isinstance(item, ReturnInvoice):
            self._invoice(item, what)
        elif isinstance(item, Withholding):
            self.parts.append(_encode(layout.WITHHOLDING, item, what))
        else:
            self.parts.append(_encode(layout.FLAT_PAYMENT, item, what))
            for index, detail in enumerate(tuple(item.details)):
                detail_what = f"{what}, détail {index}"
                _check_class(detail, (FlatPaymentDetail,), detail_what)
                depth = detail.depth
                if isinstance(depth, int) and isinstance(item.depth, int) and depth < item.depth:
                    raise _write_error(detail_what, "moins profond que son paiement (261)")
                self.parts.append(_encode(layout.FLAT_PAYMENT_DETAIL, detail, detail_what))

    def _invoice(self, invoice: ReturnInvoice, what: str) -> None:
        if invoice.invoice_type is None:
            extra = [
                name
                for name in (
                    "complement",
                    "invoice_lot",
                    "invoice_lot_date",
                    "billing_date",
                    "amc_treatment",
                    "insurance_nature",
                )
                if getattr(invoice, name) is not None
            ]
            if extra:
                raise _write_error(
                    what, f"facture sans type (un 100) avec {', '.join(extra)} : un 102 est requis"
                )
            self.parts.append(_encode(layout.INVOICE_NUMBER, invoice, what))
        else:
            self.parts.append(_encode(layout.INVOICE, invoice, what))
        seen: set[type] = set()
        for index, entity in enumerate(tuple(invoice.entities)):
            entity_what = f"{what}, entité {index}"
            code = ENTITY_CODES.get(type(entity))
            if code is None:
                raise _write_error(
                    entity_what, f"{type(entity).__name__} n'est pas une entité de facture"
                )
            if type(entity) in SINGLE_ENTITIES:
                if type(entity) in seen:
                    raise _write_error(entity_what, f"deuxième entité {code} dans la facture")
                seen.add(type(entity))
            if isinstance(invoice.depth, int):
                self._nested(entity.depth, invoice.depth, entity_what, "sa facture")
            self.parts.append(_encode(layout.BY_CODE[code], entity, entity_what))
        paid = invoice.paid_cents
        self.total += paid
        if self.lot is not None:
            self.lot_invoices += 1
            self.lot_paid += paid

    def _finish(self, header: str) -> bytes:
        content = self.content
        if self.lots > 999:
            raise _write_error("fin de fichier", f"{self.lots} lots, 999 au plus")
        if abs(self.total) > layout.MAX_TOTAL:
            raise _write_error("fin de fichier", "cumul payé trop grand")
        stream = "".join(self.parts)
        values = {name: getattr(content.header, name) for name in layout.TRAILER_REPEATS}
        values.update(
            block_count=1,
            lot_count=self.lots,
            total=abs(self.total),
            total_sign="N" if self.total < 0 else "P",
            other_currency_cents=content.other_currency_cents,
        )
        draft = _encode(layout.TRAILER, None, "fin de fichier", values).rstrip(" ")
        blocks = 1 + -(-(len(stream) + len(draft)) // DATA)
        values["block_count"] = blocks
        if blocks > 99_999_999:
            raise _write_error("fin de fichier", "trop de blocs")
        trailer = _encode(layout.TRAILER, None, "fin de fichier", values).rstrip(" ")
        data = (stream + trailer).ljust((blocks - 1) * DATA)
        out = [header]
        for block in range(blocks - 1):
            marker = layout.LAST_MARKER if block == blocks - 2 else layout.NEXT_MARKER
            out.append(marker + data[block * DATA : (block + 1) * DATA])
        return "".join(out).encode(layout.ENCODING)


def write_return(content: NoemieReturn) -> bytes:
    """The canonical NOEMIE file of *content*: headers, lot 990s and 999 computed, blocks cut.

    Raises ``FormatError`` (« Écriture impossible : … ») if *content* breaks a rule of the
    layout; ``read_return(write_return(content)) == content`` for any content it accepts.
    """
    return _Writer(content).write()
