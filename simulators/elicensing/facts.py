"""The facts of one decision, gathered through the gateway (ШЭП) as ELICENSE.

Nothing is asked of the applicant that a state IS already holds [seed 002 §4]: the applicant's
registration comes from GBDUL (legal entity, by BIN) or GBDFL (entrepreneur, by IIN), the fee
payments from PEP, and the MRP of each year those payments were made in from KGD (the fee is
judged against the MRP of its payment date, DESIGN.md "Fee"). E-licensing's own records (activity
licences, quotas, obligations, EAEU-rule parameters) complete ``rules.Facts``.

Each answer is read by local element names (SHEP payload children are unqualified). An answer
that cannot be read raises ``FactsUnavailable``: the flow retries later rather than decide on a
guess.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from lxml import etree

from connectors import ShepClient
from simulators.elicensing.forms import ApplicantKind, LicenceApplication, PermitDraft
from simulators.elicensing.records import Records
from simulators.elicensing.rule_facts import Facts, Payment, PaymentStatus, Registry, RegistryAnswer
from simulators.elicensing.rules_fee import LICENCE_FEE_PURPOSE
from simulators.individuals.models import ACTIVE_PERSON_STATUSES
from simulators.individuals.payload import build_request as gbdfl_request
from simulators.legal_entities.payload import build_request as gbdul_request
from simulators.payments.payload import build_lookup_request
from simulators.tax.payload import build_mrp_request

GBDUL_SERVICE = "GbdulInfoByBin_v1"
GBDFL_SERVICE = "GbdflInfoByIin_v1"
KGD_MRP_SERVICE = "KgdMrpByYear_v1"
PEP_PAYMENTS_SERVICE = "PepPaymentsByPayer_v1"
# PEP's purpose code of the licence fee; the rules speak of the purpose LICENCE_FEE.
PEP_FEE_PURPOSE = "LICENCE_FEE_IMPORT_EXPORT"
_PEP_STATUS = {"CONFIRMED": PaymentStatus.CONFIRMED, "CREATED": PaymentStatus.PENDING}


class FactsUnavailable(Exception):
    """A registry's answer could not be used; the decision waits for a retry."""


async def gather(
    client: ShepClient,
    application: LicenceApplication,
    registered_on: dt.date,
    records: Records,
    *,
    filed_on: dt.date | None = None,
) -> Facts:
    """Every fact ``rules.decide`` reads, for ``application`` registered on ``registered_on``."""
    payments = await fee_payments(client, application.applicant.identifier)
    confirmed = {p.paid_on.year for p in payments if p.status is PaymentStatus.CONFIRMED}
    mrp_by_year: dict[int, Decimal] = {}
    for year in sorted(confirmed):
        mrp = await mrp_of(client, year)
        if mrp is not None:
            mrp_by_year[year] = mrp
    return Facts(
        registered_on=registered_on,
        registry=await registry_answer(client, application),
        mrp_by_year=mrp_by_year,
        payments=payments,
        activity_licence=records.check_activity_licence(application),
        quota=records.check_quota(application, registered_on.year),
        eaeu_rules=records.eaeu_rules,
        obligations=records.obligations,
        filed_on=filed_on,
        stopped_contract=records.stopped_basis_document(application),
    )


async def registry_answer(
    client: ShepClient, application: LicenceApplication | PermitDraft
) -> RegistryAnswer:
    """The applicant's registration: GBDUL for a legal entity, GBDFL's IE register otherwise."""
    identifier = application.applicant.identifier
    if application.applicant.kind is ApplicantKind.INDIVIDUAL_ENTREPRENEUR:
        answer = await _answer(client, GBDFL_SERVICE, gbdfl_request(identifier))
        return _person(answer)
    return _organization(await _answer(client, GBDUL_SERVICE, gbdul_request(identifier)))


def _organization(answer: etree._Element) -> RegistryAnswer:
    org = _child(answer, "organization")
    if _text(answer, "resultCode") != "FOUND" or org is None:
        return RegistryAnswer(Registry.GBDUL, found=False)
    status = _text(org, "status")
    return RegistryAnswer(
        Registry.GBDUL,
        found=True,
        active=status == "ACTIVE",
        names=(_text(org, "name"), _text(org, "shortName")),
        status=status,
    )


def _person(answer: etree._Element) -> RegistryAnswer:
    """An entrepreneur is active while the person lives and the IE registration is ACTIVE.

    LR p.4 ¶2: the provider fetches the IE's state registration / start of activity, so a living
    person without one is no entrepreneur, and a suspended or terminated activity is no active
    one (R1, DESIGN.md "IE register").
    """
    person = _child(answer, "person")
    if _text(answer, "resultCode") != "FOUND" or person is None:
        return RegistryAnswer(Registry.GBDFL, found=False)
    status, name = _text(person, "status"), _text(person, "fullName")
    ie = _child(person, "entrepreneur")
    if status not in ACTIVE_PERSON_STATUSES:
        return RegistryAnswer(Registry.GBDFL, True, False, (name,), f"person {status}")
    if ie is None:
        return RegistryAnswer(
            Registry.GBDFL, True, False, (name,), "not registered as an individual entrepreneur"
        )
    ie_status = _text(ie, "status")
    since = "" if ie_status == "ACTIVE" else f" since {_text(ie, 'statusDate')}"
    # An entrepreneur trades under the registered name, usually «ИП <full name>».
    names = tuple(dict.fromkeys((_text(ie, "tradeName"), name, f"ИП {name}")))
    return RegistryAnswer(
        Registry.GBDFL,
        found=True,
        active=ie_status == "ACTIVE",
        names=names,
        status=f"individual entrepreneur {ie_status}{since}",
    )


async def mrp_of(client: ShepClient, year: int) -> Decimal | None:
    """KGD's MRP of ``year``; None when no budget law has set it (yet) — the rules say so."""
    answer = await _answer(client, KGD_MRP_SERVICE, build_mrp_request(year))
    mrp = _child(answer, "mrp")
    if _text(answer, "resultCode") == "NOT_FOUND":
        return None
    if _text(answer, "resultCode") != "FOUND" or mrp is None:
        raise FactsUnavailable(f"KGD's MRP answer for {year}: {_text(answer, 'resultMessage')}")
    return _decimal(_text(mrp, "amount"))


async def fee_payments(client: ShepClient, payer: str) -> tuple[Payment, ...]:
    """The payer's licence-fee payments of every date, oldest first (R6 judges each one)."""
    answer = await _answer(
        client, PEP_PAYMENTS_SERVICE, build_lookup_request(payer, PEP_FEE_PURPOSE)
    )
    return tuple(_payment(p) for p in answer.iterchildren(tag="{*}payment"))


def _payment(element: etree._Element) -> Payment:
    day = dt.date.fromisoformat(_text(element, "paymentDate")[:10])
    return Payment(
        payer=_text(element, "payerId"),
        amount=_decimal(_text(element, "amount")),
        status=_PEP_STATUS.get(_text(element, "status"), PaymentStatus.PENDING),
        paid_on=day,
        purpose=LICENCE_FEE_PURPOSE,
        reference=_text(element, "reference"),
        payment_id=_text(element, "paymentId"),
    )


async def _answer(client: ShepClient, service: str, payload: etree._Element) -> etree._Element:
    """The payload element of the provider's answer (the single child of ``data``)."""
    result = await client.send(service, payload)
    data = result.response.data
    children = [] if data is None else list(data.iterchildren(tag=etree.Element))
    if not children:
        raise FactsUnavailable(f"{service} answered without a payload")
    return children[0]


def _child(parent: etree._Element, name: str) -> etree._Element | None:
    # "{*}name": the local name in any namespace, matched by lxml in C; a QName object per child
    # in Python made reading PEP's answer of 20 payments 4–5× slower (0.74–1.1 ms, issue 12).
    return next(parent.iterchildren(tag=f"{{*}}{name}"), None)


def _text(parent: etree._Element, name: str) -> str:
    element = _child(parent, name)
    if element is None:
        raise FactsUnavailable(f"{_local(parent)} has no {name}")
    return (element.text or "").strip()


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _decimal(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation as exc:
        raise FactsUnavailable(f"not an amount: {value!r}") from exc
