"""GBDUL's endpoint: the look-up by BIN (``payload.GBDUL``) served as a SHEP provider."""

from __future__ import annotations

from starlette.applications import Starlette

from connectors.config import Settings
from simulators.legal_entities.payload import GBDUL

SYSTEM = GBDUL.system


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    return GBDUL.provider((settings or Settings()).pki_dir).app()
