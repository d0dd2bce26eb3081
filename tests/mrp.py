"""KGD's MRP table as a test needs it: the shipped years up to one it names, plus any it adds.

A test about "KGD has no MRP of 2027" must not start failing the day a budget law sets 2027 and
the shipped table gains it, so it points ``KZGATE_KGD_MRP_FILE`` at a table cut where it says.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from simulators.tax.store import MRP_FIXTURES


def mrp_file(directory: Path, *, last_year: int, added: Iterable[dict[str, object]] = ()) -> Path:
    """The shipped rates up to ``last_year`` and the ``added`` ones, as a file in ``directory``."""
    table = json.loads(MRP_FIXTURES.read_text(encoding="utf-8"))
    table["rates"] = [r for r in table["rates"] if r["year"] <= last_year] + list(added)
    path = directory / "mrp.json"
    path.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
    return path
