"""The models package: the lazily loaded models and the schema's lists (issue 12, start-up)."""

from __future__ import annotations

import subprocess
import sys

import peewee


def _child(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_the_lazy_models_load_on_first_use_only() -> None:
    shown = _child(
        "import sys\n"
        "import tuibill.models as m\n"
        "print('tuibill.models.homecare_billing' in sys.modules)\n"
        "from tuibill.models import Slip\n"
        "print(Slip.__module__, 'tuibill.models.payers' in sys.modules)\n"
        "print(m.Slip is Slip, 'Slip' in vars(m))\n"
    )
    assert shown == ["False", "tuibill.models.homecare_billing", "True", "True", "True"]


def test_an_unknown_name_is_still_an_attribute_error() -> None:
    import tuibill.models as models

    try:
        models.NoSuchModel  # noqa: B018
    except AttributeError as error:
        assert "NoSuchModel" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_every_model_of_the_package_is_in_the_schema_lists_once() -> None:
    shown = _child(
        "import importlib, pkgutil, peewee\n"
        "import tuibill.models as m\n"
        "defined = set()\n"
        "for info in pkgutil.iter_modules(m.__path__):\n"
        "    module = importlib.import_module(f'tuibill.models.{info.name}')\n"
        "    defined |= {f'{v.__module__}.{v.__name__}' for v in vars(module).values()\n"
        "                if isinstance(v, type) and issubclass(v, m.BaseModel)\n"
        "                and v is not m.BaseModel and v.__module__ == module.__name__}\n"
        "listed = [f'{v.__module__}.{v.__name__}' for v in m.ALL_MODELS]\n"
        "print(len(listed) == len(set(listed)), sorted(defined - set(listed)), len(defined))\n"
    )
    assert shown[:2] == ["True", "[]"]
    assert int(shown[2]) == 59  # every model class found (none missed by the walk)


def test_the_lists_by_version_hold_the_same_classes_as_their_modules() -> None:
    from tuibill import models
    from tuibill.models import bank, homecare_billing

    assert models.V6_MODELS[-1] is bank.BankMatchEvent
    assert homecare_billing.Slip in models.V8_MODELS
    assert all(issubclass(model, peewee.Model) for model in models.ALL_MODELS)
