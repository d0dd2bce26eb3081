"""EGOV_PORTAL's IAsyncChannelClient endpoint: the default inbox, no business handler yet."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from connectors import TrustStore
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.kit.database import simulator_database_url
from simulators.kit.participant import AsyncParticipant

SYSTEM = roster_entry("EGOV_PORTAL")
SYSTEM_ID = SYSTEM.system_id


def create_participant(
    pki_dir: Path, database_url: str, *, trust: TrustStore | None = None
) -> AsyncParticipant:
    return AsyncParticipant.from_pki(SYSTEM, pki_dir, database_url, trust=trust)


def participant_app(pki_dir: Path, database_url: str) -> Starlette:
    return create_participant(pki_dir, database_url).app()


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    return participant_app(settings.pki_dir, simulator_database_url(settings))
