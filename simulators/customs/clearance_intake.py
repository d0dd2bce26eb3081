"""KEDEN's intake of a declaration: forming it (process 4-5 and condition 2, L1122-1136) from the
exclusions of para 1, the declarant identified in GBDUL/GBDFL and the permit documents asked of
E-licensing — both through the gateway — and the registers of representatives and carriers. A
refusal to form is answered at once with every reason; a formed declaration is stored SUBMITTED
with its registration deadline (2 working hours, para 5(1)).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from lxml import etree
from pydantic import BaseModel

from connectors.soap.values import child
from simulators.customs.declaration_rows import Declaration
from simulators.customs.declarations import (
    REGISTRATION_TERM,
    Declarant,
    ExportDeclaration,
    PermitDocument,
    Reason,
)
from simulators.customs.formation import (
    PermitGoods,
    exclusions,
    identification,
    permit_check,
)
from simulators.customs.models import RecordStatus, TradeCountryRole, TradeType, customs_day
from simulators.customs.registers import RegisterKind
from simulators.elicensing.permit_query import (
    DOCUMENTS_SERVICE,
    build_documents_request,
)
from simulators.individuals.models import ACTIVE_PERSON_STATUSES
from simulators.individuals.payload import build_request as gbdfl_request
from simulators.kit.fixtures import load_json
from simulators.kit.identifiers import is_valid_bin
from simulators.kit.payloads import field_text
from simulators.legal_entities.payload import build_request as gbdul_request

__all__ = [
    "GBDFL_SERVICE",
    "GBDUL_SERVICE",
    "FactsMissing",
    "Filing",
    "Intake",
    "default_permit_goods",
]

# One logger for the whole clearance desk, as before it was split into modules.
log = logging.getLogger("simulators.customs.clearance")

GBDUL_SERVICE = "GbdulInfoByBin_v1"
GBDFL_SERVICE = "GbdflInfoByIin_v1"


class FactsMissing(Exception):
    """A state database answered without the payload KEDEN needs to form a declaration."""


class _PermitGoodsFile(BaseModel, frozen=True):
    why: str = ""
    prefixes: tuple[str, ...]


def default_permit_goods() -> PermitGoods:
    return PermitGoods(
        load_json(f"{__package__}.fixtures", "permit_goods.json", _PermitGoodsFile).prefixes
    )


@dataclass(frozen=True)
class Filing:
    """What forming a declaration gave: the declaration, or the reasons it was not formed."""

    declaration: Declaration | None
    duplicate: bool = False
    reasons: tuple[Reason, ...] = ()


class Intake:
    """Forming a declaration (process 4-5, condition 2): the exclusions, the declarant in
    GBDUL/GBDFL, the permit documents from E-licensing, the registers, KEDEN's own records. A
    mixin of ``Clearance``, whose store, client, clock and registers it uses."""

    async def file(
        self, declaration: ExportDeclaration, signature: Sequence[Reason] = ()
    ) -> Filing:
        """Form ``declaration``; ``signature``: what is wrong with the declarant's EDS on it."""
        reasons = exclusions(declaration) + list(signature)
        if not reasons:  # outside the paperless form nothing more is asked of other systems
            declarant = await self._identify(declaration.declarant_id)
            reasons += identification(declarant, declaration.declarant_id)
            reasons += self.registers.check(
                declaration.representative, RegisterKind.CUSTOMS_REPRESENTATIVE
            )
            reasons += self.registers.check(declaration.carrier, RegisterKind.CUSTOMS_CARRIER)
            documents = await self._permit_documents(declaration)
            now = self.clock.now()
            reasons += permit_check(
                declaration,
                documents,
                self.permit_goods,
                customs_day(now),
                await self.store.reserved(),
            )
            if not reasons:  # E-licensing agrees; KEDEN's own record must agree too
                reasons += await self._record_problems(declaration.permit_quantities(), now)
        if reasons:
            self.formation_refusals += 1
            log.info(
                "KEDEN refused to form %s of %s: %s",
                declaration.filing_reference,
                declaration.declarant_id,
                ", ".join(r.code for r in reasons),
            )
            return Filing(None, reasons=tuple(reasons))
        submitted_at = self.clock.now()
        deadline = self.calendar.add_working_time(submitted_at, REGISTRATION_TERM)
        stored, created = await self.store.submit(
            declaration, submitted_at=submitted_at, deadline=deadline
        )
        self.wake()
        return Filing(stored, duplicate=not created)

    async def _identify(self, identifier: str) -> Declarant:
        """Process 4: the declarant's requisites from GBDUL (BIN) or GBDFL (IIN)."""
        if is_valid_bin(identifier):
            answer = await self._answer(GBDUL_SERVICE, gbdul_request(identifier))
            subject, active = child(answer, "organization"), {"ACTIVE"}
        else:
            answer = await self._answer(GBDFL_SERVICE, gbdfl_request(identifier))
            subject, active = child(answer, "person"), ACTIVE_PERSON_STATUSES
        if field_text(answer, "resultCode") != "FOUND" or subject is None:
            return Declarant(found=False)
        status = field_text(subject, "status")
        return Declarant(found=True, active=status in active, status=status)

    async def _permit_documents(self, declaration: ExportDeclaration) -> list[PermitDocument]:
        """Process 4: E-licensing's permit documents of the declarant and the declared goods."""
        codes = tuple(sorted({i.code for i in declaration.items}))
        answer = await self._answer(
            DOCUMENTS_SERVICE, build_documents_request(declaration.declarant_id, codes)
        )
        return [
            _permit_document(d)
            for d in answer.iterchildren(tag=etree.Element)
            if etree.QName(d).localname == "document"
        ]

    async def _answer(self, service: str, payload: etree._Element) -> etree._Element:
        result = await self.client.send(service, payload)
        data = result.response.data
        found = [] if data is None else list(data.iterchildren(tag=etree.Element))
        if not found:
            raise FactsMissing(f"{service} answered without a payload")
        return found[0]


def _permit_document(element: etree._Element) -> PermitDocument:
    codes = tuple((c.text or "").strip() for c in element if etree.QName(c).localname == "code")
    return PermitDocument(
        number=field_text(element, "number"),
        kind=field_text(element, "kind"),
        trade_type=TradeType(field_text(element, "type")),
        holder_id=field_text(element, "holderId"),
        codes=codes,
        trade_country=field_text(element, "tradeCountry"),
        trade_country_role=TradeCountryRole(field_text(element, "tradeCountryRole")),
        valid_from=date.fromisoformat(field_text(element, "validFrom")[:10]),
        valid_to=date.fromisoformat(field_text(element, "validTo")[:10]),
        status=RecordStatus(field_text(element, "status")),
        quantity=Decimal(field_text(element, "quantity")),
        remaining_quantity=Decimal(field_text(element, "remainingQuantity")),
        unit=field_text(element, "unit"),
    )
