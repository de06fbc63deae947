"""docs/formats/ stays true: the layout tables are the code's, the examples read back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from format_samples import sample_arl, sample_lot

from tuibill.formats import arl as arl_format
from tuibill.formats import lot_file, records
from tuibill.transport.envelopes import LotEnvelope, arl_mail_subject

DOCS = Path(__file__).resolve().parents[3] / "docs" / "formats"


def _doc(name: str) -> str:
    return (DOCS / name).read_text(encoding="utf-8")


def _examples(text: str) -> list[bytes]:
    """The ```text blocks, each line padded back to 128 (editors may strip trailing spaces)."""
    blocks = re.findall(r"```text\n(.*?)\n```", text, flags=re.DOTALL)
    return [
        "".join(line.ljust(128) + "\n" for line in block.split("\n")).encode("latin-1")
        for block in blocks
    ]


@pytest.mark.parametrize("spec", lot_file.LOT_RECORDS, ids=lambda spec: spec.code)
def test_lot_layout_tables_match_the_code(spec):
    assert records.describe_layout(spec) in _doc("lot-file.md")


@pytest.mark.parametrize("spec", arl_format.ARL_RECORDS, ids=lambda spec: spec.code)
def test_arl_layout_tables_match_the_code(spec):
    assert records.describe_layout(spec) in _doc("arl.md")


def test_lot_example_reads_back():
    (example,) = _examples(_doc("lot-file.md"))
    assert lot_file.TuibillLotCodec().read(example) == sample_lot()


def test_arl_examples_read_back():
    positive, negative = _examples(_doc("arl.md"))
    codec = arl_format.TuibillArlCodec()
    assert codec.read(positive) == sample_arl()
    assert codec.read(negative) == sample_arl(positive=False)


def test_mail_conventions_are_documented():
    lot_doc, arl_doc = _doc("lot-file.md"), _doc("arl.md")
    assert "## Envoi par messagerie" in lot_doc
    header = sample_lot().header
    envelope = LotEnvelope(
        header.practitioner_am, header.lot_number, header.destination.destination
    )
    assert f"`{envelope.subject}`" in lot_doc
    assert f"`{envelope.attachment_name}`" in lot_doc
    assert f"`{arl_mail_subject(sample_arl(positive=False))}`" in arl_doc
    assert "`ARL_123456789_695.arl`" in arl_doc
    for code, label in arl_format.ARL_REASONS.items():
        assert f"| `{code}` | {label} |" in arl_doc
