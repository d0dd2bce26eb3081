"""The pilot's permits at customs (issue 7: F3 × F6): an export declaration relies on an export
permit the committee issued — KEDEN clears it against its record, releases and writes the
quantity off the permit — and once the head terminates
the permit («тоқтатылды», Rules p.15) KEDEN refuses a declaration that relies on it."""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from connectors import sign_payload
from simulators.customs.declaration_payload import (
    answer_fields,
    build_declaration,
    build_status_request,
)
from simulators.customs.declarations import DeclarationItem, ExportDeclaration, PaymentMethod
from simulators.customs.models import RecordStatus
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import SAMPLES
from simulators.kit.personal_keys import declarant_name, personal_key
from tests.export_pilot.world import PilotWorld
from tests.waiting import eventually


def _declaration(reference: str, permit: str, quantity: str) -> ExportDeclaration:
    sample = SAMPLES[Annex.INDUSTRY]
    item = DeclarationItem(
        code=sample["code"],
        description=sample["description"],
        quantity=Decimal(quantity),
        unit=sample["unit"],
        value=Decimal("12500.00"),
        currency="USD",
        origin_country=sample["origin"],
        destination_country="RU",
        permit_numbers=(permit,),
    )
    return ExportDeclaration(
        filing_reference=reference,
        procedure="EXPORT",
        declarant_id=sample["bin"],
        declarant_name=sample["name"],
        payment_method=PaymentMethod.PERSONAL_ACCOUNT,
        items=(item,),
    )


async def _file(pilot: PilotWorld, declaration: ExportDeclaration) -> dict[str, object]:
    element: etree._Element = build_declaration(declaration)
    key = personal_key(pilot.world.harness.pki_dir, declarant_name(declaration.declarant_id))
    sign_payload(element, key)  # the declarant confirms it with their own EDS
    answer = await pilot.portal.send("KedenFileDeclaration_v1", element)
    return answer_fields(answer.response.data[0])


async def test_a_pilot_permit_clears_customs_until_it_is_terminated(pilot: PilotWorld) -> None:
    _, permit = await pilot.issue(Annex.INDUSTRY)  # 10 units to Russia, in KEDEN as EXPORT_PERMIT

    async def in_keden() -> bool:
        return await pilot.world.keden_record(permit) is not None

    await eventually(in_keden)
    filed = await _file(pilot, _declaration("PILOT-1", permit, "4"))
    assert filed["resultCode"] == "SUBMITTED", filed
    keden = pilot.world.harness.keden
    assert keden is not None and keden.clearance is not None
    await keden.clearance.run_once()  # registered, checked, released
    status = await pilot.portal.send(
        "KedenDeclarationStatus_v1", build_status_request(str(filed["declarationNumber"]))
    )
    fields = answer_fields(status.response.data[0])
    assert fields["status"] == "RELEASE_PERMITTED", fields["reason"]
    record = await pilot.world.keden_record(permit)
    assert record is not None and record.status is RecordStatus.VALID
    assert record.remaining_quantity == Decimal("6")  # 10 permitted, 4 written off

    head = pilot.pilot.desk.staff[Annex.INDUSTRY.committee].head.id
    terminated = await pilot.desk(
        "POST", f"/desk/permits/{permit}/terminate", by=head, ground="ж", reasoning="сот шешімі"
    )
    assert terminated.status_code == 200

    async def terminated_in_keden() -> bool:
        record = await pilot.world.keden_record(permit)
        return record is not None and record.status is RecordStatus.TERMINATED

    await eventually(terminated_in_keden)
    refused = await _file(pilot, _declaration("PILOT-2", permit, "1"))
    assert refused["resultCode"] == "FORMATION_REFUSED", refused
    codes = [r["code"] for r in refused["reason"]]  # type: ignore[union-attr]
    assert "PERMIT_NOT_VALID" in codes, refused
    reason = next(r for r in refused["reason"] if r["code"] == "PERMIT_NOT_VALID")  # type: ignore[union-attr]
    assert "TERMINATED" in reason["text"] and reason["remedy"]
