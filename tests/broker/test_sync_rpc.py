"""The SyncChannel RPC, both ends over each broker adapter: what the gateway gets back is what the
provider answered, or the fault that says why there was no answer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace

import pytest

from connectors import GatewayError, errors
from gateway.broker import Broker, Delivery, system_queue
from gateway.registry import Service
from gateway.routing import BrokerDispatcher, Envelope, ProviderAnswer, answer_sync_request

LOOKUP = Service("LookupByBin", "ALPHA", "http://alpha.test/sync", "sync", frozenset({"BETA"}))
ELSEWHERE = Service("PayByCard", "BETA", "http://beta.test/sync", "sync", frozenset({"ALPHA"}))
SERVICES = {s.service_id: s for s in (LOOKUP, ELSEWHERE)}


class Provider:
    """ALPHA's side of the HTTP leg: records what reached it and answers as told."""

    def __init__(self, answer: Callable[[Envelope], ProviderAnswer]) -> None:
        self.answer = answer
        self.received: list[Envelope] = []

    async def dispatch_sync(
        self, service: Service, envelope: Envelope, *, timeout: float
    ) -> ProviderAnswer:
        self.received.append(envelope)
        return self.answer(envelope)

    async def close(self) -> None:
        pass

    @property
    def description(self) -> str:
        return "in-test provider"


Serve = Callable[[Provider], Awaitable[None]]


@pytest.fixture
async def alpha(broker: Broker) -> AsyncIterator[Serve]:
    """Starts ALPHA's answering end in front of a given provider."""
    subscriptions = []

    async def serve(provider: Provider) -> None:
        async def handle(delivery: Delivery) -> None:
            await answer_sync_request(delivery, "ALPHA", SERVICES, provider, timeout=1.0)

        subscriptions.append(await broker.consume(system_queue("ALPHA"), handle))

    yield serve
    for subscription in subscriptions:
        await subscription.cancel()


def envelope(body: bytes = "<Запрос>170640582744</Запрос>".encode()) -> Envelope:
    return Envelope(body, "m-1", "c-1", "BETA")


async def test_the_provider_answer_comes_back_as_received(broker: Broker, alpha: Serve) -> None:
    provider = Provider(lambda _: ProviderAnswer(b"<soap:Fault>busy</soap:Fault>", 500))
    await alpha(provider)
    answer = await BrokerDispatcher(broker).dispatch_sync(LOOKUP, envelope(), timeout=5.0)
    assert answer == ProviderAnswer(b"<soap:Fault>busy</soap:Fault>", 500)
    assert provider.received == [envelope()]  # relayed byte for byte, with who sent it


async def test_no_answer_from_the_provider_reaches_the_gateway_as_its_fault(
    broker: Broker, alpha: Serve
) -> None:
    def silent(_: Envelope) -> ProviderAnswer:
        raise GatewayError(errors.PROVIDER_TIMEOUT, "ALPHA gave no answer in 1 s")

    await alpha(Provider(silent))
    with pytest.raises(GatewayError) as refused:
        await BrokerDispatcher(broker).dispatch_sync(LOOKUP, envelope(), timeout=5.0)
    assert refused.value.fault is errors.PROVIDER_TIMEOUT
    assert refused.value.detail == "ALPHA gave no answer in 1 s"


async def test_a_request_for_another_providers_service_is_not_relayed(
    broker: Broker, alpha: Serve
) -> None:
    provider = Provider(lambda _: ProviderAnswer(b"<ok/>", 200))
    await alpha(provider)
    # BETA's service published to ALPHA's queue, as a stale or forged request would be
    misrouted = replace(ELSEWHERE, provider="ALPHA")
    with pytest.raises(GatewayError) as refused:
        await BrokerDispatcher(broker).dispatch_sync(misrouted, envelope(), timeout=5.0)
    assert refused.value.fault is errors.PROVIDER_UNREACHABLE
    assert "not provided by ALPHA" in refused.value.detail
    assert provider.received == []
