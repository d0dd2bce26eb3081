"""``kzgate demo declaration``: the F6 customs flow on a running system (``kzgate up``).

As EGOV_PORTAL, for the demo company (ТОО «Алтын Дала Агро»): obtains an export licence for
40 000 kg of leather to Italy (F1), waits for its customs record in KEDEN, files a paperless export
declaration of 15 000 kg against it and follows it — registered, risk check, released — then shows
the remaining quantity written off in KEDEN, and files a second declaration of 30 000 kg, which
KEDEN refuses to form with the reason. Seed 004 Annex 5 (repealed in 2015) is the model.
``--json`` prints what it did as JSON (``DemoReport``).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
from decimal import Decimal
from pathlib import Path

import httpx2

from connectors import AnswerNotTrusted, GatewayFault, ShepClient, TransportKey, sign_payload
from connectors.config import Settings
from kzgate.cli.demo import (
    DEMO_APPLICANT,
    EXIT_FAULT,
    EXIT_TIMEOUT,
    REHEARSAL_DAY,
    SUBMIT,
    DemoReport,
    business_now,
    field_texts,
    pay_licence_fee,
    sample_application,
    virtual_clock_line,
    wait_decided,
)
from kzgate.cli.output import add_json_option
from kzgate.cli.send import client_for
from simulators.customs.declaration_payload import (
    answer_fields,
    build_declaration,
    build_status_request,
)
from simulators.customs.declarations import (
    CUSTOMS_HOURS,
    DeclarationItem,
    ExportDeclaration,
    PaymentMethod,
)
from simulators.customs.payload import build_by_number, parse_lookup_answer
from simulators.elicensing import documents, forms
from simulators.kit.calendar import TRADE_COMMITTEE_HOURS, WorkingCalendar
from simulators.kit.personal_keys import declarant_name, personal_key

FILE, STATUS = "KedenFileDeclaration_v1", "KedenDeclarationStatus_v1"
LEATHER = "4107129100"
FINAL = {"REGISTRATION_REFUSED", "RELEASE_PERMITTED", "RELEASE_REFUSED"}


def register(flows: argparse._SubParsersAction) -> None:
    declaration = flows.add_parser(
        "declaration", help="licence → export declaration → release and write-off in KEDEN"
    )
    declaration.add_argument("--timeout", type=float, default=180.0, help="seconds to wait")
    add_json_option(declaration)
    declaration.set_defaults(func=_demo_declaration)


def export_licence_application(registered_on: dt.date) -> forms.LicenceApplication:
    """The demo company's export licence: 40 000 kg of tanned leather to Italy."""
    base = sample_application(registered_on)
    return base.model_copy(
        update={
            "type": forms.TradeType.EXPORT,
            "counterparty": forms.Counterparty(
                role=forms.CounterpartyRole.BUYER, name="Conceria Toscana S.p.A.", country="IT"
            ),
            "trade_country": forms.TradeCountry(
                role=forms.TradeCountryRole.DESTINATION, country="IT"
            ),
            "goods": forms.Goods(
                currency="EUR",
                value=Decimal("184000.00"),
                statistical_value=Decimal("197500.00"),
                origin_country="KZ",
                quantity=Decimal("40000"),
                unit="kg",
                commodity_code=LEATHER,
                description="Whole bovine leather, tanned, further prepared",
            ),
            "basis": "Decision of the EEC Board No. 30 of 21.04.2015",
        }
    )


def export_declaration(reference: str, quantity: str, licence: str) -> ExportDeclaration:
    return ExportDeclaration(
        filing_reference=reference,
        procedure="EXPORT",
        declarant_id=DEMO_APPLICANT,
        declarant_name="ТОО «Алтын Дала Агро»",
        payment_method=PaymentMethod.PERSONAL_ACCOUNT,
        items=(
            DeclarationItem(
                code=LEATHER,
                description="Whole bovine leather, tanned",
                quantity=Decimal(quantity),
                unit="kg",
                value=Decimal(quantity) * Decimal("4.60"),
                currency="EUR",
                origin_country="KZ",
                destination_country="IT",
                permit_numbers=(licence,),
            ),
        ),
    )


async def run(
    client: ShepClient,
    pki_dir: Path,
    now: dt.datetime,
    timeout: float,
    report: DemoReport | None = None,
) -> int:
    """The demo against the gateway ``client`` reaches, at business time ``now``; the declarant
    signs with a personal key the test PKI in ``pki_dir`` issues."""
    report = report or DemoReport()
    say = report.say
    report.note(flow="declaration")
    declarant = personal_key(pki_dir, declarant_name(DEMO_APPLICANT), role="declarant")
    licence_moment = WorkingCalendar(TRADE_COMMITTEE_HOURS).registration_moment(now)
    customs_moment = WorkingCalendar(CUSTOMS_HOURS).registration_moment(now)
    if licence_moment - now > dt.timedelta(minutes=1) or customs_moment > now:
        report.note(waitsForOpening=True)
        say(
            f"it is {now:%a %H:%M} KZ time, outside the Trade Committee's or customs' working "
            "hours: filings wait for the next opening. To rehearse now, run the system on a "
            f"virtual clock, e.g. {virtual_clock_line(REHEARSAL_DAY)}"
        )
        return 0
    ends = time.monotonic() + timeout
    # one fee pays one licence (seed 002, LR p.3)
    if not await pay_licence_fee(client, now, report):
        return EXIT_FAULT
    element = documents.build_application(export_licence_application(licence_moment.date()))
    filed = field_texts((await client.send(SUBMIT, element)).response.data[0])
    report.note(application=filed["registrationNumber"])
    say(f"F1: licence application {filed['registrationNumber']} registered")
    status = await wait_decided(client, filed["registrationNumber"], timeout)
    if status is None or status.get("outcome") != "ISSUED":
        report.problem(f"the licence was not issued in time: {status}")
        return EXIT_TIMEOUT
    licence = status["documentNumber"]
    report.note(licence=licence)
    say(f"F1: export licence {licence} issued for 40000 kg of {LEATHER} to IT")
    if await _remaining(client, licence, ends) is None:
        report.problem(f"{licence} did not reach KEDEN's records in time")
        return EXIT_TIMEOUT

    reference = f"DEMO-{licence}"
    first = await _file(client, declarant, export_declaration(f"{reference}-1", "15000", licence))
    if first["resultCode"] != "SUBMITTED":
        report.problem(f"declaration refused at formation: {first.get('reason')}")
        return EXIT_FAULT
    number = str(first["declarationNumber"])
    report.note(declaration={"number": number, "quantityKg": 15000})
    say(
        f"F6: declaration {number} of 15000 kg submitted; registration due by "
        f"{first['registrationDeadline']} (2 working hours, Annex 5 para 5(1))"
    )
    final = await _wait_final(client, number, ends)
    if final is None:
        report.problem(f"{number} not decided in time; see KEDEN's /ops/declarations")
        return EXIT_TIMEOUT
    events = final.get("event", [])
    report.facts["declaration"].update(status=final.get("status"), events=events)
    for event in events:  # type: ignore[union-attr]
        say(f"  {event['at']}  {event['status']:<20} {event['text']}")
    remaining = await _remaining(client, licence, ends)
    report.note(licenceRemainingKg=None if remaining is None else str(remaining))
    say(f"KEDEN: {licence} has {remaining} kg left")

    second = await _file(client, declarant, export_declaration(f"{reference}-2", "30000", licence))
    report.note(excess={"quantityKg": 30000, **second})
    for reason in second.get("reason", []):  # type: ignore[union-attr]
        say(
            f"F6: a declaration of 30000 kg: {second['resultCode']} — {reason['code']}: "
            f"{reason['text']}. Remedy: {reason['remedy']}"
        )
    return 0


async def _file(
    client: ShepClient, declarant: TransportKey, declaration: ExportDeclaration
) -> dict[str, object]:
    element = build_declaration(declaration)
    sign_payload(element, declarant)  # the declarant confirms it with their EDS (process 4)
    answer = await client.send(FILE, element)
    return answer_fields(answer.response.data[0])


async def _wait_final(client: ShepClient, number: str, ends: float) -> dict[str, object] | None:
    while time.monotonic() < ends:
        answer = await client.send(STATUS, build_status_request(number))
        status = answer_fields(answer.response.data[0])
        if status.get("status") in FINAL:
            return status
        await asyncio.sleep(0.5)
    return None


async def _remaining(client: ShepClient, number: str, ends: float) -> Decimal | None:
    while time.monotonic() < ends:
        answer = await client.send("KedenRecordByNumber_v1", build_by_number(number))
        records = parse_lookup_answer(answer.response.data).records
        if records:
            return records[0].remaining_quantity
        await asyncio.sleep(0.5)
    return None


def _demo_declaration(args: argparse.Namespace) -> int:
    settings = Settings()
    report = DemoReport(as_json=args.json)
    try:
        return report.finish(asyncio.run(_main(settings, args.timeout, report)))
    except (GatewayFault, AnswerNotTrusted, httpx2.HTTPError) as exc:
        return report.fault(exc)


async def _main(settings: Settings, timeout: float, report: DemoReport) -> int:
    client = client_for(settings, "EGOV_PORTAL", None, None)
    return await run(client, settings.pki_dir, await business_now(settings), timeout, report)
