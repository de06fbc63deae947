"""docs/formats/ stays true for the bank formats: tables from the code, examples that read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_bank_camt import sample as camt_sample
from test_bank_cfonb import SAMPLE as CFONB_SAMPLE
from test_bank_ofx import sgml

from tuibill.formats import camt, cfonb, ofx, records

DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _block(text: str, language: str) -> str:
    (block,) = re.findall(rf"```{language}\n(.*?)\n```", text, flags=re.DOTALL)
    return block


@pytest.mark.parametrize("spec", cfonb.CFONB_RECORDS, ids=lambda spec: spec.code)
def test_cfonb_layout_tables_match_the_code(spec):
    assert records.describe_layout(spec) in _doc("cfonb120.md")


def test_cfonb_example_reads_back():
    # Editors strip trailing spaces: pad each line back to 120.
    lines = _block(_doc("cfonb120.md"), "text").split("\n")
    data = "".join(line.ljust(120) + "\r\n" for line in lines).encode("latin-1")
    assert data == CFONB_SAMPLE
    (statement,) = cfonb.read_cfonb(data)
    assert statement.closing_balance_cents == 111355


def test_camt_example_validates_and_reads():
    data = (_block(_doc("camt053.md"), "xml") + "\n").encode("utf-8")
    (statement,) = camt.read_camt(data)
    assert [line.amount_cents for line in statement.lines] == [12345, -990]
    assert camt.read_camt(camt_sample("02")) == (statement,)


def test_camt_schemas_are_the_documented_files():
    import hashlib
    from importlib import resources

    doc = _doc("camt053.md")
    for version in camt.SUPPORTED_VERSIONS:
        data = resources.files("tuibill.data").joinpath(f"camt.053.{version}.xsd").read_bytes()
        assert hashlib.sha256(data).hexdigest() in doc


def test_ofx_example_reads():
    data = (_block(_doc("ofx.md"), "ofx") + "\n").encode("cp1252")
    assert data == sgml()
    (statement,) = ofx.read_ofx(data)
    assert len(statement.lines) == 3
