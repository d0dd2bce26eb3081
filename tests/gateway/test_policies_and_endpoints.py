"""Security policies, production refusal, provider failures and the HTTP endpoints."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from lxml import etree

from connectors import build_request_envelope, parse_fault, sign_envelope
from connectors.config import Settings
from gateway.assembly import StartupRefused, assemble
from gateway.routing import HttpDispatcher
from simulators.legal_entities.payload import GBDUL
from tests.gateway.harness import SERVICE, Harness, lookup, running_gateway


async def test_emulator_accepts_unsigned_mail_and_flags_it(
    shared_pki: Path, tmp_path: Path
) -> None:
    async with running_gateway(shared_pki, tmp_path, security_policy="emulator") as gateway:
        client = gateway.client()
        body = etree.tostring(build_request_envelope(client.request(SERVICE, lookup())))
        response = await gateway.post(body)
        assert response.status_code == 200
        assert response.headers["X-Kzgate-Security-Policy"] == "emulator"
        info = etree.fromstring(response.content).find(".//{urn:kzgate:gateway:v1}GatewayInfo")
        assert info.get("senderSignature") == "absent"
        health = (await gateway.http.get("/health")).json()
        assert health["securityPolicy"] == "emulator"


async def test_strict_requires_a_signed_timestamp(shared_pki: Path, tmp_path: Path) -> None:
    async with running_gateway(shared_pki, tmp_path, security_policy="strict") as gateway:
        client = gateway.client()
        plain = await gateway.post(client.signed_envelope(client.request(SERVICE, lookup())))
        assert parse_fault(etree.fromstring(plain.content)).error_code == (
            "Client.Security.TimestampMissing"
        )
        envelope = build_request_envelope(client.request(SERVICE, lookup()))
        sign_envelope(envelope, client.key, with_timestamp=True)
        stamped = await gateway.post(etree.tostring(envelope))
        assert stamped.status_code == 200


async def test_production_refuses_dev_passwords_and_keys(shared_pki: Path, tmp_path: Path) -> None:
    settings = Settings(var_dir=tmp_path, pki_dir_override=shared_pki, env="production")
    with pytest.raises(StartupRefused) as refused:
        await assemble(settings)
    message = str(refused.value)
    assert "EGOV_PORTAL still has the dev password" in message
    assert "dev key" in message


async def _gateway_with_provider_transport(
    shared_pki: Path, tmp_path: Path, transport: httpx2.AsyncBaseTransport
):
    from gateway.http.app import create_app

    settings = Settings(var_dir=tmp_path, pki_dir_override=shared_pki, broker="embedded")
    provider_http = HttpDispatcher(httpx2.AsyncClient(transport=transport))
    return create_app(settings, provider_http=provider_http)


async def _call(app, gateway_client_factory) -> tuple[int, str, object]:
    async with (
        app.router.lifespan_context(app),
        httpx2.AsyncClient(
            transport=httpx2.ASGITransport(app=app), base_url="http://gateway.test"
        ) as http,
    ):
        harness = Harness(settings=app.state.context.settings, context=app.state.context, http=http)
        client = harness.client()
        response = await harness.post(client.signed_envelope(client.request(SERVICE, lookup())))
        fault = parse_fault(etree.fromstring(response.content))
        return response.status_code, fault.error_code, fault


def _raising(exc: Exception) -> httpx2.MockTransport:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise exc

    return httpx2.MockTransport(handler)


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (httpx2.ConnectError("connection refused"), "Server.Provider.Unreachable"),
        (httpx2.ReadTimeout("no answer"), "Server.Provider.Timeout"),
    ],
)
async def test_provider_that_does_not_answer(
    failure: Exception, code: str, shared_pki: Path, tmp_path: Path
) -> None:
    app = await _gateway_with_provider_transport(shared_pki, tmp_path, _raising(failure))
    status, error_code, _ = await _call(app, None)
    assert (status, error_code) == (500, code)


async def test_provider_answer_signed_with_the_wrong_key(shared_pki: Path, tmp_path: Path) -> None:
    impostor = GBDUL.provider(shared_pki)
    from connectors import TransportKey

    impostor.key = TransportKey.from_files(shared_pki / "KEDEN.pem", shared_pki / "KEDEN.key")
    app = await _gateway_with_provider_transport(
        shared_pki, tmp_path, httpx2.ASGITransport(app=impostor.app())
    )
    _, error_code, fault = await _call(app, None)
    assert error_code == "Server.Provider.SignatureRejected"
    assert "GBDUL" in fault.error_message


@pytest.mark.parametrize(
    ("status", "text", "code"),
    [
        # A provider that is down (or the proxy before it says so) is for the caller to retry …
        (503, "Service Unavailable", "Server.Provider.Unreachable"),
        (502, "Bad Gateway", "Server.Provider.Unreachable"),
        (504, "Gateway Timeout", "Server.Provider.Unreachable"),
        # … a provider that answers, but not in SOAP, is a defect to report to its owner.
        (200, "<html>hello</html>", "Server.Provider.InvalidAnswer"),
        (500, "Internal Server Error", "Server.Provider.InvalidAnswer"),
    ],
)
async def test_provider_answer_that_is_not_soap(
    status: int, text: str, code: str, shared_pki: Path, tmp_path: Path
) -> None:
    transport = httpx2.MockTransport(lambda request: httpx2.Response(status, text=text))
    app = await _gateway_with_provider_transport(shared_pki, tmp_path, transport)
    _, error_code, fault = await _call(app, None)
    assert error_code == code
    if code == "Server.Provider.Unreachable":
        assert f"HTTP {status}" in fault.error_message


async def test_provider_fault_is_relayed_as_sub_error(shared_pki: Path, tmp_path: Path) -> None:
    def failing(request):
        raise RuntimeError("database is down")

    provider = GBDUL.provider(shared_pki)
    provider.handler = failing
    app = await _gateway_with_provider_transport(
        shared_pki, tmp_path, httpx2.ASGITransport(app=provider.app())
    )
    _, error_code, fault = await _call(app, None)
    assert error_code == "Server.Provider.Fault"
    assert fault.sub_error.error_code == "Server.Internal"
    assert "database is down" not in fault.sub_error.error_message  # no internals leak


async def test_health_services_and_contracts(gateway: Harness) -> None:
    health = (await gateway.http.get("/health")).json()
    assert health["status"] == "ok"
    assert health["securityPolicy"] == "shep"
    assert health["messageLog"] == "sqlite"
    services = (await gateway.http.get("/services")).json()
    gbdul = next(s for s in services if s["serviceId"] == SERVICE)
    assert gbdul["provider"] == "GBDUL" and gbdul["mode"] == "sync"
    wsdl = await gateway.http.get(gbdul["wsdl"])
    assert wsdl.status_code == 200 and b"GbdulService" in wsdl.content
    assert b"http://gateway.test/sync" in wsdl.content
    channel = await gateway.http.get("/sync?wsdl")
    assert b"ISyncChannelHttpService" in channel.content
    imported = await gateway.http.get("/sync?wsdl=ISyncChannel.wsdl")
    assert b"ISyncChannel" in imported.content and imported.content != channel.content
    payload_xsd = await gateway.http.get(gbdul["payloadSchema"])
    assert b"OrganizationRequest" in payload_xsd.content
    assert (await gateway.http.get("/sync?xsd=../../etc/passwd")).status_code == 404
    assert (await gateway.http.get("/sync")).status_code == 400


async def test_no_connector_answering_becomes_a_provider_timeout(
    shared_pki: Path, tmp_path: Path
) -> None:
    """The RPC over the broker waits for the provider's connector; none runs here."""
    async with running_gateway(
        shared_pki, tmp_path, connectors="external", provider_timeout_seconds=0.5
    ) as gateway:
        client = gateway.client()
        response = await gateway.post(client.signed_envelope(client.request(SERVICE, lookup())))
        fault = parse_fault(etree.fromstring(response.content))
        assert (response.status_code, fault.error_code) == (500, "Server.Provider.Timeout")
