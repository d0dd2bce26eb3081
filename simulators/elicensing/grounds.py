"""What a licence decision says: ISSUE, or REFUSE on grounds R1–R7 of licence rules para 7.

The codes R1–R7 are ours: the law (order 51-НҚ, para 7) numbers the grounds but defines no
machine-readable codes. Each ``Ground`` carries its code, the law's wording, the Kazakh title and
the specific reasoning, as it appears in the motivated refusal (Annex 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from simulators.elicensing.forms import FormModel


class GroundCode(StrEnum):
    R1 = "R1"
    R2 = "R2"
    R3 = "R3"
    R4 = "R4"
    R5 = "R5"
    R6 = "R6"
    R7 = "R7"


# code → (the law's wording in English, the Kazakh title), licence rules para 7 (15.11.2022).
GROUND_TITLES: dict[GroundCode, tuple[str, str]] = {
    GroundCode.R1: (
        "Incomplete or unreliable information in the documents submitted to obtain the licence",
        "Мәліметтердің толық емес немесе анық емес болуы",
    ),
    GroundCode.R2: (
        "Non-compliance with paragraphs 10, 11 and 12 of the Rules for issuing licences and "
        "permits for export and/or import of goods (Treaty on the Eurasian Economic Union)",
        "ЕАЭО туралы шартта бекітілген қағидалардың 10, 11 және 12-тармақтарында көзделген "
        "талаптардың сақталмауы",
    ),
    GroundCode.R3: (
        "Termination or suspension of one or more documents serving as the basis for issuing "
        "the licence",
        "Лицензия беруге негіз болатын бір немесе бірнеше құжаттар қолданысының тоқтатылуы "
        "немесе тоқтатыла тұруы",
    ),
    GroundCode.R4: (
        "Violation of the international obligations of the member states that performing the "
        "contract would entail",
        "Мүше мемлекеттердің халықаралық міндеттемелерінің бұзылуы",
    ),
    GroundCode.R5: (
        "Exhaustion or absence of the quota or tariff quota for quota-restricted goods",
        "Квотаның, сондай-ақ тарифтік квотаның бітуі не олардың болмауы",
    ),
    GroundCode.R6: (
        "Non-payment of the licence fee",
        "Лицензиялық алымның енгізілмеуі",
    ),
    GroundCode.R7: (
        "Absence of the applicant's consent to access restricted personal data "
        "(art. 8 of the Law on personal data and their protection)",
        "Дербес деректерге қол жеткізуге келісімнің болмауы",
    ),
}


class Ground(FormModel):
    """One refusal ground as it appears in the motivated refusal (Annex 4)."""

    code: GroundCode
    title: str
    title_kk: str
    reasoning: str

    @classmethod
    def of(cls, code: GroundCode, reasoning: str) -> Ground:
        title, title_kk = GROUND_TITLES[code]
        return cls(code=code, title=title, title_kk=title_kk, reasoning=reasoning)


class Outcome(StrEnum):
    ISSUE = "ISSUE"
    REFUSE = "REFUSE"


@dataclass(frozen=True)
class Decision:
    """ISSUE or REFUSE; an issued licence names the fee payment it consumes [LR p.3]."""

    outcome: Outcome
    grounds: tuple[Ground, ...] = ()
    fee_payment: str | None = None
    # Years of the applicant's payments whose MRP KGD does not know: an R6 refusal with any of
    # them is no decision at all (the flow raises an alarm instead of refusing).
    unknown_mrp_years: tuple[int, ...] = ()

    @property
    def codes(self) -> tuple[GroundCode, ...]:
        return tuple(g.code for g in self.grounds)


def ground_of(code: GroundCode, reasons: list[str]) -> Ground | None:
    """The ground ``code`` with ``reasons`` joined, or None when there are none."""
    return Ground.of(code, "; ".join(reasons)) if reasons else None
