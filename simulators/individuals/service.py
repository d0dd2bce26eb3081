"""GBDFL's endpoint: the look-up by IIN (``payload.GBDFL``) served as a SHEP provider."""

from __future__ import annotations

from starlette.applications import Starlette

from connectors.config import Settings
from simulators.individuals.payload import GBDFL

SYSTEM = GBDFL.system


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    return GBDFL.provider((settings or Settings()).pki_dir).app()
