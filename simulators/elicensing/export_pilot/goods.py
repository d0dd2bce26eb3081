"""The goods lists of the pilot (order Annexes 1–3) and the committee each one routes to.

The 164 codes are data (``goods.json``), extracted from the seed text by ``extract_from_seed``;
a test re-extracts them from the bundled seed copy and compares, so the data cannot drift from the
order. The annex notes (seed L425, L783, L903) say the code decides and the names are given "only
for convenience", so routing looks at the code alone.

Two Annex 3 entries are not 10-digit subheadings: row 7 ``8529 10`` and row 14 ``8807`` (seed
L845, L872). A declared 10-digit code therefore matches an entry by **prefix**; no entry is a
prefix of another (checked on load), so a code routes to at most one committee.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).with_name("goods.json")
SEED_FILE = Path(__file__).parent / "seed" / "003_e78d6a70b867193b.txt"
# The bundled copy is ../shared/seeds/003_e78d6a70b867193b.txt unchanged (a test checks it).
SEED_SHA256 = "34e247085a3be26a4155ae63306c81473b0bc7ff10354239220dc79ed456fd33"


class Committee(StrEnum):
    """The three permit-issuing committees (order p.4–6, seed L52-61; Rules p.6–7).

    INDUSTRY — Өнеркәсіп комитеті (Ministry of Industry and Construction), Annex 1;
    TELECOM — Телекоммуникациялар комитеті (Ministry of AI and Digital Development), Annex 2;
    CIVIL_AVIATION — Азаматтық авиация комитеті (Ministry of Transport), Annex 3.
    """

    INDUSTRY = "INDUSTRY"
    TELECOM = "TELECOM"
    CIVIL_AVIATION = "CIVIL_AVIATION"

    @property
    def annex(self) -> Annex:
        return Annex[self.value]

    @property
    def title_kk(self) -> str:
        return _TITLES_KK[self]


_TITLES_KK = {
    Committee.INDUSTRY: "Қазақстан Республикасы Өнеркәсіп және құрылыс министрлігінің "
    "Өнеркәсіп комитеті",
    Committee.TELECOM: "Қазақстан Республикасы Жасанды интеллект және цифрлық даму "
    "министрлігінің Телекоммуникациялар комитеті",
    Committee.CIVIL_AVIATION: "Қазақстан Республикасы Көлік министрлігінің Азаматтық авиация "
    "комитеті",
}


class Annex(IntEnum):
    """The order's goods annexes: 1 industrial, 2 telecom/computer, 3 aviation (order p.2)."""

    INDUSTRY = 1
    TELECOM = 2
    CIVIL_AVIATION = 3

    @property
    def committee(self) -> Committee:
        return Committee(self.name)


@dataclass(frozen=True)
class GoodsEntry:
    """One row of an annex: its code (4, 6 or 10 digits, no spaces) and the seed's name."""

    annex: Annex
    row: int
    code: str
    description: str

    @property
    def committee(self) -> Committee:
        return self.annex.committee

    def covers(self, code: str) -> bool:
        return code.startswith(self.code)


# A row starts "N. CODE" where CODE is a heading (4), a subheading (6) or a full 10-digit code
# printed in groups "NNNN NN NNN N"; the rest of the line and the following lines are the name.
_ROW = re.compile(r"^\s*(\d{1,2})\.\s+(\d{4}(?: \d{2}(?: \d{3} \d)?)?)(?=\s|$)(.*)$")
_ANNEX_HEAD = re.compile(r"^\s*(?:№ )?([1-4])-қосымша\s*$")
_NOTE = "Ескертпе."


def extract_from_seed(text: str) -> list[GoodsEntry]:
    """Every annex row of the order's text: annex, row number, code and name."""
    lines = text.splitlines()
    heads: dict[int, int] = {}
    for index, line in enumerate(lines):
        match = _ANNEX_HEAD.match(line)
        if match and int(match.group(1)) not in heads:
            heads[int(match.group(1))] = index
    entries: list[GoodsEntry] = []
    for annex in Annex:
        current: list[str] | None = None
        row = code = None
        for line in lines[heads[annex.value] : heads[annex.value + 1]]:
            match = _ROW.match(line)
            if match or _NOTE in line:
                if current is not None:
                    entries.append(GoodsEntry(annex, row, code, _name(current)))  # type: ignore[arg-type]
                current = None
            if match:
                row, code = int(match.group(1)), match.group(2).replace(" ", "")
                current = [match.group(3)]
            elif current is not None:
                current.append(line)
    return entries


def _name(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


@cache
def goods_list() -> tuple[GoodsEntry, ...]:
    """The 164 entries of Annexes 1–3, from ``goods.json``; checked for overlaps on load."""
    raw = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    entries = tuple(
        GoodsEntry(Annex(item["annex"]), item["row"], item["code"], item["description"])
        for item in raw["entries"]
    )
    overlaps = overlapping(entries)
    if overlaps:
        raise ValueError(f"goods entries overlap (a code would route twice): {overlaps}")
    return entries


def overlapping(entries: tuple[GoodsEntry, ...] | list[GoodsEntry]) -> list[tuple[str, str]]:
    """Pairs of entries where one code equals or is a prefix of the other."""
    ordered = sorted(entries, key=lambda e: e.code)
    pairs = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            if not second.code.startswith(first.code):
                break
            pairs.append(
                (f"A{first.annex.value}/{first.code}", f"A{second.annex.value}/{second.code}")
            )
    return pairs


def entry_for(code: str) -> GoodsEntry | None:
    """The annex entry covering a 10-digit commodity code, or None when the code is on no list."""
    for entry in goods_list():
        if entry.covers(code):
            return entry
    return None


def write_data(seed: Path = SEED_FILE, target: Path = DATA_FILE) -> int:
    """Regenerate ``goods.json`` from the seed text (``python -m …export_pilot.goods``)."""
    entries = extract_from_seed(seed.read_text(encoding="utf-8"))
    data = {
        "source": f"{seed.name}: order Annexes 1-3 (L103-906); code decides, names are informative",
        "entries": [
            {"annex": e.annex.value, "row": e.row, "code": e.code, "description": e.description}
            for e in entries
        ],
    }
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return len(entries)


if __name__ == "__main__":
    print(write_data())
