"""``/metrics`` after a known mix of exchanges: the counters say exactly what was sent."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors import GatewayFault, MessageState
from gateway.messagelog import make_checkpoint
from simulators.monitoring.payload import build_stage_event
from tests.gateway.harness import SERVICE, Harness, lookup, running_gateway

STAGES = "MonitoringStage_v1"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of an exposition text, keyed by name and sorted labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def _settled(gateway: Harness, message_id: str) -> MessageState:
    for _ in range(500):
        tracked = await gateway.context.tracker.get(message_id)
        if tracked is not None and tracked.state is not MessageState.ON_DELIVERY:
            return tracked.state
        await asyncio.sleep(0.02)
    raise AssertionError(f"{message_id} never settled")


async def test_counters_match_exactly_what_was_sent(observed_pki: Path, tmp_path: Path) -> None:
    async with running_gateway(
        observed_pki, tmp_path, max_delivery_attempts=2, retry_delays=(0.05,)
    ) as gateway:
        portal = gateway.client("EGOV_PORTAL")
        for _ in range(3):
            await portal.send(SERVICE, lookup())
        codes = []
        for _ in range(2):
            with pytest.raises(GatewayFault) as refused:
                await gateway.client("EGOV_PORTAL", password="guess").send(SERVICE, lookup())
            codes.append(refused.value.info.error_code)
        with pytest.raises(GatewayFault) as unknown:
            await portal.send("NoSuchService_v1", lookup())
        assert gateway.monitoring is not None
        gateway.monitoring.failures.fail_next(1, "soap-client-fault")
        event = build_stage_event("KZ-M-1", "REGISTERED", "ELICENSE", datetime.now(UTC))
        poison = await portal.send_async(portal.async_request(STAGES, event))
        assert await _settled(gateway, poison.message_id) is MessageState.NOT_DELIVERED
        # A server fault is worth another attempt: one retry, then delivered.
        gateway.monitoring.failures.fail_next(1, "soap-server-fault")
        healthy = await portal.send_async(portal.async_request(STAGES, event))
        assert await _settled(gateway, healthy.message_id) is MessageState.DELIVERED
        # The last signed checkpoint, made ten minutes ago by the gateway's clock.
        context = gateway.context
        engine = context.message_log._engine
        await make_checkpoint(engine, context.key, context.clock() - timedelta(minutes=10))

        found = samples((await gateway.http.get("/metrics")).text)
        gbdul = samples(await simulator_metrics(gateway, "GBDUL"))

    exchanges = "kzgate_exchanges_total"
    route = {"service_id": SERVICE, "sender": "EGOV_PORTAL", "channel": "sync"}
    assert value(found, exchanges, **route, receiver="GBDUL", outcome="delivered") == 3
    assert value(found, exchanges, **route, receiver="unknown", outcome="rejected") == 2
    assert codes == ["Client.Auth.WrongPassword"] * 2
    assert value(found, "kzgate_faults_total", code="Client.Auth.WrongPassword") == 2
    assert unknown.value.info.error_code == "Client.Routing.UnknownService"
    assert value(found, "kzgate_faults_total", code="Client.Routing.UnknownService") == 1
    # A serviceId the catalogue does not know is never a label of its own.
    assert not any("NoSuchService_v1" in str(key) for key in found)
    stage = {"service_id": STAGES, "sender": "EGOV_PORTAL", "channel": "async"}
    assert value(found, exchanges, **stage, receiver="MONITORING", outcome="accepted") == 2
    assert value(found, "kzgate_dead_letters_total", system="MONITORING") == 1
    assert value(found, "kzgate_delivery_retries_total", system="MONITORING") == 1
    assert 600 <= value(found, "kzgate_messagelog_checkpoint_age_seconds") < 660
    assert value(found, "kzgate_broker_queue_depth", queue="kzgate.dead-letters") == 1
    total = sum(v for (n, _), v in found.items() if n == exchanges)
    assert total == 3 + 2 + 1 + 2
    # every sync answer crossed all three legs; every answered exchange is in the histogram
    legs = "kzgate_hop_duration_seconds_count"
    for leg in ("admission", "provider", "response"):
        assert value(found, legs, channel="sync", hop=leg) == 3
    assert value(found, "kzgate_messagelog_records") > 0
    end_to_end = {"channel": "sync", "service_id": SERVICE, "outcome": "delivered"}
    assert value(found, "kzgate_exchange_duration_seconds_count", **end_to_end) == 3
    assert value(found, "kzgate_exchange_duration_seconds_bucket", **end_to_end, le="+Inf") == 3
    assert value(found, "kzgate_exchange_duration_seconds_sum", **end_to_end) > 0
    assert value(gbdul, "kzgate_simulator_requests_total", system="GBDUL", channel="sync",
                 outcome="ok") == 3  # fmt: skip


async def simulator_metrics(gateway: Harness, system: str) -> str:
    """``system``'s ``/metrics`` exposition, from its app in-process."""
    assert gateway.apps is not None
    transport = httpx2.ASGITransport(app=gateway.apps[system])
    async with httpx2.AsyncClient(transport=transport, base_url="http://sim") as http:
        response = await http.get("/metrics")
        response.raise_for_status()
        return response.text
