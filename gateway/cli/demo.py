"""``kzgate demo licence`` and ``kzgate status``: the F1 licence flow on a running system
(``kzgate demo declaration``, the F6 customs flow, lives in ``demo_declaration``).

``demo licence`` files a sample import licence as EGOV_PORTAL for a fixture company whose 2026
licence fee is confirmed in PEP (ТОО «Алтын Дала Агро»), prints the registration number and the
deadline, waits for ELICENSE's result, and says where to see the signed licence (the portal's
``/ops/inbox``) and the customs record (KEDEN, by number). ``status`` prints ELICENSE's
``/ops/sla``. Both need ``kzgate up`` (gateway and simulators) running.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import time
from decimal import Decimal

import httpx
from lxml import etree

from connectors.client import AnswerNotTrusted, GatewayFault, ShepClient
from gateway.cli.send import client_for, printable
from gateway.config import Settings
from gateway.registry import load_registry
from simulators.customs.payload import build_by_number
from simulators.elicensing import documents, forms
from simulators.kit.calendar import TRADE_COMMITTEE_HOURS, WorkingCalendar
from simulators.legal_entities.store import default_store

DEMO_APPLICANT = "170640582744"  # ТОО «Алтын Дала Агро»: a confirmed 2026 fee in PEP's fixtures
SUBMIT, STATUS = "ElicenseSubmitApplication_v1", "ElicenseApplicationStatus_v1"
EXIT_FAULT, EXIT_TIMEOUT = 2, 4


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="run a sample flow against the running system")
    flows = demo.add_subparsers(dest="flow", required=True)
    licence = flows.add_parser("licence", help="file a sample import licence and follow it")
    licence.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    licence.set_defaults(func=_demo_licence)
    from gateway.cli import demo_declaration  # imported here: it builds on this module

    demo_declaration.register(flows)
    status = sub.add_parser("status", help="ELICENSE's SLA report (/ops/sla)")
    status.set_defaults(func=_status)


def simulator_url(settings: Settings, system_id: str) -> str:
    offset = load_registry(settings.pki_dir).senders[system_id].port_offset
    return f"http://{settings.host}:{settings.simulator_base_port + offset}"


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
    try:
        return asyncio.run(
            _run_demo(settings, client_for(settings, "EGOV_PORTAL", None, None), args.timeout)
        )
    except GatewayFault as fault:
        print(f"fault {fault.info.error_code}: {fault.info.error_message}", file=sys.stderr)
        return EXIT_FAULT
    except (AnswerNotTrusted, httpx.HTTPError) as exc:
        print(f"cannot reach the system: {exc}", file=sys.stderr)
        return EXIT_FAULT


async def _run_demo(settings: Settings, client: ShepClient, timeout: float) -> int:
    now = await _business_now(settings)
    registered_on = WorkingCalendar(TRADE_COMMITTEE_HOURS).registration_moment(now).date()
    element = documents.build_application(sample_application(registered_on))
    answer = _fields((await client.send(SUBMIT, element)).response.data[0])
    number = answer["registrationNumber"]
    print(f"registered {number} at {answer['registeredAt']}, deadline {answer['deadline']}")
    registered_at = dt.datetime.fromisoformat(answer["registeredAt"])
    if registered_at - now > dt.timedelta(minutes=1):
        # Off-hours: the law registers the filing at the next working day's opening, and the
        # processing waits for it. The demo says so instead of waiting in silence.
        print(
            f"filed outside the Trade Committee's working hours ({now:%a %H:%M} KZ time): "
            "processing starts at the registration moment. To rehearse now, run the system "
            "on a virtual clock, e.g. KZGATE_CLOCK='{\"start\": \"2026-11-23T10:00:00+05:00\", "
            "\"speed\": 1, \"file\": \"var/clock.json\"}' ./run"
        )
        return 0
    status = await _wait_delivered(client, number, timeout)
    if status is None:
        print(f"no result within {timeout:g} s; see `kzgate status`", file=sys.stderr)
        return EXIT_TIMEOUT
    print(
        f"{status.get('outcome')} {status.get('documentNumber', '')} at {status.get('completedAt')}"
    )
    print(f"licence in the applicant's cabinet: {simulator_url(settings, 'EGOV_PORTAL')}/ops/inbox")
    if status.get("outcome") == "ISSUED":
        record = await client.send(
            "KedenRecordByNumber_v1", build_by_number(status["documentNumber"])
        )
        print(f"customs record (KEDEN, KedenRecordByNumber_v1 {status['documentNumber']}):")
        print(printable(record.response.data[0]))
    return 0


async def _business_now(settings: Settings) -> dt.datetime:
    """ELICENSE's business clock (it may be virtual): the application's dates follow it."""
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"{simulator_url(settings, 'ELICENSE')}/ops/clock", timeout=10)
    return dt.datetime.fromisoformat(reply.json()["now"])


async def _wait_delivered(client: ShepClient, number: str, timeout: float) -> dict[str, str] | None:
    request = etree.Element(etree.QName(documents.NAMESPACE, "ApplicationStatusRequest"))
    etree.SubElement(request, "registrationNumber").text = number
    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        status = _fields((await client.send(STATUS, request)).response.data[0])
        if status.get("state") == "DELIVERED":
            return status
        await asyncio.sleep(1.0)
    return None


def _fields(element: etree._Element) -> dict[str, str]:
    return {etree.QName(c).localname: c.text or "" for c in element}


def _status(args: argparse.Namespace) -> int:
    settings = Settings()
    try:
        reply = httpx.get(f"{simulator_url(settings, 'ELICENSE')}/ops/sla", timeout=10)
    except httpx.HTTPError as exc:
        print(f"ELICENSE is not reachable: {exc}", file=sys.stderr)
        return EXIT_FAULT
    print(json.dumps(reply.json(), ensure_ascii=False, indent=2))
    return 0
