"""KEDEN takes an issuer's termination (seed 003 Rules p.15: the signed termination goes to
KEDEN, status «тоқтатылды») on the same AsyncChannel service as registrations: applied once,
only by the issuer, only to a registered document."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from connectors import TransportKey
from simulators.customs.models import STATUS_KK, DocumentKind, RecordStatus
from simulators.customs.payload import StatusChange, build_status_change, read_payload
from simulators.customs.service import create_keden
from tests.simulators.pushing import client_of, fault_code, post, push_envelope, signed
from tests.simulators.test_customs import REGISTER, Clock, kz, licence, registration_push

TERMINATION = etree.fromstring(
    b'<el:TransportCertified xmlns:el="http://kzgate.kz/simulators/elicense/v1"/>'
)


def change(number: str = "KZ-TMD-IND-2026-000001") -> StatusChange:
    return StatusChange(
        number=number,
        issuer="ELICENSE",
        status=RecordStatus.TERMINATED,
        changed_on=date(2026, 11, 24),
        reason="тоқтатылды: KZ-TMD-TR-2026-000001, Rules p.14 ж",
    )


def test_a_status_change_reads_back() -> None:
    data = etree.Element("data")
    data.append(build_status_change(change(), TERMINATION))
    read = read_payload(data)
    assert isinstance(read, StatusChange) and read.status is RecordStatus.TERMINATED
    assert read.document is not None and "TransportCertified" in read.document


async def test_a_termination_is_applied_once_and_shows_tokhtatyldy(
    pki: Path, gateway_key: TransportKey, tmp_path: Path
) -> None:
    number = "KZ-TMD-IND-2026-000001"
    keden = create_keden(
        pki, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}", clock=Clock(kz(date(2026, 11, 24)))
    )
    permit = licence(number, kind=DocumentKind.EXPORT_PERMIT)
    async with client_of(keden.app()) as http:
        await post(http, signed(registration_push(permit, "reg-1"), gateway_key))
        for message_id in ("term-1", "term-1", "term-2"):  # a redelivery, then a resend
            push = push_envelope(
                message_id, service_id=REGISTER, payload=build_status_change(change(number))
            )
            status, _ = await post(http, signed(push, gateway_key))
            assert status == 200
        record = await keden.records.by_number(number)
        assert record is not None and record.status is RecordStatus.TERMINATED
        assert record.status_reason == change().reason
        [listed] = (await http.get("/ops/records")).json()
        assert (listed["kind"], listed["status"], listed["statusKk"]) == (
            "EXPORT_PERMIT",
            "TERMINATED",
            "тоқтатылды",
        )
        assert STATUS_KK[RecordStatus.TERMINATED] == "тоқтатылды"  # the law's word, p.15


@pytest.mark.parametrize(
    ("number", "sender", "code"),
    [
        ("KZ-TMD-IND-2026-000404", "ELICENSE", "Client.Keden.StatusChangeRefused"),
        ("KZ-TMD-IND-2026-000001", "EGOV_PORTAL", "Client.Keden.IssuerNotSender"),
    ],
    ids=["not-registered", "not-the-issuer"],
)
async def test_a_termination_of_an_unknown_or_foreign_record_is_refused(
    pki: Path, gateway_key: TransportKey, tmp_path: Path, number: str, sender: str, code: str
) -> None:
    keden = create_keden(pki, f"sqlite+aiosqlite:///{tmp_path / 'k.db'}")
    permit = licence("KZ-TMD-IND-2026-000001", kind=DocumentKind.EXPORT_PERMIT)
    async with client_of(keden.app()) as http:
        await post(http, signed(registration_push(permit, "reg-1"), gateway_key))
        payload = build_status_change(change(number))
        push = push_envelope("term-1", service_id=REGISTER, payload=payload, sender_id=sender)
        status, answer = await post(http, signed(push, gateway_key))
        assert (status, fault_code(answer)) == (500, code)
        record = await keden.records.by_number("KZ-TMD-IND-2026-000001")
        assert record is not None and record.status is RecordStatus.VALID
