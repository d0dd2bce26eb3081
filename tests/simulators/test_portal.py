"""EGOV_PORTAL: results and status notifications pushed to the applicant's cabinet are kept."""

from __future__ import annotations

from pathlib import Path

from connectors import MessageType
from connectors.soap.async_ import parse_send_message_response
from simulators.portal.service import SYSTEM_ID, participant_app
from tests.simulators.pushing import (
    client_of,
    notification_envelope,
    operation_of,
    post,
    push_envelope,
    signed,
    signer_of,
)


async def test_portal_keeps_pushed_results_and_notifications(
    pki: Path, db_url: str, gateway_key
) -> None:
    result = push_envelope("result-1", message_type=MessageType.RESPONSE, sender_id="ELICENSE")
    async with client_of(participant_app(pki, db_url)) as http:
        status, root = await post(http, signed(result, gateway_key))
        note_status, _ = await post(http, signed(notification_envelope("n-1"), gateway_key))
        inbox = (await http.get("/ops/inbox")).json()
        notes = (await http.get("/ops/notifications")).json()

    assert (status, note_status) == (200, 200)
    assert signer_of(root, pki) == SYSTEM_ID
    assert parse_send_message_response(operation_of(root)).message_id == "result-1"
    assert [(m["messageId"], m["sender"], m["type"]) for m in inbox] == [
        ("result-1", "ELICENSE", "RESPONSE")
    ]
    assert [n["notificationId"] for n in notes] == ["n-1"]
