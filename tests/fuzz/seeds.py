"""Write the committed seed corpus (``python -m tests.fuzz.seeds``): honest messages of every
operation of both channels, and the small hostile ones of the attack catalogue, so the fuzzer
starts from the shapes that matter instead of from nothing."""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from connectors import init_pki, sign_envelope
from connectors.attacks.catalogue import ATTACKS, AttackKit
from connectors.attacks.kits import async_requests, foreign_key, key_of, sync_requests
from connectors.soap import async_

CORPUS = Path(__file__).with_name("corpus")
MAX_SEED_BYTES = 16 * 1024


def _payload() -> etree._Element:
    return etree.fromstring(
        '<ul:OrganizationRequest xmlns:ul="urn:x"><bin>170640582744</bin></ul:OrganizationRequest>'
    )


def _async_operations(key) -> list[bytes]:
    now = datetime.now(UTC)
    envelopes = [
        async_.build_get_message_status_envelope(
            async_.AsyncGetMessageStatusRequest(
                message_id="m-1", request_date=now, sender_id="EGOV_PORTAL", password="pw"
            )
        ),
        async_.build_get_messages_envelope(
            async_.AsyncGetMessagesRequest(
                service_id="KgdPollTest_v1",
                request_date=now,
                sender_id="KGD",
                password="pw",
                amount=5,
            )
        ),
    ]
    for envelope in envelopes:
        sign_envelope(envelope, key)
    return [etree.tostring(e) for e in envelopes]


def seeds() -> list[bytes]:
    directory = Path(tempfile.mkdtemp(prefix="kzgate-seeds-"))
    init_pki(directory, ("EGOV_PORTAL", "KEDEN"))
    key = key_of(directory, "EGOV_PORTAL")
    found: list[bytes] = []
    for factory in (sync_requests, async_requests):
        kit = AttackKit(
            fresh=factory(
                sender_id="EGOV_PORTAL",
                password="pw",
                service_id="GbdulInfoByBin_v1",
                payload=_payload,
            ),
            key=key,
            other_key=key_of(directory, "KEDEN"),
            foreign_key=foreign_key("EGOV_PORTAL"),
            forbidden_service_id="KedenRegisterRecord_v1",
            other_sender_id="KEDEN",
        )
        found.append(etree.tostring(kit.signed()))
        for attack in ATTACKS:
            probe = attack.build(kit)
            if probe is not None and len(probe.body) <= MAX_SEED_BYTES:
                found.append(probe.body)
    return found + _async_operations(key)


def main() -> None:
    CORPUS.mkdir(exist_ok=True)
    for seed in seeds():
        name = hashlib.sha1(seed).hexdigest()[:16]
        (CORPUS / f"{name}.xml").write_bytes(seed)


if __name__ == "__main__":
    main()
