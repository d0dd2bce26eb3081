"""A scenario's actions: what it files, pays, decides at the desk or sends, each remembered by its
alias (``Filed``) for the expectations after it.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from lxml import etree

from connectors import GatewayFault, sign_payload
from connectors.wsse.pki import revoke
from kzgate.cli.demo import sample_application
from kzgate.cli.demo_declaration import LEATHER, export_licence_application
from kzgate.rehearsal import model
from kzgate.rehearsal.results import SUBMIT, Filed, field_texts
from simulators.customs.declaration_payload import (
    answer_fields,
    build_declaration,
)
from simulators.customs.declarations import DeclarationItem, ExportDeclaration, PaymentMethod
from simulators.elicensing import documents, forms
from simulators.elicensing.export_pilot import documents as pilot_documents
from simulators.elicensing.export_pilot import samples as pilot_samples
from simulators.elicensing.export_pilot.goods import Annex
from simulators.elicensing.export_pilot.service import SUBMIT_SERVICE as PILOT_SUBMIT
from simulators.elicensing.export_pilot.staff import load_staff
from simulators.elicensing.facts import PEP_FEE_PURPOSE
from simulators.kit.clock import KZ_TIME
from simulators.kit.personal_keys import declarant_name, personal_key
from simulators.legal_entities.payload import default_store
from simulators.payments.payload import build_confirm_request, build_create_request
from simulators.tax.payload import build_mrp_request

__all__ = ["Filings"]


class Filings:
    """The scenario's actions on the system: pay a fee, file a licence, an export permit or a
    declaration, act at the officer's desk, revoke a certificate, send a raw request. A mixin of
    ``Rehearsal``, whose ``client``, ``now``, ``view`` and ``filed`` it uses."""

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
