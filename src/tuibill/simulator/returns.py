"""The simulated caisse's NOEMIE PS returns: what it pays, rejects, refuses or defers.

:func:`build_return` is pure: from a lot the caisse read (its FSE and their lines) and a kind of
answer, the :class:`~tuibill.formats.noemie.NoemieReturn` a caisse would send back — one
virement (071) to the PS, the lot's 080, each invoice's 102 with its 198 (AMO asked, state,
paid), its 210 per act line and, when it is rejected, its 294. The responders put the written
file in a mail to the practice, after the ARL when a scenario gives both
(``["positive", "paiement"]``).

Kinds (``kind:argument``):

* ``paiement[:JOURS]`` — every invoice paid in full; the transfer dated *JOURS* days after the
  lot was received (0 by default), to play late payments.
* ``rejet[:CODE]`` — every invoice rejected whole (198 R, 294 level F), code 0460 by default.
* ``refus-ligne[:CODE]`` — every invoice paid but its last act line, refused (294 level L);
  an invoice of one line is then rejected (198 R).
* ``differe`` — every invoice's AMO part deferred (198 D): the caisse answers later.
* ``mixte`` — in turn: paid, rejected, last line refused, deferred (a bit of everything).

A lot of DRE (header « D », seed 003) is answered by the mutuelles: type D, the AMC part (199)
paid, or rejected (``rejet``) with a 294 on part C; its FSE numbers are no duplicates.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from email.message import EmailMessage
from functools import lru_cache
from importlib import resources

from tuibill.domain.errors import ConfigError
from tuibill.domain.rejection_codes import MotifTable, parse_table
from tuibill.formats.codec import FseLine, FseRecord, LotFile
from tuibill.formats.noemie import (
    ActLine,
    AmcPart,
    AmoPart,
    InsuredPatient,
    Lot,
    NoemieReturn,
    Rejection,
    ReturnHeader,
    ReturnInvoice,
    Virement,
    write_return,
)
from tuibill.simulator.scenarios import (
    Answer,
    Reception,
    ResponderContext,
    register_responder,
)
from tuibill.transport.envelopes import build_return_message

PAID, REJECTED, LINE_REFUSED, DEFERRED, MIXED = (
    "paiement",
    "rejet",
    "refus-ligne",
    "differe",
    "mixte",
)
RETURN_KINDS = (PAID, REJECTED, LINE_REFUSED, DEFERRED, MIXED)
DEFAULT_CODE = "0460"
DUPLICATE_CODE = "DBLF"  # tuibill's code for the concentrator's « DOUBLON DE FSE »
DUPLICATE = "doublon"  # the invoices refused as duplicates, whatever the kind asked
_CYCLE = (PAID, REJECTED, LINE_REFUSED, DEFERRED)
# tuibill's majoration codes longer than the 3 characters of the 210's « nature ».
_NATURES = {"NUIT": "MN", "NUITP": "MM"}


def _nature(code: str) -> str:
    return _NATURES.get(code, code[:3])


def _discipline(fse: FseRecord) -> str:
    return "026" if any(line.code.startswith("AMK") for line in fse.lines) else "024"


def _act_line(number: int, line: FseLine, fse: FseRecord, refunded: int) -> ActLine:
    return ActLine(
        line=number,
        regime_code=fse.amo.regime,
        exoneration="0",
        processing_mode="10",
        discipline=_discipline(fse),
        prescription_date=fse.prescription_date or line.act_date,
        care_date=line.act_date,
        care_end_date=line.act_date,
        unit_price_cents=line.unit_cents,
        base_cents=abs(line.total_cents),  # a regularisation line: its refund is negative
        rate=fse.amo_rate,
        refunded_cents=refunded,
        nature=_nature(line.code),
        quantity=line.quantity,
        coefficient_x100=line.coefficient_x100,
        count=line.quantity,
        expense_cents=abs(line.total_cents),
    )


@lru_cache(maxsize=1)
def _motifs() -> MotifTable:
    """The shipped motif table: the labels the simulated caisse writes for its codes."""
    text = resources.files("tuibill.data").joinpath("rejection_motifs.toml").read_text("utf-8")
    return parse_table(text)


def _rejection(code: str, level: str, line: int | None = None) -> Rejection:
    return Rejection(
        code=code,
        label=_motifs().label_of(code) or "MOTIF DE REJET",
        level=level,
        part="O",
        line=line,
    )


def _invoice(fse: FseRecord, kind: str, code: str, place: dict) -> ReturnInvoice:
    people = InsuredPatient(
        nir=fse.nir[:13],
        nir_key=fse.nir[13:15],
        birth_date=f"{fse.birth_date:%y%m%d}",
        birth_rank=fse.rank,
        birth_name=fse.patient_last_name[:25].upper(),
        first_name=fse.patient_first_name[:15].upper(),
    )
    lines = list(fse.lines)
    refunded = [line.amo_cents for line in lines]
    rejections: list[Rejection] = []
    if kind in (REJECTED, DUPLICATE):
        amo = AmoPart(asked_cents=fse.amo_cents, state="R", paid_cents=None)
        refunded = [0] * len(lines)
        rejections.append(_rejection(DUPLICATE_CODE if kind == DUPLICATE else code, "F"))
    elif kind == DEFERRED:
        amo = AmoPart(asked_cents=fse.amo_cents, state="D", paid_cents=None)
        refunded = [0] * len(lines)
    elif kind == LINE_REFUSED and lines:
        refunded[-1] = 0
        rejections.append(_rejection(code, "L", len(lines)))
        # Its only line refused, an invoice is rejected (R), as a caisse writes it.
        state = "P" if len(lines) > 1 else "R"
        paid = sum(refunded) if state == "P" else None
        amo = AmoPart(asked_cents=fse.amo_cents, state=state, paid_cents=paid)
    else:
        amo = AmoPart(asked_cents=fse.amo_cents, state="P", paid_cents=fse.amo_cents)
    act_lines = tuple(
        _act_line(number, line, fse, paid)
        for number, (line, paid) in enumerate(zip(lines, refunded, strict=True), 1)
    )
    lot: Lot = place["lot"]
    if place.pop("dre", False):
        # A DRE (seed 003): the mutuelle answers its part only (199), type D.
        rejected = kind in (REJECTED, DUPLICATE)
        amc = AmcPart(
            asked_cents=fse.amc_cents, state="R" if rejected else "P",
            amc_number=(fse.amc_number or "").zfill(10)[:10],
            paid_cents=None if rejected else fse.amc_cents,
        )  # fmt: skip
        extra = (Rejection(code=code, label=_motifs().label_of(code) or "MOTIF DE REJET",
                           level="F", part="C"),) if rejected else ()  # fmt: skip
        return ReturnInvoice(
            **place, number=f"{fse.invoice_number:09d}", invoice_type="D",
            invoice_lot=f"{lot.number:03d}", invoice_lot_date=lot.created,
            billing_date=fse.billing_date, entities=(people, amc, *extra),
        )  # fmt: skip
    return ReturnInvoice(
        **place,
        number=f"{fse.invoice_number:09d}",
        invoice_type="F",
        invoice_lot=f"{lot.number:03d}",
        invoice_lot_date=lot.created,
        billing_date=fse.billing_date,
        entities=(people, amo, *act_lines, *rejections),
    )


def build_return(
    lot: LotFile,
    kind: str,
    *,
    argument: str = "",
    received: date,
    file_id: str,
    duplicates: frozenset[int] = frozenset(),
    only: frozenset[int] | None = None,
) -> NoemieReturn:
    """The return a caisse sends for *lot* (see the module's kinds); *file_id*: 6 characters.
    The FSE numbers in *duplicates* are rejected « DOUBLON DE FSE » whatever the kind; with
    *only*, the return speaks of those FSE numbers only."""
    if kind not in RETURN_KINDS:
        raise ConfigError(f"retour « {kind} » inconnu (possibles : {', '.join(RETURN_KINDS)}).")
    header = lot.header
    days = int(argument) if kind == PAID and argument else 0
    code = argument if kind in (REJECTED, LINE_REFUSED) and argument else DEFAULT_CODE
    accounting = received + timedelta(days=days)
    caisse = header.destination
    virement = Virement(
        index=0,
        mandataire=header.practitioner_am.zfill(15),
        payee=header.practitioner_am,
        accounting_date=accounting,
        label1=f"VIR CPAM {caisse.caisse} LOT {header.lot_number:03d}"[:32],
        label2=f"PS {header.practitioner_am}"[:32],
        paying_body=f"CPAM {caisse.caisse}"[:10],
    )
    place = dict(
        virement=0,
        return_type="01",
        lot=Lot(header.lot_number, header.created_at.date()),
    )
    invoices = []
    dre = lot.header.kind == "DRE"
    for position, fse in enumerate(lot.fses):
        if only is not None and fse.invoice_number not in only:
            continue
        which = _CYCLE[position % len(_CYCLE)] if kind == MIXED else kind
        if fse.invoice_number in duplicates:
            which = DUPLICATE
        invoices.append(_invoice(fse, which, code, {**place, "dre": dre}))
    return NoemieReturn(
        header=ReturnHeader(
            emitter_type="CP",
            emitter_number=f"{caisse.regime}{caisse.caisse}{caisse.centre}".ljust(14, "0"),
            emitter_program="NOEMIE",
            recipient_type="TP",  # « autres partenaires de santé »
            recipient_number=header.practitioner_am,
            file_id=file_id[:6],
            created=accounting,
            norm="NO58",
            version="04",
            encryption="N",
            flow_type="T",
            message="RETOURS NOEMIE PS (CAISSE SIMULEE)",
        ),
        virements=(virement,),
        items=tuple(invoices),
    )


class ReturnResponder:
    """Answers a readable FSE lot with a NOEMIE return of one kind."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def check(self, answer: Answer) -> None:
        argument = answer.argument
        if self.kind == PAID and argument and not (argument.isdigit() and int(argument) <= 365):
            raise ConfigError(
                f"« {answer} » : un nombre de jours (0 à 365) est attendu après « paiement: »."
            )
        if self.kind in (REJECTED, LINE_REFUSED) and argument and not (
            len(argument) == 4 and argument.isdigit()
        ):
            raise ConfigError(f"« {answer} » : un code de rejet à 4 chiffres est attendu.")
        if self.kind in (DEFERRED, MIXED) and argument:
            raise ConfigError(f"« {answer} » : ce retour ne prend pas d'argument.")

    def respond(
        self, reception: Reception, answer: Answer, context: ResponderContext
    ) -> list[EmailMessage]:
        lot = reception.lot
        if lot is None or not lot.fses:
            context.log("  pas de retour NOEMIE : lot illisible ou sans FSE (SCOR)")
            return []
        context.state.return_files += 1
        file_id = f"R{context.state.return_files:05d}"
        now = context.now()
        content = build_return(
            lot, self.kind, argument=answer.argument, received=now.date(), file_id=file_id,
            duplicates=reception.duplicates,
        )  # fmt: skip
        return [_message(reception, content, context, f"« {answer} »")]


def duplicate_return(reception: Reception, context: ResponderContext) -> list[EmailMessage]:
    """The return of the FSE refused as duplicates, when the scenario sends no return itself."""
    lot = reception.lot
    if lot is None or not reception.duplicates:
        return []
    context.state.return_files += 1
    file_id = f"R{context.state.return_files:05d}"
    content = build_return(
        lot, REJECTED, received=context.now().date(), file_id=file_id,
        duplicates=reception.duplicates, only=reception.duplicates,
    )  # fmt: skip
    return [_message(reception, content, context, "doublons")]


def _message(
    reception: Reception, content: NoemieReturn, context: ResponderContext, what: str
) -> EmailMessage:
    """The return's mail; the caisse remembers which FSE it rejected (they may be re-sent)."""
    lot = reception.lot
    assert lot is not None
    am = lot.header.practitioner_am
    for item in content.invoices:
        number = int(item.number)
        if item.amo is not None and item.amo.state == "R" and number not in reception.duplicates:
            context.state.fse_rejected.add((am, number))
    data = write_return(content)
    now = context.now()
    file_id = content.header.file_id
    if reception.duplicates:
        context.log(f"  → {len(reception.duplicates)} FSE refusée(s) : DOUBLON DE FSE")
    context.log(f"  → retour NOEMIE {what} ({len(content.invoices)} facture(s), {file_id})")
    return build_return_message(
        data,
        payee=am,
        lot_number=lot.header.lot_number,
        destination=lot.header.destination.destination,
        file_id=file_id,
        sender=f"retours-{lot.header.destination.destination}@simulateur.tuibill.invalid",
        recipient=reception.reply_to,
        sent_at=now if isinstance(now, datetime) else datetime.now(),
    )

for _kind in RETURN_KINDS:
    register_responder(_kind, ReturnResponder(_kind))
