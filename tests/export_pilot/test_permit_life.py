"""F3 after the decision: the reasoned refusal, the holder's termination application (paper or
electronic, Rules p.14 а), no amendments (p.12), the execution report due 15 days after expiry
(p.16), and the scope question customs and the portal can ask (order p.2-3)."""

from __future__ import annotations

import datetime as dt

import pytest
from lxml import etree

from connectors import GatewayFault
from simulators.customs.models import RecordStatus
from simulators.elicensing.documents import NAMESPACE
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.auto import AutoOfficer, AutoOfficerSettings
from simulators.elicensing.export_pilot.flow import PilotFlow
from simulators.elicensing.export_pilot.forms import (
    Attachment,
    DocumentKind,
    ExecutionReport,
    ExportPermitRefusal,
    ExportPilotScopeRequest,
    SubmissionChannel,
    TerminationApplication,
)
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.rules import REFILING_ITEMS
from simulators.elicensing.export_pilot.samples import sample_application, without
from simulators.elicensing.export_pilot.service import QUERY_SERVICE
from simulators.elicensing.export_pilot.store import State
from simulators.elicensing.flow import PORTAL_SERVICE
from simulators.kit.clock import KZ_TIME
from tests.export_pilot.world import PilotWorld
from tests.waiting import eventually


async def test_a_refusal_names_its_grounds_and_is_signed_by_the_head(pilot: PilotWorld) -> None:
    form = without(
        sample_application(Annex.CIVIL_AVIATION, pilot.today), DocumentKind.OPERATOR_CERTIFICATE
    )
    number = (await pilot.file(form))["applicationNumber"]
    staff = pilot.pilot.desk.staff[Annex.CIVIL_AVIATION.committee]
    officer = staff.officers[0].id
    taken = (await pilot.desk("POST", f"/desk/applications/{number}/take", officer=officer)).json()
    assert [f["code"] for f in taken["findings"]] == [7]
    blocked = await pilot.desk("POST", f"/desk/applications/{number}/approve", officer=officer)
    assert (
        blocked.status_code == 409 and blocked.json()["code"] == "Client.ExportPilot.FindingsOpen"
    )
    wrong = await pilot.desk(
        "POST", f"/desk/applications/{number}/refuse", officer=officer, grounds={"6": "US"}
    )
    assert wrong.json()["code"] == "Client.ExportPilot.GroundNotApplicable"  # 6 is A1/A2 only
    outsider = pilot.pilot.desk.staff[Annex.INDUSTRY.committee].officers[0].id
    other = await pilot.desk(
        "POST", f"/desk/applications/{number}/refuse", officer=outsider, grounds={"7": ""}
    )
    assert other.status_code == 403
    refused = await pilot.desk(
        "POST", f"/desk/applications/{number}/refuse", officer=officer, grounds={"7": ""}
    )
    assert refused.json()["grounds"] == [7]
    not_head = await pilot.desk("POST", f"/desk/applications/{number}/sign", head=officer)
    assert not_head.json()["code"] == "Client.ExportPilot.NotTheHead"
    await pilot.desk("POST", f"/desk/applications/{number}/sign", head=staff.head.id)
    app = await pilot.delivered(number)
    assert app.outcome == "REFUSED" and not app.sent_keden  # nothing for customs to hold
    [certified] = await pilot.cabinet()
    refusal = documents.parse_decision(certified)
    assert isinstance(refusal, ExportPermitRefusal)
    [ground] = refusal.grounds
    assert ground.code == 7 and "operator certificate" in ground.reasoning
    assert ground.title_kk == "эксплуатант сертификатының болмауы"
    assert sorted(await pilot.world.stages(number)) == sorted(
        ["REGISTERED", "IN_WORK", "REFUSED", "DELIVERED"]
    )


@pytest.mark.parametrize("channel", [SubmissionChannel.ELECTRONIC, SubmissionChannel.PAPER])
async def test_the_holders_termination_application_ends_in_keden(
    pilot: PilotWorld, channel: SubmissionChannel
) -> None:
    _, permit_number = await pilot.issue(Annex.INDUSTRY)
    holder = sample_application(Annex.INDUSTRY, pilot.today).applicant
    pilot.pilot.flow.auto = AutoOfficer(pilot.pilot.desk, AutoOfficerSettings(enabled=True))
    ack = await pilot.send(
        TerminationApplication(
            permit_number=permit_number, holder=holder, reason="сделка отменена", channel=channel
        )
    )
    assert ack["accepted"] == "true" and "p.14 а" in ack["message"]
    pilot.pilot.flow.wake()

    async def terminated() -> bool:
        record = await pilot.world.keden_record(permit_number)
        return record is not None and record.status is RecordStatus.TERMINATED

    await eventually(terminated)
    app = await pilot.pilot.desk.store.by_permit(permit_number)
    assert app is not None and app.termination_ground == "а"
    assert channel.value in (app.termination_requested or "")


async def test_an_issued_permit_cannot_be_amended(pilot: PilotWorld) -> None:
    number, _ = await pilot.issue(Annex.TELECOM)
    officer = pilot.pilot.desk.staff[Annex.TELECOM.committee].officers[0].id
    amend = await pilot.desk("POST", f"/desk/applications/{number}/amend", officer=officer)
    assert amend.status_code == 400 and amend.json()["code"] == "Client.ExportPilot.NoAmendments"
    assert "Rules p.12" in amend.json()["message"]


async def test_an_overdue_execution_report_is_listed(pilot: PilotWorld) -> None:
    _, first = await pilot.issue(Annex.INDUSTRY)
    _, second = await pilot.issue(Annex.TELECOM)
    holder = sample_application(Annex.TELECOM, pilot.today).applicant
    report = ExecutionReport(permit_number=second, holder=holder, exported_quantity="10")
    assert (await pilot.send(report))["accepted"] == "true"
    # valid to 31 Dec 2026; the report is due 15 calendar days later, 15 Jan 2027 (Rules p.16)
    pilot.world.clock.set(dt.datetime(2027, 1, 15, 18, 0, tzinfo=KZ_TIME))
    assert (await pilot.desk("GET", "/desk/reports/overdue")).json() == []
    pilot.world.clock.set(dt.datetime(2027, 1, 16, 9, 0, tzinfo=KZ_TIME))
    [overdue] = (await pilot.desk("GET", "/desk/reports/overdue")).json()
    assert overdue["permitNumber"] == first and overdue["reportDue"] == "2027-01-15"
    assert overdue["daysOverdue"] == 1
    record = await pilot.world.keden_record(first)
    assert record is not None and record.status_on(pilot.world.clock.now()) is RecordStatus.EXPIRED


async def test_an_exempt_export_is_told_so_and_gets_no_application(pilot: PilotWorld) -> None:
    ask = ExportPilotScopeRequest(
        commodity_code="8471500000",
        destination_country="KG",
        origin_country="KZ",
        date=pilot.today,
        evidence=("CT_KZ_ORIGINAL",),
    )
    answer = await pilot.send(ask, QUERY_SERVICE)
    assert (answer["scope"], answer["permitRequired"]) == ("EXEMPT", "false")
    assert answer["exemption"] == "KZ_ORIGIN" and "order p.3" in answer["reason"]
    needed = await pilot.send(ask.model_copy(update={"evidence": ()}), QUERY_SERVICE)
    assert (needed["committee"], needed["annex"]) == ("TELECOM", "2")
    form = sample_application(Annex.TELECOM, pilot.today)
    goods = form.goods.model_copy(update={"origin_country": "KZ"})
    # an application for an export the order exempts is still filed only if a permit is
    # needed: KZ origin without the CT-KZ is not exempt, so it is received
    receipt = await pilot.file(form.model_copy(update={"goods": goods}))
    assert receipt["committee"] == "TELECOM"


async def test_a_bad_scope_question_is_a_fault_naming_the_field(pilot: PilotWorld) -> None:
    request = etree.Element(etree.QName(NAMESPACE, "ExportPilotScopeRequest"))
    etree.SubElement(request, "commodityCode").text = "88073"  # not 10 digits
    with pytest.raises(GatewayFault) as fault:
        await pilot.portal.send(QUERY_SERVICE, request)
    assert "Client.Schema.PayloadInvalid" in str(fault.value)
    assert "commodityCode" in str(fault.value) and "[0-9]{10}" in str(fault.value)


async def test_a_new_application_after_a_change_replaces_the_old_permit(pilot: PilotWorld) -> None:
    """Rules p.13: no amendment — a new application with the termination application, the scans
    of the change and customs' execution info; the old permit ends on ground б (p.14)."""
    _, old = await pilot.issue(Annex.INDUSTRY)
    form = sample_application(Annex.INDUSTRY, pilot.today, replaces=old, quantity="7")
    extra = tuple(
        Attachment(kind=kind, number=f"{kind.value[:4]}-1", date=pilot.today)
        for kind in REFILING_ITEMS
    )
    form = form.model_copy(update={"documents": (*form.documents, *extra)})
    number = (await pilot.file(form))["applicationNumber"]
    staff = pilot.pilot.desk.staff[Annex.INDUSTRY.committee]
    for action, who in (("take", staff.officers[1].id), ("approve", staff.officers[1].id)):
        assert (
            await pilot.desk("POST", f"/desk/applications/{number}/{action}", officer=who)
        ).status_code == 200
    await pilot.desk("POST", f"/desk/applications/{number}/sign", head=staff.head.id)
    new = await pilot.delivered(number)
    replaced = await pilot.pilot.desk.store.by_permit(old)
    assert replaced is not None and replaced.termination_ground == "б"
    assert new.document_number in (replaced.termination_xml or "")

    async def old_terminated_in_keden() -> bool:
        record = await pilot.world.keden_record(old)
        return record is not None and record.status is RecordStatus.TERMINATED

    await eventually(old_terminated_in_keden)
    record = await pilot.world.keden_record(new.document_number)
    assert record is not None and record.status is RecordStatus.VALID


async def test_a_restarted_worker_resends_only_what_was_not_acknowledged(
    pilot: PilotWorld,
) -> None:
    await pilot.pilot.flow.stop()  # nobody delivers while the desk works
    form = sample_application(Annex.TELECOM, pilot.today)
    number = (await pilot.file(form))["applicationNumber"]
    staff = pilot.pilot.desk.staff[Annex.TELECOM.committee]
    officer = staff.officers[0].id
    await pilot.pilot.desk.take(number, officer)
    await pilot.pilot.desk.approve(number, officer)
    await pilot.pilot.desk.sign(number, staff.head.id)
    app = await pilot.app(number)
    certified = etree.fromstring(app.document_xml.encode())
    # a first worker gets the cabinet's ack, then "crashes" before KEDEN
    first = PilotFlow(pilot.pilot.desk, pilot.pilot.flow.client)
    await first._send(app, "sent_portal", PORTAL_SERVICE, certified, "portal")
    restarted = PilotFlow(pilot.pilot.desk, pilot.pilot.flow.client)
    await restarted.run_once()
    await restarted.run_once()  # nothing left: nothing sent again
    # and a redelivery of the cabinet's message (same messageId) is absorbed by the inbox
    await restarted._send(app, "sent_portal", PORTAL_SERVICE, certified, "portal")
    done = await pilot.app(number)
    assert done.state is State.DELIVERED and done.sent_keden
    assert len(await pilot.cabinet()) == 1
    records = await pilot.world.keden_records_of(form.applicant.identifier)
    assert [r.number for r in records] == [done.document_number]
