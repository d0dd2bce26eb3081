"""Keeping the collector off the gateway's startup objects once it serves.

A started gateway holds ~140,000 objects that live as long as the process (modules, classes,
compiled schemas, the catalogue, SQLAlchemy's tables). Every full collection walked all of them:
~100 ms of CPU, about once per 150 round trips at 8 clients, and the whole event loop stood still
meanwhile — every exchange in flight waited. Frozen into the permanent generation (``gc.freeze``),
they are no longer walked: a full collection costs ~2 ms. Collected first, so that startup garbage
is freed rather than frozen.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_heap"]

_frozen = False


def freeze_startup_heap() -> bool:
    """Freeze what is alive now, once per process; True if this call froze it.

    Once only: a process that starts many gateways (the tests) would otherwise freeze each one's
    objects, and a frozen object that later becomes garbage in a cycle is never freed.
    """
    global _frozen
    if _frozen:
        return False
    _frozen = True
    gc.collect()
    gc.freeze()
    return True
