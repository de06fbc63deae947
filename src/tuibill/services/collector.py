"""The cyclic garbage collector paused over a batch whose many objects hold no cycle."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Meanwhile, no cyclic garbage collection. A batch's tens of thousands of rows, lines,
    records and strings (a month's billing, a lots build) hold no reference cycle: the
    collector, set off by their very number, would walk them again and again as they pile up
    (a tenth of a month's billing, ~4 % of a lots build). Reference counting frees them all the
    same.

    Afterwards the collector runs again, the objects made meanwhile put with the oldest ones
    (``freeze`` then ``unfreeze``): its next young collection would otherwise walk them all. In
    the desk, whose start-up and journals froze their heap out of the collector's scans
    (``cli.tui.imports_kept``, ``screens.paged_journal.freeze_heap``), they join it frozen:
    ``unfreeze`` would hand that whole heap back to the collector's full passes."""
    enabled = gc.isenabled()
    frozen_before = gc.get_freeze_count()  # counts them: a few ms, once a batch
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if not frozen_before:
            gc.unfreeze()
        if enabled:
            gc.enable()
