"""PEP's SyncChannel endpoint: create, confirm and list payments, as a SHEP provider."""

from __future__ import annotations

from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

from lxml import etree
from starlette.applications import Starlette

from connectors import SyncRequest, TrustStore
from connectors.config import Settings
from connectors.roster import roster_entry
from connectors.tracing import traced_middleware
from simulators.kit.clock import Clock, process_clock
from simulators.kit.database import simulator_database_url
from simulators.kit.payloads import read_for_service
from simulators.kit.provider import Handler, ProviderResult, SyncProvider
from simulators.payments.models import PaymentOrder
from simulators.payments.payload import (
    ConfirmQuery,
    PayerQuery,
    Request,
    build_confirm_response,
    build_create_response,
    build_lookup_response,
    parse_request,
)
from simulators.payments.rules import confirm_payment, create_payment, payments_by_payer
from simulators.payments.store import PaymentStore

SYSTEM = roster_entry("PEP")
CREATE_SERVICE = "PepCreatePayment_v1"
CONFIRM_SERVICE = "PepConfirmPayment_v1"
LOOKUP_SERVICE = "PepPaymentsByPayer_v1"
# Which request each catalogued service carries. A known serviceId with another operation's
# request is a misrouted message: refused, since answering it could create or confirm a payment
# under a service the sender may not be allowed to call.
_REQUEST_OF_SERVICE: dict[str, type] = {
    CREATE_SERVICE: PaymentOrder,
    CONFIRM_SERVICE: ConfirmQuery,
    LOOKUP_SERVICE: PayerQuery,
}


def payments_handler(store: PaymentStore, clock: Clock) -> Handler:
    """The business function: the request in ``data`` → PEP's answer in ``data``.

    Payments are dated by business time (``clock``), so under a virtual clock a fee paid
    "today" counts for the virtual year, as the licence flow that reads it expects.
    """

    async def handle(request: SyncRequest) -> ProviderResult:
        return ProviderResult(payload=await answer(_request_of(request), store, clock.now()))

    return handle


async def answer(request: Request, store: PaymentStore, now: datetime) -> etree._Element:
    """The response element for one request."""
    if isinstance(request, PaymentOrder):
        return build_create_response(await create_payment(request, store, now))
    if isinstance(request, ConfirmQuery):
        return build_confirm_response(await confirm_payment(request.payment_id, store, now))
    result = await payments_by_payer(request.payer_id, request.purpose_code, request.year, store)
    return build_lookup_response(result)


def _request_of(request: SyncRequest) -> Request:
    return read_for_service(request, parse_request, _REQUEST_OF_SERVICE)


def create_provider(
    pki_dir: Path,
    store: PaymentStore,
    *,
    trust: TrustStore | None = None,
    clock: Clock | None = None,
) -> SyncProvider:
    """PEP's provider; ``clock`` (default: the process's business clock) dates payments."""
    clock = clock or process_clock()
    handler = payments_handler(store, clock)
    return SyncProvider.from_pki(SYSTEM, pki_dir, handler, trust=trust, clock=clock)


def create_app(settings: Settings | None = None) -> Starlette:
    """What ``python -m`` serves (``kzgate up``); settings from the environment by default.

    Payments go to the simulators' database; the app closes it when it shuts down.
    """
    settings = settings or Settings()
    store = PaymentStore(simulator_database_url(settings))
    return app_of(create_provider(settings.pki_dir, store), store)


def app_of(provider: SyncProvider, store: PaymentStore) -> Starlette:
    """The provider's app with a lifespan that closes ``store``'s database on shutdown."""

    @asynccontextmanager
    async def lifespan(app: Starlette):
        yield
        await store.close()

    return Starlette(
        routes=provider.app().routes,
        lifespan=lifespan,
        middleware=traced_middleware(provider.system_id),
    )
