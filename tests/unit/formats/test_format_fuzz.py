"""Fuzzing the strict readers: nothing but FormatError, and never a lossy acceptance.

Two properties for each reader:

* whatever the bytes, ``read`` returns or raises ``FormatError`` — no other exception;
* a file it accepts is canonical: writing back what was read gives the same bytes. A mutated
  valid file is thus either refused or read back identical to itself. Without resealing the
  checksum, any real change must be refused.
"""

from __future__ import annotations

import pytest
from format_samples import arls, lots, reseal, sample_arl, sample_lot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tuibill.formats import arl as arl_format
from tuibill.formats import lot_file
from tuibill.formats.errors import FormatError

LOT_CODEC = lot_file.TuibillLotCodec()
ARL_CODEC = arl_format.TuibillArlCodec()
VALID_LOT = LOT_CODEC.write(sample_lot())
VALID_ARL = ARL_CODEC.write(sample_arl(positive=False))

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Characters likely to land on a field boundary or rule: digits, spaces, codes, base64, controls.
_NOISE = "0123456789 ADNPV19AZaz+/=\x00\n\r\x7f\xa0\xe9\xb2"


def strict(codec, data: bytes) -> object:
    """Read *data*: either FormatError (returns None) or a canonical acceptance."""
    try:
        content = codec.read(data)
    except FormatError:
        return None
    assert codec.write(content) == bytes(data)
    return content


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["byte", "text", "insert", "delete", "truncate", "record"]))
        size = len(data)
        if size == 0:
            break
        where = draw(st.integers(0, size - 1))
        if op == "byte":
            data[where] = draw(st.integers(0, 255))
        elif op == "text":
            text = draw(st.text(alphabet=_NOISE, min_size=1, max_size=12)).encode("latin-1")
            data[where : where + len(text)] = text[: size - where]
        elif op == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[where : where + draw(st.integers(1, 200))]
        elif op == "truncate":
            del data[where:]
        else:  # duplicate, drop or swap whole records
            count = size // 129
            if count < 2:
                continue
            records = [bytes(data[i * 129 : (i + 1) * 129]) for i in range(count)]
            a, b = draw(st.integers(0, count - 1)), draw(st.integers(0, count - 1))
            action = draw(st.sampled_from(["dup", "drop", "swap"]))
            if action == "dup":
                records.insert(b, records[a])
            elif action == "drop":
                del records[a]
            else:
                records[a], records[b] = records[b], records[a]
            data = bytearray(b"".join(records) + bytes(data[count * 129 :]))
    return bytes(data)


@st.composite
def framed_garbage(draw: st.DrawFn, types: list[str]) -> bytes:
    """Well-framed records of plausible types with random content: deep into the field parsers."""
    records = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(types))
        body = draw(st.text(alphabet=_NOISE + "TBLOTARL", min_size=126, max_size=126))
        records.append((kind + body).replace("\n", " ").encode("latin-1") + b"\n")
    return b"".join(records)


# --- lot file -------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=3000))
def test_lot_reader_on_arbitrary_bytes(data):
    strict(LOT_CODEC, data)


@FUZZ
@given(st.data())
def test_lot_reader_on_framed_garbage(data):
    garbage = data.draw(framed_garbage(["00", "10", "11", "20", "30", "31", "90"]))
    strict(LOT_CODEC, garbage)
    strict(LOT_CODEC, reseal(garbage, lot_file.TRAILER))


@FUZZ
@given(st.data())
def test_mutated_lot_is_refused_or_identical(data):
    # Mostly the sample (cheap), sometimes a generated lot (costly to draw, wider coverage).
    valid = VALID_LOT if data.draw(st.integers(0, 3)) else LOT_CODEC.write(data.draw(lots()))
    mutant = data.draw(mutated(valid))
    # Not resealed: the checksum catches every change.
    if mutant != valid:
        with pytest.raises(FormatError):
            LOT_CODEC.read(mutant)
    # Resealed: the field and record rules alone must refuse it or read it back exactly.
    strict(LOT_CODEC, reseal(mutant, lot_file.TRAILER))


# --- ARL ------------------------------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=1500))
def test_arl_reader_on_arbitrary_bytes(data):
    strict(ARL_CODEC, data)


@FUZZ
@given(st.data())
def test_arl_reader_on_framed_garbage(data):
    garbage = data.draw(framed_garbage(["00", "10", "20", "21", "90"]))
    strict(ARL_CODEC, garbage)
    strict(ARL_CODEC, reseal(garbage, arl_format.TRAILER))


@FUZZ
@given(st.data())
def test_mutated_arl_is_refused_or_identical(data):
    valid = VALID_ARL if data.draw(st.integers(0, 3)) else ARL_CODEC.write(data.draw(arls()))
    mutant = data.draw(mutated(valid))
    if mutant != valid:
        with pytest.raises(FormatError):
            ARL_CODEC.read(mutant)
    strict(ARL_CODEC, reseal(mutant, arl_format.TRAILER))
