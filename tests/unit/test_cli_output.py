"""`--json` output: the standard library's indented layout, written by orjson (issue 12)."""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import IntEnum, StrEnum

import pytest

from tuibill.cli.output import _default, print_json, print_json_stream


class State(StrEnum):
    TRANSMISE = "TRANSMISE"


class Level(IntEnum):
    FIRST = 1


PAYLOAD = [
    {
        "numero": 123456789,
        "patient": "FRANÇOIS Gisèle — « née » ŒUF €",
        "etat": State.TRANSMISE,
        "niveau": Level.FIRST,
        "date": date(2026, 11, 3),
        "cree": datetime(2026, 11, 3, 10, 5, 7, 123456),
        "total": 45.6,
        "taux": 0.3333333333333333,
        "lignes": [{"code": "AMI", "coefficient": 1.5}, {"code": "IFD", "coefficient": 1}],
        "vide": [],
        "rien": {},
        "absent": None,
        "vrai": True,
        "couple": ("a", 2),
        7: "clé entière",
    },
    [],
    "texte",
]


def _stdlib(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_default)


def test_print_json_writes_what_the_standard_library_wrote(capsys) -> None:
    print_json(PAYLOAD)
    assert capsys.readouterr().out == _stdlib(PAYLOAD) + "\n"


def test_the_stream_writes_the_same_bytes_as_the_whole_list(capsys) -> None:
    print_json_stream(iter(PAYLOAD))
    streamed = capsys.readouterr().out
    print_json(PAYLOAD)
    assert streamed == capsys.readouterr().out
    print_json_stream(iter(()))
    assert capsys.readouterr().out == "[]\n"


def test_what_json_cannot_write_is_still_refused() -> None:
    with pytest.raises(TypeError):
        print_json({"ensemble": {1, 2}})
