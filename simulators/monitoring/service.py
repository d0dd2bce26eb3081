"""MONITORING's IAsyncChannelClient endpoint: stage events pushed by the gateway, kept durably."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors import GatewayError, TrustStore, errors
from connectors.config import Settings
from connectors.roster import roster_entry
from simulators.kit.database import simulator_database_url
from simulators.kit.inbox import Inbox, InboxMessage
from simulators.kit.participant import AsyncParticipant
from simulators.monitoring.payload import PayloadError, StageEvent, parse_stage_event

SYSTEM = roster_entry("MONITORING")
SYSTEM_ID = SYSTEM.system_id


def accept_stage_event(message: InboxMessage) -> None:
    """Admit only a valid StageEvent; anything else gets ``Client.Schema.PayloadInvalid``.

    Raised inside the inbox transaction, so a refused message is not stored, and the ``Client.*``
    fault tells the gateway that resending it is pointless.
    """
    try:
        parse_stage_event(message.data_element())
    except PayloadError as exc:  # the gateway has checked the schema; this is a broken push
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc


async def stage_events(inbox: Inbox, application_number: str | None = None) -> list[StageEvent]:
    """The recorded stage events, oldest first; only one application's when a number is given."""
    events = [parse_stage_event(m.data_element()) for m in await inbox.messages()]
    if application_number is None:
        return events
    return [e for e in events if e.application_number == application_number]


def create_participant(
    pki_dir: Path, database_url: str, *, trust: TrustStore | None = None
) -> AsyncParticipant:
    return AsyncParticipant.from_pki(
        SYSTEM, pki_dir, database_url, handler=accept_stage_event, trust=trust
    )


def participant_app(pki_dir: Path, database_url: str) -> Starlette:
    participant = create_participant(pki_dir, database_url)

    async def listing(request: Request) -> Response:
        number = request.query_params.get("application")
        events = await stage_events(participant.inbox, number)
        return JSONResponse([_event_json(e) for e in events])

    return participant.app(extra_routes=[Route("/ops/stage-events", listing, methods=["GET"])])


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    return participant_app(settings.pki_dir, simulator_database_url(settings))


def _event_json(event: StageEvent) -> dict[str, str | None]:
    return {
        "applicationNumber": event.application_number,
        "stage": event.stage.value,
        "system": event.system,
        "occurredAt": event.occurred_at.isoformat(),
        "comment": event.comment,
    }
