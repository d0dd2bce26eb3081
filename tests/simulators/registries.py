"""GBDFL, KGD and PEP behind an in-process gateway, modelled on ``tests/gateway/harness.py``.

``registry_apps`` builds the three simulators from the Settings exactly as ``kzgate up`` does, so
the shared harness can take them later with a three-line edit (import, ``apps.update``, close).
``running_gateway_with_registries`` is this package's own harness until then: the real gateway
app (lifespan, admission, message log, embedded broker, provider connector) whose provider HTTP
leg reaches the simulator apps in-process. Nothing is mocked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx2
from starlette.applications import Starlette

from connectors.config import Settings
from gateway.channels.context import utc_now
from gateway.http.app import create_app
from gateway.routing import HttpDispatcher
from simulators.individuals import service as individuals
from simulators.kit.database import simulator_database_url
from simulators.payments import service as payments
from simulators.payments.store import PaymentStore
from simulators.tax import service as tax
from tests.gateway.harness import GATEWAY_URL, Harness, in_process_mounts


@asynccontextmanager
async def registry_apps(settings: Settings) -> AsyncIterator[dict[str, Starlette]]:
    """The GBDFL, KGD and PEP apps by system id; PEP's database is closed on exit."""
    store = PaymentStore(simulator_database_url(settings))
    try:
        yield {
            "GBDFL": individuals.create_app(settings),
            "KGD": tax.create_app(settings),
            "PEP": payments.app_of(payments.create_provider(settings.pki_dir, store), store),
        }
    finally:
        await store.close()


@asynccontextmanager
async def running_gateway_with_registries(
    pki_dir: Path, var_dir: Path, database_url: str | None = None
) -> AsyncIterator[Harness]:
    """The gateway in-process with GBDFL, KGD and PEP answering behind it."""
    settings = Settings(
        var_dir=var_dir,
        pki_dir_override=pki_dir,
        database_url_override=database_url,
        broker="embedded",
    )
    async with registry_apps(settings) as apps:
        provider_http = HttpDispatcher(httpx2.AsyncClient(mounts=in_process_mounts(settings, apps)))
        app = create_app(settings, provider_http=provider_http, clock=utc_now)
        async with app.router.lifespan_context(app):
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
                yield Harness(settings=settings, context=app.state.context, http=http)
