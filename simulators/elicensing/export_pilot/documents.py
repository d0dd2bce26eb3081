"""The pilot's XML documents (``xsd/export-pilot.xsd``) and their two signatures.

A decision carries two signatures, because the Rules name two:

- the **head's** (Rules p.9(3): the draft permit or refusal "is signed by the head of the
  provider", басшысының қолы қойылады): an enveloped XML-DSig over the decision
  (``ExportPermit``, ``ExportPermitRefusal``, ``ExportPermitTermination``), made with the head's
  **personal** certificate of the test PKI (CN = the head's name and role, never a system id);
- the **transport signature** (көліктік қолтаңба, Rules Annex 1 row 5, field 18 of Annex 3,
  the refusal form's signature line): ELICENSE's system key over ``TransportCertified``, which
  wraps the head-signed decision.

Each verifies offline on its own (``verify_certified``; signxml too): the inner decision as a
standalone document with the head's certificate, the wrapper with ELICENSE's.
"""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from typing import TYPE_CHECKING, TypeVar

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from pydantic import BaseModel, ValidationError

from connectors import XSD_DIR, TransportKey, TrustStore, sign_payload, verify_payload
from connectors.wsse.pki import SYSTEMS
from simulators.customs.payload import standalone
from simulators.elicensing.documents import NAMESPACE, DocumentError, read_fields, to_xml
from simulators.elicensing.export_pilot.forms import (
    COMMITTEE_CODES,
    ExecutionReport,
    ExportPermit,
    ExportPermitApplication,
    ExportPermitRefusal,
    ExportPermitTermination,
    ExportPilotScopeRequest,
    TerminationApplication,
)
from simulators.elicensing.export_pilot.goods import Committee

if TYPE_CHECKING:
    from simulators.elicensing.export_pilot.store import PilotApplication

SCHEMA_PATH = XSD_DIR / "export-pilot.xsd"
CERTIFIED = etree.QName(NAMESPACE, "TransportCertified").text
ISSUER_SYSTEM = "ELICENSE"
Decision = ExportPermit | ExportPermitRefusal | ExportPermitTermination
_M = TypeVar("_M", bound=BaseModel)


def permit_number(committee: Committee, year: int, sequence: int) -> str:
    """``KZ-TMD-{IND|TEL|AVI}-{YYYY}-{NNNNNN}``: the committee shows in the number."""
    return f"KZ-TMD-{COMMITTEE_CODES[committee]}-{year:04d}-{sequence:06d}"


def refusal_number(year: int, sequence: int) -> str:
    return f"KZ-TMD-RF-{year:04d}-{sequence:06d}"


def termination_number(year: int, sequence: int) -> str:
    return f"KZ-TMD-TR-{year:04d}-{sequence:06d}"


# --- building ----------------------------------------------------------------------------------


def build(document: BaseModel) -> etree._Element:
    """The unsigned element of any pilot model (root named after the model, as in the XSD)."""
    return to_xml(document)  # type: ignore[arg-type]  # E-licensing's writer, any FormModel


def sign_by_head(decision: Decision, head_key: TransportKey) -> etree._Element:
    """The decision signed with the head's personal key (Rules p.9(3))."""
    element = build(decision)
    sign_payload(element, head_key)
    return element


def certify(signed_decision: etree._Element, system_key: TransportKey) -> etree._Element:
    """``TransportCertified``: the head-signed decision under ELICENSE's transport signature."""
    wrapper = etree.Element(CERTIFIED, nsmap={"el": NAMESPACE})
    wrapper.append(etree.fromstring(etree.tostring(signed_decision, encoding="UTF-8")))
    sign_payload(wrapper, system_key)
    return wrapper


# --- reading -----------------------------------------------------------------------------------


@cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(element: etree._Element) -> None:
    target = copy.deepcopy(element) if element.getparent() is not None else element
    checker = schema()
    if not checker.validate(target):
        raise DocumentError("; ".join(f"line {e.line}: {e.message}" for e in checker.error_log))


def parse(element: etree._Element, model: type[_M]) -> _M:
    """The model from its element (or from a SHEP ``data`` wrapping it), schema-checked first."""
    tag = etree.QName(NAMESPACE, model.__name__).text
    root = element if element.tag == tag else element.find(tag)
    if root is None:
        raise DocumentError(f"no {model.__name__} element")
    validate(root)
    try:
        return model.model_validate(read_fields(root, model))
    except ValidationError as exc:
        raise DocumentError(str(exc)) from exc


def parse_application(element: etree._Element) -> ExportPermitApplication:
    return parse(element, ExportPermitApplication)


def decision_in(certified: etree._Element) -> etree._Element:
    """The head-signed decision inside a ``TransportCertified``, as a standalone document."""
    if certified.tag != CERTIFIED:
        certified = _required(certified.find(CERTIFIED), "TransportCertified")
    inner = next(iter(certified.iterchildren(tag=etree.Element)), None)
    return etree.fromstring(standalone(_required(inner, "decision")))


def parse_decision(certified: etree._Element) -> Decision:
    inner = decision_in(certified)
    model = _DECISIONS.get(etree.QName(inner).localname)
    if model is None:
        raise DocumentError(f"{etree.QName(inner).localname} is not a pilot decision")
    return parse(inner, model)


_DECISIONS: dict[str, type[Decision]] = {
    m.__name__: m for m in (ExportPermit, ExportPermitRefusal, ExportPermitTermination)
}
INPUTS: dict[str, type[BaseModel]] = {
    m.__name__: m
    for m in (
        ExportPermitApplication,
        TerminationApplication,
        ExecutionReport,
        ExportPilotScopeRequest,
    )
}


def _required(element: etree._Element | None, what: str) -> etree._Element:
    if element is None:
        raise DocumentError(f"no {what} element")
    return element


# --- verification ------------------------------------------------------------------------------


def common_name(certificate: x509.Certificate) -> str:
    return ", ".join(
        str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )


def verify_certified(
    certified: etree._Element, trust: TrustStore, *, now: dt.datetime
) -> tuple[x509.Certificate, x509.Certificate]:
    """Both signatures: (the head's personal certificate, ELICENSE's system certificate).

    DocumentError when the transport signature is not ELICENSE's or the decision was signed by a
    system key instead of a person's (the head must sign personally, Rules p.9(3)).
    """
    system = verify_payload(certified, trust, now=now)
    if common_name(system) != ISSUER_SYSTEM:
        raise DocumentError(f"transport signature by {common_name(system)}, not {ISSUER_SYSTEM}")
    head = verify_payload(decision_in(certified), trust, now=now)
    if common_name(head) in SYSTEMS:
        raise DocumentError(f"the decision is signed by system key {common_name(head)}")
    return head, system


def application_of(app: PilotApplication) -> ExportPermitApplication:
    """The application form a stored application was filed with."""
    return parse_application(etree.fromstring(app.application_xml.encode()))
