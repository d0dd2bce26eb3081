"""The pilot's endpoints on ELICENSE's port: two SyncChannel services and the officers' desk.

SOAP (``wsdl/EXPORT_PILOT.wsdl``, payloads ``xsd/export-pilot.xsd``):

- ``ExportPilotSubmit_v1`` (from EGOV_PORTAL): an ``ExportPermitApplication`` is received for
  the committee its code routes to and answered with the number and the registration term; an
  export that needs no pilot permit is a SOAP fault naming why (``Client.ExportPilot.GoodsNotListed
  / DestinationNotCis / Exempt / OutsidePilot``). A ``TerminationApplication`` (Rules p.14 а) or an
  ``ExecutionReport`` (p.16) of the holder is answered with ``ExportPilotAck``.
- ``ExportPilotQuery_v1`` (portal, KEDEN): ``ExportPilotScopeRequest`` → does this export need a
  permit (order p.2-3, 11); ``ExportPilotStatusRequest`` → the steps with due, done and late.

The officers' desk over HTTP is ``desk_http`` (``ExportPilot.routes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lxml import etree

from connectors import FaultCode, GatewayError, SyncRequest, errors, format_datetime
from simulators.customs.payload import standalone
from simulators.elicensing.documents import NAMESPACE, DocumentError
from simulators.elicensing.export_pilot import documents
from simulators.elicensing.export_pilot.desk import Desk
from simulators.elicensing.export_pilot.desk_faults import NO_AMENDMENTS, WRONG_HOLDER
from simulators.elicensing.export_pilot.desk_http import DeskRoutes
from simulators.elicensing.export_pilot.flow import PilotFlow
from simulators.elicensing.export_pilot.forms import (
    ExecutionReport,
    ExportPermitApplication,
    ExportPilotScopeRequest,
    TerminationApplication,
)
from simulators.elicensing.export_pilot.scope import (
    CIS_PARTICIPANTS,
    Evidence,
    ExportCase,
    PilotWindow,
    Scope,
    ScopeAnswer,
    classify,
)
from simulators.elicensing.export_pilot.store import PermitStatus
from simulators.elicensing.service_wire import content_digest as elicense_digest
from simulators.kit.clock import KZ_TIME
from simulators.kit.provider import ProviderResult

SUBMIT_SERVICE = "ExportPilotSubmit_v1"
QUERY_SERVICE = "ExportPilotQuery_v1"
SERVICES = frozenset({SUBMIT_SERVICE, QUERY_SERVICE})
_NSMAP = {"el": NAMESPACE}

OUTSIDE_PILOT = FaultCode(
    "Client.ExportPilot.OutsidePilot",
    "The pilot is not in force on this day",
    # The text does not give the publication date the window runs from (order p.11), so the
    # window is a setting, and the hint names it: on 1 January past the default window a
    # tester otherwise has no way to tell what to change.
    "The order is in force one year from entry into force (order p.11); this system's window "
    "is set by KZGATE_EXPORT_PILOT_START / KZGATE_EXPORT_PILOT_END (ELICENSE), or rehearse "
    "on a virtual clock inside it (KZGATE_CLOCK).",
)

_SCOPE_FAULTS = {
    Scope.NOT_LISTED: FaultCode(
        "Client.ExportPilot.GoodsNotListed",
        "The goods are on none of Annexes 1-3: the pilot's permit is not needed",
        "Check the 10-digit code; listed codes are in order Annexes 1-3 (8529 10, 8807 by prefix).",
    ),
    Scope.OUTSIDE_CIS: FaultCode(
        "Client.ExportPilot.DestinationNotCis",
        "The destination is not a CIS participating state: the pilot does not apply",
        "Order p.2 covers export to CIS participating states only; other exports need no permit.",
    ),
    Scope.EXEMPT: FaultCode(
        "Client.ExportPilot.Exempt",
        "The export is exempt under order p.3: no permit is issued for it",
        "Show the exemption evidence to customs instead (CT-KZ, CT-1 with import documents …).",
    ),
    Scope.OUTSIDE_PILOT: OUTSIDE_PILOT,
}


@dataclass
class ExportPilot(DeskRoutes):
    desk: Desk
    flow: PilotFlow
    window: PilotWindow
    cis: frozenset[str] = CIS_PARTICIPANTS

    # --- SOAP ---------------------------------------------------------------------------------

    async def handle(self, request: SyncRequest) -> ProviderResult:
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        element = _payload(request.data)
        name = etree.QName(element).localname
        if name == "ExportPilotStatusRequest":
            return ProviderResult(await self.status(_child_text(element, "applicationNumber")))
        model = documents.INPUTS.get(name)
        if model is None:
            raise GatewayError(
                errors.SCHEMA_PAYLOAD_INVALID, f"{name} is not a request of {request.service_id}"
            )
        try:
            form = documents.parse(element, model)
        except DocumentError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        if isinstance(form, ExportPilotScopeRequest):
            return ProviderResult(scope_answer(self.classify_request(form)))
        if isinstance(form, TerminationApplication):
            return ProviderResult(await self.termination_application(form))
        if isinstance(form, ExecutionReport):
            return ProviderResult(await self.execution_report(form, element))
        assert isinstance(form, ExportPermitApplication)
        return ProviderResult(await self.submit(form, element))

    def window_state(self) -> dict[str, object]:
        """The pilot's window, whether the business day is in it (``kzgate status`` warns) and a
        committees' working day inside it that a virtual clock can rehearse on."""
        today = _day(self.desk.clock.now())
        start, end = self.window.start, self.window.end
        return {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "today": today.isoformat(),
            "inForce": today in self.window,
            "rehearsalDay": self.desk.calendar.working_day_within(start, end).isoformat(),
        }

    def classify_request(self, form: ExportPilotScopeRequest) -> ScopeAnswer:
        try:
            evidence = frozenset(Evidence(e) for e in form.evidence)
        except ValueError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        case = ExportCase(
            form.commodity_code,
            form.destination_country,
            form.origin_country,
            form.date,
            evidence,
            form.specific_goods_licence,
        )
        return classify(case, self.window, self.cis)

    async def submit(
        self, form: ExportPermitApplication, element: etree._Element
    ) -> etree._Element:
        """Receive an application for the committee its code routes to (order p.4-6)."""
        now = self.desk.clock.now()
        goods = form.goods
        if goods is None or goods.commodity_code is None or form.destination_country is None:
            # without a code and a destination nobody can route it: a broken message, not ground 4
            raise GatewayError(
                errors.SCHEMA_PAYLOAD_INVALID,
                "the application needs goods/commodityCode (field 15) and destinationCountry "
                "(field 7) to reach a committee",
            )
        case = ExportCase(
            goods.commodity_code, form.destination_country, goods.origin_country, _day(now)
        )
        answer = classify(case, self.window, self.cis)
        if answer.scope is not Scope.PERMIT_REQUIRED:
            raise GatewayError(_SCOPE_FAULTS[answer.scope], answer.reason)
        assert answer.entry is not None
        if form.replaces:
            old = await self.desk.store.by_permit(form.replaces)
            if old is None or old.outcome != "ISSUED":
                raise GatewayError(NO_AMENDMENTS, f"{form.replaces} is not an issued permit")
        calendar = self.desk.calendar
        received = await self.desk.store.receive(
            digest=content_digest(element),
            application_xml=standalone(element),
            applicant_id=form.applicant.identifier,
            committee=answer.entry.committee.value,
            annex=answer.entry.annex.value,
            received_at=now,
            due_registration=calendar.add_working_days(now, 1),  # Rules p.9(1)
        )
        self.flow.wake()
        app = received.application
        response = _element("ExportPilotReceipt")
        _add(response, "applicationNumber", app.number)
        _add(response, "committee", app.committee)
        _add(response, "annex", str(app.annex))
        _add(response, "receivedAt", format_datetime(app.received_at))
        _add(response, "registrationDue", format_datetime(app.due_registration))
        _add(response, "duplicate", "false" if received.created else "true")
        return response

    async def termination_application(self, form: TerminationApplication) -> etree._Element:
        """Rules p.14 а): the holder asks; the issuing committee decides (on the desk)."""
        app = await self.desk.permit(form.permit_number)
        if app.applicant_id != form.holder.identifier:
            raise GatewayError(WRONG_HOLDER, form.permit_number)
        message = (
            f"termination application ({form.channel.value.lower()}) received by "
            f"{app.committee}: the committee decides under Rules p.14 а)"
        )
        if app.permit_status == PermitStatus.TERMINATED.value:
            message = f"{form.permit_number} is already тоқтатылды ({app.termination_number})"
        elif not app.termination_requested:
            request = f"{form.channel.value}: {form.reason}"
            await self.desk.store.update(app.number, termination_requested=request)
            self.flow.wake()
        return _ack(form.permit_number, True, message)

    async def execution_report(self, form: ExecutionReport, element: etree._Element) -> Any:
        app = await self.desk.record_report(
            form.permit_number, form.holder.identifier, standalone(element)
        )
        return _ack(form.permit_number, True, f"report recorded {app.report_at:%Y-%m-%d}")

    async def status(self, number: str) -> etree._Element:
        response = _element("ExportPilotStatus")
        app = await self.desk.store.get(number)
        _add(response, "resultCode", "NOT_FOUND" if app is None else "FOUND")
        _add(response, "applicationNumber", number)
        if app is None:
            return response
        app = await self.desk.watch(app)
        _add(response, "committee", app.committee)
        _add(response, "state", app.state.value)
        for step in self.desk.steps(app, self.desk.clock.now()):
            item = etree.SubElement(response, "step")
            _add(item, "name", step.name)
            if step.due:
                _add(item, "due", format_datetime(step.due))
            if step.done_at:
                _add(item, "doneAt", format_datetime(step.done_at))
            _add(item, "late", "true" if step.late else "false")
        if app.outcome:
            _add(response, "outcome", app.outcome)
        if app.document_number:
            _add(response, "documentNumber", app.document_number)
        if app.permit_status:
            status = "тоқтатылды" if app.permit_status == "TERMINATED" else app.permit_status
            _add(response, "permitStatus", status)
        return response


# --- helpers -------------------------------------------------------------------------------------


def scope_answer(answer: ScopeAnswer) -> etree._Element:
    element = _element("ExportPilotScopeAnswer")
    _add(element, "scope", answer.scope.value)
    _add(element, "permitRequired", "true" if answer.scope is Scope.PERMIT_REQUIRED else "false")
    if answer.entry is not None:
        _add(element, "committee", answer.entry.committee.value)
        _add(element, "annex", str(answer.entry.annex.value))
        _add(element, "annexRow", str(answer.entry.row))
    if answer.exemption is not None:
        _add(element, "exemption", answer.exemption.value)
    _add(element, "reason", answer.reason)
    return element


def _ack(permit: str, accepted: bool, message: str) -> etree._Element:
    element = _element("ExportPilotAck")
    _add(element, "permitNumber", permit)
    _add(element, "accepted", "true" if accepted else "false")
    _add(element, "message", message)
    return element


def _element(name: str) -> etree._Element:
    return etree.Element(etree.QName(NAMESPACE, name), nsmap=_NSMAP)


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, name).text = text


def _payload(data: etree._Element) -> etree._Element:
    children = list(data.iterchildren(tag=etree.Element))
    if len(children) != 1:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data must carry one element")
    return children[0]


def _child_text(element: etree._Element, name: str) -> str:
    for child in element.iterchildren(tag=etree.Element):
        if etree.QName(child).localname == name and (child.text or "").strip():
            return child.text.strip()
    raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, f"no {name}")


def content_digest(element: etree._Element) -> str:
    """The same application filed twice is one application (the applicant's signature aside)."""
    return "pilot:" + elicense_digest(element)


def _day(moment: datetime) -> Any:
    return moment.astimezone(KZ_TIME).date()
