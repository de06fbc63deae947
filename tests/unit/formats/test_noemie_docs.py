"""docs/formats/noemie-ps.md stays true: its tables are the code's, its example reads back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from noemie_samples import small_return

from tuibill.formats import noemie_layout as layout
from tuibill.formats.noemie import read_return, write_return
from tuibill.formats.records import SHORT_DATE_PIVOT, describe_layout

DOC = Path(__file__).resolve().parents[3] / "docs" / "formats" / "noemie-ps.md"


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("spec", layout.ENTITIES, ids=lambda spec: spec.code)
def test_entity_tables_match_the_code(spec):
    assert f"### `{spec.code}` — {spec.label}\n\n{describe_layout(spec)}\n" in _doc()


def test_every_entity_of_the_fact_sheet_is_read():
    codes = {spec.code for spec in layout.ENTITIES}
    assert codes == set(
        "000 020 040 070 071 080 081 100 102 103 110 120 150 160 198 199 210 250 261 262 "
        "290 294 295 990 999".split()
    )


def test_example_reads_back():
    (block,) = re.findall(r"```text\n(.*?)\n```", _doc(), flags=re.DOTALL)
    data = "".join(line.ljust(128) for line in block.split("\n")).encode("latin-1")
    assert read_return(data) == small_return()
    assert write_return(small_return()) == data


def test_conventions_are_documented():
    doc = _doc()
    assert f"century pivot of {SHORT_DATE_PIVOT}" in doc
    assert f"tuibill writes `{layout.NEXT_MARKER}`" in doc
    assert "`00`–`79` are\n  2000–2079, `80`–`99` are 1980–1999" in doc
