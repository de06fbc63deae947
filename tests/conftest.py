"""Shared fixtures: a fresh, initialised SQLite database per test (real files, WAL mode)."""

from __future__ import annotations

import os
import tempfile
from datetime import date

import pytest

# Each test process gets its own data dir (platformdirs honours XDG_DATA_HOME): the emulated
# portable reader's memory and the default demo database never leak between tests or workers,
# nor into the user's real data dir.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="tuibill-tests-data-")

from tuibill.models import database, schema


def make_db(path) -> str:
    from tuibill.services import tariffs

    url = str(path)
    database.bind(url)
    schema.upgrade()
    tariffs.seed_default_tariffs()
    return url


@pytest.fixture
def db_url(tmp_path) -> str:
    """An initialised empty database (schema + NGAP tariffs)."""
    return make_db(tmp_path / "tuibill.sqlite")


@pytest.fixture
def demo_url(tmp_path) -> str:
    """An initialised database with the demo practice before any transmission, fixed on
    2026-11-23."""
    from tuibill.services.demo import build_demo

    url = make_db(tmp_path / "demo.sqlite")
    build_demo(today=date(2026, 11, 23), story=False)
    return url


@pytest.fixture
def story_url(tmp_path) -> str:
    """The whole demo (lots, ARLs, returns, the portable reader), fixed on 2026-11-23."""
    from tuibill.services.demo import build_demo

    url = make_db(tmp_path / "demo.sqlite")
    build_demo(today=date(2026, 11, 23))
    return url
