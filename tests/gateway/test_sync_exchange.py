"""A signed request from EGOV_PORTAL reaches GBDUL through the gateway and the signed answer
returns;
the message log holds all four hops, verifies, and exposes tampering."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import text

from gateway.messagelog import Direction
from kzgate.cli.main import main as kzgate
from tests.gateway.harness import ACTIVE_BIN, SERVICE, Harness, lookup, running_gateway
from tests.storage.databases import DATABASE_KINDS, database_url

GBDUL_NS = "http://kzgate.kz/simulators/gbdul/v1"


async def _exchange(gateway: Harness) -> tuple[str, object]:
    client = gateway.client("EGOV_PORTAL")
    request = client.request(SERVICE, lookup(ACTIVE_BIN))
    result = await client.post(client.signed_envelope(request))
    return request.message_id, result


@pytest.mark.parametrize("db_kind", DATABASE_KINDS)
def test_round_trip_is_logged_in_four_hops_and_tamper_evident(
    db_kind: str, shared_pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with database_url(db_kind, tmp_path) as url:
        asyncio.run(_round_trip_then_tamper(url, shared_pki, tmp_path, monkeypatch, capsys))


async def _round_trip_then_tamper(url, shared_pki, tmp_path, monkeypatch, capsys) -> None:
    async with running_gateway(shared_pki, tmp_path, database_url=url) as gateway:
        message_id, result = await _exchange(gateway)
        organization = result.response.data.find(f"{{{GBDUL_NS}}}OrganizationResponse")
        assert organization.findtext("resultCode") == "FOUND"
        assert organization.findtext("organization/bin") == ACTIVE_BIN
        assert organization.findtext("organization/status") == "ACTIVE"
        assert result.response.status_code == "SCSS001"

        hops = await gateway.context.message_log.find(correlation_id=message_id)
        assert [h.direction for h in hops] == [
            Direction.REQUEST_IN,
            Direction.REQUEST_OUT,
            Direction.RESPONSE_IN,
            Direction.RESPONSE_OUT,
        ]
        assert [(h.sender_id, h.receiver_id) for h in hops] == [
            ("EGOV_PORTAL", "GATEWAY"),
            ("GATEWAY", "GBDUL"),
            ("GBDUL", "GATEWAY"),
            ("GATEWAY", "EGOV_PORTAL"),
        ]
        assert hops[-1].body == result.envelope  # exactly the bytes the caller got
        assert {h.security_policy for h in hops} == {"shep"}

    monkeypatch.setenv("KZGATE_DATABASE_URL", url)
    monkeypatch.setenv("KZGATE_PKI_DIR", str(shared_pki))  # checkpoint signatures are checked
    assert await asyncio.to_thread(kzgate, ["log", "verify"]) == 0
    await _flip_one_body_byte(url, hops[2].seq)
    assert await asyncio.to_thread(kzgate, ["log", "verify"]) == 1
    assert str(hops[2].seq) in capsys.readouterr().out


async def _flip_one_body_byte(url: str, seq: int) -> None:
    from connectors.db import create_engine

    engine = create_engine(url)
    async with engine.begin() as conn:
        body = (
            await conn.execute(
                text("SELECT body FROM messagelog_records WHERE seq = :s"), {"s": seq}
            )
        ).scalar_one()
        edited = bytes(body).replace(b"ACTIVE", b"ACTIVF", 1)
        assert edited != bytes(body)
        await conn.execute(
            text("UPDATE messagelog_records SET body = :b WHERE seq = :s"), {"b": edited, "s": seq}
        )
    await engine.dispose()


async def test_provider_gets_the_gateways_copy_without_the_callers_password(
    gateway: Harness,
) -> None:
    message_id, _ = await _exchange(gateway)
    hops = await gateway.context.message_log.find(correlation_id=message_id)
    forwarded = etree.fromstring(hops[1].body)
    info = forwarded.find(".//requestInfo")
    assert info.find("sender/password") is None
    assert info.findtext("sender/senderId") == "EGOV_PORTAL"
    assert info.findtext("sessionId").startswith("{")
    properties = {p.findtext("key"): p.findtext("value") for p in info.findall("properties")}
    traceparent = properties.pop("traceparent")  # W3C: version-traceid-spanid-flags
    assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}", traceparent)
    assert properties == {"KZGATE_SECURITY_POLICY": "shep", "KZGATE_SENDER_SIGNATURE": "verified"}
    assert b"dev-EGOV_PORTAL" not in hops[1].body


async def test_answer_names_the_security_policy(gateway: Harness) -> None:
    client = gateway.client()
    response = await gateway.post(client.signed_envelope(client.request(SERVICE, lookup())))
    assert response.status_code == 200
    assert response.headers["X-Kzgate-Security-Policy"] == "shep"
    info = etree.fromstring(response.content).find(".//{urn:kzgate:gateway:v1}GatewayInfo")
    assert info.get("securityPolicy") == "shep"
    assert info.get("senderSignature") == "verified"


async def test_unknown_and_invalid_bins_are_business_answers(gateway: Harness) -> None:
    client = gateway.client("ELICENSE")
    not_found = await client.send(SERVICE, lookup("190340900004"))
    invalid = await client.send(SERVICE, lookup("170640582745"))
    codes = [
        r.response.data.find(f"{{{GBDUL_NS}}}OrganizationResponse").findtext("resultCode")
        for r in (not_found, invalid)
    ]
    assert codes == ["NOT_FOUND", "INVALID_BIN"]


async def test_the_gateways_answer_verifies_with_signxml(gateway: Harness) -> None:
    """An independent XML-DSig implementation accepts the bytes a caller actually receives."""
    from signxml import XMLVerifier

    _, result = await _exchange(gateway)
    gateway_cert = (gateway.pki_dir / "GATEWAY.pem").read_text()
    verified = XMLVerifier().verify(result.envelope, x509_cert=gateway_cert)
    signed_body = verified.signed_xml
    assert etree.QName(signed_body).localname == "Body"
    assert signed_body.find(f".//{{{GBDUL_NS}}}OrganizationResponse") is not None


async def test_a_round_trip_costs_two_log_commits(gateway: Harness, monkeypatch) -> None:
    """The request with its replay claim is committed before the relay (the claim requires it);
    the provider's answer and the gateway's reply go in one commit after it — an operator's disk
    syncs per exchange, and the group-committing writer can only batch what arrives together."""
    log = gateway.context.message_log
    batches: list[list[Direction]] = []
    append_many = log.append_many

    async def counted(hops, **kwargs):
        batches.append([hop.direction for hop in hops])
        return await append_many(hops, **kwargs)

    monkeypatch.setattr(log, "append_many", counted)
    message_id, result = await _exchange(gateway)
    assert result.response.status_code == "SCSS001"
    assert batches == [
        [Direction.REQUEST_IN, Direction.REQUEST_OUT],
        [Direction.RESPONSE_IN, Direction.RESPONSE_OUT],
    ]
    hops = await log.find(message_id=message_id)
    assert [(h.direction, h.outcome.value) for h in hops] == [
        (Direction.REQUEST_IN, "accepted"),
        (Direction.REQUEST_OUT, "delivered"),
        (Direction.RESPONSE_IN, "accepted"),
        (Direction.RESPONSE_OUT, "delivered"),
    ]
