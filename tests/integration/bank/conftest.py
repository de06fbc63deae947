"""Fixtures of the bank tests: an empty database, the archive in the test's folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tuibill.config import TransmissionSettings


@pytest.fixture
def transmission(db_url, tmp_path: Path) -> TransmissionSettings:
    """Settings whose archive of received files is in the test's folder."""
    return TransmissionSettings(archive_dir=str(tmp_path / "archive"))
