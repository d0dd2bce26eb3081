"""``kzgate demo export-permit``: the CIS export-permit pilot (seed 003) on a running system.

Files a sample application (gensets, Annex 1, to Russia) as EGOV_PORTAL; plays the Industry
Committee's officer and head on the desk (take, approve, sign with the head's personal key) —
or, with ``--auto``, waits for the automatic officer (``KZGATE_EXPORT_PILOT_AUTO=on``); waits
until the permit is in the applicant's cabinet and in KEDEN, prints KEDEN's record; with
``--terminate`` terminates it (Rules p.14 ж) and shows KEDEN's status turn TERMINATED
(«тоқтатылды»). Needs ``kzgate up``; ``--json`` prints what it did as JSON (``DemoReport``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time

import httpx2
from lxml import etree

from connectors import AnswerNotTrusted, ErrorInfo, GatewayFault, ShepClient
from connectors.config import Settings
from kzgate.cli.demo import (
    EXIT_FAULT,
    EXIT_TIMEOUT,
    DemoReport,
    business_now,
    field_texts,
    simulator_url,
    virtual_clock_line,
)
from kzgate.cli.output import add_json_option
from kzgate.cli.send import client_for
from simulators.customs.payload import build_by_number, parse_lookup_answer
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.samples import sample_application
from simulators.elicensing.export_pilot.service import (
    OUTSIDE_PILOT,
    QUERY_SERVICE,
    SUBMIT_SERVICE,
)
from simulators.elicensing.export_pilot.staff import load_staff
from simulators.kit.clock import KZ_TIME


def register_flow(flows: argparse._SubParsersAction) -> None:
    demo = flows.add_parser(
        "export-permit", help="file a CIS export-permit application, decide it on the desk"
    )
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    demo.add_argument("--auto", action="store_true", help="leave the desk to the automatic officer")
    demo.add_argument("--terminate", action="store_true", help="then terminate it (p.14 ж)")
    add_json_option(demo)
    demo.set_defaults(func=_demo)


def _demo(args: argparse.Namespace) -> int:
    settings = Settings()
    client = client_for(settings, "EGOV_PORTAL", None, None)
    report = DemoReport(as_json=args.json)
    try:
        return report.finish(asyncio.run(_run(settings, client, args, report)))
    except (GatewayFault, AnswerNotTrusted, httpx2.HTTPError) as exc:
        return report.fault(exc)


async def _run(
    settings: Settings, client: ShepClient, args: argparse.Namespace, report: DemoReport
) -> int:
    now = await business_now(settings)
    desk = simulator_url(settings, "ELICENSE")
    async with httpx2.AsyncClient(base_url=desk, timeout=30) as http:
        return await run_demo(
            client, http, now, args.timeout, auto=args.auto, terminate=args.terminate, report=report
        )


async def run_demo(
    client: ShepClient,
    http: httpx2.AsyncClient,
    now: dt.datetime,
    timeout: float,
    *,
    auto: bool = False,
    terminate: bool = False,
    report: DemoReport | None = None,
) -> int:
    """The rehearsal: ``client`` speaks SHEP as EGOV_PORTAL, ``http`` is ELICENSE's desk."""
    report = report or DemoReport()
    today = now.astimezone(KZ_TIME).date()
    form = sample_application(Annex.INDUSTRY, today)
    try:
        submitted = await client.send(SUBMIT_SERVICE, documents.build(form))
    except GatewayFault as fault:
        if not _outside_pilot(fault):
            raise
        window = (await http.get("/desk/window")).json()
        report.problem(
            f"the pilot is not in force on {today}: {fault.info.error_message}\n"
            + outside_pilot_advice(window)
        )
        return EXIT_FAULT
    receipt = field_texts(submitted.response.data[0])
    number = receipt["applicationNumber"]
    say = report.say
    report.note(flow="export-permit", application=number)
    report.note(committee=receipt["committee"], annex=receipt["annex"])
    report.note(registrationDue=receipt["registrationDue"], desk=[])
    say(f"received {number} for the {receipt['committee']} committee (Annex {receipt['annex']})")
    say(f"  registration due {receipt['registrationDue']} (Rules p.9(1): 1 working day)")
    staff = load_staff()[Annex.INDUSTRY.committee]
    if not auto:
        officer = staff.officers[0].id
        for action, who in (("take", officer), ("approve", officer), ("sign", staff.head.id)):
            key = "head" if action == "sign" else "officer"
            reply = await http.post(f"/desk/applications/{number}/{action}", json={key: who})
            if reply.status_code >= 400:
                report.problem(f"desk refused {action}: {reply.json()}")
                return EXIT_FAULT
            report.facts["desk"].append({"action": action, "by": who})
            say(f"  {action:8} by {who}")
    status = await _wait(client, number, timeout)
    if status is None:
        report.problem(f"no result within {timeout:g} s; see `kzgate officer show {number}`")
        return EXIT_TIMEOUT
    permit = status.get("documentNumber", "")
    report.note(outcome=status.get("outcome"), documentNumber=permit, signedBy=staff.head.name)
    say(f"{status.get('outcome')} {permit}: signed by {staff.head.name} (personal key)")
    say("  in the applicant's cabinet: EGOV_PORTAL /ops/inbox")
    if status.get("outcome") != "ISSUED":
        return 0
    in_keden = await _keden_status(client, permit)
    report.note(keden=in_keden)
    say(f"  in KEDEN: {in_keden}")
    if terminate:
        body = {"by": staff.head.id, "ground": "ж", "reasoning": "демо: сот шешімі"}
        reply = await http.post(f"/desk/permits/{permit}/terminate", json=body)
        report.note(terminationNumber=reply.json().get("terminationNumber"))
        say(f"terminated: {reply.json().get('terminationNumber')} (Rules p.14 ж)")
        ends = time.monotonic() + timeout
        while time.monotonic() < ends:
            state = await _keden_status(client, permit)
            if state.startswith("TERMINATED"):
                report.note(keden=state)
                say(f"  in KEDEN: {state}")
                return 0
            await asyncio.sleep(1.0)
        report.problem("KEDEN has not shown the termination yet")
        return EXIT_TIMEOUT
    return 0


def outside_pilot_advice(window: dict[str, str]) -> str:
    """What to set when the business date is outside the pilot window (ELICENSE's
    ``/desk/window``). The order runs one year from 10 days after its publication (order p.11),
    a date the seed does not give: the window is a setting the demo never moves, and a virtual
    clock on a working day inside it rehearses honestly."""
    day = dt.date.fromisoformat(window["rehearsalDay"])
    return (
        f"the window is {window['start']}..{window['end']}: set KZGATE_EXPORT_PILOT_START and "
        "KZGATE_EXPORT_PILOT_END (ELICENSE) to the order's real term, or rehearse inside the "
        f"window on a virtual clock: {virtual_clock_line(day)}"
    )


def _outside_pilot(fault: GatewayFault) -> bool:
    info: ErrorInfo | None = fault.info
    while info is not None:
        if info.error_code == OUTSIDE_PILOT.code:
            return True
        info = info.sub_error
    return False


async def _wait(client: ShepClient, number: str, timeout: float) -> dict[str, str] | None:
    request = etree.Element(etree.QName(documents.NAMESPACE, "ExportPilotStatusRequest"))
    etree.SubElement(request, "applicationNumber").text = number
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        status = field_texts((await client.send(QUERY_SERVICE, request)).response.data[0])
        if status.get("state") == "DELIVERED":
            return status
        await asyncio.sleep(1.0)
    return None


async def _keden_status(client: ShepClient, permit: str) -> str:
    answer = await client.send("KedenRecordByNumber_v1", build_by_number(permit))
    records = parse_lookup_answer(answer.response.data).records
    if not records:
        return "not registered yet"
    record = records[0]
    return f"{record.status.value} ({record.content.kind.value}) {record.status_reason or ''}"
