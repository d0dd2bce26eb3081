"""``kzgate demo licence``: the F1 licence flow on a running system.

``demo licence`` pays the 10-MRP licence fee through PEP (one fee pays one licence) and files a
sample import licence, with its contract copy, as EGOV_PORTAL for a fixture company (ТОО «Алтын
Дала Агро»), prints the registration number and the deadline, waits for ELICENSE's result (a
progress bar shows the wait), and says where to see the signed licence (the portal's
``/ops/inbox``) and the customs record (KEDEN, by number). It needs ``kzgate up`` (gateway and
simulators) running; ``kzgate status`` (``cli.status``) then shows the SLA, alarms and the notices
sent to the operator's support desk. ``kzgate demo export-permit`` (the seed 003 pilot) is in
``demo_export_permit``. With ``--json`` every demo tells its progress on stderr and prints one
JSON object of what it did (numbers, outcomes, exit code) on stdout (``DemoReport``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx2
from lxml import etree

from connectors import AnswerNotTrusted, GatewayFault, ShepClient
from connectors.config import Settings
from connectors.roster import roster_entry
from kzgate.cli.output import add_json_option, print_json, progress
from kzgate.cli.send import client_for, printable
from simulators.customs.payload import LookupAnswer, build_by_number, parse_lookup_answer
from simulators.elicensing import documents, forms
from simulators.elicensing.facts import PEP_FEE_PURPOSE
from simulators.elicensing.rules_fee import LICENCE_FEE_MRP
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import Kind
from simulators.legal_entities.payload import default_store
from simulators.payments.payload import build_confirm_request, build_create_request
from simulators.tax.payload import build_mrp_request

DEMO_APPLICANT = "170640582744"  # ТОО «Алтын Дала Агро», ACTIVE in GBDUL
SUBMIT, STATUS = "ElicenseSubmitApplication_v1", "ElicenseApplicationStatus_v1"
EXIT_FAULT, EXIT_TIMEOUT = 2, 4
# A working Monday of a year KGD's shipped MRP table knows: where the demos' advice starts a
# virtual clock when the real one is off-hours or past what the settings cover.
REHEARSAL_DAY = dt.date(2026, 11, 23)


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run a sample flow against the running system")
    flows = demo.add_subparsers(dest="flow", required=True)
    licence = flows.add_parser("licence", help="file a sample import licence and follow it")
    licence.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    add_json_option(licence)
    licence.set_defaults(func=_demo_licence)
    from kzgate.cli.demo_export_permit import register_flow  # it imports this module

    register_flow(flows)
    from kzgate.cli import demo_declaration  # imported here: it builds on this module

    demo_declaration.register(flows)


@dataclass
class DemoReport:
    """What a demo tells: lines for people as it goes (on stderr with ``--json``, so stdout
    stays one JSON document), and the facts a machine reads — printed by ``finish``."""

    as_json: bool = False
    lines: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, file=sys.stderr if self.as_json else sys.stdout)

    def problem(self, line: str) -> None:
        """Why the demo stops short: on stderr, and ``error`` in the JSON."""
        self.lines.append(line)
        self.note(error=line)
        print(line, file=sys.stderr)

    def note(self, **facts: Any) -> None:
        self.facts.update(facts)

    def finish(self, code: int) -> int:
        if self.as_json:
            print_json({**self.facts, "exitCode": code})
        return code

    def fault(self, exc: Exception) -> int:
        """A fault or an unreachable system ends the demo with ``EXIT_FAULT``."""
        if isinstance(exc, GatewayFault):
            self.problem(f"fault {exc.info.error_code}: {exc.info.error_message}")
        else:
            self.problem(f"cannot reach the system: {exc}")
        return self.finish(EXIT_FAULT)


def simulator_url(settings: Settings, system_id: str) -> str:
    return roster_entry(system_id).url(settings.host, settings.simulator_base_port)


def sample_application(registered_on: dt.date) -> forms.LicenceApplication:
    """An import licence (wheel loaders from China) by the demo company, valid 6 months."""
    org = default_store().find(DEMO_APPLICANT)
    assert org is not None, "the demo company is in the GBDUL fixtures"
    applicant = forms.Applicant(
        kind=forms.ApplicantKind.LEGAL_ENTITY,
        identifier=DEMO_APPLICANT,
        name=org.short_name,
        address=f"{org.address.city}, {org.address.street}",
    )
    return forms.LicenceApplication(
        valid_from=registered_on,
        valid_to=registered_on + dt.timedelta(days=180),
        type=forms.TradeType.IMPORT,
        contract=forms.Contract(number="DEMO-1", date=registered_on - dt.timedelta(days=30)),
        # LR p.4(2): the contract's electronic copy travels with the application (absent: R1).
        contract_copy=forms.Attachment.of(
            forms.AttachmentKind.CONTRACT,
            "DEMO-1.pdf",
            "application/pdf",
            b"%PDF-1.7 demo foreign-trade contract DEMO-1 (wheel loaders, Shandong - Almaty)",
        ),
        applicant=applicant,
        counterparty=forms.Counterparty(
            role=forms.CounterpartyRole.SELLER, name="Shandong Heavy Machinery Co.", country="CN"
        ),
        trade_country=forms.TradeCountry(role=forms.TradeCountryRole.DISPATCH, country="CN"),
        goods=forms.Goods(
            currency="USD",
            value=Decimal("960000"),
            statistical_value=Decimal("960000"),
            origin_country="CN",
            quantity=Decimal("12"),
            unit="pcs",
            commodity_code="8429511000",
            description="Front-end shovel loaders",
        ),
        authorized_person=forms.AuthorizedPerson(
            surname="Демо", first_name="Заявитель", position="Директор", phone="+7 700 000 00 00"
        ),
        consent=forms.Consent(given=True, date=registered_on, signer="Демо З."),
    )


def _demo_licence(args: argparse.Namespace) -> int:
    settings = Settings()
    report = DemoReport(as_json=args.json)
    client = client_for(settings, "EGOV_PORTAL", None, None)
    try:
        return report.finish(asyncio.run(_run_demo(settings, client, args.timeout, report)))
    except (GatewayFault, AnswerNotTrusted, httpx2.HTTPError) as exc:
        return report.fault(exc)


async def _run_demo(
    settings: Settings, client: ShepClient, timeout: float, report: DemoReport
) -> int:
    cabinet = f"{simulator_url(settings, 'EGOV_PORTAL')}/ops/inbox"
    return await run_licence(client, await business_now(settings), timeout, report, cabinet)


async def run_licence(
    client: ShepClient, now: dt.datetime, timeout: float, report: DemoReport, cabinet: str
) -> int:
    """The licence demo against the gateway ``client`` reaches, at business time ``now``;
    ``cabinet`` is where the applicant's cabinet shows what it received."""
    report.note(flow="licence")
    # ELICENSE's own calendar settings (a decreed day off moves the registration here too).
    calendar = ElicenseSettings().calendar(Kind.LICENCE)
    registered_on = calendar.registration_moment(now).date()
    if not await pay_licence_fee(client, now, report):
        return EXIT_FAULT
    element = documents.build_application(sample_application(registered_on))
    answer = field_texts((await client.send(SUBMIT, element)).response.data[0])
    number = answer["registrationNumber"]
    report.note(application=number, registeredAt=answer["registeredAt"])
    report.note(deadline=answer["deadline"])
    report.say(f"registered {number} at {answer['registeredAt']}, deadline {answer['deadline']}")
    registered_at = dt.datetime.fromisoformat(answer["registeredAt"])
    if registered_at - now > dt.timedelta(minutes=1):
        # Off-hours: the law registers the filing at the next working day's opening, and the
        # processing waits for it. The demo says so instead of waiting in silence.
        report.note(waitsForRegistration=True)
        report.say(
            f"filed outside the Trade Committee's working hours ({now:%a %H:%M} KZ time): "
            "processing starts at the registration moment. To rehearse now, run the system "
            f"on a virtual clock, e.g. {virtual_clock_line(REHEARSAL_DAY)}"
        )
        return 0
    status = await wait_decided(client, number, timeout)
    if status is None:
        report.problem(f"no result within {timeout:g} s; see `kzgate status`")
        return EXIT_TIMEOUT
    report.note(
        outcome=status.get("outcome"),
        documentNumber=status.get("documentNumber"),
        completedAt=status.get("completedAt"),
        cabinet=cabinet,
    )
    report.say(
        f"{status.get('outcome')} {status.get('documentNumber', '')} at {status.get('completedAt')}"
    )
    report.say(f"licence in the applicant's cabinet: {cabinet}")
    if status.get("outcome") == "ISSUED":
        record = await client.send(
            "KedenRecordByNumber_v1", build_by_number(status["documentNumber"])
        )
        report.note(customsRecord=customs_record(parse_lookup_answer(record.response.data)))
        report.say(f"customs record (KEDEN, KedenRecordByNumber_v1 {status['documentNumber']}):")
        report.say(printable(record.response.data[0]))
    return 0


async def pay_licence_fee(
    client: ShepClient, now: dt.datetime, report: DemoReport | None = None
) -> bool:
    """Pay the 10-MRP licence fee through PEP as the portal does: one fee pays one licence
    (seed 002, LR p.3), so every demo run pays its own. The MRP is the payment date's (KGD)."""
    report = report or DemoReport()
    answer = (await client.send("KgdMrpByYear_v1", build_mrp_request(now.year))).response.data[0]
    amount = answer.findtext("mrp/amount")
    if amount is None:
        report.note(error=f"KGD has no MRP of {now.year}")
        print(f"KGD has no MRP of {now.year}: {answer.findtext('resultMessage')}", file=sys.stderr)
        print(mrp_missing_advice(now.year), file=sys.stderr)
        return False
    fee = f"{Decimal(amount) * LICENCE_FEE_MRP:.2f}"
    reference = f"DEMO-{time.time_ns():x}"
    order = build_create_request(DEMO_APPLICANT, PEP_FEE_PURPOSE, fee, reference)
    created = (await client.send("PepCreatePayment_v1", order)).response.data[0]
    payment_id = created.findtext("payment/paymentId")
    await client.send("PepConfirmPayment_v1", build_confirm_request(payment_id))
    report.note(fee={"amount": fee, "paymentId": payment_id, "reference": reference})
    report.say(f"licence fee {fee} KZT paid through PEP: {payment_id} ({reference})")
    return True


def mrp_missing_advice(year: int) -> str:
    """What to set when KGD has no MRP of ``year``. The MRP is the budget law's; the simulator
    does not invent it, so the tester either configures it or rehearses in a year KGD knows."""
    return (
        f"set the MRP of {year} in a table like simulators/tax/fixtures/mrp.json, name it with "
        "KZGATE_KGD_MRP_FILE and restart KGD; or rehearse in a year KGD knows, on a virtual "
        f"clock: {virtual_clock_line(REHEARSAL_DAY)}"
    )


def virtual_clock_line(day: dt.date) -> str:
    """The ``./run`` line that starts the system on a virtual clock at 10:00 KZ time of ``day``."""
    clock = f'{{"start": "{day}T10:00:00+05:00", "speed": 1, "file": "var/clock.json"}}'
    return f"KZGATE_CLOCK='{clock}' ./run"


async def business_now(settings: Settings) -> dt.datetime:
    """ELICENSE's business clock (it may be virtual): the application's dates follow it."""
    async with httpx2.AsyncClient() as http:
        reply = await http.get(f"{simulator_url(settings, 'ELICENSE')}/ops/clock", timeout=10)
    return dt.datetime.fromisoformat(reply.json()["now"])


async def wait_decided(client: ShepClient, number: str, timeout: float) -> dict[str, str] | None:
    request = etree.Element(etree.QName(documents.NAMESPACE, "ApplicationStatusRequest"))
    etree.SubElement(request, "registrationNumber").text = number
    started = time.monotonic()
    ends = started + timeout
    with progress(f"waiting for {number}", total=timeout) as advance:
        while time.monotonic() < ends:
            status = field_texts((await client.send(STATUS, request)).response.data[0])
            if status.get("state") == "DELIVERED":
                return status
            advance(time.monotonic() - started, f"{number}: {status.get('state', '?')}")
            await asyncio.sleep(1.0)
    return None


def customs_record(answer: LookupAnswer) -> dict[str, str] | None:
    """The first record KEDEN answered a look-up with, for ``--json``."""
    if not answer.records:
        return None
    record = answer.records[0]
    return {
        "number": record.content.number,
        "kind": record.content.kind.value,
        "status": record.status.value,
        "remainingQuantity": str(record.remaining_quantity),
        "unit": record.content.unit,
    }


def field_texts(element: etree._Element) -> dict[str, str]:
    return {etree.QName(c).localname: c.text or "" for c in element}
