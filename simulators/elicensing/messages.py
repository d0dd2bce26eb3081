"""What ELICENSE sends about an application, and under which messageId.

Every message has a deterministic messageId (uuid5 of the application number and the purpose)
and the same content on a resend, so the gateway accepts a retry after a crash as the message it
already has: nothing reaches a receiver twice. The document goes out as its stored bytes, so
its signature stays valid and a resend is identical.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from lxml import etree

from simulators.customs.models import (
    Contract as CustomsContract,
)
from simulators.customs.models import (
    Counterparty as CustomsCounterparty,
)
from simulators.customs.models import (
    CounterpartyRole,
    DocumentKind,
    GoodsItem,
    RecordContent,
    TradeCountryRole,
)
from simulators.customs.models import TradeType as CustomsTradeType
from simulators.customs.payload import build_registration
from simulators.elicensing import documents
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.store import Application, Kind
from simulators.monitoring.payload import Stage, build_stage_event

SYSTEM_ID = "ELICENSE"
PORTAL_SERVICE = "PortalNotification_v1"
KEDEN_SERVICE = "KedenRegisterRecord_v1"
MONITORING_SERVICE = "MonitoringStage_v1"
# uuid5 namespace of ELICENSE's outgoing messageIds (any fixed UUID: it only has to never change).
MESSAGE_NAMESPACE = uuid.UUID("6f1d3c1e-8a52-5d0e-9a63-2b0f6e4c7a11")
_COMMENT_LIMIT = 500  # a stage comment is a note for the monitoring screen, not the document


def message_id(application_number: str, purpose: str) -> str:
    """The messageId of one delivery: the same for every retry of it."""
    return str(uuid.uuid5(MESSAGE_NAMESPACE, f"{application_number}/{purpose}"))


def parse_form(app: Application) -> LicenceApplication | PermitDraft:
    element = etree.fromstring(app.application_xml.encode())
    if app.kind is Kind.PERMIT:
        return documents.parse_permit_draft(element)
    return documents.parse_application(element).model_copy(update={"number": app.number})


def stage_event(app: Application, stage: Stage, occurred_at: datetime | None) -> etree._Element:
    """MONITORING's event of ``stage`` (a refusal says its grounds or why no permit)."""
    comment = None
    if stage is Stage.REFUSED and app.grounds:
        comment = f"grounds {app.grounds}"
    elif stage is Stage.REFUSED and app.reason:
        comment = f"permit not issued: {app.reason}"[:_COMMENT_LIMIT]
    return build_stage_event(
        app.number, stage, SYSTEM_ID, occurred_at or app.registered_at, comment
    )


def document(app: Application) -> etree._Element:
    """The signed decision as stored: the cabinet's copy."""
    assert app.document_xml is not None
    return etree.fromstring(app.document_xml.encode())


def registration(app: Application) -> etree._Element:
    """KEDEN's customs record of an issued licence or permit, the document embedded."""
    element = document(app)
    if app.kind is Kind.PERMIT:
        issued: documents.Licence | documents.Permit = documents.parse_permit(element)
    else:
        issued = documents.parse_licence(element)
    return build_registration(customs_content(issued, app.kind), element)


def customs_content(doc: documents.Licence | documents.Permit, kind: Kind) -> RecordContent:
    """KEDEN's record of an issued licence or permit, field for field [F6]."""
    goods, contract, counterparty = doc.goods, doc.contract, doc.counterparty
    return RecordContent(
        number=doc.number,
        kind=DocumentKind(kind.value),
        trade_type=CustomsTradeType(doc.type.value),
        valid_from=doc.valid_from,
        valid_to=doc.valid_to,
        holder_id=doc.applicant.identifier,
        holder_name=doc.applicant.name or "",
        trade_country=doc.trade_country.country or "",
        trade_country_role=TradeCountryRole(doc.trade_country.role.value),
        quantity=goods.quantity,
        unit=goods.unit or "",
        goods=(GoodsItem(goods.commodity_code or "", goods.description or ""),),
        issuer=SYSTEM_ID,
        issue_date=doc.issue_date,
        contract=CustomsContract(contract.number, contract.date, contract.other_document),
        counterparty=CustomsCounterparty(
            counterparty.name or "", CounterpartyRole(counterparty.role.value)
        ),
        counterparty_country=counterparty.country,
        currency=goods.currency,
        value=goods.value,
        statistical_value=goods.statistical_value,
        origin_country=goods.origin_country,
        additional_info=doc.additional_info,
        basis=getattr(doc, "basis", None),
    )


__all__ = [
    "KEDEN_SERVICE",
    "MONITORING_SERVICE",
    "PORTAL_SERVICE",
    "SYSTEM_ID",
    "customs_content",
    "document",
    "message_id",
    "parse_form",
    "registration",
    "stage_event",
]
