"""Settings refused at load, in French with file and key (issue 13 #21): numbers beyond what the
program can use never reach it as an OverflowError."""

from __future__ import annotations

import pytest

from tuibill.config import parse
from tuibill.domain.errors import ConfigError


@pytest.mark.parametrize(
    ("toml", "key", "words"),
    [
        ("[transmission.smtp]\nport = 99999999999999999999", "transmission.smtp.port", "hors"),
        ("[transmission.smtp]\nport = 70000", "transmission.smtp.port", "1 à 65535"),
        ("[transmission]\narl_timeout_hours = 9999999999999", "transmission.arl_timeout_hours", "hors"),
        ("[transmission]\narl_timeout_hours = 0", "transmission.arl_timeout_hours", "1 à 8784"),
        ("[devices]\ntla_timeout = nan", "devices.tla_timeout", "hors"),
        ("[devices]\ntla_timeout = inf", "devices.tla_timeout", "hors"),
        ("[devices]\ntla_retries = -1", "devices.tla_retries", "positive"),
        ("[[practice.practitioners]]\nlast_name='A'\nfirst_name='B'\nam_number='281234567'\n"
         "invoice_number_start = 1000000000", "practice.practitioners[0].invoice_number_start",
         "hors"),
    ],
)  # fmt: skip
def test_a_number_beyond_its_range_is_refused_with_its_key(toml, key, words) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(toml, "cabinet.toml")
    message = str(caught.value)
    assert message.startswith(f"cabinet.toml : clé « {key} » :") and words in message


def test_numbers_within_range_are_taken() -> None:
    settings = parse("[transmission.smtp]\nport = 587\n[transmission]\narl_timeout_hours = 72\n")
    assert (settings.transmission.smtp.port, settings.transmission.arl_timeout_hours) == (587, 72)
