"""The AsyncChannel end to end: accepted only once durable, delivered once, visible in
getMessageStatus at every stage, the sender told, retries and dead letters, polling receivers."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors import GatewayFault, MessageState, MessageType, ShepClient
from gateway.broker import Message
from gateway.messagelog import Direction
from gateway.registry.catalogue import DEFAULT_CATALOGUE
from simulators.monitoring.payload import build_stage_event
from tests.gateway.harness import Harness, running_gateway
from tests.waiting import eventually

STAGES = "MonitoringStage_v1"
POLLED = "KgdPollTest_v1"  # KGD has no push endpoint: it polls


def stage_event(number: str = "KZ-2026-0001") -> object:
    return build_stage_event(number, "REGISTERED", "ELICENSE", datetime.now(UTC))


@pytest.fixture
async def gateway(shared_pki: Path, tmp_path: Path) -> AsyncIterator[Harness]:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(
        DEFAULT_CATALOGUE.read_text(encoding="utf-8")
        + f'\n[services.{POLLED}]\nprovider = "KGD"\nmode = "async"\n'
        'allowed_senders = ["ELICENSE"]\n',
        encoding="utf-8",
    )
    async with running_gateway(
        shared_pki,
        tmp_path,
        catalogue_path=catalogue,
        max_delivery_attempts=3,
        retry_delays=(0.1, 0.2),
    ) as harness:
        yield harness


async def _state(client: ShepClient, message_id: str) -> MessageState:
    return (await client.message_status(message_id)).state


async def _inbox_ids(gateway: Harness) -> list[str]:
    return [m.message_id for m in await gateway.monitoring.inbox.messages()]


async def test_delivered_once_with_status_at_every_stage_and_the_sender_told(
    gateway: Harness,
) -> None:
    portal = gateway.client("EGOV_PORTAL")
    gateway.monitoring.failures.fail_next(1, "slow", seconds=1.0)
    ack = await portal.send_async(portal.async_request(STAGES, stage_event()))
    assert ack.message_id and ack.correlation_id == ack.message_id  # a REQUEST opens a chain
    assert await _state(portal, ack.message_id) is MessageState.ON_DELIVERY

    async def delivered() -> bool:
        return await _state(portal, ack.message_id) is MessageState.DELIVERED

    await eventually(delivered)
    assert await _inbox_ids(gateway) == [ack.message_id]
    receiver_view = await gateway.client("MONITORING").message_status(ack.message_id)
    assert receiver_view.state is MessageState.DELIVERED

    async def told() -> bool:
        notices = await gateway.portal.inbox.notices()
        return any(n.message_id == ack.message_id and n.state == "DELIVERED" for n in notices)

    await eventually(told)
    hops = await gateway.context.message_log.find(message_id=ack.message_id)
    assert [h.direction for h in hops][:2] == [Direction.REQUEST_IN, Direction.REQUEST_OUT]
    assert b"dev-EGOV_PORTAL" not in hops[1].body  # the receiver never sees the password


async def test_a_resend_gets_the_same_ack_and_is_delivered_once(gateway: Harness) -> None:
    portal = gateway.client("EGOV_PORTAL")
    message_id, event = str(uuid.uuid4()), stage_event()
    first = await portal.send_async(portal.async_request(STAGES, event, message_id=message_id))
    again = await portal.send_async(portal.async_request(STAGES, event, message_id=message_id))
    assert (again.message_id, again.correlation_id) == (first.message_id, first.correlation_id)

    async def settled() -> bool:
        return await _state(portal, message_id) is MessageState.DELIVERED

    await eventually(settled)
    await asyncio.sleep(0.3)  # room for a wrong second delivery to arrive
    assert await _inbox_ids(gateway) == [message_id]

    with pytest.raises(GatewayFault) as reused:
        await portal.send_async(
            portal.async_request(STAGES, stage_event("KZ-OTHER"), message_id=message_id)
        )
    assert reused.value.info.error_code == "Client.Async.MessageIdReused"


async def test_transient_failures_are_retried_until_delivered(gateway: Harness) -> None:
    portal = gateway.client("EGOV_PORTAL")
    gateway.monitoring.failures.fail_next(2, "http-503")
    ack = await portal.send_async(portal.async_request(STAGES, stage_event()))

    async def delivered() -> bool:
        return await _state(portal, ack.message_id) is MessageState.DELIVERED

    await eventually(delivered)
    assert await _inbox_ids(gateway) == [ack.message_id]


async def test_a_receiver_failing_every_attempt_is_dead_lettered_then_replayed(
    gateway: Harness,
) -> None:
    portal = gateway.client("EGOV_PORTAL")
    gateway.monitoring.failures.fail_next(3, "http-503")  # max_delivery_attempts = 3
    ack = await portal.send_async(portal.async_request(STAGES, stage_event()))

    async def dead() -> bool:
        return await _state(portal, ack.message_id) is MessageState.NOT_DELIVERED

    await eventually(dead)
    broker = gateway.context.broker
    letters = [d for d in await broker.dead_letters() if d.message.message_id == ack.message_id]
    assert len(letters) == 1 and "503" in letters[0].reason
    status = await portal.message_status(ack.message_id)
    assert "503" in status.status_message

    assert await broker.replay_dead_letter(ack.message_id)

    async def delivered() -> bool:
        return await _state(portal, ack.message_id) is MessageState.DELIVERED

    await eventually(delivered)
    assert await _inbox_ids(gateway) == [ack.message_id]


async def test_a_refusal_is_dead_lettered_at_once_and_the_queue_keeps_flowing(
    gateway: Harness,
) -> None:
    portal = gateway.client("EGOV_PORTAL")
    gateway.monitoring.failures.fail_next(1, "soap-client-fault")
    poison = await portal.send_async(portal.async_request(STAGES, stage_event("KZ-POISON")))
    healthy = await portal.send_async(portal.async_request(STAGES, stage_event("KZ-OK")))

    async def both_settled() -> bool:
        states = [await _state(portal, m.message_id) for m in (poison, healthy)]
        return states == [MessageState.NOT_DELIVERED, MessageState.DELIVERED]

    await eventually(both_settled)
    assert await _inbox_ids(gateway) == [healthy.message_id]

    async def told() -> bool:
        notices = await gateway.portal.inbox.notices()
        return any(
            n.message_id == poison.message_id and n.state == "NOT_DELIVERED" for n in notices
        )

    await eventually(told)


async def test_a_polling_receiver_fetches_and_acknowledges(gateway: Harness) -> None:
    elicense, kgd = gateway.client("ELICENSE"), gateway.client("KGD")
    ack = await elicense.send_async(elicense.async_request(POLLED, stage_event()))
    fetched = await kgd.get_messages(POLLED)
    assert [m.info.message_id for m in fetched] == [ack.message_id]
    assert fetched[0].info.password is None
    assert await _state(elicense, ack.message_id) is MessageState.ON_DELIVERY

    await kgd.acknowledge(ack.message_id, POLLED)
    assert await _state(elicense, ack.message_id) is MessageState.DELIVERED
    assert await kgd.get_messages(POLLED) == []


async def test_only_the_receiver_polls_and_only_the_parties_ask(gateway: Harness) -> None:
    elicense = gateway.client("ELICENSE")
    ack = await elicense.send_async(elicense.async_request(POLLED, stage_event()))
    with pytest.raises(GatewayFault) as not_receiver:
        await elicense.get_messages(POLLED)
    assert not_receiver.value.info.error_code == "Client.Async.NotReceiver"
    with pytest.raises(GatewayFault) as stranger:
        await gateway.client("GBDUL").message_status(ack.message_id)
    assert stranger.value.info.error_code == "Client.Async.UnknownMessage"


async def test_a_reply_must_carry_its_chain(gateway: Harness) -> None:
    portal = gateway.client("EGOV_PORTAL")
    request = portal.async_request(STAGES, stage_event(), message_type=MessageType.NOTIFICATION)
    with pytest.raises(GatewayFault) as refused:
        await portal.send_async(request)
    assert refused.value.info.error_code == "Client.Async.CorrelationRequired"


async def test_events_reach_amqp_style_subscribers(gateway: Harness) -> None:
    received: list[Message] = []

    async def collect(delivery) -> None:
        received.append(delivery.message)
        await delivery.ack()

    subscription = await gateway.context.broker.subscribe_events("message.#", collect)
    portal = gateway.client("EGOV_PORTAL")
    ack = await portal.send_async(portal.async_request(STAGES, stage_event()))

    async def both() -> bool:
        states = {m.headers.get("state") for m in received if m.message_id == ack.message_id}
        return {"ON_DELIVERY", "DELIVERED"} <= states

    await eventually(both)
    await subscription.cancel()
    event = next(m for m in received if m.headers.get("state") == "DELIVERED")
    assert event.headers["serviceId"] == STAGES and event.headers["sender"] == "EGOV_PORTAL"
    assert b"StageEvent" in event.body and b"ds:Signature" in event.body
