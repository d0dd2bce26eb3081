"""The risk management system (ТБЖ, para 8(2), process 9): which forms of customs control a
declaration gets, from targeted profiles and a seeded random share per form.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, Field

from simulators.customs.declarations import ControlForm

__all__ = ["RiskProfile", "RiskRule"]


@dataclass(frozen=True)
class RiskRule:
    """A profile: goods whose code starts with ``code_prefix`` get ``form``."""

    code_prefix: str
    form: ControlForm


@dataclass(frozen=True)
class RiskProfile:
    """The risk system's settings: targeted profiles and a seeded random share per form.

    Random selection is a hash of the declaration number and ``seed``, so a rehearsal with the
    same seed assigns the same forms every time — and a tester can aim at a case.
    """

    rules: tuple[RiskRule, ...] = ()
    examination_share: float = 0.0
    paper_share: float = 0.0
    seed: int = 0

    def forms(self, number: str, codes: Iterable[str]) -> tuple[ControlForm, ...]:
        """The control forms for a declaration: always the documentary check, plus any other."""
        chosen = {ControlForm.DOCUMENTARY_CHECK}
        codes = list(codes)
        for rule in self.rules:
            if any(code.startswith(rule.code_prefix) for code in codes):
                chosen.add(rule.form)
        if _draw(number, self.seed, "examination") < self.examination_share:
            chosen.add(ControlForm.EXAMINATION)
        if _draw(number, self.seed, "paper") < self.paper_share:
            chosen.add(ControlForm.PAPER_ORIGINALS)
        return tuple(f for f in ControlForm if f in chosen)

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> RiskProfile:
        """The profile in settings JSON; a malformed one fails loudly at start-up."""
        settings = _RiskSettings.model_validate(data)
        return cls(
            rules=tuple(RiskRule(r.code_prefix, r.form) for r in settings.rules),
            examination_share=settings.examination_share,
            paper_share=settings.paper_share,
            seed=settings.seed,
        )


class _RuleSettings(BaseModel, frozen=True):
    code_prefix: str = Field(pattern=r"^[0-9]{1,10}$")
    form: ControlForm


class _RiskSettings(BaseModel, frozen=True, extra="forbid"):
    rules: tuple[_RuleSettings, ...] = ()
    examination_share: float = Field(default=0.0, ge=0, le=1)
    paper_share: float = Field(default=0.0, ge=0, le=1)
    seed: int = 0


def _draw(number: str, seed: int, purpose: str) -> float:
    digest = hashlib.sha256(f"{seed}/{purpose}/{number}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64
