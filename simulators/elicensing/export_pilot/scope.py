"""Does an export need a pilot permit? Destination, goods list, exemptions and the pilot window.

The answer is one of (``Scope``):

- ``PERMIT_REQUIRED`` — goods of Annex 1/2/3 exported to a CIS participating state inside the
  pilot window and under no exemption (order p.2, seed L22-29; Rules p.5, L979-981); the answer
  names the committee (order p.4–6, L52-61);
- ``NOT_LISTED`` — the code is on no annex: the pilot's permit procedure does not reach it;
- ``OUTSIDE_CIS`` — the destination is not a CIS participating state (order p.2 covers only
  export "to the territories of CIS participating states");
- ``EXEMPT`` — one of the four exemptions of order p.3 (L30-51) is evidenced;
- ``OUTSIDE_PILOT`` — before entry into force or after the pilot's year (order p.11, L86-87).

Readings (written down because the text leaves them open):

- The CIS list is not in the order. ``CIS_PARTICIPANTS`` holds the states that take part in the
  CIS today: AM, AZ, BY, KG, MD, RU, TJ, UZ, and TM (an associate member since 2005; "қатысушы
  мемлекеттер" reads as "participating", which we take to include it). Georgia (left 2009) and
  Ukraine (stopped taking part in 2018) are outside. KZ itself is not an export destination.
  Configurable: ``KZGATE_EXPORT_PILOT_CIS``.
- The publication date is not in the text (digest open point 1), so the window is configurable:
  ``KZGATE_EXPORT_PILOT_START`` (default 2026-01-01, an assumption that puts a 2026 rehearsal
  inside) and ``KZGATE_EXPORT_PILOT_END`` (default: one year later, minus one day).
- Exemption (1) needs KZ origin plus an original CT-KZ **or** a producers'-register extract;
  (2) needs a CIS origin plus a CT-1 **and** the import documents; (3) a specific-goods licence
  of the Industry Committee (its number); (4) personal-use goods in accompanied baggage within
  the EEC Council Decision No. 107 norms (the declarant states it; the norms are not modelled).
  Evidence that does not satisfy its exemption gives no exemption: the export then needs a
  permit like any other.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from simulators.elicensing.export_pilot.goods import Committee, GoodsEntry, entry_for

CIS_PARTICIPANTS = frozenset({"AM", "AZ", "BY", "KG", "MD", "RU", "TJ", "UZ", "TM"})
DEFAULT_PILOT_START = date(2026, 1, 1)


class Scope(StrEnum):
    PERMIT_REQUIRED = "PERMIT_REQUIRED"
    NOT_LISTED = "NOT_LISTED"
    OUTSIDE_CIS = "OUTSIDE_CIS"
    EXEMPT = "EXEMPT"
    OUTSIDE_PILOT = "OUTSIDE_PILOT"


class Exemption(StrEnum):
    """The four cases of order p.3 where the permit procedure does not apply (seed L30-51)."""

    KZ_ORIGIN = "KZ_ORIGIN"  # p.3(1): СТ-KZ original or the domestic producers' register
    CIS_REEXPORT = "CIS_REEXPORT"  # p.3(2): CIS origin, СТ-1 and the import documents
    SPECIFIC_GOODS_LICENCE = "SPECIFIC_GOODS_LICENCE"  # p.3(3): Industry Committee licence
    PERSONAL_BAGGAGE = "PERSONAL_BAGGAGE"  # p.3(4): EEC Council Decision No. 107 norms


class Evidence(StrEnum):
    """Documents an exporter shows for an exemption."""

    CT_KZ_ORIGINAL = "CT_KZ_ORIGINAL"  # СТ-KZ шығу тегі сертификатының түпнұсқасы
    PRODUCERS_REGISTER_EXTRACT = "PRODUCERS_REGISTER_EXTRACT"  # қазақстандық өндірушілер тізілімі
    CT_1 = "CT_1"  # СТ-1 нысанындағы сертификат
    IMPORT_DOCUMENTS = "IMPORT_DOCUMENTS"  # әкелуге негіз болған құжаттар
    SPECIFIC_GOODS_LICENCE = "SPECIFIC_GOODS_LICENCE"  # өзіндік ерекшелігі бар тауарлар лицензиясы
    PERSONAL_BAGGAGE = "PERSONAL_BAGGAGE"  # жеке пайдалануға арналған тауарлар, ілесп. багаж


@dataclass(frozen=True)
class PilotWindow:
    """The days the order is in force: from entry into force for one year (order p.11)."""

    start: date
    end: date

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> PilotWindow:
        env = os.environ if environ is None else environ
        start = date.fromisoformat(
            env.get("KZGATE_EXPORT_PILOT_START", "") or str(DEFAULT_PILOT_START)
        )
        end_text = env.get("KZGATE_EXPORT_PILOT_END", "")
        end = date.fromisoformat(end_text) if end_text else one_year_from(start)
        return cls(start, end)


def one_year_from(start: date) -> date:
    """The last day of "one year" in force from ``start`` (29 Feb starts end on 27 Feb)."""
    try:
        return start.replace(year=start.year + 1) - timedelta(days=1)
    except ValueError:
        return date(start.year + 1, 2, 28) - timedelta(days=1)


def cis_from_env(environ: dict[str, str] | None = None) -> frozenset[str]:
    env = os.environ if environ is None else environ
    text = env.get("KZGATE_EXPORT_PILOT_CIS", "")
    return frozenset(c.strip().upper() for c in text.split(",") if c.strip()) or CIS_PARTICIPANTS


@dataclass(frozen=True)
class ExportCase:
    """What an exporter (or customs) knows about one export."""

    commodity_code: str
    destination: str
    origin: str | None
    on: date
    evidence: frozenset[Evidence] = frozenset()
    specific_goods_licence: str | None = None


@dataclass(frozen=True)
class ScopeAnswer:
    scope: Scope
    reason: str
    entry: GoodsEntry | None = None
    exemption: Exemption | None = None

    @property
    def committee(self) -> Committee | None:
        return self.entry.committee if self.entry else None


def classify(
    case: ExportCase, window: PilotWindow, cis: frozenset[str] = CIS_PARTICIPANTS
) -> ScopeAnswer:
    """Whether ``case`` needs a pilot permit, and from which committee; why not otherwise."""
    if case.on not in window:
        return ScopeAnswer(
            Scope.OUTSIDE_PILOT,
            f"the pilot is in force {window.start}..{window.end} (order p.11), not on {case.on}",
        )
    entry = entry_for(case.commodity_code)
    if entry is None:
        return ScopeAnswer(
            Scope.NOT_LISTED,
            f"{case.commodity_code} is on none of Annexes 1-3 of the order: no pilot permit",
        )
    if case.destination.upper() not in cis:
        return ScopeAnswer(
            Scope.OUTSIDE_CIS,
            f"destination {case.destination} is not a CIS participating state (order p.2)",
            entry,
        )
    exemption = exemption_of(case, cis)
    if exemption is not None:
        return ScopeAnswer(
            Scope.EXEMPT, f"order p.3: {_EXEMPTION_TEXT[exemption]}", entry, exemption
        )
    return ScopeAnswer(
        Scope.PERMIT_REQUIRED,
        f"Annex {entry.annex.value} row {entry.row} ({entry.code}): permit of the "
        f"{entry.committee.value} committee (order p.{3 + entry.annex.value})",
        entry,
    )


_EXEMPTION_TEXT = {
    Exemption.KZ_ORIGIN: "(1) KZ origin with an original CT-KZ or a domestic producers' extract",
    Exemption.CIS_REEXPORT: "(2) CIS-origin goods previously imported, with CT-1 and import "
    "documents",
    Exemption.SPECIFIC_GOODS_LICENCE: "(3) covered by the Industry Committee's specific-goods "
    "licence",
    Exemption.PERSONAL_BAGGAGE: "(4) personal-use goods in accompanied baggage (EEC Decision 107)",
}


def exemption_of(case: ExportCase, cis: frozenset[str] = CIS_PARTICIPANTS) -> Exemption | None:
    """The first exemption of order p.3 that the evidence fully satisfies."""
    ev, origin = case.evidence, (case.origin or "").upper()
    if origin == "KZ" and ev & {Evidence.CT_KZ_ORIGINAL, Evidence.PRODUCERS_REGISTER_EXTRACT}:
        return Exemption.KZ_ORIGIN
    if origin in cis and origin != "KZ" and {Evidence.CT_1, Evidence.IMPORT_DOCUMENTS} <= ev:
        return Exemption.CIS_REEXPORT
    if Evidence.SPECIFIC_GOODS_LICENCE in ev and case.specific_goods_licence:
        return Exemption.SPECIFIC_GOODS_LICENCE
    if Evidence.PERSONAL_BAGGAGE in ev:
        return Exemption.PERSONAL_BAGGAGE
    return None
