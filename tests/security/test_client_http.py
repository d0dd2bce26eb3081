"""The client SDK's HTTP edge on respx: what it posts, and how it takes the gateway's answer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
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


def _client(egov_key: TransportKey, trust: TrustStore, http: httpx.AsyncClient) -> ShepClient:
    return ShepClient(
        gateway_url=GATEWAY,
        sender_id="EGOV_PORTAL",
        password="dev-EGOV_PORTAL",
        key=egov_key,
        trust=trust,
        http=http,
    )


def _fault() -> bytes:
    return build_fault_envelope(GatewayError(errors.XML_MALFORMED), now=datetime.now(UTC))


@respx.mock
async def test_the_request_is_a_signed_soap_post_and_a_fault_is_raised(
    egov_key: TransportKey, trust: TrustStore
) -> None:
    route = respx.post(f"{GATEWAY}/sync").respond(500, content=_fault())
    async with httpx.AsyncClient(base_url=GATEWAY) as http:
        with pytest.raises(GatewayFault) as raised:
            await _client(egov_key, trust, http).send("GbdulInfoByBin_v1", None)
    assert raised.value.info.error_code == errors.XML_MALFORMED.code
    sent = route.calls.last.request
    assert sent.headers["content-type"] == "text/xml; charset=utf-8"
    assert sent.headers["soapaction"] == '""'
    signed = verify_envelope(etree.fromstring(sent.content), trust, now=datetime.now(UTC))
    assert "EGOV_PORTAL" in signed.certificate.subject.rfc4514_string()


@respx.mock
@pytest.mark.parametrize("signer", [None, "egov"])
async def test_an_answer_not_signed_by_the_gateway_is_not_trusted(
    signer: str | None, egov_key: TransportKey, trust: TrustStore
) -> None:
    answer = etree.fromstring(response_xml())
    if signer == "egov":  # validly signed and trusted, but by a participant, not the gateway
        sign_envelope(answer, egov_key)
    respx.post(f"{GATEWAY}/sync").respond(200, content=etree.tostring(answer))
    async with httpx.AsyncClient(base_url=GATEWAY) as http:
        with pytest.raises(AnswerNotTrusted):
            await _client(egov_key, trust, http).send("GbdulInfoByBin_v1", None)
