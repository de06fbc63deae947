"""What a widget drew for the last few keys it was asked for (rows' strips, a footer's line for a
set of keys, a scrollbar's lines for a look): asked again, given back, not drawn again."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any


class Recent:
    """The values of the *size* keys used last (None is not a value: it means not kept).

    Not Textual's ``LRUCache``: clearing it (every search) leaves its ring of links, and the
    strips they hold, as cyclic garbage that only the collector's full passes free — some 800
    objects a search, and a full pass every twenty searches walking them all (~10–20 ms during
    which no key is read). Dropped from an ordered dict, they are freed at once."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()

    def get(self, key: Any) -> Any:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def __setitem__(self, key: Any, value: Any) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[Any]:
        return list(self._items)
