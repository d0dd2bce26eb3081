"""The client SDK's HTTP edge on a mock transport: what it posts, and how it takes the gateway's
answer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx2
import pytest
from lxml import etree

from connectors import (
    AnswerNotTrusted,
    GatewayError,
    GatewayFault,
    ShepClient,
    TransportKey,
    TrustStore,
    build_fault_envelope,
    errors,
    sign_envelope,
    verify_envelope,
)
from tests.soap.samples import response_xml

GATEWAY = "http://gateway.test"


def _client(egov_key: TransportKey, trust: TrustStore, http: httpx2.AsyncClient) -> ShepClient:
    return ShepClient(
        gateway_url=GATEWAY,
        sender_id="EGOV_PORTAL",
        password="dev-EGOV_PORTAL",
        key=egov_key,
        trust=trust,
        http=http,
    )


def _gateway(status: int, body: bytes, sent: list[httpx2.Request]) -> httpx2.AsyncClient:
    """An HTTP client whose every POST to ``GATEWAY/sync`` gets ``status`` and ``body``."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        assert (request.method, str(request.url)) == ("POST", f"{GATEWAY}/sync")
        sent.append(request)
        return httpx2.Response(status, content=body)

    return httpx2.AsyncClient(base_url=GATEWAY, transport=httpx2.MockTransport(answer))


def _fault() -> bytes:
    return build_fault_envelope(GatewayError(errors.XML_MALFORMED), now=datetime.now(UTC))


async def test_the_request_is_a_signed_soap_post_and_a_fault_is_raised(
    egov_key: TransportKey, trust: TrustStore
) -> None:
    requests: list[httpx2.Request] = []
    async with _gateway(500, _fault(), requests) as http:
        with pytest.raises(GatewayFault) as raised:
            await _client(egov_key, trust, http).send("GbdulInfoByBin_v1", None)
    assert raised.value.info.error_code == errors.XML_MALFORMED.code
    (sent,) = requests
    assert sent.headers["content-type"] == "text/xml; charset=utf-8"
    assert sent.headers["soapaction"] == '""'
    signed = verify_envelope(etree.fromstring(sent.content), trust, now=datetime.now(UTC))
    assert "EGOV_PORTAL" in signed.certificate.subject.rfc4514_string()


@pytest.mark.parametrize("signer", [None, "egov"])
async def test_an_answer_not_signed_by_the_gateway_is_not_trusted(
    signer: str | None, egov_key: TransportKey, trust: TrustStore
) -> None:
    answer = etree.fromstring(response_xml())
    if signer == "egov":  # validly signed and trusted, but by a participant, not the gateway
        sign_envelope(answer, egov_key)
    async with _gateway(200, etree.tostring(answer), []) as http:
        with pytest.raises(AnswerNotTrusted):
            await _client(egov_key, trust, http).send("GbdulInfoByBin_v1", None)
