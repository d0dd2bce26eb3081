"""XML ⇄ model mapping of the KGD payload, the content of SHEP ``data`` (``xsd/kgd.xsd``).

Two operations share the endpoint; the request element says which one is asked. Only the
global elements are namespace-qualified; their children are unqualified, as in SHEP.
"""

from __future__ import annotations

from lxml import etree

from connectors.roster import roster_entry
from simulators.kit.payloads import PayloadError as PayloadError  # what parse_request raises
from simulators.kit.payloads import PayloadSpec, required
from simulators.kit.xml import add_group
from simulators.tax.models import MrpQuery, Query, TaxDebtQuery
from simulators.tax.rules import MrpResult, TaxDebtResult

SPEC = PayloadSpec.of(roster_entry("KGD"))
NAMESPACE = SPEC.namespace
MRP_REQUEST, MRP_RESPONSE = SPEC.operation("Mrp")
TAX_DEBT_REQUEST, TAX_DEBT_RESPONSE = SPEC.operation("TaxDebt")
schema = SPEC.schema
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
    name, request = SPEC.find_request(data_element, _REQUESTS)
    field, query = _REQUESTS[name]
    return query(required(request, field))


def build_mrp_request(year: int | str) -> etree._Element:
    """An ``MrpRequest`` element, for clients and tests that call the simulator."""
    return SPEC.element(MRP_REQUEST.localname, (("year", str(year)),))


def build_tax_debt_request(taxpayer_id: str) -> etree._Element:
    """A ``TaxDebtRequest`` element, for clients and tests that call the simulator."""
    return SPEC.element(TAX_DEBT_REQUEST.localname, (("taxpayerId", taxpayer_id),))


def build_mrp_response(result: MrpResult) -> etree._Element:
    """The ``MrpResponse`` element for an MRP answer, to be placed inside ``data``."""
    response = SPEC.result(MRP_RESPONSE.localname, result.code, result.message)
    rate = result.rate
    if rate is not None:
        add_group(
            response,
            "mrp",
            (
                ("year", str(rate.year)),
                ("amount", str(rate.amount)),
                ("currency", rate.currency),
                ("basis", rate.basis),
            ),
        )
    return response


def build_tax_debt_response(result: TaxDebtResult) -> etree._Element:
    """The ``TaxDebtResponse`` element for a tax-debt answer, to be placed inside ``data``."""
    response = SPEC.result(TAX_DEBT_RESPONSE.localname, result.code, result.message)
    debt = result.debt
    if debt is not None:
        add_group(
            response,
            "taxDebt",
            (
                ("taxpayerId", debt.taxpayer_id),
                ("taxpayerName", debt.taxpayer_name),
                ("hasDebt", "true" if debt.has_debt else "false"),
                ("amount", f"{debt.amount:.2f}"),
                ("currency", debt.currency),
                ("asOfDate", debt.as_of),
            ),
        )
    return response
