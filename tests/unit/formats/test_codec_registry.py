"""The codec registry and the settings that pick a codec; no import circle among the formats."""

from __future__ import annotations

import ast
import importlib.metadata
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

from tuibill import config, formats
from tuibill.domain.errors import ConfigError
from tuibill.formats.arl import TuibillArlCodec
from tuibill.formats.codec import ArlCodec, LotFileCodec
from tuibill.formats.lot_file import TuibillLotCodec

FORMATS = Path(formats.__file__).parent


@pytest.fixture(autouse=True)
def no_installed_codecs(monkeypatch):
    """Only tuibill's own codecs and those a test registers: the messages are exact."""
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda *, group: [])
    monkeypatch.setattr(formats.LOT_CODECS, "registered", {})
    monkeypatch.setattr(formats.ARL_CODECS, "registered", {})


# --- the settings ---------------------------------------------------------------------------


def test_the_default_settings_name_tuibill_s_own_codecs():
    settings = config.parse("")
    assert (settings.transmission.lot_codec, settings.transmission.arl_codec) == (
        "tuibill",
        "tuibill",
    )
    assert isinstance(formats.get_lot_codec(settings.transmission.lot_codec), TuibillLotCodec)
    assert isinstance(formats.get_arl_codec(settings.transmission.arl_codec), TuibillArlCodec)


@pytest.mark.parametrize(
    ("key", "what"), [("lot_codec", "format de lot"), ("arl_codec", "format d'ARL")]
)
def test_an_unknown_codec_is_refused_at_load_in_french_with_file_and_key(key, what):
    with pytest.raises(ConfigError) as caught:
        config.parse(f'[transmission]\n{key} = "sesam-vitale"\n', "/etc/tuibill/cabinet.toml")
    assert str(caught.value) == (
        f"/etc/tuibill/cabinet.toml : clé « transmission.{key} » : {what} « sesam-vitale » "
        "inconnu (disponibles : tuibill)."
    )
    assert caught.value.key == f"transmission.{key}"


def test_a_codec_registered_at_run_time_is_accepted_and_listed():
    formats.register_lot_codec("recorder", TuibillLotCodec)
    settings = config.parse('[transmission]\nlot_codec = "recorder"\n')
    assert isinstance(formats.get_lot_codec(settings.transmission.lot_codec), TuibillLotCodec)
    assert formats.available_lot_codecs() == ["recorder", "tuibill"]
    assert formats.available_arl_codecs() == ["tuibill"]


def test_a_codec_can_be_registered_by_its_module_path_and_is_imported_when_asked_for():
    formats.register_arl_codec("lazy", "tuibill.formats.arl:TuibillArlCodec")
    codec = formats.get_arl_codec("lazy")
    assert isinstance(codec, TuibillArlCodec) and isinstance(codec, ArlCodec)


def test_each_call_gives_a_new_codec():
    first, second = formats.get_lot_codec(), formats.get_lot_codec()
    assert first is not second and isinstance(first, LotFileCodec)


# --- no circles -----------------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Every module *path* imports, at any depth of the file (functions included)."""
    package = "tuibill.formats"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the package of *path*
                base = ".".join([package, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _module(path: Path) -> str:
    return "tuibill.formats" if path.stem == "__init__" else f"tuibill.formats.{path.stem}"


def test_the_formats_import_no_circle_not_even_inside_a_function():
    modules = {_module(path): path for path in FORMATS.glob("*.py")}
    graph = {
        name: {other for other in _imports(path) if other in modules and other != name}
        for name, path in modules.items()
    }
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import circle among the formats: {error.args[1]}")
    assert set(order) == set(modules)
    # The registry names tuibill's own codecs as strings: it imports none of them (the
    # contract only, for its annotations).
    assert graph["tuibill.formats"] <= {"tuibill.formats.codec"}
    # The contract imports no codec: every codec imports it.
    assert graph["tuibill.formats.codec"] == set()


def test_the_formats_import_no_layer_above_them():
    above = ("tuibill.services", "tuibill.transport", "tuibill.models", "tuibill.hardware")
    above += ("tuibill.screens", "tuibill.cli", "peewee", "textual")
    for path in FORMATS.glob("*.py"):
        wrong = sorted(name for name in _imports(path) if name.startswith(above))
        assert not wrong, f"{path.name} imports {wrong}"
