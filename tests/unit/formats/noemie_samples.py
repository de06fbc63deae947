"""NOEMIE PS samples for the tests: a file built by hand from the public tables, and strategies.

The hand-built file does not use tuibill's writer: every entity is spelled here field by field,
with the lengths of the fact sheet (``/work/shared/formats/noemie-ps.md``), and cut into blocks
here too, so that the reader is checked against the layout, not against itself.
"""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from tuibill.formats import noemie_layout as layout
from tuibill.formats.noemie_content import (
    ActLine,
    AmcPart,
    AmoPart,
    Archive,
    Comment,
    Control,
    FlatPayment,
    FlatPaymentDetail,
    InsuranceNature,
    Insured,
    InsuredPatient,
    Lot,
    NoemieReturn,
    Patient,
    Rejection,
    ReturnHeader,
    ReturnInvoice,
    Signalement,
    Virement,
    Withholding,
)

# Entity lengths, from the fact sheet's tables (position of the final @).
LENGTHS = {
    "020": 21,
    "040": 21,
    "070": 12,
    "071": 86,
    "080": 15,
    "081": 22,
    "100": 15,
    "102": 40,
    "103": 152,
    "110": 88,
    "120": 57,
    "150": 8,
    "160": 23,
    "198": 24,
    "199": 49,
    "210": 118,
    "250": 47,
    "261": 19,
    "262": 134,
    "290": 98,
    "294": 153,
    "295": 135,
    "990": 43,
}


def num(value: int, width: int) -> str:
    text = f"{value:0{width}d}"
    assert len(text) == width, (value, width)
    return text


def alpha(text: str, width: int) -> str:
    assert len(text) <= width, (text, width)
    return text.ljust(width)


def entity(code: str, level: str, *parts: str) -> str:
    text = code + level + "".join(parts) + "@"
    assert len(text) == LENGTHS[code], (code, len(text), LENGTHS[code])
    return text


HEADER = (
    "000"
    + "CP"  # type d'émetteur
    + "01281000000000"  # numéro d'émetteur (14)
    + alpha("NOEMIE", 6)  # programme émetteur
    + "TP"  # type de destinataire
    + alpha("123456789", 14)  # numéro de destinataire
    + alpha("", 6)  # programme destinataire
    + alpha("", 2)  # application-type
    + alpha("F00123", 6)  # identification du fichier
    + "250320"  # date de création
    + "NO58"  # norme
    + "04"  # version
    + " "  # compactage
    + "N"  # cryptage
    + "U"  # unité monétaire
    + "T"  # type de flux
    + " " * 11
    + "128"
    + alpha("", 6)  # mot de passe
    + alpha("RETOURS NOEMIE PS", 37)
)
assert len(HEADER) == 128


def trailer(blocks: int, lots: int, total: int, *, flow: str = "T", emitter: str = "CP") -> str:
    text = (
        "999"
        + emitter
        + "01281000000000"
        + alpha("NOEMIE", 6)
        + "TP"
        + alpha("123456789", 14)
        + alpha("", 6)
        + alpha("", 2)
        + alpha("F00123", 6)
        + num(blocks, 8)
        + flow
        + " " * 18
        + num(lots, 3)
        + num(abs(total), 11)
        + ("N" if total < 0 else "P")
        + " " * 11
        + " " * 20
    )
    assert len(text) == 128
    return text


def assemble(
    entities: list[str],
    *,
    lots: int,
    total: int,
    markers: str = "0",
    blocks: int | None = None,
    header: str = HEADER,
    end: str | None = None,
) -> bytes:
    """The file: the 000 block, then 127-byte pieces of the stream each after a marker.

    The 999's trailing blanks may fall off the last block (as the fact sheet allows); *markers*
    are used in turn for the blocks before the last, which gets ``1``.
    """
    stream = "".join(entities)
    probe = trailer(0, lots, total).rstrip(" ")
    count = 1 + -(-(len(stream) + len(probe)) // 127)
    last = end if end is not None else trailer(blocks or count, lots, total).rstrip(" ")
    data = (stream + last).ljust((count - 1) * 127)
    out = [header]
    for index in range(count - 1):
        marker = "1" if index == count - 2 else markers[index % len(markers)]
        out.append(marker + data[index * 127 : (index + 1) * 127])
    return "".join(out).encode("latin-1")


# --- the hand-written sample ----------------------------------------------------------------

BLANK_NUM = " "


def act(
    line: int,
    refunded: int,
    *,
    nature: str = "AMI",
    complement: str = "",
    coefficient: int = 100,
    sign: str = "P",
    qualifier: str = "",
) -> str:
    return entity(
        "210",
        "05",
        num(line, 2),  # n° de ligne
        "01",  # code gestion
        "0",  # exonération
        "10",  # mode de traitement
        "024",  # discipline
        "250201",  # prescription
        "250303",  # date des soins
        "250303",  # fin des soins
        num(315, 8),  # prix unitaire
        num(315, 8),  # base
        num(60, 3),  # taux
        num(refunded, 8),
        sign,
        alpha(nature, 3),
        alpha(complement, 2),
        num(1, 3),  # quantité
        num(coefficient, 5),
        num(1, 3),  # dénombrement
        num(315, 8),  # dépense
        alpha(qualifier, 2),
        num(0, 3),
        num(0, 8),
        num(40, 3),  # taux AMC
        num(126, 8),  # montant AMC
        num(315, 8),  # base AMC
    )


def amo(asked: int, state: str, paid: int | None, sign: str = "P") -> str:
    paid_text = " " * 8 if paid is None else num(paid, 8)
    return entity("198", "05", num(asked, 8), state, paid_text, sign)


def invoice(number: str, kind: str = "F", lot: str = "695") -> str:
    return entity(
        "102",
        "04",
        alpha(number, 9),
        alpha("", 6),
        alpha(lot, 3),
        "250305",
        kind,
        "250304",
        " ",
        "AS",
    )


SAMPLE_ENTITIES = [
    entity("020", "01", num(123456789, 15)),
    entity("040", "02", num(123456789, 15)),
    entity(
        "071",
        "02",
        "250320",
        alpha("VIR CPAM EURE-ET-LOIR", 32),
        alpha("REF 2025032000123", 32),
        alpha("CPAM 281", 10),
    ),
    entity("081", "02", "01", alpha("", 14)),
    entity("080", "03", "250305", "695"),
    # 1. paid in full, AMO and AMC
    invoice("000000101"),
    entity(
        "103",
        "05",
        alpha("1800628123456", 13),
        "42",
        alpha("MARTIN", 25),
        alpha("DURAND-MARTIN", 25),
        alpha("ÉLOÏSE", 15),
        alpha("", 13),
        "  ",
        "800628",
        "1",
        alpha("MARTIN", 25),
        alpha("LÉA", 15),
        "0281",
    ),
    entity("120", "05", "150230", "2", alpha("MARTIN", 25), alpha("LÉA", 15), alpha("0281", 4)),
    entity("150", "05", "AS"),
    entity("160", "05", num(12345678901234567, 17)),
    amo(378, "P", 378),
    entity("199", "05", num(252, 8), "P", num(252, 8), "P", num(12345, 10), alpha("ADH-77", 15)),
    act(1, 189),
    act(2, 189, complement="N", coefficient=150),
    entity("295", "05", "1", alpha("  PAIEMENT SANS OBSERVATION", 128)),
    # 2. partial payment: line 2 refused
    invoice("000000102"),
    entity(
        "110",
        "05",
        alpha("2750512345678", 13),
        "07",
        "U",
        alpha("BERNARD", 25),
        " " * 26,
        alpha("ANNE", 15),
    ),
    amo(378, "P", 189),
    act(1, 189),
    act(2, 0),
    entity(
        "294",
        "05",
        "0470",
        alpha("PRESCRIPTION INTERDITE A CETTE DATE", 86),
        "L",
        "O",
        alpha("AMI", 5),
        "250303",
        num(123456789, 9),
        num(2, 3),
        num(1, 2),
        alpha("049", 30),
    ),
    # 3. rejected whole
    invoice("000000103", kind="B"),
    amo(378, "R", None),
    entity(
        "294",
        "05",
        "0460",
        alpha("ETABLISSEMENT PRESCRIPTEUR INCONNU", 86),
        "F",
        "O",
        alpha("", 5),
        "      ",
        " " * 9,
        "   ",
        "  ",
        alpha("053", 30),
    ),
    entity("290", "05", "00", alpha("0460053", 10), alpha("PRESCRIPTEUR INCONNU", 80)),
    # 4. AMO part deferred
    invoice("000000104"),
    amo(378, "D", None),
    entity("990", "99", alpha("080695", 17), num(4, 8), num(378 + 252 + 189, 11), "P"),
    # back-payments, with a 100 and a negative paid amount
    entity("081", "02", "04", alpha("", 14)),
    entity("080", "03", "250210", "690"),
    invoice("000000090", kind="E", lot="690"),
    amo(378, "P", 378),
    entity("100", "04", "000000091"),
    amo(0, "P", 100, "N"),
    entity("990", "99", alpha("080690", 17), num(2, 8), num(278, 11), "P"),
    # withholdings
    entity("081", "02", "05", alpha("", 14)),
    entity(
        "250",
        "04",
        "01",
        alpha("IND0001234", 10),
        "250210",
        "IND",
        "RPR",
        num(1500, 8),
        "N",
        num(3000, 8),
    ),
    # flat-rate payments
    entity("081", "02", "03", alpha("", 14)),
    entity("261", "04", "00012", num(4600, 8)),
    entity(
        "262",
        "04",
        alpha("FORF", 5),
        alpha("FORFAIT COORDINATION", 80),
        alpha("", 13),
        "  ",
        "      ",
        " ",
        "M",
        "250201",
        "250228",
        num(4600, 8),
    ),
    # a control that closes no lot: kept, unchecked
    entity("990", "99", alpha("071", 17), num(6, 8), num(1097, 11), "P"),
    # a second PS, paid without a transfer reference (070)
    entity("040", "02", num(987654321, 15)),
    entity("070", "02", "250321"),
    entity("081", "02", "01", alpha("28100000000001", 14)),
    entity("080", "07", "250306", "012"),
    entity(
        "102",
        "08",
        alpha("201", 9),
        alpha("A", 6),
        alpha("12", 3),
        "      ",
        "B",
        "      ",
        "V",
        "  ",
    ),
    entity("198", "09", num(500, 8), "P", num(500, 8), "P"),
    entity("990", "99", alpha("080012", 17), num(1, 8), num(500, 11), "P"),
]
SAMPLE_LOTS = 3
SAMPLE_TOTAL = (378 + 252 + 189) + (378 - 100) + 500


def sample_bytes(markers: str = "0") -> bytes:
    return assemble(SAMPLE_ENTITIES, lots=SAMPLE_LOTS, total=SAMPLE_TOTAL, markers=markers)


# --- content built in Python (for the writer and the docs) ----------------------------------

SAMPLE_HEADER = ReturnHeader(
    emitter_type="CP",
    emitter_number="01281000000000",
    emitter_program="NOEMIE",
    recipient_type="TP",
    recipient_number="123456789",
    file_id="F00123",
    created=date(2025, 3, 20),
    norm="NO58",
    version="04",
    encryption="N",
    flow_type="T",
    message="RETOURS NOEMIE PS",
)


def sample_line(line: int, refunded: int, **changes: object) -> ActLine:
    values: dict[str, object] = dict(
        line=line,
        regime_code="01",
        exoneration="0",
        processing_mode="10",
        discipline="024",
        prescription_date=date(2025, 2, 1),
        care_date=date(2025, 3, 3),
        care_end_date=date(2025, 3, 3),
        unit_price_cents=315,
        base_cents=315,
        rate=60,
        refunded_cents=refunded,
        nature="AMI",
        quantity=1,
        coefficient_x100=100,
        count=1,
        expense_cents=315,
        amc_rate=40,
        amc_cents=126,
        amc_base_cents=315,
    )
    values.update(changes)
    return ActLine(**values)  # type: ignore[arg-type]


def small_return() -> NoemieReturn:
    """A short return: one transfer, one lot, a full payment and a rejection."""
    lot = Lot(695, date(2025, 3, 5))
    place = dict(virement=0, return_type="01", lot=lot)
    return NoemieReturn(
        header=SAMPLE_HEADER,
        virements=(
            Virement(
                index=0,
                mandataire="000000123456789",
                payee="123456789",
                accounting_date=date(2025, 3, 20),
                label1="VIR CPAM EURE-ET-LOIR",
                paying_body="CPAM 281",
            ),
        ),
        items=(
            ReturnInvoice(
                **place,
                number="000000101",
                invoice_lot="695",
                invoice_lot_date=date(2025, 3, 5),
                billing_date=date(2025, 3, 4),
                entities=(
                    AmoPart(asked_cents=189, state="P", paid_cents=189),
                    sample_line(1, 189),
                ),
            ),
            ReturnInvoice(
                **place,
                number="000000103",
                invoice_type="B",
                invoice_lot="695",
                entities=(
                    AmoPart(asked_cents=189, state="R"),
                    Rejection(
                        code="0460",
                        label="ETABLISSEMENT PRESCRIPTEUR INCONNU",
                        level="F",
                        part="O",
                        info="053",
                    ),
                ),
            ),
        ),
    )


# --- hypothesis strategies ------------------------------------------------------------------

_TEXT_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -'@éÉèçÀ"


def texts(width: int) -> st.SearchStrategy[str]:
    """Canonical alpha values: 1..width printable characters, no trailing space."""
    return (
        st.text(alphabet=_TEXT_CHARS, min_size=1, max_size=width)
        .map(lambda text: text.rstrip(" "))
        .filter(bool)
    )


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


def digits(count: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=count, max_size=count)


def codes(pairs: tuple[tuple[str, str], ...]) -> st.SearchStrategy[str]:
    return st.sampled_from([code for code, _ in pairs])


DATES = st.dates(date(1980, 1, 1), date(2079, 12, 31))
AMOUNTS = st.integers(0, layout.MAX_AMOUNT)
SIGNED_AMOUNTS = st.integers(-layout.MAX_AMOUNT, layout.MAX_AMOUNT)
SMALL = st.integers(0, 999)

headers = st.builds(
    ReturnHeader,
    emitter_type=codes(layout.ORGANISMS),
    emitter_number=digits(14),
    recipient_type=codes(layout.ORGANISMS),
    recipient_number=texts(14),
    file_id=texts(6),
    created=DATES,
    norm=texts(4),
    emitter_program=maybe(texts(6)),
    recipient_program=maybe(texts(6)),
    application_type=maybe(texts(2)),
    version=maybe(texts(2)),
    compaction=maybe(texts(1)),
    encryption=maybe(st.sampled_from(["O", "N"])),
    flow_type=maybe(st.sampled_from(["R", "T", "D"])),
    password=maybe(texts(6)),
    message=maybe(texts(37)),
)


def _entity_strategies(depth: st.SearchStrategy[int]) -> list[st.SearchStrategy]:
    parts = dict(asked_cents=AMOUNTS, state=maybe(codes(layout.PART_STATES)), depth=depth)
    return [
        st.builds(
            InsuredPatient,
            nir=texts(13),
            nir_key=digits(2),
            birth_date=digits(6),
            birth_rank=st.integers(0, 9),
            birth_name=maybe(texts(25)),
            usage_name=maybe(texts(25)),
            first_name=maybe(texts(15)),
            individual_nir=maybe(texts(13)),
            individual_nir_key=maybe(digits(2)),
            beneficiary_name=maybe(texts(25)),
            beneficiary_first_name=maybe(texts(15)),
            management_unit=maybe(digits(4)),
            depth=depth,
        ),
        st.builds(
            Insured,
            nir=texts(13),
            nir_key=digits(2),
            name_nature=codes(layout.NAME_NATURES),
            name=texts(25),
            first_name=texts(15),
            depth=depth,
        ),
        st.builds(
            Patient,
            birth_date=digits(6),
            rank=texts(1),
            name=texts(25),
            first_name=texts(15),
            management_unit=texts(4),
            depth=depth,
        ),
        st.builds(InsuranceNature, code=codes(layout.INSURANCE_NATURES), depth=depth),
        st.builds(Archive, number=digits(17), depth=depth),
        st.builds(AmoPart, paid_cents=maybe(SIGNED_AMOUNTS), **parts),
        st.builds(
            AmcPart,
            paid_cents=maybe(SIGNED_AMOUNTS),
            amc_number=digits(10),
            member_id=maybe(texts(15)),
            **parts,
        ),
        st.builds(
            ActLine,
            line=st.integers(0, 99),
            regime_code=digits(2),
            exoneration=texts(1),
            processing_mode=digits(2),
            discipline=digits(3),
            prescription_date=DATES,
            care_date=DATES,
            care_end_date=DATES,
            unit_price_cents=AMOUNTS,
            base_cents=AMOUNTS,
            rate=SMALL,
            refunded_cents=SIGNED_AMOUNTS,
            nature=texts(3),
            quantity=SMALL,
            coefficient_x100=st.integers(0, 99_999),
            count=SMALL,
            expense_cents=AMOUNTS,
            complement=maybe(codes(layout.ACT_COMPLEMENTS)),
            qualifier=maybe(codes(layout.EXPENSE_QUALIFIERS)),
            am_rate=SMALL,
            am_cents=AMOUNTS,
            amc_rate=SMALL,
            amc_cents=AMOUNTS,
            amc_base_cents=AMOUNTS,
            depth=depth,
        ),
        st.builds(
            Signalement,
            line=st.integers(0, 99),
            code=texts(10),
            label=texts(80),
            depth=depth,
        ),
        st.builds(
            Rejection,
            code=texts(4),
            label=texts(86),
            level=codes(layout.REJECTION_LEVELS),
            part=codes(layout.REJECTION_PARTS),
            nature=maybe(texts(5)),
            care_date=maybe(DATES),
            executant=maybe(digits(9)),
            line=maybe(SMALL),
            rank=maybe(st.integers(0, 99)),
            info=maybe(texts(30)),
            depth=depth,
        ),
        st.builds(Comment, text=texts(128), code=maybe(texts(1)), depth=depth),
    ]


@st.composite
def invoice_entities(draw: st.DrawFn, depth: int) -> tuple:
    """Entities of an invoice of niveau *depth*: singletons at most once, in any order."""
    depths = st.sampled_from([depth + 1, depth + 1, min(depth + 2, 98)])
    strategies = _entity_strategies(depths)
    singles, repeats = strategies[:7], strategies[7:]
    chosen = [draw(strategy) for strategy in singles if draw(st.booleans())]
    chosen += draw(st.lists(st.one_of(repeats), max_size=4))
    return tuple(draw(st.permutations(chosen)))


LOTS = st.sampled_from(
    [
        Lot(695, date(2025, 3, 5)),
        Lot(696, date(2025, 3, 6)),
        Lot(1, date(1999, 12, 31), depth=6),
    ]
)


@st.composite
def items_of(draw: st.DrawFn, virement: int) -> list:
    items: list = []
    lot = None
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["invoice", "invoice", "withholding", "flat", "control"]))
        if kind == "control" and not items and draw(st.booleans()):
            items.append(
                Control(
                    virement=virement,
                    identification=draw(maybe(texts(17).filter(lambda t: not t.startswith("080")))),
                    count=draw(st.integers(0, 99_999_999)),
                    amount_cents=draw(st.integers(-layout.MAX_TOTAL, layout.MAX_TOTAL)),
                )
            )
            continue
        if draw(st.integers(0, 2)) or lot is None:
            lot = draw(maybe(LOTS))
        place = dict(
            virement=virement,
            return_type=draw(st.sampled_from(["01", "01", "04", "05"])),
            execution_place=draw(st.sampled_from([None, None, "28100000000001"])),
            lot=lot,
        )
        base = lot.depth if lot else 2
        depth = draw(st.sampled_from([base + 1, base + 1, base + 3]))
        if kind == "invoice":
            short = draw(st.integers(0, 5)) == 0
            if short:
                fields = dict(number=draw(digits(9)), invoice_type=None)
            else:
                fields = dict(
                    number=draw(texts(9)),
                    invoice_type=draw(codes(layout.INVOICE_TYPES)),
                    complement=draw(maybe(texts(6))),
                    invoice_lot=draw(maybe(texts(3))),
                    invoice_lot_date=draw(maybe(DATES)),
                    billing_date=draw(maybe(DATES)),
                    amc_treatment=draw(maybe(codes(layout.AMC_TREATMENTS))),
                    insurance_nature=draw(maybe(texts(2))),
                )
            items.append(
                ReturnInvoice(
                    **place, **fields, depth=depth, entities=draw(invoice_entities(depth))
                )
            )
        elif kind == "withholding":
            items.append(
                Withholding(
                    **place,
                    line=draw(st.integers(0, 99)),
                    debt_reference=draw(texts(10)),
                    debt_date=draw(DATES),
                    debt_nature=draw(codes(layout.DEBT_NATURES)),
                    operation=draw(codes(layout.RECOVERY_OPERATIONS)),
                    amount_cents=draw(SIGNED_AMOUNTS),
                    balance_cents=draw(maybe(AMOUNTS)),
                    depth=depth,
                )
            )
        elif kind == "flat":
            details = draw(
                st.lists(
                    st.builds(
                        FlatPaymentDetail,
                        period=codes(layout.PERIODS),
                        amount_cents=AMOUNTS,
                        code=maybe(texts(5)),
                        label=maybe(texts(80)),
                        nir=maybe(texts(13)),
                        nir_key=maybe(digits(2)),
                        birth_date=maybe(digits(6)),
                        birth_rank=maybe(st.integers(0, 9)),
                        period_start=maybe(DATES),
                        period_end=maybe(DATES),
                        depth=st.sampled_from([depth, depth + 1]),
                    ),
                    max_size=2,
                )
            )
            items.append(
                FlatPayment(
                    **place,
                    code=draw(digits(5)),
                    amount_cents=draw(AMOUNTS),
                    details=tuple(details),
                    depth=depth,
                )
            )
        else:
            items.append(
                Control(
                    **place,
                    identification=draw(maybe(texts(17).filter(lambda t: not t.startswith("080")))),
                    count=draw(st.integers(0, 99_999_999)),
                    amount_cents=draw(st.integers(-layout.MAX_TOTAL, layout.MAX_TOTAL)),
                )
            )
    return items


@st.composite
def returns(draw: st.DrawFn) -> NoemieReturn:
    """Valid contents of every shape the writer accepts."""
    virements = []
    items: list = []
    for index in range(draw(st.integers(0, 3))):
        transfer = draw(st.booleans())
        virements.append(
            Virement(
                index=index,
                mandataire=draw(st.sampled_from(["000000123456789", "999999999999999"])),
                payee=draw(st.sampled_from(["123456789", "000000001"])),
                accounting_date=draw(DATES),
                label1=draw(texts(32)) if transfer else None,
                label2=draw(maybe(texts(32))) if transfer else None,
                paying_body=draw(maybe(texts(10))) if transfer else None,
            )
        )
        items += draw(items_of(index))
    return NoemieReturn(
        header=draw(headers),
        virements=tuple(virements),
        items=tuple(items),
        other_currency_cents=draw(maybe(st.integers(0, layout.MAX_TOTAL))),
    )
