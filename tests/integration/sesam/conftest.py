"""Fixtures of the SESAM-Vitale tests: a practice, and a private emulated card bench."""

from __future__ import annotations

import pytest

from tests.support.sesam import Practice, make_practice
from tuibill.hardware.cards import EmulatedCardReader


@pytest.fixture
def setup(db_url) -> Practice:
    return make_practice()


@pytest.fixture
def reader() -> EmulatedCardReader:
    """Its own two slots (demo Vitale, demo CPS): a test's PIN tries never leak into another."""
    return EmulatedCardReader.demo()
