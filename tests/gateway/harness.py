"""The whole gateway in-process: its ASGI app, the real GBDUL simulator behind the dispatch seam.

Nothing is mocked: requests go through the HTTP app, the real admission checks, the message log
on a real database, the broker and provider connector, and GBDUL's own signature checks.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from lxml import etree

from connectors import ShepClient, TransportKey, TrustStore
from connectors.config import Settings
from gateway.channels.context import GatewayContext, utc_now
from gateway.http.app import create_app
from gateway.registry import load_registry
from gateway.routing import HttpDispatcher
from simulators.customs import service as customs_service
from simulators.elicensing.assembly import create_elicense
from simulators.elicensing.service import Elicense
from simulators.kit.database import simulator_database_url
from simulators.kit.participant import AsyncParticipant
from simulators.legal_entities.payload import GBDUL, build_request
from simulators.monitoring import service as monitoring_service
from simulators.portal import service as portal_service
from tests.pki import make_test_pki

GATEWAY_URL = "http://gateway.test"
SERVICE = "GbdulInfoByBin_v1"
ACTIVE_BIN = "170640582744"  # ТОО «Алтын Дала Агро» in the fixtures


def make_pki(directory: Path) -> Path:
    return make_test_pki(directory)


def copy_pki(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@dataclass
class Harness:
    settings: Settings
    context: GatewayContext
    http: httpx2.AsyncClient
    monitoring: AsyncParticipant | None = None
    portal: AsyncParticipant | None = None
    elicense: Elicense | None = None  # its worker starts with ``elicense.flow.start()``
    apps: dict[str, object] | None = None  # each simulated system's app, by system id
    app: object | None = None  # the gateway's own ASGI app (to serve it over real HTTP)
    keden: customs_service.Keden | None = None  # its clearance worker: ``keden.clearance``

    @property
    def pki_dir(self) -> Path:
        return self.settings.pki_dir

    def key_of(self, system: str) -> TransportKey:
        return TransportKey.from_files(
            self.pki_dir / f"{system}.pem", self.pki_dir / f"{system}.key"
        )

    def client(
        self,
        sender: str = "EGOV_PORTAL",
        *,
        password: str | None = None,
        key: TransportKey | None = None,
    ) -> ShepClient:
        return ShepClient(
            gateway_url=GATEWAY_URL,
            sender_id=sender,
            password=password if password is not None else f"dev-{sender}",
            key=key or self.key_of(sender),
            trust=TrustStore.from_dir(self.pki_dir),
            http=self.http,
        )

    async def post(self, body: bytes) -> httpx2.Response:
        return await self.http.post(
            "/sync", content=body, headers={"Content-Type": "text/xml; charset=utf-8"}
        )


def lookup(bin_: str = ACTIVE_BIN) -> etree._Element:
    return build_request(bin_)


@asynccontextmanager
async def running_gateway(
    pki_dir: Path, var_dir: Path, **overrides: object
) -> AsyncIterator[Harness]:
    """Start the gateway app (lifespan included) in-process; GBDUL answers behind it.

    Exchanges cross the broker (embedded unless ``broker=`` says otherwise) to the provider
    connector, whose HTTP leg reaches the GBDUL app in-process.
    """
    given_clock = overrides.pop("clock", None)
    clock = given_clock or utc_now  # the gateway checks timestamps and certificates on real time
    overrides.setdefault("broker", "embedded")
    settings = Settings(
        var_dir=var_dir,
        pki_dir_override=pki_dir,
        database_url_override=overrides.pop("database_url", None),
        **overrides,
    )
    monitoring, portal = _participants(settings)
    apps = {"GBDUL": GBDUL.provider(pki_dir).app(), "MONITORING": monitoring.app()}
    apps["EGOV_PORTAL"] = portal.app()
    keden = customs_service.create_keden(
        # KEDEN keeps business time: the process clock (virtual in the licensing world) unless a
        # test gives one, so a record valid to a pinned date is not EXPIRED by the real date.
        pki_dir,
        simulator_database_url(settings),
        clock=given_clock,
        gateway_url=GATEWAY_URL,
    )
    apps["KEDEN"] = keden.app()
    from tests.simulators.registries import registry_apps  # it imports this module

    elicense = create_elicense(
        pki_dir, simulator_database_url(settings), gateway_url=GATEWAY_URL, retry_delays=(0.05,)
    )
    apps["ELICENSE"] = elicense.app()
    async with registry_apps(settings) as registries:
        apps.update(registries)
        provider_http = HttpDispatcher(httpx2.AsyncClient(mounts=in_process_mounts(settings, apps)))
        app = create_app(settings, provider_http=provider_http, clock=clock)
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
                elicense.flow.client.http = http  # ELICENSE reaches the gateway in-process
                assert keden.clearance is not None
                keden.clearance.client.http = http  # so does KEDEN's declaration desk
                try:
                    yield Harness(
                        settings=settings,
                        context=app.state.context,
                        http=http,
                        monitoring=monitoring,
                        portal=portal,
                        elicense=elicense,
                        keden=keden,
                        apps=apps,
                        app=app,
                    )
                finally:
                    await elicense.flow.stop()
    await elicense.close()  # its register and its customs execution ledger
    await monitoring.inbox.close()
    await portal.inbox.close()
    await keden.close()


def _participants(settings: Settings) -> tuple[AsyncParticipant, AsyncParticipant]:
    url = simulator_database_url(settings)
    return (
        monitoring_service.create_participant(settings.pki_dir, url),
        portal_service.create_participant(settings.pki_dir, url),
    )


def in_process_mounts(
    settings: Settings, apps: Mapping[str, object]
) -> dict[str, httpx2.AsyncBaseTransport]:
    """Each simulated system's URL (as the catalogue computes it) served by its app in-process:
    the ``mounts`` of an ``httpx2.AsyncClient`` that reaches ``apps`` as if they listened."""
    registry = load_registry(settings.pki_dir)
    base = settings.simulator_base_port
    return {
        f"http://{settings.host}:{base + registry.senders[sid].port_offset}": httpx2.ASGITransport(
            app=app
        )
        for sid, app in apps.items()
    }
