"""What a rehearsal run yields and remembers: each step's result, the scenario's, and what the
scenario filed under each alias (``Filed``) for the steps after it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from kzgate.rehearsal import model

__all__ = [
    "STATUS",
    "SUBMIT",
    "ExpectationFailed",
    "Filed",
    "Progress",
    "ScenarioResult",
    "StepResult",
    "field_texts",
]

SUBMIT, STATUS = "ElicenseSubmitApplication_v1", "ElicenseApplicationStatus_v1"


class ExpectationFailed(Exception):
    """An expectation did not hold within its bound; the message says what was seen."""


@dataclass
class StepResult:
    index: str
    kind: str
    title: str
    status: str  # "passed" | "failed" | "error"
    message: str = ""
    seconds: float = 0.0
    key: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "passed"


@dataclass
class Filed:
    """What the scenario knows of a filed application (or a raw send) by its alias."""

    number: str = ""
    registered_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    fault: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    kind: str = "licence"  # "licence", "permit" (the seed 003 pilot), "declaration" or "send"
    applicant: str = model.DEFAULT_APPLICANT
    template: str = ""  # what was filed: the goods a declaration against it carries
    committee: model.Committee | None = None


@dataclass
class ScenarioResult:
    name: str
    file: str
    rehearses: str
    steps: list[StepResult]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


Progress = Callable[[StepResult], None]


def field_texts(element: etree._Element) -> dict[str, str]:
    """An answer's fields by local name (its direct children's texts)."""
    return {etree.QName(c).localname: c.text or "" for c in element}
