"""``kzgate attack`` and the simulators' hostile mode (issue 8, build 8).

The tool must tell a weak verifier from a sound one: against a deliberately weak endpoint it lists
the attacks it fell for; against the project's own simulators it lists none. A simulated provider
switched to hostile answers must be caught by the gateway's own verifier of provider answers.
"""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from lxml import etree

from connectors import init_pki
from connectors.attacks.catalogue import BY_NAME, attacks_for
from connectors.attacks.runner import report
from connectors.config import Settings
from gateway.messagelog import Direction
from kzgate.cli.attack import AttackRefused, attack_system
from kzgate.cli.main import main
from simulators.kit.database import simulator_database_url
from simulators.legal_entities.payload import GBDUL
from simulators.monitoring import service as monitoring_service
from tests.gateway.harness import ACTIVE_BIN, SERVICE, Harness, lookup, running_gateway
from tests.security.weak_endpoint import PATH, weak_app
from tests.simulators.pushing import client_of


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("attack-pki")
    init_pki(directory)
    return directory


def _settings(pki: Path, **overrides: object) -> Settings:
    return Settings(pki_dir_override=pki, **overrides)


async def test_a_weak_endpoint_is_listed_with_every_attack_it_fell_for(pki: Path) -> None:
    async with client_of(weak_app()) as http:
        problem, outcomes = await attack_system(
            f"{http.base_url}{PATH}".replace("//shep", "/shep"),
            "GBDUL",
            settings=_settings(pki),
            http=http,
        )
    assert problem is None
    fell = {o.attack.name for o in outcomes if o.fell}
    text = report(outcomes)
    # What a verifier without chain, revocation, owner, algorithm, structure and replay checks
    # lets through...
    assert {
        "key-untrusted-ca",
        "key-expired-certificate",
        "key-another-systems-certificate",
        "xsw-body-in-header-same-id",
        "c14n-comment-splits-signed-value",
        "c14n-inclusive",
        "alg-rsa-sha1",
        "soap-two-operations",
        "soap-content-type",
        "sig-expired-timestamp",
        "key-revoked-certificate",
        "sig-replay",
    } <= fell, text
    # ...and what it still holds: it does check the signature value and the digests.
    assert not fell & {"sig-unsigned", "sig-body-edited", "sig-value-flipped"}, text
    for name in fell:
        assert f"{name} " in text and "fell for it" in text


async def test_the_projects_own_sync_simulator_falls_for_none(pki: Path) -> None:
    async with client_of(GBDUL.provider(pki).app()) as http:
        problem, outcomes = await attack_system(
            f"{http.base_url}/shep/sync", "GBDUL", settings=_settings(pki), http=http
        )
    assert problem is None
    assert outcomes and all(o.fell is False for o in outcomes), report(outcomes)
    assert {o.attack.name for o in outcomes} == {a.name for a in attacks_for("provider")}
    # Refused for the right reason: the CRL names the certificate, the messageId was seen.
    codes = {o.attack.name: o.fault_code for o in outcomes}
    assert codes["key-revoked-certificate"] == "Client.Security.CertificateRevoked"
    assert codes["sig-replay"] == "Client.Security.Replay"


async def test_the_projects_own_async_participant_falls_for_none(pki: Path, tmp_path) -> None:
    settings = _settings(pki, var_dir=tmp_path)
    participant = monitoring_service.create_participant(pki, simulator_database_url(settings))
    async with client_of(participant.app()) as http:
        problem, outcomes = await attack_system(
            f"{http.base_url}/shep/async",
            "MONITORING",
            settings=settings,
            http=http,
            channel="async",
            payload=_stage_event(),
        )
    assert problem is None
    assert outcomes and all(o.fell is False for o in outcomes), report(outcomes)


def _stage_event():
    from datetime import UTC, datetime

    from simulators.monitoring.payload import build_stage_event

    return build_stage_event("KZ-2026-0009", "REGISTERED", "ELICENSE", datetime.now(UTC))


async def test_refused_under_production(pki: Path) -> None:
    with pytest.raises(AttackRefused, match="production"):
        await attack_system(
            "http://x/shep/sync", "GBDUL", settings=_settings(pki, env="production")
        )


def test_the_command_is_refused_under_production(
    pki: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KZGATE_ENV", "production")
    monkeypatch.setenv("KZGATE_PKI_DIR", str(pki))
    assert main(["attack", "--target", "http://127.0.0.1:9/shep/sync", "--as", "GBDUL"]) == 2
    assert "production" in capsys.readouterr().out


async def test_a_provider_in_hostile_mode_is_caught_by_the_gateway(
    pki: Path, tmp_path: Path
) -> None:
    """Each hostile answer GBDUL can be switched to is refused by the gateway's verifier of
    provider answers; the comment-split answer is relayed with the value GBDUL signed."""
    # Checking the element-flood answer takes well under a second alone, over the 5 s deadline
    # on a loaded CI machine, where the gateway rightly answers Server.Deadline instead: this
    # test is about which fault, not about the deadline (tests/gateway/test_hostile_findings.py).
    async with running_gateway(pki, tmp_path, request_deadline_seconds=60) as gateway:
        gbdul = httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=gateway.apps["GBDUL"]), base_url="http://gbdul"
        )
        client = gateway.client("ELICENSE")
        offered = (await gbdul.get("/ops/hostile")).json()["attacks"]
        # All but those needing keys a provider lacks (another system's, its CA's).
        makeable = {a.name for a in attacks_for("answer") if a.needs in (None, "foreign_key")}
        assert makeable <= set(offered)
        for attack in (BY_NAME[name] for name in offered):
            switched = await gbdul.post("/ops/hostile", json={"attack": attack.name})
            assert switched.status_code == 200
            if attack.gateway_fault is None:
                request = client.request(SERVICE, lookup())
                result = await client.post(client.signed_envelope(request))
                assert result.response.status_code == "SCSS001"
                received = await _provider_answer(gateway, request.message_id)
                assert b"<!---->" in received, "GBDUL split its answer's messageId"
                assert result.response.message_id == _signed_message_id(received), attack.name
                assert ACTIVE_BIN.encode() in etree.tostring(result.response.data)
                continue
            response = await gateway.post(client.signed_envelope(client.request(SERVICE, lookup())))
            assert response.status_code == 500, attack.name
            assert b"Server.Provider." in response.content, (attack.name, response.text[:300])
        await gbdul.post("/ops/hostile", json={"attack": None})
        assert (await client.send(SERVICE, lookup())).response.status_code == "SCSS001"
        await gbdul.aclose()


async def _provider_answer(gateway: Harness, message_id: str) -> bytes:
    """GBDUL's answer to ``message_id`` as it reached the gateway (the message log keeps it)."""
    hops = await gateway.context.message_log.find(message_id=message_id)
    return next(h.body for h in hops if h.direction is Direction.RESPONSE_IN)


def _signed_message_id(answer: bytes) -> str:
    """The answer's messageId as its signature covers it: exclusive C14N, comments left out."""
    element = etree.fromstring(answer).find(".//messageId")
    canonical = etree.tostring(element, method="c14n", exclusive=True, with_comments=False)
    return etree.fromstring(canonical).text or ""


async def test_the_hostile_switch_is_an_ops_change(pki: Path, monkeypatch) -> None:
    monkeypatch.setenv("KZGATE_ENV", "production")
    async with client_of(GBDUL.provider(pki).app()) as http:
        response = await http.post("/ops/hostile", json={"attack": "sig-value-flipped"})
        assert response.status_code == 403
        assert (await http.get("/ops/hostile")).json()["attack"] is None
