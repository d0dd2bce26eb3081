"""GBDUL's SyncChannel endpoint: the look-up by BIN served as a SHEP provider."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette

from connectors import GatewayError, SyncRequest, TransportKey, TrustStore, errors
from connectors.roster import roster_entry
from gateway.config import Settings
from simulators.kit.provider import ProviderResult, SyncProvider
from simulators.legal_entities.payload import PayloadError, build_response, parse_request
from simulators.legal_entities.rules import look_up
from simulators.legal_entities.store import OrganizationStore, default_store

SYSTEM = roster_entry("GBDUL")
SYSTEM_ID = SYSTEM.system_id
WSDL_FILE = SYSTEM.wsdl


def lookup_handler(store: OrganizationStore):
    """The business function: the BIN in ``data`` → the registry's answer in ``data``."""

    def handle(request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        try:
            bin_ = parse_request(request.data)
        except PayloadError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        return ProviderResult(payload=build_response(look_up(bin_, store)))

    return handle


def create_provider(
    pki_dir: Path, *, store: OrganizationStore | None = None, trust: TrustStore | None = None
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
