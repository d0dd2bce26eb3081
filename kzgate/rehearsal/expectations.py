"""Expectations on the virtual clock: each looks at the system (a SOAP status query, a KEDEN
record look-up, the cabinet, the console) and, while what it expects is not seen, moves the
shared business clock forward by its ``tick`` until the bound ``within`` has passed; then it
fails, naming itself. A real-seconds ``timeout`` under it is only a safety net.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from lxml import etree

from kzgate.rehearsal import model
from kzgate.rehearsal.results import STATUS, ExpectationFailed, Filed, field_texts
from simulators.customs.declaration_payload import (
    answer_fields,
    build_status_request,
)
from simulators.customs.payload import build_by_number
from simulators.elicensing import documents
from simulators.elicensing.export_pilot import documents as pilot_documents
from simulators.elicensing.export_pilot.service import QUERY_SERVICE as PILOT_QUERY

__all__ = ["DECLARATION_FINAL", "LOOK_INTERVAL", "Expectations"]

# Real seconds between two looks: long enough for a worker to notice the moved clock (the shared
# clock file is re-read every 0.25 s), short enough that a decided application is seen at once.
LOOK_INTERVAL = 0.3
DECLARATION_FINAL = {"REGISTRATION_REFUSED", "RELEASE_PERMITTED", "RELEASE_REFUSED"}


class Expectations:
    """The scenario's expectations: each looks at the system until what it expects is seen or its
    business-time bound has passed (``wait``). A mixin of ``Rehearsal``, whose ``client``, ``now``,
    ``set_clock``, ``view`` and ``filed`` it uses."""

    async def _expect_decision(self, expect: model.DecisionExpectation, suffix: str) -> str:
        filed = self._filed(expect.of, suffix)
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
        if filed.kind == "permit":
            # The pilot's status answer carries no grounds: the committee's desk records them.
            status["grounds"] = await self._desk_grounds(filed)
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

    async def _desk_grounds(self, filed: Filed) -> list[str]:
        """The grounds of Rules p.11 (1-7) the officer refused a pilot application on."""
        url = f"{self.view.system_url('ELICENSE')}/desk/applications/{filed.number}"
        reply = await self.http.get(url, timeout=10)
        reply.raise_for_status()
        return sorted(str(code) for code in reply.json().get("grounds", []))

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


def _root_names(xml: str) -> set[str]:
    """Local names of the elements in a message's data (its documents' roots among them)."""
    try:
        return {etree.QName(e).localname for e in etree.fromstring(xml.encode()).iter()
                if isinstance(e.tag, str)}  # fmt: skip
    except etree.XMLSyntaxError:
        return set()


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _find_text(element: etree._Element, path: str) -> str | None:
    node: etree._Element | None = element
    for part in path.split("/"):
        node = next((c for c in node if _local(c) == part), None) if node is not None else None
    return None if node is None else (node.text or "")
