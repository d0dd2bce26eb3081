"""The README's event consumer, run as a user would, against events of a real exchange."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from gateway.paths import PROJECT_ROOT
from simulators.monitoring.payload import build_stage_event
from tests.gateway.harness import running_gateway
from tests.services import require_rabbitmq


async def test_the_readme_consumer_verifies_a_delivered_event(
    shared_pki: Path, tmp_path: Path
) -> None:
    amqp = require_rabbitmq()
    namespace = f"test-{uuid.uuid4().hex[:12]}."
    async with running_gateway(
        shared_pki, tmp_path, broker="rabbitmq", amqp_url=amqp, broker_namespace=namespace
    ) as gateway:
        consumer = await asyncio.create_subprocess_exec(
            sys.executable,
            str(PROJECT_ROOT / "examples" / "events_consumer.py"),
            "--amqp",
            amqp,
            "--exchange",
            f"{namespace}kzgate.events",
            "--binding",
            "message.delivered",
            "--gateway-cert",
            str(shared_pki / "GATEWAY.pem"),
            "--count",
            "1",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            ready = await asyncio.wait_for(consumer.stdout.readline(), 20)
            assert ready.startswith(b"listening"), ready
            portal = gateway.client("EGOV_PORTAL")
            event = build_stage_event("KZ-EVENT-1", "ISSUED", "ELICENSE", datetime.now(UTC))
            ack = await portal.send_async(portal.async_request("MonitoringStage_v1", event))
            output, _ = await asyncio.wait_for(consumer.communicate(), 20)
        finally:
            if consumer.returncode is None:
                consumer.kill()
            await gateway.context.broker.delete_topology()
    assert consumer.returncode == 0, output.decode()
    line = output.decode().strip()
    assert line.startswith(f"message.delivered {ack.message_id} DELIVERED signature ok"), line
