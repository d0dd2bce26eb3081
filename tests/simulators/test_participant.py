"""The AsyncChannel participant kit: pushes applied exactly once, signatures, fault injection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from lxml import etree

from connectors import SOAP_ENV, ErrorInfo, TrustStore, qname
from connectors.soap.async_ import (
    SEND_MESSAGE_RESPONSE,
    SEND_MESSAGE_RESPONSE_CLIENT,
    AsyncGetMessageStatusRequest,
    build_get_message_status_envelope,
    parse_change_status_notification_response,
    parse_send_message_response,
)
from connectors.soap.namespaces import ASYNC_TYPES, ASYNC_TYPES_CLIENT
from simulators.kit.inbox import Inbox, InboxMessage
from simulators.kit.participant import AsyncParticipant, Failures
from tests.simulators.pushing import (
    PATH,
    client_of,
    fault_code,
    key_of,
    notification_envelope,
    operation_of,
    post,
    push_envelope,
    signed,
    signer_of,
)

SYSTEM = "EGOV_PORTAL"


class Recorder:
    """A handler that remembers every message it was given (and can fail on demand)."""

    def __init__(self) -> None:
        self.seen: list[InboxMessage] = []
        self.failures_left = 0

    def __call__(self, message: InboxMessage) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("the system's database is down")
        self.seen.append(message)


def make_participant(pki: Path, db_url: str, handler: Recorder | None = None) -> AsyncParticipant:
    return AsyncParticipant(
        system_id=SYSTEM,
        key=key_of(pki, SYSTEM),
        trust=TrustStore.from_dir(pki),
        inbox=Inbox(SYSTEM, db_url),
        handler=handler,
    )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def participant(pki: Path, db_url: str, recorder: Recorder) -> AsyncParticipant:
    return make_participant(pki, db_url, recorder)


@pytest.fixture
async def http(participant: AsyncParticipant) -> AsyncIterator[httpx2.AsyncClient]:
    async with client_of(participant.app()) as client:
        yield client


async def inbox_listing(http: httpx2.AsyncClient) -> list[dict]:
    response = await http.get("/ops/inbox")
    assert response.status_code == 200
    return response.json()


# --- sendMessage: exactly once -------------------------------------------------------------------


async def test_push_is_stored_handled_and_answered_signed(
    http: httpx2.AsyncClient, recorder: Recorder, gateway_key, pki: Path
) -> None:
    payload = etree.fromstring('<r:result xmlns:r="urn:x">licence issued</r:result>')
    body = signed(push_envelope("msg-1", payload=payload), gateway_key)

    status, root = await post(http, body)

    assert status == 200
    assert signer_of(root, pki) == SYSTEM
    answer = parse_send_message_response(operation_of(root))
    assert (answer.message_id, answer.correlation_id, answer.session_id) == (
        "msg-1",
        "chain-1",
        "session-1",
    )
    assert [m.message_id for m in recorder.seen] == ["msg-1"]
    [listed] = await inbox_listing(http)
    assert listed["messageId"] == "msg-1"
    assert listed["correlationId"] == "chain-1"
    assert listed["serviceId"] == "SomeAsyncService_v1"
    assert listed["sender"] == "ELICENSE"
    assert listed["type"] == "RESPONSE"
    assert listed["received_at"]
    data = etree.fromstring(listed["data"].encode())
    assert data.find("{urn:x}result").text == "licence issued"


async def test_redelivery_is_answered_the_same_but_handled_once(
    http: httpx2.AsyncClient, recorder: Recorder, gateway_key
) -> None:
    answers = []
    for _ in range(2):  # the gateway re-signs each delivery attempt
        status, root = await post(http, signed(push_envelope("msg-2"), gateway_key))
        assert status == 200
        answers.append(parse_send_message_response(operation_of(root)))

    assert {(a.message_id, a.correlation_id, a.session_id) for a in answers} == {
        ("msg-2", "chain-1", "session-1")
    }
    assert len(recorder.seen) == 1
    assert [m["messageId"] for m in await inbox_listing(http)] == ["msg-2"]


async def test_push_in_the_client_namespace_is_answered_in_it(
    http: httpx2.AsyncClient, recorder: Recorder, gateway_key
) -> None:
    body = signed(push_envelope("msg-3", namespace=ASYNC_TYPES_CLIENT), gateway_key)
    status, root = await post(http, body)
    assert status == 200
    assert operation_of(root).tag == SEND_MESSAGE_RESPONSE_CLIENT
    assert len(recorder.seen) == 1


async def test_gateway_namespace_push_is_answered_in_the_gateway_namespace(
    http: httpx2.AsyncClient, gateway_key
) -> None:
    _, root = await post(http, signed(push_envelope("msg-4"), gateway_key))
    assert operation_of(root).tag == SEND_MESSAGE_RESPONSE


async def test_request_without_correlation_id_echoes_the_message_id(
    http: httpx2.AsyncClient, gateway_key
) -> None:
    body = signed(push_envelope("msg-5", correlation_id=None, session_id=None), gateway_key)
    status, root = await post(http, body)
    answer = parse_send_message_response(operation_of(root))
    assert (status, answer.correlation_id, answer.session_id) == (200, "msg-5", None)


async def test_a_failing_handler_stores_nothing_and_the_redelivery_applies_it(
    http: httpx2.AsyncClient, recorder: Recorder, gateway_key
) -> None:
    recorder.failures_left = 1

    status, root = await post(http, signed(push_envelope("msg-6"), gateway_key))
    assert (status, fault_code(root)) == (500, "Server.Internal")
    assert await inbox_listing(http) == []

    status, _ = await post(http, signed(push_envelope("msg-6"), gateway_key))
    assert status == 200
    assert [m.message_id for m in recorder.seen] == ["msg-6"]
    assert len(await inbox_listing(http)) == 1


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signer", "envelope", "code"),
    [
        (None, lambda: push_envelope("msg-7"), "Client.Security.Unsigned"),
        ("KEDEN", lambda: push_envelope("msg-7"), "Client.Security.CertificateNotSender"),
        ("EGOV_PORTAL", lambda: push_envelope("msg-7"), "Client.Security.CertificateNotSender"),
        ("GATEWAY", lambda: push_envelope(None), "Client.Schema.Invalid"),
        (
            "GATEWAY",
            lambda: build_get_message_status_envelope(
                AsyncGetMessageStatusRequest(
                    message_id="m", request_date=datetime.now(UTC), sender_id="X"
                )
            ),
            "Client.Soap.UnknownOperation",
        ),
    ],
    ids=["unsigned", "signed-by-a-system", "signed-by-itself", "no-message-id", "not-a-push"],
)
async def test_refused_push_gets_a_signed_fault_and_is_not_stored(
    http: httpx2.AsyncClient, recorder: Recorder, pki: Path, signer, envelope, code: str
) -> None:
    key = key_of(pki, signer) if signer else None
    status, root = await post(http, signed(envelope(), key))

    assert (status, fault_code(root)) == (500, code)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode") == "soap:Client"
    assert fault.find(f"detail/{{{ASYNC_TYPES}}}sendMessageFault1_sendMessageFault") is not None
    assert signer_of(root, pki) == SYSTEM
    assert recorder.seen == []
    assert await inbox_listing(http) == []


async def test_tampered_push_is_refused(http: httpx2.AsyncClient, gateway_key) -> None:
    body = signed(push_envelope("msg-8"), gateway_key).replace(b"msg-8", b"msg-X")
    status, root = await post(http, body)
    assert (status, fault_code(root)) == (500, "Client.Security.DigestMismatch")


# --- changeMassageStatusNotification -------------------------------------------------------------


async def test_status_notification_is_stored_and_answered(
    http: httpx2.AsyncClient, gateway_key, pki: Path
) -> None:
    status, root = await post(http, signed(notification_envelope("note-1"), gateway_key))

    assert status == 200
    assert signer_of(root, pki) == SYSTEM
    assert parse_change_status_notification_response(operation_of(root)).session_id == "session-7"
    [note] = (await http.get("/ops/notifications")).json()
    assert note["notificationId"] == "note-1"
    assert note["messageId"] == "msg-9"
    assert note["state"] == "DELIVERED"
    assert (note["statusCode"], note["statusMessage"]) == (
        "DELIVERED_OK",
        "delivered to the receiver",
    )
    assert note["notificationDate"] and note["received_at"]
    assert note["errorCode"] is None


async def test_failed_delivery_notice_keeps_the_error_and_is_stored_once(
    http: httpx2.AsyncClient, gateway_key
) -> None:
    error = ErrorInfo(error_code="Server.Provider.Unreachable", error_message="no answer")
    for _ in range(2):
        envelope = notification_envelope("note-2", state="NOT_DELIVERED", error=error)
        status, _ = await post(http, signed(envelope, gateway_key))
        assert status == 200

    [note] = (await http.get("/ops/notifications")).json()
    assert (note["state"], note["errorCode"]) == ("NOT_DELIVERED", "Server.Provider.Unreachable")


async def test_unsigned_notification_gets_the_client_fault_element(
    http: httpx2.AsyncClient, pki: Path
) -> None:
    status, root = await post(http, signed(notification_envelope(), None))
    assert (status, fault_code(root)) == (500, "Client.Security.Unsigned")
    detail = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/detail")
    tag = "changeMassageStatusNotificationFault1_changeMassageStatusNotificationFault"
    assert detail[0].tag == qname(ASYNC_TYPES_CLIENT, tag)
    assert (await http.get("/ops/notifications")).json() == []


# --- fault injection -----------------------------------------------------------------------------


async def test_injected_503_fails_transport_and_stores_nothing(
    http: httpx2.AsyncClient, participant: AsyncParticipant, recorder: Recorder, gateway_key
) -> None:
    participant.failures.fail_next(2, "http-503")

    for _ in range(2):
        response = await http.post(
            PATH,
            content=signed(push_envelope("msg-10"), gateway_key),
            headers={"Content-Type": "text/xml"},
        )
        assert response.status_code == 503
    assert recorder.seen == []

    status, _ = await post(http, signed(push_envelope("msg-10"), gateway_key))
    assert status == 200
    assert len(recorder.seen) == 1


async def test_injected_client_fault_is_a_permanent_refusal(
    http: httpx2.AsyncClient, participant: AsyncParticipant, recorder: Recorder, gateway_key
) -> None:
    participant.failures.fail_next(1, "soap-client-fault")

    status, root = await post(http, signed(push_envelope("msg-11"), gateway_key))
    assert status == 500
    assert fault_code(root).startswith("Client.")
    assert root.findtext(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault/faultcode") == "soap:Client"
    assert recorder.seen == []
    assert await inbox_listing(http) == []

    status, _ = await post(http, signed(push_envelope("msg-12"), gateway_key))
    assert status == 200


async def test_injected_slowness_delays_only_the_next_answer(
    http: httpx2.AsyncClient, participant: AsyncParticipant, gateway_key
) -> None:
    participant.failures.fail_next(1, "slow", seconds=1.0)

    started = time.monotonic()
    status, _ = await post(http, signed(push_envelope("msg-13"), gateway_key))
    slow = time.monotonic() - started
    started = time.monotonic()
    await post(http, signed(push_envelope("msg-14"), gateway_key))
    fast = time.monotonic() - started

    assert status == 200
    assert slow >= 1.0
    assert fast < 1.0


async def test_faults_are_set_over_http(http: httpx2.AsyncClient, gateway_key) -> None:
    # The document also carries the standing faults (simulators.kit.faults); the queue is "pending".
    response = await http.post("/ops/faults", json={"kind": "http-503", "count": 1})
    assert response.json()["pending"] == [{"kind": "http-503", "seconds": 0.0}]
    assert (
        await http.post(
            PATH, content=signed(push_envelope(), gateway_key), headers={"Content-Type": "text/xml"}
        )
    ).status_code == 503

    response = await http.post("/ops/faults", json={"kind": "slow", "count": 2, "seconds": 3})
    assert len(response.json()["pending"]) == 2
    assert (await http.delete("/ops/faults")).json()["pending"] == []
    assert (await http.get("/ops/faults")).json()["pending"] == []


@pytest.mark.parametrize(
    "body", [{"kind": "explode"}, {"count": 1}, {"kind": "slow", "count": -1}, ["http-503"]]
)
async def test_bad_fault_requests_are_refused(http: httpx2.AsyncClient, body: object) -> None:
    response = await http.post("/ops/faults", json=body)
    assert response.status_code == 400
    assert (await http.get("/ops/faults")).json()["pending"] == []


def test_failures_are_taken_in_order() -> None:
    failures = Failures()
    failures.fail_next(1, "http-503")
    failures.fail_next(1, "slow", seconds=2)
    assert [f.kind for f in (failures.take(), failures.take())] == ["http-503", "slow"]
    assert failures.take() is None
    with pytest.raises(ValueError):
        failures.fail_next(1, "nonsense")  # type: ignore[arg-type]


# --- durability and contracts --------------------------------------------------------------------


async def test_inbox_survives_a_new_app_on_the_same_database(
    pki: Path, db_url: str, gateway_key
) -> None:
    first_handler, second_handler = Recorder(), Recorder()
    async with client_of(make_participant(pki, db_url, first_handler).app()) as http:
        await post(http, signed(push_envelope("msg-15"), gateway_key))
        await post(http, signed(notification_envelope("note-3"), gateway_key))

    async with client_of(make_participant(pki, db_url, second_handler).app()) as http:
        assert [m["messageId"] for m in await inbox_listing(http)] == ["msg-15"]
        assert [n["notificationId"] for n in (await http.get("/ops/notifications")).json()] == [
            "note-3"
        ]
        status, _ = await post(http, signed(push_envelope("msg-15"), gateway_key))

    assert status == 200
    assert len(first_handler.seen) == 1
    assert second_handler.seen == []  # the redelivery after the restart is not applied again


async def test_systems_sharing_a_database_keep_their_own_inboxes(
    pki: Path, db_url: str, gateway_key
) -> None:
    other = make_participant(pki, db_url)
    other.system_id, other.inbox = "MONITORING", Inbox("MONITORING", db_url)
    other.key = key_of(pki, "MONITORING")
    async with client_of(make_participant(pki, db_url).app()) as portal:
        await post(portal, signed(push_envelope("msg-16"), gateway_key))
        async with client_of(other.app()) as monitoring:
            status, _ = await post(monitoring, signed(push_envelope("msg-16"), gateway_key))
            assert status == 200
            assert len(await inbox_listing(monitoring)) == 1
        assert len(await inbox_listing(portal)) == 1


async def test_contract_and_health(http: httpx2.AsyncClient) -> None:
    wsdl = await http.get(PATH, params={"wsdl": ""})
    assert wsdl.status_code == 200
    tree = etree.fromstring(wsdl.content)
    assert tree.get("name") == "AsyncChannelClient"
    address = tree.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address.get("location") == f"http://participant.test{PATH}"

    xsd = await http.get(PATH, params={"xsd": "AsyncChannel-v10-Types-Client.xsd"})
    assert xsd.status_code == 200
    assert b"changeMassageStatusNotification" in xsd.content
    assert (await http.get(PATH, params={"xsd": "../pyproject.toml"})).status_code == 404

    assert (await http.get("/health")).json() == {"status": "ok", "system": SYSTEM}


async def test_concurrent_deliveries_of_one_message_apply_it_once(
    http: httpx2.AsyncClient, recorder: Recorder, gateway_key
) -> None:
    bodies = [signed(push_envelope("msg-17"), gateway_key) for _ in range(4)]
    results = await asyncio.gather(*(post(http, body) for body in bodies))
    assert [status for status, _ in results] == [200] * 4
    assert len(recorder.seen) == 1
