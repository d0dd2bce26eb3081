"""Fault injection as the gateway meets it: on a SyncChannel provider and an AsyncChannel one.

Both endpoints apply the same injector: HTTP 503s, signed SOAP faults, down windows on the
simulator's (virtual) clock; ``/ops/faults`` and ``/ops/clock`` steer them, ``/health`` stays up.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx2
import pytest
from lxml import etree

from connectors import (
    SOAP_ENV,
    SyncRequest,
    TrustStore,
    build_request_envelope,
    parse_document,
    parse_fault,
)
from simulators.kit.clock import KZ_TIME, VirtualClock
from simulators.kit.inbox import Inbox
from simulators.kit.participant import AsyncParticipant
from simulators.kit.provider import ProviderResult, SyncProvider
from tests.simulators.pushing import client_of, key_of, push_envelope, signed, signer_of

MORNING = datetime(2026, 7, 7, 9, 30, tzinfo=KZ_TIME)
SYNC_PATH, ASYNC_PATH = "/shep/sync", "/shep/async"


class Counter:
    """The provider's business handler: counts the requests that reached the system."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: SyncRequest) -> ProviderResult:
        self.calls += 1
        return ProviderResult(payload=etree.fromstring("<pong/>"))


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(MORNING)


@pytest.fixture
def counter() -> Counter:
    return Counter()


@pytest.fixture
def provider(pki: Path, clock: VirtualClock, counter: Counter) -> SyncProvider:
    return SyncProvider(
        system_id="GBDUL",
        key=key_of(pki, "GBDUL"),
        trust=TrustStore.from_dir(pki),
        handler=counter,
        wsdl_file="GBDUL.wsdl",
        clock=clock,
    )


@pytest.fixture
async def http(provider: SyncProvider) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_of(provider.app()) as client:
        yield client


def sync_request(gateway_key) -> bytes:
    data = etree.Element("data")
    data.append(etree.fromstring("<ping/>"))
    request = SyncRequest(
        message_id=str(uuid.uuid4()),
        service_id="GbdulLookup",
        message_date=datetime.now(UTC),
        sender_id="ELICENSE",
        data=data,
    )
    return signed(build_request_envelope(request), gateway_key)


async def sync_post(http: httpx2.AsyncClient, gateway_key) -> httpx2.Response:
    return await http.post(
        SYNC_PATH, content=sync_request(gateway_key), headers={"Content-Type": "text/xml"}
    )


def fault_of(response: httpx2.Response) -> tuple[str, str]:
    """(soap faultcode, ErrorInfo code) of a SOAP fault answer."""
    root = parse_document(response.content, max_bytes=10_000_000, max_depth=64)
    info = parse_fault(root)
    assert info is not None
    return root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode"), info.error_code


# --- SyncProvider --------------------------------------------------------------------------------


async def test_provider_answers_normally_without_faults(
    http: httpx2.AsyncClient, counter: Counter, gateway_key
) -> None:
    response = await sync_post(http, gateway_key)
    assert response.status_code == 200
    assert counter.calls == 1


async def test_provider_one_shot_failures(
    http: httpx2.AsyncClient, provider: SyncProvider, counter: Counter, gateway_key, pki: Path
) -> None:
    provider.faults.failures.fail_next(1, "http-503")
    provider.faults.failures.fail_next(1, "soap-server-fault")
    provider.faults.failures.fail_next(1, "soap-client-fault")

    assert (await sync_post(http, gateway_key)).status_code == 503
    server = await sync_post(http, gateway_key)
    assert server.status_code == 500
    assert fault_of(server) == ("soap:Server", "Server.Simulator.Failed")
    root = parse_document(server.content, max_bytes=10_000_000, max_depth=64)
    assert signer_of(root, pki) == "GBDUL"  # an injected fault is still signed by the system
    client = await sync_post(http, gateway_key)
    assert fault_of(client) == ("soap:Client", "Client.Simulator.Refused")
    assert counter.calls == 0  # none reached the business handler

    assert (await sync_post(http, gateway_key)).status_code == 200
    assert counter.calls == 1


async def test_an_injected_fault_does_not_hide_a_bad_signature(
    http: httpx2.AsyncClient, provider: SyncProvider, pki: Path
) -> None:
    provider.faults.failures.fail_next(1, "soap-server-fault")
    response = await http.post(
        SYNC_PATH, content=sync_request(key_of(pki, "KEDEN")), headers={"Content-Type": "text/xml"}
    )
    assert fault_of(response)[1] == "Client.Security.CertificateNotSender"


async def test_provider_down_window_follows_the_virtual_clock(
    http: httpx2.AsyncClient, clock: VirtualClock, counter: Counter, gateway_key
) -> None:
    response = await http.post("/ops/faults", json={"down": [{"start": "10:00", "end": "12:00"}]})
    assert response.status_code == 200
    assert response.json()["down_now"] is False

    assert (await sync_post(http, gateway_key)).status_code == 200  # 09:30
    moved = await http.post("/ops/clock", json={"advance_seconds": 3600})  # 10:30
    assert moved.json()["now"].startswith("2026-07-07T10:30")

    assert (await sync_post(http, gateway_key)).status_code == 503
    assert (await http.get(SYNC_PATH)).status_code == 503  # the WSDL is down too
    assert (await http.get("/health")).status_code == 200  # the process is alive
    assert (await http.get("/ops/faults")).json()["down_now"] is True

    clock.advance(timedelta(hours=1, minutes=30))  # 12:00
    assert (await sync_post(http, gateway_key)).status_code == 200
    assert counter.calls == 2


async def test_provider_error_rate_over_http(
    http: httpx2.AsyncClient, counter: Counter, gateway_key
) -> None:
    await http.post("/ops/faults", json={"error_rate": 1, "error_kind": "soap-server-fault"})
    response = await sync_post(http, gateway_key)
    assert fault_of(response) == ("soap:Server", "Server.Simulator.Failed")

    cleared = (await http.delete("/ops/faults")).json()
    assert (cleared["error_rate"], cleared["pending"]) == (0.0, [])
    assert (await sync_post(http, gateway_key)).status_code == 200
    assert counter.calls == 1


async def test_bad_fault_request_is_400(http: httpx2.AsyncClient) -> None:
    response = await http.post("/ops/faults", json={"error_rate": 2})
    assert response.status_code == 400
    assert "error_rate" in response.json()["error"]


async def test_provider_reads_its_faults_from_the_environment(
    pki: Path, clock: VirtualClock, counter: Counter, gateway_key, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "KZGATE_FAULTS_GBDUL", json.dumps({"down": [{"start": "09:00", "end": "10:00"}]})
    )
    provider = SyncProvider(
        system_id="GBDUL",
        key=key_of(pki, "GBDUL"),
        trust=TrustStore.from_dir(pki),
        handler=counter,
        wsdl_file="GBDUL.wsdl",
        clock=clock,
    )
    async with client_of(provider.app()) as http:
        assert (await sync_post(http, gateway_key)).status_code == 503
    monkeypatch.setenv("KZGATE_FAULTS_GBDUL", '{"latency": "slow"}')
    with pytest.raises(ValueError, match="KZGATE_FAULTS_GBDUL"):
        SyncProvider(
            system_id="GBDUL",
            key=key_of(pki, "GBDUL"),
            trust=TrustStore.from_dir(pki),
            handler=counter,
            wsdl_file="GBDUL.wsdl",
        )


# --- AsyncParticipant ----------------------------------------------------------------------------


@pytest.fixture
async def participant_http(
    pki: Path, db_url: str, clock: VirtualClock
) -> AsyncIterator[tuple[AsyncParticipant, httpx2.AsyncClient]]:
    participant = AsyncParticipant(
        system_id="MONITORING",
        key=key_of(pki, "MONITORING"),
        trust=TrustStore.from_dir(pki),
        inbox=Inbox("MONITORING", db_url),
        clock=clock,
    )
    async with client_of(participant.app()) as client:
        yield participant, client


async def test_participant_server_fault_is_transient_and_stores_nothing(
    participant_http: tuple[AsyncParticipant, httpx2.AsyncClient], gateway_key
) -> None:
    participant, http = participant_http
    assert participant.faults.failures is participant.failures  # one queue, two names
    participant.failures.fail_next(1, "soap-server-fault")

    response = await http.post(
        ASYNC_PATH,
        content=signed(push_envelope("m-1"), gateway_key),
        headers={"Content-Type": "text/xml"},
    )
    assert fault_of(response) == ("soap:Server", "Server.Simulator.Failed")
    assert (await http.get("/ops/inbox")).json() == []

    retry = await http.post(
        ASYNC_PATH,
        content=signed(push_envelope("m-1"), gateway_key),
        headers={"Content-Type": "text/xml"},
    )
    assert retry.status_code == 200
    assert [m["messageId"] for m in (await http.get("/ops/inbox")).json()] == ["m-1"]


async def test_participant_down_window_and_clock_over_http(
    participant_http: tuple[AsyncParticipant, httpx2.AsyncClient], gateway_key
) -> None:
    _, http = participant_http
    window = {"start": "2026-07-07T10:00:00+05:00", "end": "2026-07-07T12:00:00+05:00"}
    await http.post("/ops/faults", json={"down": [window]})
    await http.post("/ops/clock", json={"set": "2026-07-07T11:00:00+05:00"})

    response = await http.post(
        ASYNC_PATH,
        content=signed(push_envelope("m-2"), gateway_key),
        headers={"Content-Type": "text/xml"},
    )
    assert response.status_code == 503
    assert (await http.get("/ops/inbox")).json() == []

    await http.post("/ops/clock", json={"set": "2026-07-07T12:00:00+05:00"})
    response = await http.post(
        ASYNC_PATH,
        content=signed(push_envelope("m-2"), gateway_key),
        headers={"Content-Type": "text/xml"},
    )
    assert response.status_code == 200
