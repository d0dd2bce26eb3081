"""KEDEN's declaration services on its SyncChannel endpoint, and the officer's ops routes.

- ``KedenFileDeclaration_v1`` (from EGOV_PORTAL): an ``ExportDeclaration`` → SUBMITTED with the
  declaration number and registration deadline, or FORMATION_REFUSED with every reason and
  remedy (a business answer: HTTP 200, not a fault). The same filing reference again is the same
  declaration (``duplicate`` true).
- ``KedenDeclarationStatus_v1``: status, deadlines, lateness, control forms, reasons, history.
- ``KedenRegisterLookup_v1``: customs representatives, carriers and AEOs by BIN.
- ``GET /ops/declarations`` (figures and the list), ``GET /ops/declarations/sla`` (the terms:
  in progress, released, refused, missed, latency), ``POST /ops/declarations/{number}/control-
  result`` {"officer", "violations", "finding"}: the officer's result of an examination or of
  the comparison with paper originals; ``POST /ops/declarations/run`` runs one worker pass.

Settings: ``KZGATE_KEDEN_RISK`` — JSON of ``RiskProfile`` ({"rules": [{"code_prefix": "7108",
"form": "EXAMINATION"}], "examination_share": 0.1, "paper_share": 0.05, "seed": 7}).
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

import httpx2
from lxml import etree
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from connectors import (
    AnswerNotTrusted,
    FaultCode,
    GatewayError,
    GatewayFault,
    ShepClient,
    SyncRequest,
    TransportKey,
    TrustStore,
    errors,
    format_datetime,
)
from simulators.customs.clearance import Clearance, OfficerActionRefused
from simulators.customs.clearance_delivery import official_key
from simulators.customs.clearance_intake import FactsMissing, default_permit_goods
from simulators.customs.declaration_payload import (
    EXPORT_DECLARATION,
    REGISTER_REQUEST,
    STATUS_REQUEST,
    build_filing_answer,
    build_formation_refusal,
    build_register_answer,
    build_status_answer,
    parse_declaration,
    read_request,
)
from simulators.customs.declaration_rows import Declaration
from simulators.customs.declaration_sla import is_missed, sla_report
from simulators.customs.declaration_store import DeclarationStore
from simulators.customs.payload import PayloadError
from simulators.customs.registers import RegisterKind, Registers
from simulators.customs.risk import RiskProfile
from simulators.customs.settings import KedenSettings
from simulators.customs.signatures import declarant_signature
from simulators.customs.store import RecordStore
from simulators.kit.clock import process_clock
from simulators.kit.ops import guarded
from simulators.kit.payloads import field_text
from simulators.kit.provider import ProviderResult

FILE_SERVICE = "KedenFileDeclaration_v1"
STATUS_SERVICE = "KedenDeclarationStatus_v1"
REGISTER_SERVICE = "KedenRegisterLookup_v1"
RISK_ENV = "KZGATE_KEDEN_RISK"
SERVICES = (FILE_SERVICE, STATUS_SERVICE, REGISTER_SERVICE)
_REQUEST_OF = {
    FILE_SERVICE: EXPORT_DECLARATION,
    STATUS_SERVICE: STATUS_REQUEST,
    REGISTER_SERVICE: REGISTER_REQUEST,
}

Handler = Callable[[SyncRequest], Awaitable[ProviderResult]]

# Forming needs GBDUL/GBDFL and E-licensing through the gateway (process 4); when one cannot
# answer, KEDEN cannot decide either way, so it says so — retrying later may succeed.
FORMATION_UNAVAILABLE = FaultCode(
    "Server.Keden.FormationUnavailable",
    "KEDEN could not reach a state database it must ask to form the declaration",
    "Nothing was filed; send the same declaration again later (the same filingReference).",
)
UNREACHABLE = (GatewayFault, AnswerNotTrusted, httpx2.HTTPError, FactsMissing)


def declaration_handler(clearance: Clearance, trust: TrustStore, other: Handler) -> Handler:
    """KEDEN's SyncChannel handler: the declaration services here, the look-ups in ``other``;
    ``trust`` verifies the declarant's EDS."""

    async def handle(request: SyncRequest) -> ProviderResult:
        if request.service_id not in SERVICES:
            return await other(request)
        if request.data is None:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data is missing")
        try:
            element = read_request(request.data)
            expected = _REQUEST_OF[request.service_id]
            if element.tag != expected.text:
                # a misrouted message is refused, never answered as another service's request
                raise PayloadError(
                    f"{request.service_id} takes {expected.localname}, "
                    f"not {etree.QName(element).localname}"
                )
            if element.tag == EXPORT_DECLARATION.text:
                declaration = parse_declaration(element)
        except PayloadError as exc:
            raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
        if element.tag == EXPORT_DECLARATION.text:
            signature = declarant_signature(element, trust, declaration.declarant_id)
            try:
                filing = await clearance.file(declaration, signature)
            except UNREACHABLE as exc:  # nothing is stored before every answer is in
                raise GatewayError(FORMATION_UNAVAILABLE, str(exc)) from exc
            if filing.declaration is None:
                return ProviderResult(build_formation_refusal(filing.reasons))
            return ProviderResult(
                build_filing_answer(filing.declaration, duplicate=filing.duplicate)
            )
        if element.tag == REGISTER_REQUEST.text:
            bin_ = field_text(element, "bin")
            kind = field_text(element, "register")
            entries = clearance.registers.look_up(bin_, RegisterKind(kind) if kind else None)
            return ProviderResult(build_register_answer(bin_, entries))
        number = field_text(element, "declarationNumber")
        found = await clearance.store.get(number)
        history = await clearance.store.events_of(number) if found else []
        return ProviderResult(build_status_answer(number, found, history))

    return handle


def declaration_routes(clearance: Clearance) -> Sequence[BaseRoute]:
    async def listing(request: Request) -> Response:
        declarations = await clearance.store.all()
        return JSONResponse(
            {**await clearance.report(), "declarations": [_json(d) for d in declarations]}
        )

    async def control_result(request: Request) -> Response:
        body = await request.json()
        violations = body.get("violations", False)
        if not isinstance(violations, bool):
            # bool("false") is True: a loosely typed client would refuse a release nobody
            # refused, so only a JSON boolean is an officer's finding.
            return JSONResponse(
                {"error": f"violations must be a JSON boolean (true or false), not {violations!r}"},
                status_code=400,
            )
        try:
            declaration = await clearance.record_control_result(
                request.path_params["number"],
                str(body["officer"]),
                violations=violations,
                finding=str(body.get("finding") or "no violations found"),
            )
        except OfficerActionRefused as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except KeyError:
            return JSONResponse({"error": "officer is required"}, status_code=400)
        await clearance.run_once()
        current = await clearance.store.get(declaration.number)
        return JSONResponse(_json(current or declaration))

    async def sla(request: Request) -> Response:
        now = clearance.clock.now()
        declarations = await clearance.store.all()
        rows = [{**_json(d), "missed": is_missed(d, now)} for d in declarations]
        return JSONResponse({**sla_report(declarations, now), "declarations": rows})

    async def run(request: Request) -> Response:
        await clearance.run_once()
        return JSONResponse(await clearance.report())

    return [
        Route("/ops/declarations", listing, methods=["GET"]),
        Route("/ops/declarations/sla", sla, methods=["GET"]),
        Route("/ops/declarations/run", guarded(run), methods=["POST"]),
        Route(
            "/ops/declarations/{number}/control-result", guarded(control_result), methods=["POST"]
        ),
    ]


def create_clearance(
    pki_dir: Path,
    database_url: str,
    records: RecordStore,
    key: TransportKey,
    trust: TrustStore,
    *,
    gateway_url: str,
    risk: RiskProfile | None = None,
    password: str | None = None,
) -> Clearance:
    clock = process_clock()
    client = ShepClient(
        gateway_url=gateway_url,
        sender_id="KEDEN",
        password=password if password is not None else "dev-KEDEN",
        key=key,
        trust=trust,
    )
    return Clearance(
        store=DeclarationStore(database_url, clock.now),
        records=records,
        client=client,
        official=official_key(pki_dir),
        clock=clock,
        calendar=KedenSettings().calendar(),
        registers=Registers.from_fixtures(),
        permit_goods=default_permit_goods(),
        risk=risk or RiskProfile(),
    )


def risk_from_env() -> RiskProfile:
    raw = os.environ.get(RISK_ENV)
    return RiskProfile.from_json(json.loads(raw)) if raw else RiskProfile()


def _json(d: Declaration) -> dict[str, object]:
    def moment(value: datetime | None) -> str | None:
        return None if value is None else format_datetime(value)

    return {
        "number": d.number,
        "declarantId": d.content.declarant_id,
        "status": d.status.value,
        "submittedAt": moment(d.submitted_at),
        "registrationDeadline": moment(d.registration_deadline),
        "registrationNumber": d.registration_number,
        "registeredAt": moment(d.registered_at),
        "registrationLate": d.registration_late,
        "controlForms": [f.value for f in d.control_forms],
        "releaseDeadline": moment(d.release_deadline),
        "releaseLate": d.release_late,
        "decidedAt": moment(d.decided_at),
        "waitsForOfficer": d.waits_for_officer,
        "reasons": [r.code for r in d.reasons],
    }
