"""A simulated provider acts on each messageId once: the replayed envelope, even signed by the
gateway, is refused with ``Client.Security.Replay`` (what ``kzgate attack``'s ``sig-replay``
checks), while new messages keep being served."""

from __future__ import annotations

import uuid
from pathlib import Path

from lxml import etree

from connectors import TransportKey, parse_document, parse_fault
from simulators.kit.replay import SeenMessages
from simulators.legal_entities.payload import GBDUL, build_request
from tests.simulators.sync_calls import PATH, client_app, sync_envelope

SERVICE_ID = "GbdulInfoByBin_v1"
ACTIVE_BIN = "170640582744"


class _Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_a_message_id_is_claimed_once_per_sender_until_the_hold_ends() -> None:
    clock = _Clock()
    seen = SeenMessages(hold_seconds=420, clock=clock)
    assert seen.claim("ELICENSE", "m-1")
    assert not seen.claim("ELICENSE", "m-1")
    assert seen.claim("KEDEN", "m-1"), "another sender's id is another message"
    clock.now += 419
    assert not seen.claim("ELICENSE", "m-1")
    clock.now += 2
    assert seen.claim("ELICENSE", "m-1"), "a copy this old fails freshness anyway"
    assert len(seen) == 1, "expired claims are dropped"


def test_past_the_bound_the_oldest_claims_are_forgotten_first() -> None:
    seen = SeenMessages(hold_seconds=420, limit=3, clock=_Clock())
    for number in range(4):
        assert seen.claim("ELICENSE", f"m-{number}")
    assert len(seen) == 3
    assert not seen.claim("ELICENSE", "m-3")
    assert seen.claim("ELICENSE", "m-0"), "the oldest went to keep the bound"


async def test_the_provider_refuses_a_replayed_envelope_and_serves_new_ones(
    pki: Path, gateway_key: TransportKey
) -> None:
    envelope = sync_envelope(SERVICE_ID, build_request(ACTIVE_BIN), gateway_key)
    headers = {"Content-Type": "text/xml"}
    async with client_app(GBDUL.provider(pki).app()) as http:
        first = await http.post(PATH, content=envelope, headers=headers)
        replayed = await http.post(PATH, content=envelope, headers=headers)
        fresh = sync_envelope(SERVICE_ID, build_request(ACTIVE_BIN), gateway_key)
        new = await http.post(PATH, content=fresh, headers=headers)
    assert (first.status_code, new.status_code) == (200, 200)
    assert replayed.status_code == 500
    fault = parse_fault(parse_document(replayed.content, max_bytes=1_000_000, max_depth=64))
    assert fault is not None and fault.error_code == "Client.Security.Replay"


def _empty_request() -> etree._Element:
    """The lookup without its BIN: the provider's schema refuses it before acting."""
    return etree.Element(build_request(ACTIVE_BIN).tag)


async def test_a_refused_message_can_be_corrected_and_resent_under_its_id(
    pki: Path, gateway_key: TransportKey
) -> None:
    message_id, headers = str(uuid.uuid4()), {"Content-Type": "text/xml"}
    async with client_app(GBDUL.provider(pki).app()) as http:
        broken = await http.post(
            PATH,
            content=sync_envelope(SERVICE_ID, _empty_request(), gateway_key, message_id=message_id),
            headers=headers,
        )
        fault = parse_fault(parse_document(broken.content, max_bytes=1_000_000, max_depth=64))
        assert broken.status_code == 500 and fault is not None
        assert fault.error_code != "Client.Security.Replay"
        corrected = sync_envelope(
            SERVICE_ID, build_request(ACTIVE_BIN), gateway_key, message_id=message_id
        )
        assert (await http.post(PATH, content=corrected, headers=headers)).status_code == 200
        assert (await http.post(PATH, content=corrected, headers=headers)).status_code == 500
