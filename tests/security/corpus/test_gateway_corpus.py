"""The hostile corpus against the running gateway, on both channels.

Every attack of ``connectors.attacks.catalogue`` that a sender can mount is sent to ``/sync`` and
``/async`` by a legitimate, registered sender (its own key and password); each must get exactly
its documented fault code — or, for the comment-split value, be answered with the signed value —
and right after each one an honest message must still be served.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import pytest_asyncio

from connectors.attacks.catalogue import AttackKit, attacks_for
from connectors.attacks.kits import (
    async_requests,
    expired_key,
    foreign_key,
    revoked_key,
    sync_requests,
)
from connectors.attacks.runner import control, judge, post
from gateway.registry import Registry
from simulators.monitoring.payload import build_stage_event
from tests.gateway.harness import SERVICE, Harness, lookup, make_pki, running_gateway

pytestmark = pytest.mark.asyncio(loop_scope="module")

STAGES = "MonitoringStage_v1"
CHANNELS = {
    # channel: (path, sender, service, payload)
    "sync": ("/sync", "ELICENSE", SERVICE, lookup),
    "async": (
        "/async",
        "EGOV_PORTAL",
        STAGES,
        lambda: build_stage_event("KZ-2026-0007", "REGISTERED", "ELICENSE", datetime.now(UTC)),
    ),
}


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def gateway(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    pki = make_pki(tmp_path_factory.mktemp("corpus-pki"))
    # Each attack must meet its own fault; the per-request deadline (5 s by default) is tested on
    # its own, and on a loaded CI machine it would otherwise answer a bomb before the parser does.
    var = tmp_path_factory.mktemp("corpus-var")
    async with running_gateway(pki, var, request_deadline_seconds=60) as harness:
        yield harness


def _forbidden(registry: Registry, sender: str, mode: str) -> str:
    return next(
        s.service_id
        for s in registry.services.values()
        if s.mode == mode and sender not in s.allowed_senders
    )


def _kit(gateway: Harness, channel: str) -> AttackKit:
    _, sender, service, payload = CHANNELS[channel]
    factory = sync_requests if channel == "sync" else async_requests
    registry = gateway.context.registry
    return AttackKit(
        fresh=factory(
            sender_id=sender, password=f"dev-{sender}", service_id=service, payload=payload
        ),
        key=gateway.key_of(sender),
        other_key=gateway.key_of("KEDEN"),
        foreign_key=foreign_key(sender),
        expired_key=expired_key(gateway.pki_dir, sender),
        revoked_key=revoked_key(gateway.pki_dir, sender),
        forbidden_service_id=_forbidden(registry, sender, channel),
        other_sender_id="KEDEN",
    )


def _cases() -> list[object]:
    return [
        pytest.param(channel, attack, id=f"{channel}-{attack.name}")
        for channel in CHANNELS
        for attack in attacks_for("gateway", channel)
    ]


@pytest.mark.parametrize(("channel", "attack"), _cases())
async def test_each_attack_gets_its_exact_fault_and_the_gateway_still_serves(
    gateway: Harness, channel, attack
) -> None:
    path = CHANNELS[channel][0]
    kit = _kit(gateway, channel)
    probe = attack.build(kit)
    assert probe is not None, "the corpus kit has every key an attack needs"
    response = await post(gateway.http, path, probe)
    if probe.send_twice:
        assert response.status_code == 200, response.text
        response = await post(gateway.http, path, probe)
    fell, code = judge(probe, response.status_code, response.content)
    if attack.gateway_fault is None:
        assert response.status_code == 200, response.text
        assert not fell, "the answer does not carry the signed value"
    else:
        assert (response.status_code, code) == (500, attack.gateway_fault), response.text[:400]
    assert await control(gateway.http, path, kit) is None, "the gateway still serves"


async def test_the_corpus_covers_every_family_on_both_channels() -> None:
    for channel in CHANNELS:
        families = {a.family for a in attacks_for("gateway", channel)}
        assert families == {
            "xsw", "key", "algorithm", "c14n", "bomb", "soap", "signature", "auth"
        }  # fmt: skip
