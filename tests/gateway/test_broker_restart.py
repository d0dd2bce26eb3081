"""RabbitMQ restarted while accepted messages are queued, waiting to be retried, or being pushed:
every one is delivered, once, and the gateway's publishers and consumers reconnect by themselves."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from connectors import GatewayFault, MessageState
from simulators.monitoring.payload import build_stage_event
from tests.broker.test_rabbitmq import rabbitmqctl
from tests.gateway.harness import running_gateway
from tests.services import require_rabbitmq
from tests.waiting import eventually

# It stops the machine's RabbitMQ: ./test runs it after the parallel part, alone.
pytestmark = pytest.mark.serial

STAGES = "MonitoringStage_v1"


async def test_accepted_messages_survive_a_broker_restart(shared_pki: Path, tmp_path: Path) -> None:
    amqp = require_rabbitmq()
    async with running_gateway(
        shared_pki,
        tmp_path,
        broker="rabbitmq",
        amqp_url=amqp,
        broker_namespace=f"test-{uuid.uuid4().hex[:12]}.",
        max_delivery_attempts=20,
        retry_delays=(0.5, 1.0),
    ) as gateway:
        portal = gateway.client("EGOV_PORTAL")
        gateway.monitoring.failures.fail_next(2, "http-503")  # some wait in the retry queues
        gateway.monitoring.failures.fail_next(1, "slow", seconds=1.5)  # one is mid-push
        acks = []
        for n in range(6):
            event = build_stage_event(f"KZ-RESTART-{n}", "IN_WORK", "ELICENSE", datetime.now(UTC))
            acks.append(await portal.send_async(portal.async_request(STAGES, event)))
        try:
            await rabbitmqctl("stop_app")
            await asyncio.sleep(1.0)
        finally:
            await rabbitmqctl("start_app")

        async def all_delivered() -> bool:
            states = [(await portal.message_status(a.message_id)).state for a in acks]
            return all(s is MessageState.DELIVERED for s in states)

        await eventually(all_delivered, seconds=60)
        inbox = [m.message_id for m in await gateway.monitoring.inbox.messages()]
        assert sorted(inbox) == sorted(a.message_id for a in acks), "each delivered once"

        # The publisher reconnects by itself: a sender that meets Server.Broker.Unavailable while
        # it does resends the same message (same messageId), as the fault's hint says.
        after = build_stage_event("KZ-AFTER", "ISSUED", "ELICENSE", datetime.now(UTC))
        late_id = str(uuid.uuid4())
        late = await _send_until_accepted(portal, after, late_id)

        async def late_delivered() -> bool:
            return (await portal.message_status(late.message_id)).state is MessageState.DELIVERED

        await eventually(late_delivered, seconds=30)
        await gateway.context.broker.delete_topology()


async def _send_until_accepted(portal, event, message_id: str, *, seconds: float = 30.0):
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        try:
            return await portal.send_async(
                portal.async_request(STAGES, event, message_id=message_id)
            )
        except GatewayFault as fault:
            assert fault.info.error_code == "Server.Broker.Unavailable", fault.info.error_code
            assert asyncio.get_running_loop().time() < deadline, "the publisher never came back"
            await asyncio.sleep(0.5)
