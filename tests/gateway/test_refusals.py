"""Every refusal ground through the real HTTP app: a SOAP fault with its own code, signed by the
gateway, logged — and the gateway keeps serving afterwards."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import xmlsec
from lxml import etree

from connectors import ShepClient, build_request_envelope, parse_fault, sign_envelope
from connectors.wsse.pki import revoke
from gateway.messagelog import Direction, Outcome
from tests.gateway.harness import (
    SERVICE,
    Harness,
    copy_pki,
    lookup,
    make_pki,
    running_gateway,
)
from tests.security.helpers import Variant, add_timestamp, header_of, sign_variant

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def _unsigned(client: ShepClient, **changes: object) -> etree._Element:
    request = client.request(str(changes.pop("service", SERVICE)), changes.pop("payload", lookup()))
    for name, value in changes.items():
        setattr(request, name, value)
    return build_request_envelope(request)


def _signed(client: ShepClient, **changes: object) -> bytes:
    envelope = _unsigned(client, **changes)
    sign_envelope(envelope, client.key)
    return etree.tostring(envelope)


def _body(envelope: etree._Element) -> etree._Element:
    return envelope.find(f"{{{SOAP_NS}}}Body")


async def _refusal(gateway: Harness, body: bytes) -> str:
    """Post ``body``; assert it is refused properly and return the fault code."""
    response = await gateway.post(body)
    assert response.status_code == 500
    root = etree.fromstring(response.content)
    fault = parse_fault(root)
    assert fault is not None, response.text
    assert root.find(f".//{{{WSSE}}}Security") is not None, "faults are signed by the gateway"
    assert fault.error_data, "every fault carries a hint"
    assert "Traceback" not in response.text
    # ...and the gateway keeps serving.
    ok = await gateway.client("ELICENSE").send(SERVICE, lookup())
    assert ok.response.status_code == "SCSS001"
    return fault.error_code


# --- the bytes ---------------------------------------------------------------------------------


async def test_malformed_xml(gateway: Harness) -> None:
    assert await _refusal(gateway, b"<soap:Envelope><unclosed>") == "Client.Xml.Malformed"


async def test_xxe_is_refused_and_never_resolved(gateway: Harness) -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body>&x;</e:Body>'
        b"</e:Envelope>"
    )
    response = await gateway.post(body)
    assert b"root:" not in response.content
    assert await _refusal(gateway, body) == "Client.Xml.ExternalEntity"


async def test_entity_expansion_is_refused(gateway: Harness) -> None:
    entities = "".join(
        f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY l0 "lol">{entities}]>'
        f'<e:Envelope xmlns:e="{SOAP_NS}"><e:Body>&l9;</e:Body></e:Envelope>'
    ).encode()
    assert await _refusal(gateway, body) == "Client.Xml.EntityDeclaration"


async def test_oversized_message(gateway: Harness) -> None:
    limit = gateway.settings.max_message_bytes
    body = b"<a>" + b"x" * limit + b"</a>"
    assert await _refusal(gateway, body) == "Client.Xml.TooLarge"
    assert await _stored_request_size(gateway, "Client.Xml.TooLarge") == 0, "not stored"


async def test_an_unsigned_refusal_keeps_only_its_first_64_kib(gateway: Harness) -> None:
    """Anyone can send unsigned junk: each refusal must not cost the log's disk its whole size."""
    cap = gateway.settings.log_unverified_max_bytes
    assert cap == 64 * 1024
    junk = f'<e:Envelope xmlns:e="{SOAP_NS}"><e:Body><x>'.encode()
    junk += b"y" * (2 * 1024 * 1024) + b"</x></e:Body></e:Envelope>"
    code = await _refusal(gateway, junk)
    assert await _stored_request_size(gateway, code) == cap


async def test_a_refusal_after_the_signature_checked_out_is_kept_whole(gateway: Harness) -> None:
    """A registered system's refused request (here a replay) is evidence against it: kept byte
    for byte, however long."""
    payload = lookup()
    payload[0].tail = " " * (100 * 1024)  # whitespace the schema ignores, under the signature
    body = _signed(gateway.client(), payload=payload)
    first = await gateway.post(body)
    assert first.status_code == 200
    assert await _refusal(gateway, body) == "Client.Security.Replay"
    assert await _stored_request_size(gateway, "Client.Security.Replay") == len(body)


async def _stored_request_size(gateway: Harness, fault_code: str) -> int:
    # An unreadable request has no messageId to look it up by: find it by its fault code.
    from sqlalchemy import text

    from connectors.db import create_engine

    engine = create_engine(gateway.settings.database_url)
    async with engine.connect() as conn:
        row = await conn.execute(
            text(
                "SELECT length(body) FROM messagelog_records"
                " WHERE fault_code = :code AND direction = 'request-in'"
            ),
            {"code": fault_code},
        )
        size = row.scalar_one()
    await engine.dispose()
    return size


async def test_too_deep(gateway: Harness) -> None:
    depth = gateway.settings.max_xml_depth + 5
    payload = etree.fromstring("<a>" * depth + "</a>" * depth)
    body = _signed(gateway.client(), payload=payload)
    assert await _refusal(gateway, body) == "Client.Xml.TooDeep"


async def test_not_an_envelope(gateway: Harness) -> None:
    assert await _refusal(gateway, b"<hello/>") == "Client.Soap.NotEnvelope"


async def test_schema_invalid(gateway: Harness) -> None:
    envelope = _unsigned(gateway.client())
    service = envelope.find(".//requestInfo/serviceId")
    service.getparent().remove(service)
    sign_envelope(envelope, gateway.client().key)
    assert await _refusal(gateway, etree.tostring(envelope)) == "Client.Schema.Invalid"


async def test_payload_breaking_the_service_schema(gateway: Harness) -> None:
    body = _signed(gateway.client(), payload=lookup("123"))
    assert await _refusal(gateway, body) == "Client.Schema.PayloadInvalid"


# --- the transport signature -------------------------------------------------------------------


async def test_unsigned(gateway: Harness) -> None:
    body = etree.tostring(_unsigned(gateway.client()))
    assert await _refusal(gateway, body) == "Client.Security.Unsigned"


async def test_body_edited_after_signing(gateway: Harness) -> None:
    body = _signed(gateway.client()).replace(b"170640582744", b"170640582752")
    assert await _refusal(gateway, body) == "Client.Security.DigestMismatch"


async def test_signed_body_moved_and_replaced(gateway: Harness) -> None:
    """Classic wrapping: the signed Body hides in the Header, a forged Body takes its id."""
    envelope = etree.fromstring(_signed(gateway.client()))
    signed_body = _body(envelope)
    forged = copy.deepcopy(signed_body)
    forged.find(".//bin").text = "190340900004"
    wrapper = etree.SubElement(header_of(envelope), "{urn:attacker}Wrapper")
    envelope.replace(signed_body, forged)
    wrapper.append(signed_body)
    assert await _refusal(gateway, etree.tostring(envelope)) == "Client.Security.SignatureWrapping"


async def test_second_body_in_the_header(gateway: Harness) -> None:
    envelope = etree.fromstring(_signed(gateway.client()))
    extra = etree.SubElement(header_of(envelope), f"{{{SOAP_NS}}}Body")
    extra.append(copy.deepcopy(_body(envelope)[0]))
    assert await _refusal(gateway, etree.tostring(envelope)) == "Client.Security.SignatureWrapping"


async def test_two_bodies_in_the_envelope(gateway: Harness) -> None:
    envelope = etree.fromstring(_signed(gateway.client()))
    envelope.append(copy.deepcopy(_body(envelope)))
    assert await _refusal(gateway, etree.tostring(envelope)) == "Client.Soap.NotEnvelope"


async def test_signature_over_something_other_than_the_body(gateway: Harness) -> None:
    client = gateway.client()
    envelope = _unsigned(client)
    security = etree.SubElement(header_of(envelope), f"{{{WSSE}}}Security", nsmap={"wsse": WSSE})
    now = datetime.now(UTC)
    stamp = add_timestamp(security, _iso(now), _iso(now + timedelta(minutes=5)))
    sign_variant(envelope, client.key, Variant(sign_body=False, extra_targets=[stamp]))
    assert await _refusal(gateway, etree.tostring(envelope)) == "Client.Security.BodyNotSigned"


async def test_sha1_is_refused(gateway: Harness) -> None:
    client = gateway.client()
    envelope = _unsigned(client)
    variant = Variant(method=xmlsec.Transform.RSA_SHA1, digest=xmlsec.Transform.SHA1)
    sign_variant(envelope, client.key, variant)
    assert (
        await _refusal(gateway, etree.tostring(envelope)) == "Client.Security.AlgorithmNotAllowed"
    )


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def test_expired_timestamp(shared_pki: Path, tmp_path: Path) -> None:
    later = datetime.now(UTC) + timedelta(minutes=10)
    async with running_gateway(shared_pki, tmp_path, clock=lambda: later) as gateway:
        client = gateway.client()
        envelope = _unsigned(client, message_date=later)
        sign_envelope(envelope, client.key, with_timestamp=True, ttl_seconds=300)
        code = await _refusal_only(gateway, etree.tostring(envelope))
        assert code == "Client.Security.TimestampExpired"


async def test_stale_message_date(gateway: Harness) -> None:
    body = _signed(gateway.client(), message_date=datetime.now(UTC) - timedelta(hours=1))
    assert await _refusal(gateway, body) == "Client.Security.MessageStale"


async def test_replayed_message_id(gateway: Harness) -> None:
    body = _signed(gateway.client())
    first = await gateway.post(body)
    assert first.status_code == 200
    assert await _refusal(gateway, body) == "Client.Security.Replay"


async def test_refused_message_id_can_be_corrected_and_resent(gateway: Harness) -> None:
    client = gateway.client()
    message_id = str(uuid.uuid4())
    bad = _signed(client, message_id=message_id, payload=lookup("123"))
    assert await _refusal(gateway, bad) == "Client.Schema.PayloadInvalid"
    good = await gateway.post(_signed(client, message_id=message_id))
    assert good.status_code == 200


# --- who is calling ----------------------------------------------------------------------------


async def test_unknown_sender_signed_is_told_only_that_the_certificate_is_not_its(
    gateway: Harness,
) -> None:
    """The certificate binding comes first: a signed request learns no senderIds that exist."""
    body = _signed(gateway.client(), sender_id="NOBODY")
    assert await _refusal(gateway, body) == "Client.Security.CertificateNotSender"


async def test_unknown_sender_unsigned_under_the_emulator_policy(
    shared_pki: Path, tmp_path: Path
) -> None:
    async with running_gateway(shared_pki, tmp_path, security_policy="emulator") as gateway:
        body = etree.tostring(_unsigned(gateway.client(), sender_id="NOBODY"))
        assert await _refusal_only(gateway, body) == "Client.Auth.UnknownSender"


async def test_wrong_password(gateway: Harness) -> None:
    body = _signed(gateway.client(password="guess"))
    assert await _refusal(gateway, body) == "Client.Auth.WrongPassword"


async def test_missing_password(gateway: Harness) -> None:
    body = _signed(gateway.client(), password=None)
    assert await _refusal(gateway, body) == "Client.Auth.WrongPassword"


async def test_certificate_of_another_system(gateway: Harness) -> None:
    body = _signed(gateway.client("EGOV_PORTAL", key=gateway.key_of("KEDEN")))
    assert await _refusal(gateway, body) == "Client.Security.CertificateNotSender"


async def test_revoked_certificate(shared_pki: Path, tmp_path: Path) -> None:
    pki = copy_pki(shared_pki, tmp_path / "pki")
    async with running_gateway(pki, tmp_path) as gateway:
        revoke(pki, "EGOV_PORTAL")  # while running: the gateway picks the new CRL up
        body = _signed(gateway.client("EGOV_PORTAL"))
        assert await _refusal_only(gateway, body) == "Client.Security.CertificateRevoked"


async def test_untrusted_ca(gateway: Harness, tmp_path: Path) -> None:
    foreign = make_pki(tmp_path / "foreign")
    from connectors import TransportKey

    key = TransportKey.from_files(foreign / "EGOV_PORTAL.pem", foreign / "EGOV_PORTAL.key")
    body = _signed(gateway.client("EGOV_PORTAL", key=key))
    assert await _refusal(gateway, body) == "Client.Security.CertificateUntrusted"


async def test_service_not_allowed_for_this_sender(gateway: Harness) -> None:
    body = _signed(gateway.client("MONITORING"))
    assert await _refusal(gateway, body) == "Client.Auth.ServiceNotAllowed"


async def test_unknown_service(gateway: Harness) -> None:
    body = _signed(gateway.client(), service="NoSuchService_v1")
    assert await _refusal(gateway, body) == "Client.Routing.UnknownService"


async def _refusal_only(gateway: Harness, body: bytes) -> str:
    response = await gateway.post(body)
    assert response.status_code == 500
    fault = parse_fault(etree.fromstring(response.content))
    assert fault is not None
    return fault.error_code


# --- what the log keeps of a refusal -----------------------------------------------------------


async def test_a_refusal_is_logged_with_its_code(gateway: Harness) -> None:
    client = gateway.client()
    request = client.request(SERVICE, lookup())
    request.password = "guess"
    body = client.signed_envelope(request)
    await gateway.post(body)
    hops = await gateway.context.message_log.find(message_id=request.message_id)
    assert [(h.direction, h.outcome) for h in hops] == [
        (Direction.REQUEST_IN, Outcome.REJECTED),
        (Direction.FAULT_OUT, Outcome.REJECTED),
    ]
    assert hops[0].body == body
    assert {h.fault_code for h in hops} == {"Client.Auth.WrongPassword"}
    assert b"guess" in hops[0].body  # the exact bytes, as received
    assert b"guess" not in hops[1].body


Refusal = Callable[[Harness], bytes]
