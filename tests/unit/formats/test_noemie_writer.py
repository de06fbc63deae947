"""The NOEMIE PS writer: the exact bytes of a small return, and what it refuses to write."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from noemie_samples import (
    SAMPLE_HEADER,
    alpha,
    amo,
    assemble,
    entity,
    num,
    sample_bytes,
    sample_line,
    small_return,
)

from tuibill.formats.errors import FormatError
from tuibill.formats.noemie import is_noemie_return, read_return, write_return
from tuibill.formats.noemie_content import (
    AmoPart,
    Comment,
    Control,
    FlatPayment,
    FlatPaymentDetail,
    Lot,
    NoemieReturn,
    Rejection,
    Virement,
)


def _small_by_hand() -> bytes:
    """small_return() spelled from the tables, with the 990 and 999 it must compute."""
    return assemble(
        [
            entity("020", "01", num(123456789, 15)),
            entity("040", "02", num(123456789, 15)),
            entity(
                "071",
                "02",
                "250320",
                alpha("VIR CPAM EURE-ET-LOIR", 32),
                alpha("", 32),
                alpha("CPAM 281", 10),
            ),
            entity("081", "02", "01", alpha("", 14)),
            entity("080", "03", "250305", "695"),
            entity("102", "04", "000000101", " " * 6, "695", "250305", "F", "250304", " ", "  "),
            amo(189, "P", 189),
            entity(
                "210",
                "05",
                "01",
                "01",
                "0",
                "10",
                "024",
                "250201",
                "250303",
                "250303",
                num(315, 8),
                num(315, 8),
                "060",
                num(189, 8),
                "P",
                "AMI",
                "  ",
                "001",
                "00100",
                "001",
                num(315, 8),
                "  ",
                "000",
                num(0, 8),
                "040",
                num(126, 8),
                num(315, 8),
            ),
            entity("102", "04", "000000103", " " * 6, "695", " " * 6, "B", " " * 6, " ", "  "),
            amo(189, "R", None),
            entity(
                "294",
                "05",
                "0460",
                alpha("ETABLISSEMENT PRESCRIPTEUR INCONNU", 86),
                "F",
                "O",
                " " * 5,
                " " * 6,
                " " * 9,
                " " * 3,
                " " * 2,
                alpha("053", 30),
            ),
            entity("990", "99", alpha("080695", 17), num(2, 8), num(189, 11), "P"),
        ],
        lots=1,
        total=189,
    )


def test_writer_spells_the_tables():
    assert write_return(small_return()) == _small_by_hand()


def test_writer_gives_back_the_hand_written_sample():
    assert write_return(read_return(sample_bytes())) == sample_bytes()


def test_empty_return():
    content = NoemieReturn(header=SAMPLE_HEADER)
    data = write_return(content)
    assert len(data) == 256 and data[128:129] == b"1"
    assert data[129:132] == b"999"
    assert read_return(data) == content
    assert (content.lot_count, content.total_paid_cents) == (0, 0)


def test_blocks_and_markers():
    data = write_return(read_return(sample_bytes()))
    markers = [data[start : start + 1] for start in range(128, len(data), 128)]
    assert markers[:-1] == [b"0"] * (len(markers) - 1) and markers[-1] == b"1"
    assert data.endswith(b" ")  # the last block is padded with spaces


def test_is_noemie_return():
    assert is_noemie_return(sample_bytes())
    assert not is_noemie_return(sample_bytes()[:-1])
    assert not is_noemie_return(b"00TBARL" + b" " * 249)
    assert not is_noemie_return("000")  # type: ignore[arg-type]


# --- helpers for the posting code -----------------------------------------------------------


def test_helpers_of_a_small_return():
    content = small_return()
    paid, rejected = content.invoices
    assert (paid.paid_cents, paid.asked_cents, paid.is_rejected) == (189, 189, False)
    assert rejected.is_rejected and rejected.paid_cents == 0
    assert content.total_paid_cents == 189 and content.lot_count == 1
    assert content.invoices_of(0) == content.invoices and content.paid_cents_of(0) == 189
    assert content.payee_of(paid) == "123456789"


def test_is_rejected_needs_an_invoice_level_rejection():
    invoice = small_return().invoices[1]
    only_line = replace(
        invoice,
        entities=(
            AmoPart(asked_cents=189, state="R"),
            Rejection(code="0470", label="X", level="L", part="O", line=1),
        ),
    )
    assert only_line.amo_rejected and not only_line.is_rejected
    assert only_line.rejected_lines == (1,)


def test_matching_number():
    invoice = small_return().invoices[0]
    assert replace(invoice, number="42").matching_number == "000000042"
    assert replace(invoice, number="  42").matching_number == "000000042"
    assert replace(invoice, number="A42").matching_number is None
    assert replace(invoice, number="1234567890"[:9]).matching_number == "123456789"


def test_partial_payment_helpers():
    invoice = replace(
        small_return().invoices[0],
        entities=(AmoPart(asked_cents=378, state="P", paid_cents=189),),
    )
    assert invoice.is_partially_paid and not invoice.is_deferred


# --- refusals -------------------------------------------------------------------------------


def _refused(content: NoemieReturn) -> str:
    with pytest.raises(FormatError) as caught:
        write_return(content)
    message = str(caught.value)
    assert message.startswith("Écriture impossible : ")
    return message


def _with_items(*items: object) -> NoemieReturn:
    return replace(small_return(), items=items)


def test_refuses_a_wrong_virement_index():
    content = small_return()
    bad = replace(content, virements=(replace(content.virements[0], index=1),))
    assert "virement 0 : index 1 au lieu de 0" in _refused(bad)


def test_refuses_items_out_of_virement_order():
    first, second = small_return().items
    assert "hors de la liste des virements ou pas dans l'ordre" in _refused(
        _with_items(first, replace(second, virement=3))
    )


def test_refuses_a_bare_invoice_with_102_fields():
    invoice = replace(small_return().invoices[0], invoice_type=None)
    assert "facture sans type (un 100) avec invoice_lot" in _refused(_with_items(invoice))


def test_refuses_a_lot_control_as_content():
    control = Control(
        virement=0, return_type="01", identification="080695", count=1, amount_cents=0
    )
    assert "est calculée, pas écrite" in _refused(_with_items(control))


def test_refuses_a_control_without_type_after_a_type():
    control = Control(virement=0, identification="X", count=1, amount_cents=0)
    first = small_return().items[0]
    assert "seule une 990 avant tout 081" in _refused(_with_items(first, control))


def test_refuses_depths_that_break_the_nesting():
    invoice = small_return().invoices[0]
    assert "pas plus profond que son lot" in _refused(_with_items(replace(invoice, depth=3)))
    shallow = replace(invoice, entities=(Comment(text="X", depth=4),))
    assert "pas plus profond que sa facture" in _refused(_with_items(shallow))


def test_refuses_a_second_amo_part():
    invoice = replace(
        small_return().invoices[0],
        entities=(AmoPart(asked_cents=1, state="P"), AmoPart(asked_cents=1, state="P")),
    )
    assert "deuxième entité 198" in _refused(_with_items(invoice))


def test_refuses_what_is_not_an_invoice_entity():
    invoice = replace(small_return().invoices[0], entities=("AMO",))
    assert "str n'est pas une entité de facture" in _refused(_with_items(invoice))


def test_refuses_text_that_would_not_read_back():
    invoice = small_return().invoices[0]
    message = _refused(_with_items(replace(invoice, number="42 ")))
    assert "champ « n° de facture »" in message and "finissant par une espace" in message
    message = _refused(_with_items(replace(invoice, complement="")))
    assert "texte vide" in message


def test_refuses_amounts_and_dates_out_of_range():
    invoice = small_return().invoices[0]
    too_big = replace(invoice, entities=(AmoPart(asked_cents=10**8, state="P"),))
    assert "hors de l'intervalle 0 à 99999999" in _refused(_with_items(too_big))
    old = replace(invoice, entities=(sample_line(1, 0, care_date=date(1979, 12, 31)),))
    assert "année 1979 hors de 1980 à 2079" in _refused(_with_items(old))


def test_refuses_a_bare_accounting_date_with_a_label():
    content = small_return()
    bare = replace(content.virements[0], label1=None, label2="X")
    assert "un 070 n'en a pas" in _refused(replace(content, virements=(bare,)))


def test_refuses_a_payee_that_is_not_nine_digits():
    content = small_return()
    bad = replace(content.virements[0], payee="12345678")
    assert "un numéro de 9 chiffres est attendu" in _refused(replace(content, virements=(bad,)))


def test_refuses_a_detail_shallower_than_its_payment():
    payment = FlatPayment(
        virement=0,
        return_type="03",
        code="00012",
        amount_cents=100,
        depth=5,
        details=(FlatPaymentDetail(period="M", amount_cents=100, depth=4),),
    )
    assert "moins profond que son paiement (261)" in _refused(_with_items(payment))


def test_refuses_more_than_999_lots():
    invoice = small_return().invoices[0]
    items = [
        replace(invoice, lot=Lot(n % 1000, date(2025, 1, 1) if n < 1000 else date(2025, 1, 2)))
        for n in range(1000)
    ]
    assert "1000 lots, 999 au plus" in _refused(_with_items(*items))


def test_refuses_what_is_not_content():
    with pytest.raises(FormatError, match="NoemieReturn"):
        write_return("content")  # type: ignore[arg-type]
    bad = replace(small_return(), items=(Virement,))
    with pytest.raises(FormatError):
        write_return(bad)


def test_a_lot_of_only_controls_gets_a_zero_control():
    control = Control(
        virement=0,
        return_type="01",
        lot=Lot(7, date(2025, 1, 1)),
        identification="X",
        count=0,
        amount_cents=-5,
    )
    content = _with_items(control)
    data = write_return(content)
    stream = b"".join(data[start + 1 : start + 128] for start in range(128, len(data), 128))
    assert b"99099080007" + b" " * 11 + b"0" * 19 + b"P@" in stream
    assert read_return(data) == content
