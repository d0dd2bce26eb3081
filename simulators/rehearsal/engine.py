"""Playing a scenario against a running system: steps in order, expectations on the virtual clock.

An expectation looks at the system (a SOAP status query, a KEDEN record look-up), and while it
does not hold it moves the shared virtual clock forward by its ``tick`` — business time passes
because the scenario drives it, not because the runner sleeps — until the business-time bound
``within`` has passed; then it fails, naming itself. A real-seconds ``timeout`` under it is only a
safety net for a system that does not answer. Between two looks the runner yields for a fraction
of a second so that the simulators' workers (real processes) can act on the moved clock.

Every step ends in a ``StepResult`` (passed, failed or error, with a message and the business
time it took); the report module prints them and writes JUnit.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
from lxml import etree

from connectors import AnswerNotTrusted, GatewayFault, ShepClient, sign_payload
from connectors.wsse.pki import revoke
from gateway.cli.catalogue import systems_view
from gateway.cli.demo import field_texts, sample_application
from gateway.cli.demo_declaration import LEATHER, export_licence_application
from gateway.cli.send import client_for
from gateway.config import Settings
from simulators.customs.declaration_payload import (
    answer_fields,
    build_declaration,
    build_status_request,
)
from simulators.customs.declarations import DeclarationItem, ExportDeclaration, PaymentMethod
from simulators.customs.payload import build_by_number
from simulators.elicensing import documents, forms
from simulators.elicensing.export_pilot import documents as pilot_documents
from simulators.elicensing.export_pilot import samples as pilot_samples
from simulators.elicensing.export_pilot.desk import load_staff
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.service import QUERY_SERVICE as PILOT_QUERY
from simulators.elicensing.export_pilot.service import SUBMIT_SERVICE as PILOT_SUBMIT
from simulators.elicensing.facts import PEP_FEE_PURPOSE
from simulators.elicensing.settings import ElicenseSettings
from simulators.elicensing.store import Kind
from simulators.kit.clock import KZ_TIME
from simulators.kit.personal_keys import declarant_name, personal_key
from simulators.legal_entities.payload import default_store
from simulators.payments.payload import build_confirm_request, build_create_request
from simulators.rehearsal import model
from simulators.tax.payload import build_mrp_request

SUBMIT, STATUS = "ElicenseSubmitApplication_v1", "ElicenseApplicationStatus_v1"
# Real seconds between two looks: long enough for a worker to notice the moved clock (the shared
# clock file is re-read every 0.25 s), short enough that a decided application is seen at once.
LOOK_INTERVAL = 0.3
DECLARATION_FINAL = {"REGISTRATION_REFUSED", "RELEASE_PERMITTED", "RELEASE_REFUSED"}


class ExpectationFailed(Exception):
    """An expectation did not hold within its bound; the message says what was seen."""


@dataclass
class StepResult:
    index: str
    kind: str
    title: str
    status: str  # "passed" | "failed" | "error"
    message: str = ""
    seconds: float = 0.0
    key: bool = False
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "passed"


@dataclass
class Filed:
    """What the scenario knows of a filed application (or a raw send) by its alias."""

    number: str = ""
    registered_at: dt.datetime | None = None
    deadline: dt.datetime | None = None
    fault: str | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    kind: str = "licence"  # "licence", "permit" (the seed 003 pilot), "declaration" or "send"
    applicant: str = model.DEFAULT_APPLICANT
    template: str = ""  # what was filed: the goods a declaration against it carries
    committee: model.Committee | None = None


@dataclass
class ScenarioResult:
    name: str
    file: str
    rehearses: str
    steps: list[StepResult]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)


Progress = Callable[[StepResult], None]


class Rehearsal:
    """One run of one scenario against the system ``settings`` point at."""

    def __init__(self, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self.view = systems_view(settings, http)
        self.filed: dict[str, Filed] = {}
        self._clients: dict[str, ShepClient] = {}
        self._calendar = ElicenseSettings().calendar(Kind.LICENCE)
        self._clock_lock = asyncio.Lock()
        self._faulted: set[str] = set()

    def client(self, sender: str) -> ShepClient:
        if sender not in self._clients:
            self._clients[sender] = client_for(self.settings, sender, None, None)
        return self._clients[sender]

    # --- the run ---------------------------------------------------------------------------------

    async def play(
        self, scenario: model.Scenario, file: str, on_step: Progress | None = None
    ) -> ScenarioResult:
        started = time.monotonic()
        results: list[StepResult] = []
        failed = False
        for number, step in enumerate(scenario.steps, start=1):
            kind = _kind(step)
            if failed:
                # A later step builds on an earlier one's effect: running it would report noise.
                result = StepResult(str(number), kind, _title(step), "error", "not run: a step "
                                    "before it failed")  # fmt: skip
            else:
                result = await self.run_step(str(number), step)
                failed = not result.ok
            results.append(result)
            if on_step is not None:
                on_step(result)
        # A scenario that stopped early must not leave its outage to the next one.
        for system in sorted(self._faulted):
            await self.view.call(system, "DELETE", "/ops/faults")
        return ScenarioResult(
            scenario.name, file, scenario.rehearses, results, time.monotonic() - started
        )

    async def run_step(self, index: str, step: Any, suffix: str = "") -> StepResult:
        kind = _kind(step)
        body = getattr(step, kind)
        result = StepResult(index, kind, _title(step), "passed", key=getattr(body, "key", False))
        started = time.monotonic()
        try:
            outcome = await getattr(self, f"_{kind}")(body, suffix)
            if isinstance(outcome, tuple):
                result.message, result.details = outcome
            else:
                result.message = outcome or ""
        except ExpectationFailed as exc:
            result.status, result.message = "failed", str(exc)
        except GatewayFault as fault:
            info = fault.info
            result.status = "error"
            result.message = f"gateway fault {info.error_code}: {info.error_message}"
        except (AnswerNotTrusted, httpx.HTTPError, KeyError, ValueError) as exc:
            result.status, result.message = "error", f"{type(exc).__name__}: {exc}"
        result.seconds = time.monotonic() - started
        return result

    # --- clock and faults ------------------------------------------------------------------------

    async def now(self) -> dt.datetime:
        answer = await self.view.call("ELICENSE", "GET", "/ops/clock")
        if "now" not in answer:
            raise ValueError(f"ELICENSE's clock does not answer: {answer}")
        return dt.datetime.fromisoformat(answer["now"])

    async def set_clock(self, body: dict[str, Any]) -> dt.datetime:
        """Move every simulated system's clock: the first by ``body``, the rest to its moment
        (one clock file may be shared, or not: either way they end on one business time)."""
        async with self._clock_lock:
            systems = self.view.simulated_systems()
            first = await self.view.set_clock("ELICENSE", body)
            if "now" not in first:
                raise ValueError(f"the clock cannot be moved: {first.get('error', first)}")
            rest = [s for s in systems if s != "ELICENSE"]
            await asyncio.gather(*(self.view.set_clock(s, {"set": first["now"]}) for s in rest))
            return dt.datetime.fromisoformat(first["now"])

    async def advance(self, by: model.Duration) -> dt.datetime:
        now = await self.now()
        target = now + by.plain()
        if by.working_days:
            # Working days are counted from the same time of day on the KZ calendar.
            day = self._calendar.nth_working_day_after(target.date(), by.working_days)
            target = dt.datetime.combine(day, target.timetz())
        return await self.set_clock({"set": target.isoformat()})

    async def _clock(self, move: model.ClockMove, suffix: str) -> str:
        if move.set is not None:
            now = await self.set_clock({"set": move.set.isoformat()})
        elif move.advance is not None:
            now = await self.advance(move.advance)
        else:
            filed = self._filed(move.of or "", suffix)
            moment = filed.registered_at if move.to is model.Moment.REGISTERED else filed.deadline
            if moment is None:
                raise ValueError(f"{move.of} has no {move.to} moment")
            now = await self.set_clock({"set": moment.isoformat()})
        return f"business time {now:%a %d.%m.%Y %H:%M}"

    async def _faults(self, change: model.FaultChange, suffix: str) -> str:
        if change.clear:
            answer = await self.view.call(change.system, "DELETE", "/ops/faults")
        else:
            self._faulted.add(change.system)
            answer = await self.view.set_faults(change.system, change.plan or {})
        if "error" in answer:
            raise ValueError(f"{change.system} refused the fault plan: {answer['error']}")
        return f"{change.system}: {'cleared' if change.clear else change.plan}"

    # --- filings ---------------------------------------------------------------------------------

    async def _pay_fee(self, fee: model.FeePayment, suffix: str) -> str:
        portal = self.client("EGOV_PORTAL")
        now = await self.now()
        answer = (await portal.send("KgdMrpByYear_v1", build_mrp_request(now.year))).response
        amount = answer.data[0].findtext("mrp/amount")
        if amount is None:
            raise ValueError(f"KGD has no MRP of {now.year}")
        total = f"{Decimal(amount) * fee.mrp:.2f}"
        reference = f"REHEARSAL-{time.time_ns():x}"
        order = build_create_request(fee.applicant, PEP_FEE_PURPOSE, total, reference)
        created = (await portal.send("PepCreatePayment_v1", order)).response.data[0]
        payment = created.findtext("payment/paymentId")
        if fee.confirm:
            await portal.send("PepConfirmPayment_v1", build_confirm_request(payment))
        return f"{total} KZT ({fee.mrp} MRP) {'paid' if fee.confirm else 'created'}: {payment}"

    async def _file_licence(self, filing: model.LicenceFiling, suffix: str) -> str:
        now = await self.now()
        registered_on = self._calendar.registration_moment(now).date()
        template = (
            sample_application(registered_on)
            if filing.template is model.Template.IMPORT
            else export_licence_application(registered_on)
        )
        data = template.model_dump(mode="json", by_alias=False)
        if filing.applicant != model.DEFAULT_APPLICANT:
            data["applicant"].update(_applicant_block(filing.applicant))
        for path, value in filing.set.items():
            _put(data, path, value)
        for path in filing.remove:
            _put(data, path, None)
        if filing.quantity_from_quota:
            data["goods"]["quantity"] = await self._quota_left(data, registered_on.year)
        application = forms.LicenceApplication.model_validate(data)
        alias = filing.alias + suffix
        answer = field_texts(
            (await self.client("EGOV_PORTAL").send(SUBMIT, documents.build_application(
                application))).response.data[0]
        )  # fmt: skip
        self.filed[alias] = Filed(
            number=answer["registrationNumber"],
            registered_at=dt.datetime.fromisoformat(answer["registeredAt"]),
            deadline=dt.datetime.fromisoformat(answer["deadline"]),
            answer=answer,
            applicant=filing.applicant,
            template=filing.template.value,
        )
        return (
            f"{alias}: {answer['registrationNumber']} registered {answer['registeredAt']}, "
            f"deadline {answer['deadline']}"
        )

    async def _file_export_permit(self, filing: model.PermitFiling, suffix: str) -> str:
        annex = Annex[filing.committee.value]
        now = await self.now()
        form = pilot_samples.sample_application(
            annex, now.astimezone(KZ_TIME).date(), quantity=str(filing.quantity)
        )
        submitted = await self.client("EGOV_PORTAL").send(PILOT_SUBMIT, pilot_documents.build(form))
        receipt = field_texts(submitted.response.data[0])
        alias = filing.alias + suffix
        self.filed[alias] = Filed(
            number=receipt["applicationNumber"],
            answer=receipt,
            kind="permit",
            applicant=pilot_samples.SAMPLES[annex]["bin"],
            committee=filing.committee,
        )
        return f"{alias}: {receipt['applicationNumber']} for the {receipt['committee']} committee"

    async def _officer(self, act: model.OfficerAct, suffix: str) -> str:
        filed = self._filed(act.of, suffix)
        if filed.committee is None:
            raise ValueError(f"{act.of} is not a permit application of the pilot")
        staff = load_staff()[Annex[filed.committee.value].committee]
        head = act.action in (model.DeskAction.SIGN, model.DeskAction.TERMINATE)
        who = act.by or (staff.head.id if head else staff.officers[0].id)
        elicense = self.view.system_url("ELICENSE")
        if act.action is model.DeskAction.TERMINATE:
            permit = filed.answer.get("documentNumber") or await self._document_number(filed)
            path = f"/desk/permits/{permit}/terminate"
            body: dict[str, Any] = {"by": who, "ground": act.ground, "reasoning": act.reason}
        else:
            path = f"/desk/applications/{filed.number}/{act.action.value}"
            body = {"head" if head else "officer": who}
            if act.action is model.DeskAction.REFUSE and act.grounds:
                body["grounds"] = act.grounds
        reply = await self.http.post(f"{elicense}{path}", json=body)
        try:
            answer = reply.json()
        except ValueError:
            raise ValueError(
                f"the desk answered HTTP {reply.status_code} to {act.action.value}: "
                f"{reply.text[:300]}"
            ) from None
        if reply.status_code >= 400:
            raise ValueError(f"the desk refused {act.action.value}: {answer.get('code')}: "
                             f"{answer.get('message')}")  # fmt: skip
        return f"{act.action.value} {filed.number} by {who}"

    async def _file_declaration(self, filing: model.DeclarationFiling, suffix: str) -> str:
        against = self._filed(filing.against, suffix)
        document = against.answer.get("documentNumber") or await self._document_number(against)
        declarant = filing.declarant or against.applicant
        item = self._declaration_item(against, filing.quantity, document)
        declaration = ExportDeclaration(
            filing_reference=f"REHEARSAL-{time.time_ns():x}",
            procedure="EXPORT",
            declarant_id=declarant,
            declarant_name=_company_name(declarant),
            payment_method=PaymentMethod.PERSONAL_ACCOUNT,
            items=(item,),
        )
        element = build_declaration(declaration)
        key = personal_key(self.settings.pki_dir, declarant_name(declarant), role="declarant")
        sign_payload(element, key)  # the declarant confirms it with their EDS (process 4)
        answer = await self.client("EGOV_PORTAL").send("KedenFileDeclaration_v1", element)
        fields = answer_fields(answer.response.data[0])
        alias = filing.alias + suffix
        self.filed[alias] = Filed(
            number=str(fields.get("declarationNumber", "")), answer=fields, kind="declaration"
        )
        reasons = ", ".join(r["code"] for r in fields.get("reason", []))  # type: ignore[union-attr]
        return (
            f"{alias}: {fields.get('resultCode')} {fields.get('declarationNumber', '')} {reasons}"
        )

    def _declaration_item(self, against: Filed, quantity: Decimal, document: str) -> Any:
        if against.committee is not None:
            sample = pilot_samples.SAMPLES[Annex[against.committee.value]]
            code, unit, what = sample["code"], sample["unit"], sample["description"]
            origin, destination, price, currency = sample["origin"], "RU", "12500", "USD"
        elif against.template == model.Template.EXPORT.value:
            code, unit, what = LEATHER, "kg", "Whole bovine leather, tanned"
            origin, destination, price, currency = "KZ", "IT", "4.60", "EUR"
        else:
            raise ValueError("a declaration goes against an export licence or a pilot permit")
        return DeclarationItem(
            code=code,
            description=what,
            quantity=quantity,
            unit=unit,
            value=quantity * Decimal(price),
            currency=currency,
            origin_country=origin,
            destination_country=destination,
            permit_numbers=(document,),
        )

    async def _quota_left(self, application: dict[str, Any], year: int) -> str:
        code, direction = application["goods"]["commodity_code"], application["type"]
        answer = await self.view.call("ELICENSE", "GET", f"/ops/quotas?year={year}")
        quotas = answer.get("value")
        if not isinstance(quotas, list):
            raise ValueError(f"ELICENSE does not show its quotas: {answer}")
        matching = [
            q for q in quotas if q["type"] == direction and code.startswith(q["codePrefix"])
        ]
        if not matching:
            raise ValueError(f"no {direction} quota of {year} covers {code}")
        quota = max(matching, key=lambda q: len(q["codePrefix"]))  # the longest prefix rules
        if Decimal(quota["remaining"]) <= 0:
            raise ValueError(f"the quota {quota['key']} has nothing left to draw")
        return str(quota["remaining"])

    async def _revoke(self, revocation: model.Revocation, suffix: str) -> str:
        serial = revoke(self.settings.pki_dir, revocation.system)
        return f"{revocation.system}'s certificate (serial {serial}) is on the CRL"

    async def _send(self, raw: model.RawSend, suffix: str) -> str:
        xml = raw.xml
        for alias in sorted(self.filed, key=len, reverse=True):
            xml = xml.replace("${" + alias + "}", self.filed[alias].number)
        element = etree.fromstring(xml.encode())
        alias = raw.alias + suffix
        try:
            answer = await self.client(raw.sender).send(raw.service, element)
        except GatewayFault as fault:
            self.filed[alias] = Filed(fault=fault.info.error_code)
            return f"{alias}: fault {fault.info.error_code}"
        data = answer.response.data
        texts = field_texts(data[0]) if data is not None and len(data) else {}
        self.filed[alias] = Filed(answer=texts)
        return f"{alias}: {answer.response.status_code} {answer.response.status_message}"

    # --- expectations ----------------------------------------------------------------------------

    async def _expect_decision(self, expect: model.DecisionExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
        if filed.kind == "permit" and expect.grounds is not None:
            raise ValueError("a pilot application's status carries no grounds: see the desk")
        if expect.registered_at is not None and filed.registered_at != expect.registered_at:
            raise ExpectationFailed(
                f"{expect.of} registered at {filed.registered_at}, "
                f"expected {expect.registered_at.isoformat()}"
            )

        async def look() -> dict[str, Any] | None:
            status = await self._status(filed)
            texts = field_texts(status)
            texts["grounds"] = sorted(g.text or "" for g in status.iter("ground"))
            # The pilot has a deadline per step (Rules p.9): one done late is a missed deadline.
            texts["late"] = [
                step.findtext("name")
                for step in status.iter("step")
                if step.findtext("late") == "true"
            ]
            return texts if texts.get("state") == "DELIVERED" else None

        status = await self.wait(expect, f"{expect.of} ({filed.number}) decided", look)
        seen = f"{status.get('outcome')} {' '.join(status['grounds'])}".strip()
        problems = []
        if status.get("outcome") != expect.outcome:
            problems.append(f"outcome {status.get('outcome')}, expected {expect.outcome}")
        if expect.grounds is not None and status["grounds"] != sorted(expect.grounds):
            problems.append(f"grounds {status['grounds']}, expected {sorted(expect.grounds)}")
        missed = status.get("deadlineMissed") == "true" or bool(status["late"])
        verdict = model.DeadlineVerdict.MISSED if missed else model.DeadlineVerdict.MET
        if expect.deadline is not None and verdict is not expect.deadline:
            problems.append(f"deadline {verdict}, expected {expect.deadline}")
        if problems:
            raise ExpectationFailed(f"{expect.of} ({filed.number}): " + "; ".join(problems))
        when = f" at {status['completedAt']}" if status.get("completedAt") else ""
        deadline = f"deadline {status['deadline']} " if status.get("deadline") else ""
        return f"{expect.of} {seen}{when} ({deadline}{verdict})"

    async def _expect_record(self, expect: model.RecordExpectation, suffix: str) -> str:
        if expect.number is not None:
            number = expect.number
        else:
            number = await self._document_number(self._filed(expect.of or "", suffix))

        last: list[str] = []  # what the latest look saw differ, for the failure message

        async def look() -> etree._Element | None:
            answer = await self.client("EGOV_PORTAL").send(
                "KedenRecordByNumber_v1", build_by_number(number)
            )
            records = [e for e in answer.response.data[0].iter() if _local(e) == "record"]
            if not records:
                return None
            # A record changes (a termination, a write-off): wait until it shows the fields.
            last[:] = [
                f"{path} is {_find_text(records[0], path)!r}, expected {value!r}"
                for path, value in expect.fields.items()
                if _find_text(records[0], path) != value
            ]
            return None if last else records[0]

        try:
            await self.wait(expect, f"KEDEN record of {number}", look)
        except ExpectationFailed as exc:
            if not last:
                raise
            raise ExpectationFailed(
                f"KEDEN record {number}: " + "; ".join(last) + f" ({exc})"
            ) from None
        return f"KEDEN record {number}: " + ", ".join(f"{k}={v}" for k, v in expect.fields.items())

    async def _expect_declaration(self, expect: model.DeclarationExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
        if filed.kind != "declaration":
            raise ValueError(f"{expect.of} is not a declaration")

        async def look() -> dict[str, Any] | None:
            if filed.answer.get("resultCode") == "FORMATION_REFUSED":
                return filed.answer
            answer = await self.client("EGOV_PORTAL").send(
                "KedenDeclarationStatus_v1", build_status_request(filed.number)
            )
            fields = answer_fields(answer.response.data[0])
            return fields if fields.get("status") in DECLARATION_FINAL else None

        seen = await self.wait(expect, f"declaration {expect.of} decided", look)
        status = (
            "FORMATION_REFUSED"
            if seen.get("resultCode") == "FORMATION_REFUSED"
            else str(seen.get("status"))
        )
        reasons = [r.get("code", "") for r in seen.get("reason", [])]
        problems = []
        if status != expect.status:
            problems.append(f"status {status}, expected {expect.status}")
        if expect.reason is not None and expect.reason not in reasons:
            problems.append(f"reasons {reasons}, expected {expect.reason}")
        if problems:
            raise ExpectationFailed(f"declaration {expect.of}: " + "; ".join(problems))
        texts = "; ".join(f"{r.get('code')}: {r.get('text')}" for r in seen.get("reason", []))
        return f"{expect.of} {filed.number} {status} {texts}".strip()

    async def _expect_fault(self, expect: model.FaultExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
        if filed.fault != expect.code:
            raise ExpectationFailed(
                f"{expect.of} ended in {filed.fault or 'an answer, no fault'}, "
                f"expected fault {expect.code}"
            )
        return f"{expect.of}: fault {filed.fault}"

    async def _expect_cabinet(self, expect: model.CabinetExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
        names = {filed.number}
        if filed.kind in ("licence", "permit"):
            number = (await self._status(filed)).findtext("documentNumber")
            names |= {number} if number else set()

        async def look() -> dict[str, Any] | None:
            inbox = await self.view.call("EGOV_PORTAL", "GET", "/ops/inbox")
            for message in inbox.get("value", []) if isinstance(inbox, dict) else []:
                data = message.get("data") or ""
                if not any(n and n in data for n in names):
                    continue
                if expect.document is None or _root_names(data) & {expect.document}:
                    return message
            return None

        what = expect.document or "a message"
        seen = await self.wait(expect, f"{what} about {expect.of} in the cabinet", look)
        return f"cabinet: {what} about {filed.number} ({seen.get('serviceId')})"

    async def _expect_stage(self, expect: model.StageExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)

        async def look() -> dict[str, Any] | None:
            path = f"/ops/stage-events?application={filed.number}"
            events = await self.view.call("MONITORING", "GET", path)
            found = [e for e in events.get("value", []) if e.get("stage") == expect.stage]
            return found[0] if found else None

        seen = await self.wait(expect, f"MONITORING stage {expect.stage} of {expect.of}", look)
        return f"MONITORING: {filed.number} {expect.stage} from {seen['system']}"

    async def _expect_dead_letter(self, expect: model.DeadLetterExpectation, suffix: str) -> str:
        async def look() -> dict[str, Any] | None:
            for letter in await self._console("/console/api/dead-letters"):
                if letter.get("serviceId") == expect.service and expect.sender in (
                    None,
                    letter.get("sender"),
                ):
                    return letter
            return None

        seen = await self.wait(expect, f"a dead letter of {expect.service}", look)
        return f"dead letter {seen['messageId']}: {seen['reason']} after {seen['attempts']}"

    async def _expect_log(self, expect: model.LogExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
        wanted = {
            "serviceId": expect.service,
            "sender": expect.sender,
            "receiver": expect.receiver,
            "direction": expect.direction,
            "faultCode": expect.fault,
        }
        wanted = {k: v for k, v in wanted.items() if v is not None}

        async def look() -> dict[str, Any] | None:
            flow = await self._console(f"/console/api/flows?q={filed.number}")
            for hop in flow.get("hops", []):
                if all(hop.get(k) == v for k, v in wanted.items()):
                    return hop
            return None

        described = ", ".join(f"{k}={v}" for k, v in wanted.items()) or "any hop"
        seen = await self.wait(expect, f"message-log hop of {expect.of} ({described})", look)
        return f"message log #{seen['seq']}: {seen['direction']} {seen['serviceId']} ({described})"

    async def _console(self, path: str) -> Any:
        """The gateway console's JSON twin, as the operator (KZGATE_CONSOLE_USER/PASSWORD)."""
        auth = (self.settings.console_user, self.settings.console_password)
        reply = await self.http.get(f"{self.settings.gateway_url}{path}", auth=auth, timeout=10)
        reply.raise_for_status()
        return reply.json()

    async def _status(self, filed: Filed) -> etree._Element:
        """The filing's status answer from ELICENSE (licence or pilot permit application)."""
        if filed.kind == "permit":
            request = etree.Element(
                etree.QName(pilot_documents.NAMESPACE, "ExportPilotStatusRequest")
            )
            etree.SubElement(request, "applicationNumber").text = filed.number
            service = PILOT_QUERY
        else:
            request = etree.Element(etree.QName(documents.NAMESPACE, "ApplicationStatusRequest"))
            etree.SubElement(request, "registrationNumber").text = filed.number
            service = STATUS
        answer = await self.client("EGOV_PORTAL").send(service, request)
        return answer.response.data[0]

    async def _document_number(self, filed: Filed) -> str:
        number = (await self._status(filed)).findtext("documentNumber")
        if not number:
            raise ExpectationFailed(f"{filed.number} has no document (not issued yet)")
        return number

    async def wait(self, expect: Any, what: str, look: Callable[[], Any]) -> Any:
        """``look()`` until it answers; between looks the business clock moves by ``tick``, up
        to ``within`` of business time (a real ``timeout`` under it is only a safety net)."""
        start = await self.now()
        bound = start + expect.within.plain()
        if expect.within.working_days:
            day = self._calendar.nth_working_day_after(bound.date(), expect.within.working_days)
            bound = dt.datetime.combine(day, bound.timetz())
        real_end = time.monotonic() + expect.timeout
        now = start
        while True:
            seen = await look()
            if seen is not None:
                return seen
            if now >= bound:
                raise ExpectationFailed(
                    f"{what}: not seen within {expect.within.text()} of business time "
                    f"(until {bound:%d.%m.%Y %H:%M})"
                )
            if time.monotonic() >= real_end:
                raise ExpectationFailed(
                    f"{what}: not seen within {expect.timeout:g} real seconds "
                    f"(business time {now:%d.%m.%Y %H:%M})"
                )
            await asyncio.sleep(LOOK_INTERVAL)
            now = await self.now()
            if now < bound:
                step = min(expect.tick.plain() or dt.timedelta(minutes=10), bound - now)
                now = await self.set_clock({"set": (now + step).isoformat()})

    # --- load ------------------------------------------------------------------------------------

    async def _repeat(self, repetition: model.Repetition, suffix: str) -> tuple[str, list[str]]:
        gate = asyncio.Semaphore(repetition.concurrency)
        started = time.monotonic()

        async def one(i: int) -> list[StepResult]:
            async with gate:
                results = []
                for n, step in enumerate(repetition.steps, start=1):
                    result = await self.run_step(f"{i}.{n}", step, suffix=f"{suffix}#{i}")
                    results.append(result)
                    if not result.ok:
                        break
                return results

        runs = await asyncio.gather(*(one(i) for i in range(1, repetition.count + 1)))
        elapsed = time.monotonic() - started
        failures = [r for run in runs for r in run if not r.ok]
        decided = [r for run in runs for r in run if r.kind == "expect_decision" and r.ok]
        missed = sum(1 for r in decided if " missed)" in r.message)
        summary = (
            f"{repetition.count} runs, {repetition.concurrency} at a time, in {elapsed:.1f} s: "
            f"{repetition.count / elapsed:.2f} runs/s; {len(decided)} decided, "
            f"{missed} deadline misses"
        )
        details = [f"run {r.index} {r.kind}: {r.message}" for r in failures[:10]]
        if failures:
            raise ExpectationFailed(f"{len(failures)} steps failed of {summary}; first: "
                                    f"{details[0]}")  # fmt: skip
        return summary, details

    def _filed(self, alias: str, suffix: str) -> Filed:
        for name in (alias + suffix, alias):
            if name in self.filed:
                return self.filed[name]
        raise ValueError(f"no step before this one filed or sent '{alias}'")


def _company_name(bin_: str) -> str:
    org = default_store().find(bin_)
    return org.short_name if org is not None else bin_


def _applicant_block(bin_: str) -> dict[str, str]:
    """The form's applicant block of a GBDUL company, as the portal fills it from the registry."""
    org = default_store().find(bin_)
    if org is None:
        raise ValueError(f"{bin_} is not a company in the GBDUL fixtures")
    return {
        "identifier": bin_,
        "name": org.short_name,
        "address": f"{org.address.city}, {org.address.street}",
    }


def _root_names(xml: str) -> set[str]:
    """Local names of the elements in a message's data (its documents' roots among them)."""
    try:
        return {etree.QName(e).localname for e in etree.fromstring(xml.encode()).iter()
                if isinstance(e.tag, str)}  # fmt: skip
    except etree.XMLSyntaxError:
        return set()


def _kind(step: Any) -> str:
    return next(iter(type(step).model_fields))


def _title(step: Any) -> str:
    kind = _kind(step)
    body = getattr(step, kind)
    data = body.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for noise in ("steps", "key", "within", "tick", "timeout"):
        data.pop(noise, None)
    shown = ", ".join(f"{k}={v}" for k, v in data.items())
    return f"{kind} {shown}".strip()


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = data
    for part in parents:
        if not isinstance(node.get(part), dict):
            raise ValueError(f"the application has no field {path}")
        node = node[part]
    if last not in node:
        raise ValueError(f"the application has no field {path}")
    node[last] = value


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _find_text(element: etree._Element, path: str) -> str | None:
    node: etree._Element | None = element
    for part in path.split("/"):
        node = next((c for c in node if _local(c) == part), None) if node is not None else None
    return None if node is None else (node.text or "")
