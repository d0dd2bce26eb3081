"""The wire of ELICENSE's own SyncChannel services: reading filings and status requests, answering.

A ``LicenceApplication`` or ``PermitDraft`` in SHEP ``data`` is read and checked here — a broken
filing, an incomplete draft or a draft for goods not under surveillance is an invalid message
(SCHEMA_PAYLOAD_INVALID), as the permit rules have no refusal — and its ``content_digest`` makes
two sends of one application the same filing. The answers carry the registration number, the
registration moment and the SLA deadline, or the application's state by number.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from lxml import etree

from connectors import GatewayError, errors, format_datetime
from connectors.wsse.dsig import DS
from simulators.elicensing import documents
from simulators.elicensing.records import Records
from simulators.elicensing.rules import check_permit_draft
from simulators.elicensing.sla import is_missed
from simulators.elicensing.store import Application, Kind

SUBMIT_SERVICE = "ElicenseSubmitApplication_v1"
STATUS_SERVICE = "ElicenseApplicationStatus_v1"
NAMESPACE = documents.NAMESPACE
_NSMAP = {"el": NAMESPACE}
APPLICATION_TAG = etree.QName(NAMESPACE, "LicenceApplication").text
DRAFT_TAG = etree.QName(NAMESPACE, "PermitDraft").text
STATUS_REQUEST_TAG = etree.QName(NAMESPACE, "ApplicationStatusRequest").text


# --- reading requests ----------------------------------------------------------------------------


def payload_of(data: etree._Element) -> etree._Element:
    """The one element SHEP ``data`` carries; an invalid message otherwise."""
    children = list(data.iterchildren(tag=etree.Element))
    if len(children) != 1:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, "data must carry one element")
    return children[0]


def read_form(element: etree._Element, records: Records) -> tuple[Kind, str]:
    """The kind and applicant id of a valid filing; a broken one is an invalid message.

    A draft permit for goods not under automatic licensing (surveillance) is outside the permit
    service (PR p.2(4)): rejected like a broken message, as the permit rules have no refusal.
    """
    try:
        if element.tag == APPLICATION_TAG:
            return Kind.LICENCE, documents.parse_application(element).applicant.identifier
        if element.tag == DRAFT_TAG:
            draft = documents.parse_permit_draft(element)
            problems = check_permit_draft(draft)
            if problems:  # the permit rules have no refusal: an incomplete draft is a bad message
                raise documents.DocumentError("; ".join(problems))
            if records.under_surveillance(draft) is None:
                raise documents.DocumentError(
                    f"goods {draft.goods.commodity_code} are not under automatic licensing "
                    f"(surveillance) for {draft.type.value}: no permit is issued for them "
                    "(permit rules p.2(4))"
                )
            return Kind.PERMIT, draft.applicant.identifier
    except documents.DocumentError as exc:
        raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, str(exc)) from exc
    raise GatewayError(
        errors.SCHEMA_PAYLOAD_INVALID, "data must carry a LicenceApplication or a PermitDraft"
    )


def content_digest(element: etree._Element) -> str:
    """What makes two filings the same application: the canonical form, signatures aside.

    The applicant's own signature may differ between two sends of one application.
    """
    copy = etree.fromstring(etree.tostring(element, encoding="UTF-8"))  # non-ASCII names too
    for signature in copy.findall(f"{{{DS}}}Signature"):
        copy.remove(signature)
    return hashlib.sha256(etree.tostring(copy, method="c14n", exclusive=True)).hexdigest()


def child_text(element: etree._Element, name: str) -> str:
    """The non-empty text of the child ``name`` (unqualified); an invalid message otherwise."""
    for child in element.iterchildren(tag=etree.Element):
        if etree.QName(child).localname == name and (child.text or "").strip():
            return child.text.strip()
    raise GatewayError(errors.SCHEMA_PAYLOAD_INVALID, f"no {name}")


# --- answers -------------------------------------------------------------------------------------


def submit_response(app: Application, *, duplicate: bool) -> etree._Element:
    """The registration answer: number, kind, registration moment, deadline, duplicate."""
    element = etree.Element(etree.QName(NAMESPACE, "SubmitApplicationResponse"), nsmap=_NSMAP)
    _add(element, "registrationNumber", app.number)
    _add(element, "kind", app.kind.value)
    _add(element, "registeredAt", format_datetime(app.registered_at))
    _add(element, "deadline", format_datetime(app.deadline))
    _add(element, "duplicate", "true" if duplicate else "false")
    return element


def status_response(number: str, app: Application | None, now: datetime) -> etree._Element:
    """The status answer of application ``number`` (NOT_FOUND when there is none)."""
    element = etree.Element(etree.QName(NAMESPACE, "ApplicationStatusResponse"), nsmap=_NSMAP)
    _add(element, "resultCode", "NOT_FOUND" if app is None else "FOUND")
    _add(element, "registrationNumber", number)
    if app is None:
        return element
    _add(element, "kind", app.kind.value)
    _add(element, "state", app.state.value)
    if app.outcome is not None:
        _add(element, "outcome", app.outcome.value)
    for code in app.ground_codes:
        _add(element, "ground", code)
    if app.reason:
        _add(element, "reason", app.reason)
    if app.document_number:
        _add(element, "documentNumber", app.document_number)
    _add(element, "registeredAt", format_datetime(app.registered_at))
    _add(element, "deadline", format_datetime(app.deadline))
    if app.completed_at is not None:
        _add(element, "completedAt", format_datetime(app.completed_at))
    _add(element, "deadlineMissed", "true" if is_missed(app, now) else "false")
    return element


def _add(parent: etree._Element, name: str, text: str) -> None:
    etree.SubElement(parent, name).text = text  # unqualified children, as in SHEP
