"""A simulated system's business answer: a result code, a message and what it concerns.

Every simulator answers in ``data`` with ``resultCode`` and ``resultMessage`` (then the record
concerned, if any); its rules return an ``Answer`` subclass that names its own code enumeration
and record. Answers are frozen: a rule's result is a value, not a thing to update.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """The common part; a subclass adds ``code`` (its enumeration) and the record concerned."""

    model_config = ConfigDict(frozen=True)

    message: str
