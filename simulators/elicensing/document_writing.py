"""Writing E-licensing's documents as XML, field 18 (the transport signature) included.

As in SHEP payloads only the root is namespace-qualified; children are unqualified and named
after the model fields (camelCase), in the models' field order, which is the form's. Field 18 of a
licence, refusal or permit is an enveloped XML-DSig by ELICENSE's key over the whole document
(``connectors.wsse.payload.sign_payload``).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from connectors import TransportKey, sign_payload
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.issued_documents import (
    NAMESPACE,
    NSMAP,
    Document,
    Licence,
    MotivatedRefusal,
    Permit,
    PermitNotIssued,
    root_name,
)


def build_application(application: LicenceApplication) -> etree._Element:
    """The ``LicenceApplication`` element the portal puts in SHEP ``data`` (unsigned here)."""
    return to_xml(application)


def build_permit_draft(draft: PermitDraft) -> etree._Element:
    return to_xml(draft)


def build_licence(licence: Licence, key: TransportKey) -> etree._Element:
    """The ``Licence`` element, signed by ``key`` (field 18)."""
    return _signed(licence, key)


def build_refusal(refusal: MotivatedRefusal, key: TransportKey) -> etree._Element:
    return _signed(refusal, key)


def build_permit(permit: Permit, key: TransportKey) -> etree._Element:
    return _signed(permit, key)


def build_permit_not_issued(notice: PermitNotIssued, key: TransportKey) -> etree._Element:
    return _signed(notice, key)


def _signed(document: Document, key: TransportKey) -> etree._Element:
    root = to_xml(document)
    sign_payload(root, key)
    return root


def to_xml(document: Document) -> etree._Element:
    """The unsigned element of ``document``: root qualified, children named by field alias."""
    root = etree.Element(etree.QName(NAMESPACE, root_name(type(document))), nsmap=NSMAP)
    values = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    for name, value in values.items():
        _append(root, name, value)
    return root


def _append(parent: etree._Element, name: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:  # a sequence is the element repeated
            _append(parent, name, item)
        return
    element = etree.SubElement(parent, name)  # no namespace: children are unqualified
    if isinstance(value, dict):
        for child_name, child_value in value.items():
            _append(element, child_name, child_value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def to_bytes(element: etree._Element) -> bytes:
    return etree.tostring(element, xml_declaration=True, encoding="UTF-8")
