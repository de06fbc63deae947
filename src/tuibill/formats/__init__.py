"""The interchange files, and the registry that finds the lot and ARL codecs by name.

The content and the codecs' shape are in :mod:`tuibill.formats.codec`; each format module is a
writer and a strict reader (bytes in, dataclasses out), specified in ``docs/formats/``.

Codecs are found by name — the ``[transmission] lot_codec`` / ``arl_codec`` settings, default
``"tuibill"`` — among, in this order: those registered at run time
(:func:`register_lot_codec`), tuibill's own, and the entry points of installed packages, so that
a certified backend plugs in without touching tuibill::

    [project.entry-points."tuibill.lot_codecs"]
    sesam-vitale = "vendor_sv.codecs:SesamVitaleLotCodec"

    [project.entry-points."tuibill.arl_codecs"]
    sesam-vitale = "vendor_sv.codecs:SesamVitaleArlCodec"

Each names a zero-argument callable (usually the class) returning the codec. tuibill's own
codecs are named the same way ("module:attribute") and imported only when asked for: this module
imports no codec, so no codec module can form a circle through it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from tuibill.domain.errors import ConfigError

if TYPE_CHECKING:  # the contract, for the annotations only
    from importlib.metadata import EntryPoint

    from tuibill.formats.codec import ArlCodec, LotFileCodec

DEFAULT_CODEC = "tuibill"
LOT_CODEC_ENTRY_POINTS = "tuibill.lot_codecs"
ARL_CODEC_ENTRY_POINTS = "tuibill.arl_codecs"

Factory = Callable[[], object]


def _load(target: str) -> Factory:
    """The object a "module:attribute" string names, imported now."""
    module, _, attribute = target.partition(":")
    return cast(Factory, getattr(importlib.import_module(module), attribute))


class CodecRegistry:
    """The codecs of one kind (lot files or ARL), by name."""

    def __init__(self, what: str, group: str, own: dict[str, str]) -> None:
        self.what = what  # French, for the error: « format de lot »
        self.group = group  # the entry point group
        self.own = own  # tuibill's codecs: name → "module:attribute"
        self.registered: dict[str, Factory | str] = {}

    def register(self, name: str, factory: Factory | str) -> None:
        """*factory*: a zero-argument callable, or the "module:attribute" naming one."""
        self.registered[name] = factory

    def _entry_points(self) -> list[EntryPoint]:
        # Imported here: importlib.metadata costs ~10 ms, and the default codec never needs it
        # (the settings are checked at every start-up).
        from importlib.metadata import entry_points

        return list(entry_points(group=self.group))

    def _entry_point(self, name: str) -> EntryPoint | None:
        return next((point for point in self._entry_points() if point.name == name), None)

    def available(self) -> list[str]:
        """Every name :meth:`get` knows, sorted."""
        points = (point.name for point in self._entry_points())
        return sorted({*self.own, *self.registered, *points})

    def knows(self, name: str) -> bool:
        return name in self.registered or name in self.own or self._entry_point(name) is not None

    def unknown(self, name: str) -> str:
        """The French sentence refusing *name*, listing the names known."""
        return f"{self.what} « {name} » inconnu (disponibles : {', '.join(self.available())})."

    def get(self, name: str) -> object:
        """A new codec called *name*, or :class:`ConfigError` listing the names known."""
        factory = self.registered.get(name) or self.own.get(name)
        if factory is None:
            point = self._entry_point(name)
            if point is None:
                raise ConfigError(self.unknown(name))
            factory = point.load()
        if isinstance(factory, str):
            factory = _load(factory)
        return factory()


LOT_CODECS = CodecRegistry(
    "format de lot",
    LOT_CODEC_ENTRY_POINTS,
    {DEFAULT_CODEC: "tuibill.formats.lot_file:TuibillLotCodec"},
)
ARL_CODECS = CodecRegistry(
    "format d'ARL", ARL_CODEC_ENTRY_POINTS, {DEFAULT_CODEC: "tuibill.formats.arl:TuibillArlCodec"}
)


def get_lot_codec(name: str = DEFAULT_CODEC) -> LotFileCodec:
    """The lot codec called *name*: registered, tuibill's own, or an entry point."""
    return cast("LotFileCodec", LOT_CODECS.get(name))


def get_arl_codec(name: str = DEFAULT_CODEC) -> ArlCodec:
    """The ARL codec called *name*: registered, tuibill's own, or an entry point."""
    return cast("ArlCodec", ARL_CODECS.get(name))


def register_lot_codec(name: str, factory: Factory | str) -> None:
    LOT_CODECS.register(name, factory)


def register_arl_codec(name: str, factory: Factory | str) -> None:
    ARL_CODECS.register(name, factory)


def available_lot_codecs() -> list[str]:
    return LOT_CODECS.available()


def available_arl_codecs() -> list[str]:
    return ARL_CODECS.available()
