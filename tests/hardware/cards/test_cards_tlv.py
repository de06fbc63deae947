"""The BER-TLV parser: forms found on real cards, and refusal of anything malformed."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tuibill.hardware.cards import cps, tlv, vitale2
from tuibill.hardware.cards.data import CardInfo, CardType
from tuibill.hardware.cards.errors import CardDataError


def test_short_form_and_padding():
    data = bytes.fromhex("80 03 414243 81 00 00 00 00")

    items = tlv.parse(data)

    assert [(i.tag, i.value) for i in items] == [(0x80, b"ABC"), (0x81, b"")]


def test_ff_padding_also_ends_the_list():
    assert [i.tag for i in tlv.parse(bytes.fromhex("80 01 41 FF FF FF"))] == [0x80]


@pytest.mark.parametrize(
    "encoded, length",
    [("81 05", 5), ("81 80", 128), ("82 01 2C", 300), ("82 00 03", 3), ("83 00 01 00", 256)],
)
def test_long_form_lengths(encoded, length):
    data = bytes.fromhex("80") + bytes.fromhex(encoded) + bytes(range(256)) * 2

    item = tlv.parse(data[: 1 + len(bytes.fromhex(encoded)) + length])[0]

    assert item.tag == 0x80 and len(item.value) == length


def test_multi_byte_tags_and_nesting():
    certificate = tlv.encode(0x7F21, tlv.encode(0x5F37, b"\x01\x02") + tlv.encode(0x5F38, b"\x03"))
    data = (
        tlv.encode(0xE0, tlv.encode(0xA0, tlv.encode(0x82, b"\x11")) + tlv.encode(0x80, b"x"))
        + certificate
        + tlv.encode(0x1F8101, b"deep tag")
        + bytes(16)
    )

    pointers, cert, deep = tlv.parse(data)

    assert pointers.tag == 0xE0 and pointers.constructed
    assert pointers.find(0xA0).find(0x82).value == b"\x11"
    assert pointers.find(0x80).value == b"x"
    assert cert.tag == 0x7F21 and cert.constructed
    assert cert.find(0x5F37).value == b"\x01\x02" and not cert.find(0x5F37).constructed
    assert [i.tag for i in cert.walk()] == [0x7F21, 0x5F37, 0x5F38]
    assert deep.tag == 0x1F8101 and deep.value == b"deep tag"


def test_vitale_identity_with_long_forms_parses_like_short_forms():
    fields = b"".join(
        tlv.encode(t, v, long_form=True)
        for t, v in ((0x80, b"NOM"), (0x81, b"PRENOM"), (0x82, b"19800101"))
    )
    long = tlv.parse(tlv.encode(0x65, fields, long_form=True))
    short = tlv.parse(
        tlv.encode(
            0x65,
            b"".join(
                tlv.encode(t, v)
                for t, v in ((0x80, b"NOM"), (0x81, b"PRENOM"), (0x82, b"19800101"))
            ),
        )
    )

    assert [c.value for c in long[0].children] == [c.value for c in short[0].children]


@pytest.mark.parametrize(
    "hexdata, reason",
    [
        ("80 05 4142", "au-delà de la fin"),  # length past the end
        ("65 06 80 05 414243", "au-delà de la fin"),  # inside a constructed tag
        ("7F", "étiquette tronquée"),  # truncated multi-byte tag
        ("5F", "étiquette tronquée"),
        ("1F 81 81 81 81 01", "étiquette trop longue"),
        ("80", "longueur absente"),
        ("80 82 01", "longueur tronquée"),
        ("80 80 00 00", "longueur indéfinie"),
        ("80 85 00 00 00 00 01 41", "plus de 4 octets"),
    ],
)
def test_malformed_data_is_refused_in_french(hexdata, reason):
    with pytest.raises(CardDataError, match=reason) as raised:
        tlv.parse(bytes.fromhex(hexdata))
    assert str(raised.value).startswith("Données de la carte illisibles")


def test_nesting_depth_is_bounded():
    data = b"x"
    for _ in range(tlv.MAX_DEPTH + 2):
        data = tlv.encode(0x65, data)
    with pytest.raises(CardDataError, match="imbrication"):
        tlv.parse(data)


def test_parse_one_cuts_the_filler_after_a_der_object():
    der = tlv.encode(0x30, tlv.encode(0x02, b"\x01"))
    item, size = tlv.parse_one(der + bytes(40))
    assert item.tag == 0x30 and size == len(der)
    with pytest.raises(CardDataError):
        tlv.parse_one(bytes(10))


# --- Property tests ---------------------------------------------------------------------------

CARD = CardInfo("lecteur", b"\x3b", CardType.VITALE_2)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_raise_card_data_error(data):
    for parse in (
        tlv.parse,
        tlv.parse_one,
        lambda d: vitale2.parse_beneficiaries(d, d),
        lambda d: cps.parse_holder(d, CARD),
    ):
        try:
            parse(data)
        except CardDataError:
            pass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0x65, 0x7F21, 0xA0]),
            st.lists(
                st.tuples(
                    st.sampled_from([0x80, 0x81, 0x5F37, 0x93]), st.binary(min_size=1, max_size=300)
                ),
                max_size=4,
            ),
        ),
        min_size=1,
        max_size=5,
    ),
    st.booleans(),
)
def test_encode_then_parse_round_trip(tree, long_form):
    data = b"".join(
        tlv.encode(
            outer,
            b"".join(tlv.encode(tag, value, long_form=long_form) for tag, value in inner),
            long_form=long_form,
        )
        for outer, inner in tree
    )

    parsed = tlv.parse(data + bytes(8))

    assert [(i.tag, [(c.tag, c.value) for c in i.children]) for i in parsed] == [
        (outer, list(inner)) for outer, inner in tree
    ]


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.integers(min_value=1, max_value=200))
def test_truncated_valid_data_is_refused(value, cut):
    data = tlv.encode(0x65, tlv.encode(0x80, value))
    truncated = data[: max(1, len(data) - cut)]
    with pytest.raises(CardDataError):
        tlv.parse(truncated)
