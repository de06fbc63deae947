"""Scenario scripts and the checks the simulator makes before it starts."""

from __future__ import annotations

from datetime import datetime

import pytest
from caisse_helpers import lot_bytes, lot_mail

from tuibill.domain.errors import ConfigError
from tuibill.simulator.caisse import CaisseSimulator
from tuibill.simulator.scenarios import (
    RESPONDERS,
    Answer,
    FixedScenario,
    LotRule,
    ScriptScenario,
    load_script,
    parse_script,
    register_responder,
)

SCRIPT = """
default = "negative:003"

[[lot]]
number = 42
answers = ["silent", "positive"]

[[lot]]
practitioner = "123456789"
answers = [["negative", "silent"], "positive"]
"""


def test_parse_script():
    scenario = parse_script(SCRIPT)
    assert scenario.default == (Answer("negative", "003"),)
    first, second = scenario.rules
    assert first == LotRule(steps=((Answer("silent"),), (Answer("positive"),)), lot_number=42)
    assert second.practitioner_am == "123456789"
    assert second.steps[0] == (Answer("negative"), Answer("silent"))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("default = [", ["TOML illisible"]),
        ('mode = "positive"', ["clé « mode »", "inconnue"]),
        ("[[lot]]\nnumber = 1000\nanswers = ['positive']", ["lot[0].number", "1 à 999"]),
        ("[[lot]]\nnumber = 4\nanswers = []", ["lot[0].answers"]),
        ("[[lot]]\nnumber = 4\nanswers = [3]", ["lot[0].answers[0]"]),
        (
            "[[lot]]\npractitioner = '12'\nanswers = ['positive']",
            ["lot[0].practitioner", "9 chiffres"],
        ),
        ("[[lot]]\nnumero = 4\nanswers = ['positive']", ["lot[0].numero"]),
        ("lot = 3", ["[[lot]]"]),
    ],
)
def test_script_errors_name_file_and_key(text, words):
    with pytest.raises(ConfigError) as caught:
        parse_script(text, "scenario.toml")
    message = str(caught.value)
    assert message.startswith("scenario.toml")
    for word in words:
        assert word in message, message


def test_load_script_errors(tmp_path):
    with pytest.raises(ConfigError, match="lecture impossible"):
        load_script(tmp_path / "absent.toml")
    path = tmp_path / "script.toml"
    path.write_text(SCRIPT, encoding="utf-8")
    assert load_script(path) == parse_script(SCRIPT, str(path))


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (Answer("virement"), ["réponse « virement » inconnue", "positive", "paiement"]),
        (Answer("paiement", "x"), ["nombre de jours"]),
        (Answer("rejet", "12"), ["code de rejet à 4 chiffres"]),
        (Answer("negative", "999"), ["motif d'ARL « 999 » inconnu", "004 Lot en double"]),
        (Answer("positive", "001"), ["ne prend pas de motif"]),
        (Answer("silent", "x"), ["silence"]),
    ],
)
def test_simulator_refuses_answers_it_cannot_give(tmp_path, answer, words):
    with pytest.raises(ConfigError) as caught:
        CaisseSimulator(tmp_path / "box", FixedScenario((answer,)))
    for word in words:
        assert word in str(caught.value)


def test_simulator_refuses_an_unknown_default_reason(tmp_path):
    with pytest.raises(ConfigError, match="« 42 » inconnu"):
        CaisseSimulator(
            tmp_path / "box", FixedScenario((Answer("negative"),)), negative_reason="42"
        )


def test_sequence_steps_repeat_the_last_one(tmp_path):
    scenario = ScriptScenario(
        rules=(
            LotRule(
                steps=((Answer("negative", "004"),), (Answer("silent"),), (Answer("positive"),))
            ),
        ),
    )
    simulator = CaisseSimulator(
        tmp_path / "box", scenario, clock=lambda: datetime(2025, 3, 5, 19, 0)
    )
    raw = lot_mail(lot_bytes()).as_bytes()
    kinds = []
    for _ in range(5):
        reception = simulator.read(raw)
        kinds.append((reception.sequence, scenario.answers_for(reception)[0].kind))
    assert kinds == [
        (1, "negative"),
        (2, "silent"),
        (3, "positive"),
        (4, "positive"),
        (5, "positive"),
    ]


def test_new_answer_kinds_plug_into_the_registry(tmp_path, monkeypatch):
    """How NOEMIE-like returns will be added: a responder registered under a new kind."""
    # setitem first so that monkeypatch removes the kind again after the test.
    monkeypatch.setitem(RESPONDERS, "paiement", RESPONDERS["silent"])
    seen = []

    class Payment:
        def check(self, answer: Answer) -> None:
            return None

        def respond(self, reception, answer, context):
            seen.append((reception.lot_number, len(reception.lot.fses)))
            return []

    register_responder("paiement", Payment())
    scenario = parse_script('default = ["positive", "paiement"]')
    simulator = CaisseSimulator(
        tmp_path / "box", scenario, clock=lambda: datetime(2025, 3, 5, 19, 0)
    )
    messages = simulator.handle(lot_mail(lot_bytes()).as_bytes())
    assert [str(m["X-Tuibill-Arl"]) for m in messages] == ["POSITIF"]
    assert seen == [(42, 1)]
    assert len(list(simulator.maildir.keys())) == 1
