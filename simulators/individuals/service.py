"""GBDFL's SyncChannel endpoint: the look-up by IIN served as a SHEP provider."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from connectors import GatewayError, SyncRequest, TransportKey, TrustStore, errors
from connectors.roster import roster_entry
from gateway.config import Settings
from simulators.individuals.payload import PayloadError, build_response, parse_request
from simulators.individuals.rules import look_up
from simulators.individuals.store import PersonStore, default_store
from simulators.kit.provider import Handler, ProviderResult, SyncProvider

SYSTEM = roster_entry("GBDFL")
SYSTEM_ID = SYSTEM.system_id
WSDL_FILE = SYSTEM.wsdl
SERVICE_ID = "GbdflInfoByIin_v1"


def lookup_handler(store: PersonStore) -> Handler:
    """The business function: the IIN in ``data`` → the registry's answer in ``data``."""

    def handle(request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        try:
            iin = parse_request(request.data)
        except PayloadError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        return ProviderResult(payload=build_response(look_up(iin, store)))

    return handle


def create_provider(
    pki_dir: Path, *, store: PersonStore | None = None, trust: TrustStore | None = None
) -> SyncProvider:
    return SyncProvider(
        system_id=SYSTEM_ID,
        key=TransportKey.from_files(pki_dir / f"{SYSTEM_ID}.pem", pki_dir / f"{SYSTEM_ID}.key"),
        trust=trust or TrustStore.from_dir(pki_dir),
        handler=lookup_handler(store or default_store()),
        wsdl_file=WSDL_FILE,
    )


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default."""
    settings = settings or Settings()
    return create_provider(settings.pki_dir).app()
