"""EGOV_PORTAL's IAsyncChannelClient endpoint: the default inbox, no business handler yet."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from connectors import TransportKey, TrustStore
from gateway.config import Settings
from simulators.kit.inbox import Inbox
from simulators.kit.participant import AsyncParticipant
from simulators.systems import simulator_database_url

SYSTEM_ID = "EGOV_PORTAL"


def create_participant(
    pki_dir: Path, database_url: str, *, trust: TrustStore | None = None
) -> AsyncParticipant:
    return AsyncParticipant(
        system_id=SYSTEM_ID,
        key=TransportKey.from_files(pki_dir / f"{SYSTEM_ID}.pem", pki_dir / f"{SYSTEM_ID}.key"),
        trust=trust or TrustStore.from_dir(pki_dir),
        inbox=Inbox(SYSTEM_ID, database_url),
    )


def create_app(pki_dir: Path, database_url: str) -> Starlette:
    return create_participant(pki_dir, database_url).app()


def app_from_settings(settings: Settings) -> Starlette:
    """The factory ``simulators.systems`` registers (``kzgate serve simulator EGOV_PORTAL``)."""
    return create_app(settings.pki_dir, simulator_database_url(settings))
