"""Fuzzing the NOEMIE PS reader and writer.

* whatever the bytes, ``read_return`` returns or raises ``FormatError``, nothing else;
* any content the writer accepts reads back equal (``read(write(x)) == x``);
* a file the reader accepts is canonical: writing back what was read gives its bytes, but for
  the markers of the blocks before the last (any byte but ``1``; tuibill writes ``0``). So a
  mutated valid file is refused or reads back to itself.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from noemie_samples import HEADER, LENGTHS, returns, sample_bytes, small_return

from tuibill.formats.errors import FormatError
from tuibill.formats.noemie import read_return, write_return

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALID = sample_bytes()

_NOISE = "0123456789 @PNRDFLAOCUTB\x00\n\xa0\xe9"


def canonical_markers(data: bytes) -> bytes:
    """*data* with the marker of every block but the first (header) and the last set to 0."""
    out = bytearray(data)
    for start in range(128, len(data) - 128, 128):
        out[start] = ord("0")
    return bytes(out)


def strict(data: bytes) -> object:
    """Read *data*: either FormatError (returns None) or a canonical acceptance."""
    try:
        content = read_return(data)
    except FormatError:
        return None
    assert write_return(content) == canonical_markers(data)
    return content


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """A well-cut file: the sample's header, then entities of known types with random content."""
    entities = []
    for _ in range(draw(st.integers(1, 14))):
        code = draw(st.sampled_from(sorted(LENGTHS) + ["999"]))
        length = LENGTHS.get(code, 128)
        level = draw(st.sampled_from(["01", "02", "03", "04", "05", "99", "7 "]))
        body = draw(st.text(alphabet=_NOISE, min_size=length - 6, max_size=length - 6))
        entities.append(code + level + body + draw(st.sampled_from(["@", "@", " "])))
    stream = "".join(entities)
    count = 1 + max(1, -(-len(stream) // 127))
    stream = stream.ljust((count - 1) * 127)
    blocks = [HEADER] + [
        ("1" if index == count - 2 else "0") + stream[index * 127 : (index + 1) * 127]
        for index in range(count - 1)
    ]
    return "".join(blocks).encode("latin-1")


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 3))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["byte", "byte", "text", "insert", "delete", "truncate"]))
        if op == "byte":
            data[where] = draw(st.integers(0, 255))
        elif op == "text":
            text = draw(st.text(alphabet=_NOISE, min_size=1, max_size=8)).encode("latin-1")
            data[where : where + len(text)] = text[: len(data) - where]
        elif op == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=3))
        elif op == "delete":
            del data[where : where + draw(st.integers(1, 130))]
        else:
            del data[where:]
    return bytes(data)


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data):
    strict(data)


@FUZZ
@given(st.binary(max_size=600))
def test_arbitrary_bytes_after_a_valid_header(data):
    strict(HEADER.encode("latin-1") + data)


@FUZZ
@given(streams())
def test_well_cut_garbage(data):
    strict(data)


@FUZZ
@given(returns())
def test_write_then_read_is_identity(content):
    data = write_return(content)
    assert len(data) % 128 == 0 and data[-128:-127] == b"1"
    assert read_return(data) == content


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.integers(0, 255))
def test_one_byte_changed_is_refused_or_read_back_identical(where, value):
    mutant = bytearray(VALID)
    mutant[where] = value
    strict(bytes(mutant))


@FUZZ
@given(st.data())
def test_mutated_file_is_refused_or_read_back_identical(data):
    # Mostly the hand-written sample, sometimes a generated return (wider, costlier to draw).
    pick = data.draw(st.integers(0, 3))
    if pick == 0:
        valid = write_return(data.draw(returns()))
    elif pick == 1:
        valid = write_return(small_return())
    else:
        valid = VALID
    strict(data.draw(mutated(valid)))
