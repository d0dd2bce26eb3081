"""A serving gateway keeps the garbage collector off the objects it started with (see
``gateway.http.heap``), and only once per process."""

from __future__ import annotations

import gc
from pathlib import Path

from tests.gateway.harness import running_gateway


async def test_startup_objects_are_frozen_once_per_process(
    shared_pki: Path, tmp_path: Path
) -> None:
    async with running_gateway(shared_pki, tmp_path / "first"):
        frozen = gc.get_freeze_count()
        # Modules, classes, schemas, the catalogue: a full collection no longer walks them.
        assert frozen > 10_000
    async with running_gateway(shared_pki, tmp_path / "second"):
        # A second gateway in the same process (as in the tests) freezes nothing more (a second
        # freeze would add its ~100,000 live objects); frozen ones freed by reference counting
        # leave the count, so it may only shrink.
        assert gc.get_freeze_count() <= frozen
