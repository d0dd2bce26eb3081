"""MONITORING: the StageEvent payload and its contract, and the participant that records them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from connectors import XSD_DIR, MessageType
from simulators.monitoring.payload import (
    STAGE_EVENT,
    PayloadError,
    Stage,
    build_stage_event,
    parse_stage_event,
)
from simulators.monitoring.service import SYSTEM_ID, participant_app
from tests.simulators.pushing import (
    client_of,
    fault_code,
    post,
    push_envelope,
    signed,
    signer_of,
)

ALMATY = timezone(timedelta(hours=5))
MOMENT = datetime(2025, 3, 14, 10, 30, 15, tzinfo=ALMATY)


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_DIR / "monitoring.xsd")))


def wrapped(element: etree._Element) -> etree._Element:
    data = etree.Element("data")
    data.append(element)
    return data


def test_built_stage_event_validates_and_reads_back(schema: etree.XMLSchema) -> None:
    event = build_stage_event("APP-2025-000123", Stage.ISSUED, "ELICENSE", MOMENT, "licence №42")

    schema.assertValid(event)
    assert event.tag == STAGE_EVENT
    assert [etree.QName(c).namespace for c in event] == [None] * 5  # children unqualified
    parsed = parse_stage_event(wrapped(event))
    assert parsed.application_number == "APP-2025-000123"
    assert parsed.stage is Stage.ISSUED
    assert parsed.system == "ELICENSE"
    assert parsed.occurred_at == MOMENT
    assert parsed.comment == "licence №42"


def test_every_stage_is_in_the_schema_and_back(schema: etree.XMLSchema) -> None:
    declared = {
        e.get("value")
        for e in etree.parse(str(XSD_DIR / "monitoring.xsd")).iter(
            "{http://www.w3.org/2001/XMLSchema}enumeration"
        )
    }
    assert declared == {stage.value for stage in Stage}
    assert {"REGISTERED", "IN_WORK", "ISSUED", "REFUSED", "DELIVERED"} <= declared


def text_form(
    stage: str = "REFUSED", number: str = "A-1", occurred: str = "2025-03-14T10:30:15"
) -> str:
    return (
        '<data><mon:StageEvent xmlns:mon="http://kzgate.kz/simulators/monitoring/v1">'
        f"<applicationNumber>{number}</applicationNumber><stage>{stage}</stage>"
        f"<system>KGD</system><occurredAt>{occurred}</occurredAt></mon:StageEvent></data>"
    )


def test_the_documented_form_is_read() -> None:
    event = parse_stage_event(etree.fromstring(text_form()))
    assert (event.stage, event.comment) == (Stage.REFUSED, None)
    assert event.occurred_at == datetime(2025, 3, 14, 5, 30, 15, tzinfo=UTC)  # no offset: +05:00


@pytest.mark.parametrize(
    "data",
    [
        text_form(stage="LOST"),
        text_form(number=""),
        text_form(occurred="yesterday"),
        "<data><other/></data>",
        "<data/>",
    ],
    ids=["unknown-stage", "no-number", "bad-date", "other-element", "empty"],
)
def test_invalid_stage_events_are_refused(data: str) -> None:
    with pytest.raises(PayloadError):
        parse_stage_event(etree.fromstring(data))


async def test_monitoring_records_stage_events_and_refuses_other_payloads(
    pki: Path, db_url: str, gateway_key
) -> None:
    app = participant_app(pki, db_url)
    async with client_of(app) as http:
        for number, stage in (("APP-1", Stage.REGISTERED), ("APP-2", Stage.IN_WORK)):
            envelope = push_envelope(
                f"msg-{number}",
                message_type=MessageType.NOTIFICATION,
                payload=build_stage_event(number, stage, "ELICENSE", MOMENT),
            )
            status, root = await post(http, signed(envelope, gateway_key))
            assert status == 200
            answered_by = signer_of(root, pki)
        status, root = await post(
            http,
            signed(push_envelope("msg-bad", message_type=MessageType.NOTIFICATION), gateway_key),
        )
        assert (status, fault_code(root)) == (500, "Client.Schema.PayloadInvalid")

        inbox = (await http.get("/ops/inbox")).json()
        events = (await http.get("/ops/stage-events", params={"application": "APP-2"})).json()
        health = (await http.get("/health")).json()

    assert [m["messageId"] for m in inbox] == ["msg-APP-1", "msg-APP-2"]
    assert inbox[0]["type"] == "NOTIFICATION"
    assert events == [
        {
            "applicationNumber": "APP-2",
            "stage": "IN_WORK",
            "system": "ELICENSE",
            "occurredAt": MOMENT.isoformat(),
            "comment": None,
        }
    ]
    assert health["system"] == SYSTEM_ID
    assert answered_by == SYSTEM_ID
