"""NIRs never reach a log line or a crash trace in clear."""

from __future__ import annotations

import io
import logging

import pytest

from tuibill.cli.logs import masked_handler
from tuibill.domain.masking import mask_nir


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("NIR 185057800608436 invalide", "NIR 1************** invalide"),
        ("1 85 05 78 006 084 36", "1 ** ** ** *** *** **"),
        ("2850578006084", "2************"),
        ("né en Corse : 2 85 05 2A 006 084", "né en Corse : 2 ** ** ** *** ***"),
    ],
)
def test_nirs_are_masked(text: str, masked: str) -> None:
    assert mask_nir(text) == masked


@pytest.mark.parametrize("text", ["facture 000007401", "tél 0601020304", "lot 12345678901234567"])
def test_other_numbers_are_left(text: str) -> None:
    assert mask_nir(text) == text


def test_a_log_line_and_its_exception_are_masked() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tuibill.test.masking")
    logger.addHandler(masked_handler(logging.StreamHandler(stream)))
    logger.propagate = False
    try:
        raise ValueError("NIR 185057800608436 refusé")
    except ValueError:
        logger.exception("carte lue : %s", "185057800608436")
    text = stream.getvalue()
    assert "185057800608436" not in text and "1**************" in text
