"""XML ⇄ model mapping of the KGD payload, the content of SHEP ``data`` (``xsd/kgd.xsd``).

Two operations share the endpoint; the request element says which one is asked. Only the
global elements are namespace-qualified; their children are unqualified, as in SHEP.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from connectors import XSD_DIR
from connectors.soap.values import child as _child
from simulators.kit.xml import add_field as _add
from simulators.tax.rules import MrpResult, TaxDebtResult

NAMESPACE = "http://kzgate.kz/simulators/kgd/v1"
MRP_REQUEST = etree.QName(NAMESPACE, "MrpRequest")
MRP_RESPONSE = etree.QName(NAMESPACE, "MrpResponse")
TAX_DEBT_REQUEST = etree.QName(NAMESPACE, "TaxDebtRequest")
TAX_DEBT_RESPONSE = etree.QName(NAMESPACE, "TaxDebtResponse")
_NSMAP = {"kgd": NAMESPACE}
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SCHEMA_PATH = XSD_DIR / "kgd.xsd"


class PayloadError(ValueError):
    """The ``data`` element does not carry a readable KGD request."""


@dataclass(frozen=True)
class MrpQuery:
    year: str


@dataclass(frozen=True)
class TaxDebtQuery:
    taxpayer_id: str


Query = MrpQuery | TaxDebtQuery
# request element local name → (its one field, the query it becomes)
_REQUESTS: dict[str, tuple[str, type[MrpQuery] | type[TaxDebtQuery]]] = {
    MRP_REQUEST.localname: ("year", MrpQuery),
    TAX_DEBT_REQUEST.localname: ("taxpayerId", TaxDebtQuery),
}


def parse_request(data_element: etree._Element) -> Query:
    """The query in a SHEP ``data`` element, values whitespace-trimmed but not validated.

    A malformed year or BIN/IIN is a business answer (INVALID_YEAR / INVALID_ID), decided by
    ``rules``, not a broken message.
    """
    name, request = _find_request(data_element)
    field, query = _REQUESTS[name]
    value = _child(request, field)
    if value is None:
        raise PayloadError(f"{name} has no {field} element")
    return query((value.text or "").strip())


def build_mrp_request(year: int | str) -> etree._Element:
    """An ``MrpRequest`` element, for clients and tests that call the simulator."""
    request = etree.Element(MRP_REQUEST, nsmap=_NSMAP)
    _add(request, "year", str(year))
    return request


def build_tax_debt_request(taxpayer_id: str) -> etree._Element:
    """A ``TaxDebtRequest`` element, for clients and tests that call the simulator."""
    request = etree.Element(TAX_DEBT_REQUEST, nsmap=_NSMAP)
    _add(request, "taxpayerId", taxpayer_id)
    return request


def build_mrp_response(result: MrpResult) -> etree._Element:
    """The ``MrpResponse`` element for an MRP answer, to be placed inside ``data``."""
    response = _result_element(MRP_RESPONSE, result.code.value, result.message)
    if result.rate is not None:
        mrp = etree.SubElement(response, "mrp")
        _add(mrp, "year", str(result.rate.year))
        _add(mrp, "amount", str(result.rate.amount))
        _add(mrp, "currency", result.rate.currency)
        _add(mrp, "basis", result.rate.basis)
    return response


def build_tax_debt_response(result: TaxDebtResult) -> etree._Element:
    """The ``TaxDebtResponse`` element for a tax-debt answer, to be placed inside ``data``."""
    response = _result_element(TAX_DEBT_RESPONSE, result.code.value, result.message)
    if result.debt is not None:
        debt = result.debt
        element = etree.SubElement(response, "taxDebt")
        _add(element, "taxpayerId", debt.taxpayer_id)
        _add(element, "taxpayerName", debt.taxpayer_name)
        _add(element, "hasDebt", "true" if debt.has_debt else "false")
        _add(element, "amount", f"{debt.amount:.2f}")
        _add(element, "currency", debt.currency)
        _add(element, "asOfDate", debt.as_of)
    return response


@cache
def schema() -> etree.XMLSchema:
    """The payload schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def _find_request(data_element: etree._Element) -> tuple[str, etree._Element]:
    # Most SHEP clients wrap the payload element inside data; JAXB-style clients type data
    # itself with xsi:type="p:MrpRequest" and put the fields directly in it. Both are accepted.
    for name in _REQUESTS:
        wrapped = _child(data_element, name)
        if wrapped is not None:
            return name, wrapped
    typed = (data_element.get(_XSI_TYPE) or "").rpartition(":")[2]
    if typed in _REQUESTS:
        return typed, data_element
    raise PayloadError("data carries neither an MrpRequest nor a TaxDebtRequest")


def _result_element(tag: etree.QName, code: str, message: str) -> etree._Element:
    response = etree.Element(tag, nsmap=_NSMAP)
    _add(response, "resultCode", code)
    _add(response, "resultMessage", message)
    return response
