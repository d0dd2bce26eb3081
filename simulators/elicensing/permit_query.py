"""E-licensing answers customs: which permit documents a declarant holds, and what was executed.

- ``ElicensePermitDocuments_v1`` (sync, from KEDEN): seed 004 Annex 5 para 10, process 4
  (L1122-1131) — forming a paperless export declaration, customs "automatically queries the
  E-licensing state database on the presence or absence of permit documents for both the
  recipient and the declared goods". The answer gives each licence/permit of the holder (only
  those covering the asked codes, when codes are given): holder, codes, country, validity,
  status and remaining quantity [design: the fields].
- ``ElicensePermitExecution_v1`` (sync, from KEDEN): the quantity a released declaration wrote off
  a document — "information on permit execution" (seed 003 Rules p.13; for licences a design
  choice, law.md §5.4 point 10). Applied once per (document, declaration): the primary key
  decides, so a resend after a lost answer changes nothing. The document turns EXHAUSTED here
  when nothing is left, as it does in KEDEN.

Status follows one model with KEDEN's records (``simulators.customs.models.RecordStatus``):
VALID, EXPIRED (validity ended, computed from the clock), EXHAUSTED (quantity executed in full);
TERMINATED joins when the export-permit pilot (seed 003, F3) terminates permits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree
from sqlalchemy import Column, MetaData, String, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import SyncRequest, format_datetime, parse_datetime
from connectors.db import UtcDateTime, create_engine, write_transaction
from connectors.soap.values import children
from simulators.customs.models import RecordStatus, customs_day
from simulators.customs.payload import decimal_text
from simulators.elicensing import documents
from simulators.elicensing.export_pilot import documents as pilot_documents
from simulators.elicensing.export_pilot.forms import ExportPermit
from simulators.elicensing.export_pilot.store import PermitStatus, PilotStore
from simulators.elicensing.store import Application, ApplicationStore, Kind, Outcome
from simulators.kit.clock import Clock
from simulators.kit.payloads import field_text, request_element
from simulators.kit.provider import ProviderResult
from simulators.kit.xml import add_field

DOCUMENTS_SERVICE = "ElicensePermitDocuments_v1"
EXECUTION_SERVICE = "ElicensePermitExecution_v1"
NAMESPACE = "http://kzgate.kz/simulators/elicense/permits/v1"
XSD_FILE = "elicense-permits.xsd"
DOCUMENTS_REQUEST = etree.QName(NAMESPACE, "PermitDocumentsRequest")
DOCUMENTS_RESPONSE = etree.QName(NAMESPACE, "PermitDocumentsResponse")
EXECUTION_NOTICE = etree.QName(NAMESPACE, "PermitExecutionNotice")
EXECUTION_ACK = etree.QName(NAMESPACE, "PermitExecutionAck")
_NSMAP = {"elp": NAMESPACE}

metadata = MetaData()

executions = Table(
    "sim_elicense_executions",
    metadata,
    Column("document_number", String, primary_key=True),
    Column("declaration_number", String, primary_key=True),
    Column("quantity", String, nullable=False),
    Column("unit", String, nullable=False),
    Column("released_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True)
class IssuedDocument:
    """A licence or permit E-licensing issued, with what customs executed of it."""

    number: str
    kind: Kind
    trade_type: str
    holder_id: str
    holder_name: str
    codes: tuple[str, ...]
    trade_country: str
    trade_country_role: str
    valid_from: date
    valid_to: date
    quantity: Decimal
    executed: Decimal
    unit: str
    terminated: bool = False  # a pilot permit the head terminated (seed 003 Rules p.15)

    @property
    def remaining(self) -> Decimal:
        return max(Decimal(0), self.quantity - self.executed)

    def status_on(self, moment: datetime) -> RecordStatus:
        if self.terminated:
            return RecordStatus.TERMINATED
        if self.remaining == 0:
            return RecordStatus.EXHAUSTED
        if customs_day(moment) > self.valid_to:
            return RecordStatus.EXPIRED
        return RecordStatus.VALID


class ExecutionLedger:
    """What customs executed of each document, on ELICENSE's database (created on first use)."""

    def __init__(self, database_url: str) -> None:
        self._engine: AsyncEngine = create_engine(database_url)
        self._ready = False
        self._lock = asyncio.Lock()

    async def record(
        self, document: str, declaration: str, quantity: Decimal, unit: str, at: datetime
    ) -> bool:
        """Record one declaration's write-off of ``document``; False when it was already there."""
        await self._ensure()
        async with write_transaction(self._engine) as conn:
            insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
            statement = (
                insert(executions)
                .values(
                    document_number=document,
                    declaration_number=declaration,
                    quantity=decimal_text(quantity),
                    unit=unit,
                    released_at=at,
                )
                .on_conflict_do_nothing()
                .returning(executions.c.document_number)
            )
            return (await conn.execute(statement)).first() is not None

    async def executed(self, document: str) -> Decimal:
        await self._ensure()
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(executions.c.quantity).where(executions.c.document_number == document)
            )
            return sum((Decimal(q) for (q,) in rows), Decimal(0))

    async def count(self, document: str) -> int:
        await self._ensure()
        async with self._engine.connect() as conn:
            query = select(func.count()).where(executions.c.document_number == document)
            return (await conn.execute(query)).scalar_one()

    async def close(self) -> None:
        await self._engine.dispose()

    async def _ensure(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if not self._ready:
                async with write_transaction(self._engine) as conn:
                    await conn.run_sync(metadata.create_all, checkfirst=True)
                self._ready = True


@dataclass
class PermitQuery:
    """ELICENSE's answers to customs, over its application register and execution ledger."""

    store: ApplicationStore
    ledger: ExecutionLedger
    clock: Clock
    # The CIS export-permit pilot's register (seed 003): its permits are E-licensing's permit
    # documents too (order p.1 runs the pilot inside the permit service), so customs finds them.
    pilot: PilotStore | None = None

    async def issued_of(self, holder_id: str) -> list[IssuedDocument]:
        found = []
        for app in await self.store.all():
            if app.applicant_id == holder_id and app.outcome is Outcome.ISSUED:
                found.append(await self._issued(app))
        return found + [d for d in await self._pilot_permits() if d.holder_id == holder_id]

    async def issued(self, number: str) -> IssuedDocument | None:
        for app in await self.store.all():
            if app.document_number == number and app.outcome is Outcome.ISSUED:
                return await self._issued(app)
        return next((d for d in await self._pilot_permits() if d.number == number), None)

    async def _pilot_permits(self) -> list[IssuedDocument]:
        if self.pilot is None:
            return []
        found = []
        for app in await self.pilot.all():
            if app.document_xml is None or app.permit_status is None:
                continue  # refused, or not yet signed
            permit = pilot_documents.parse_decision(etree.fromstring(app.document_xml.encode()))
            if not isinstance(permit, ExportPermit):
                continue
            found.append(
                IssuedDocument(
                    number=permit.number,
                    kind=Kind.PERMIT,
                    trade_type="EXPORT",
                    holder_id=permit.applicant.identifier,
                    holder_name=permit.applicant.name or "",
                    codes=(permit.goods.commodity_code,),
                    trade_country=permit.destination_country,
                    trade_country_role="DESTINATION",
                    valid_from=permit.valid_from,
                    valid_to=permit.valid_to,
                    quantity=permit.goods.quantity,
                    executed=await self.ledger.executed(permit.number),
                    unit=permit.goods.unit or "",
                    terminated=app.permit_status == PermitStatus.TERMINATED.value,
                )
            )
        return found

    async def _issued(self, app: Application) -> IssuedDocument:
        element = etree.fromstring(app.document_xml.encode())
        doc: documents.Licence | documents.Permit = (
            documents.parse_permit(element)
            if app.kind is Kind.PERMIT
            else documents.parse_licence(element)
        )
        return IssuedDocument(
            number=doc.number,
            kind=app.kind,
            trade_type=doc.type.value,
            holder_id=doc.applicant.identifier,
            holder_name=doc.applicant.name or "",
            codes=(doc.goods.commodity_code or "",),
            trade_country=doc.trade_country.country or "",
            trade_country_role=doc.trade_country.role.value,
            valid_from=doc.valid_from,
            valid_to=doc.valid_to,
            quantity=doc.goods.quantity,
            executed=await self.ledger.executed(doc.number),
            unit=doc.goods.unit or "",
        )

    async def handle(self, request: SyncRequest) -> ProviderResult:
        element = request_element(request, XSD_FILE, DOCUMENTS_REQUEST, EXECUTION_NOTICE)
        if element.tag == DOCUMENTS_REQUEST.text:
            return ProviderResult(await self._documents(element))
        return ProviderResult(await self._execution(element))

    async def _documents(self, element: etree._Element) -> etree._Element:
        holder = field_text(element, "holderId")
        codes = {(c.text or "").strip() for c in children(element, "code")}
        found = [d for d in await self.issued_of(holder) if not codes or codes & set(d.codes)]
        now = self.clock.now()
        answer = etree.Element(DOCUMENTS_RESPONSE, nsmap=_NSMAP)
        add_field(answer, "resultCode", "FOUND" if found else "NOT_FOUND")
        subject = f"holder {holder}" + (f", codes {', '.join(sorted(codes))}" if codes else "")
        add_field(answer, "resultMessage", f"{len(found)} permit document(s) of {subject}")
        for d in found:
            _add_document(etree.SubElement(answer, "document"), d, now)
        return answer

    async def _execution(self, element: etree._Element) -> etree._Element:
        number = field_text(element, "documentNumber")
        answer = etree.Element(EXECUTION_ACK, nsmap=_NSMAP)
        document = await self.issued(number)
        if document is None:
            add_field(answer, "resultCode", "NOT_FOUND")
            add_field(answer, "documentNumber", number)
            return answer
        applied = await self.ledger.record(
            number,
            field_text(element, "declarationNumber"),
            Decimal(field_text(element, "quantity")),
            field_text(element, "unit"),
            parse_datetime(field_text(element, "releasedAt")),
        )
        document = await self.issued(number)
        assert document is not None
        add_field(answer, "resultCode", "APPLIED" if applied else "ALREADY_APPLIED")
        add_field(answer, "documentNumber", number)
        add_field(answer, "status", document.status_on(self.clock.now()).value)
        add_field(answer, "remainingQuantity", decimal_text(document.remaining))
        return answer


def routed(
    query: PermitQuery, other: Callable[[SyncRequest], Awaitable[ProviderResult]]
) -> Callable[[SyncRequest], Awaitable[ProviderResult]]:
    """ELICENSE's handler with the customs services in front: the rest goes to ``other``."""

    async def handle(request: SyncRequest) -> ProviderResult:
        if request.service_id in (DOCUMENTS_SERVICE, EXECUTION_SERVICE):
            return await query.handle(request)
        return await other(request)

    return handle


# --- payload -----------------------------------------------------------------------------------


def build_documents_request(holder_id: str, codes: tuple[str, ...] = ()) -> etree._Element:
    element = etree.Element(DOCUMENTS_REQUEST, nsmap=_NSMAP)
    add_field(element, "holderId", holder_id)
    for code in codes:
        add_field(element, "code", code)
    return element


def build_execution_notice(
    document: str, declaration: str, quantity: Decimal, unit: str, released_at: datetime
) -> etree._Element:
    element = etree.Element(EXECUTION_NOTICE, nsmap=_NSMAP)
    add_field(element, "documentNumber", document)
    add_field(element, "declarationNumber", declaration)
    add_field(element, "quantity", decimal_text(quantity))
    add_field(element, "unit", unit)
    add_field(element, "releasedAt", format_datetime(released_at))
    return element


def _add_document(element: etree._Element, d: IssuedDocument, now: datetime) -> None:
    for name, value in (
        ("number", d.number),
        ("kind", d.kind.value),
        ("type", d.trade_type),
        ("holderId", d.holder_id),
        ("holderName", d.holder_name),
    ):
        add_field(element, name, value)
    for code in d.codes:
        add_field(element, "code", code)
    add_field(element, "tradeCountry", d.trade_country)
    add_field(element, "tradeCountryRole", d.trade_country_role)
    add_field(element, "validFrom", d.valid_from)
    add_field(element, "validTo", d.valid_to)
    add_field(element, "status", d.status_on(now).value)
    add_field(element, "quantity", decimal_text(d.quantity))
    add_field(element, "remainingQuantity", decimal_text(d.remaining))
    add_field(element, "unit", d.unit)
