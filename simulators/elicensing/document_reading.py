"""Reading E-licensing's documents: schema validation, parsing into models, field 18's check.

A document is accepted as its own element or wrapped in a SHEP ``data`` element; it must pass
``xsd/elicense.xsd`` before its fields are read. ``verify_document`` checks field 18 offline: a
valid, trusted signature by the issuing system.
"""

from __future__ import annotations

import copy
import types
import typing
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from pydantic import BaseModel, ValidationError

from connectors import TrustStore, verify_payload
from simulators.elicensing.forms import LicenceApplication, PermitDraft
from simulators.elicensing.issued_documents import (
    ISSUER_SYSTEM,
    NAMESPACE,
    SCHEMA_PATH,
    DocumentError,
    Licence,
    MotivatedRefusal,
    Permit,
    PermitNotIssued,
    root_name,
)

_Doc = TypeVar(
    "_Doc", LicenceApplication, Licence, MotivatedRefusal, PermitDraft, Permit, PermitNotIssued
)


# --- XML: schema and parsing ----------------------------------------------------------------


@cache
def schema() -> etree.XMLSchema:
    """The documents' schema, compiled once."""
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH)))


def validate(element: etree._Element) -> None:
    """DocumentError listing the schema violations of a document element."""
    standalone = copy.deepcopy(element) if element.getparent() is not None else element
    checker = schema()
    if not checker.validate(standalone):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in checker.error_log)
        raise DocumentError(errors)


def parse_application(element: etree._Element) -> LicenceApplication:
    """The application from its element, or from a SHEP ``data`` element wrapping it."""
    return _parse(element, LicenceApplication)


def parse_permit_draft(element: etree._Element) -> PermitDraft:
    return _parse(element, PermitDraft)


def parse_licence(element: etree._Element) -> Licence:
    """The licence's fields; the signature is checked by ``verify_document``, not here."""
    return _parse(element, Licence)


def parse_refusal(element: etree._Element) -> MotivatedRefusal:
    return _parse(element, MotivatedRefusal)


def parse_permit(element: etree._Element) -> Permit:
    return _parse(element, Permit)


def parse_permit_not_issued(element: etree._Element) -> PermitNotIssued:
    return _parse(element, PermitNotIssued)


def _parse(element: etree._Element, document_type: type[_Doc]) -> _Doc:
    root = _locate(element, etree.QName(NAMESPACE, root_name(document_type)).text)
    validate(root)
    try:
        return document_type.model_validate(read_fields(root, document_type))
    except ValidationError as exc:
        raise DocumentError(str(exc)) from exc


def _locate(element: etree._Element, tag: str) -> etree._Element:
    if element.tag == tag:
        return element
    # SHEP data wraps the payload element; accept it as the single child as well.
    found = element.find(tag)
    if found is None:
        raise DocumentError(f"no {etree.QName(tag).localname} element")
    return found


def read_fields(element: etree._Element, model: type[BaseModel]) -> dict[str, Any]:
    """The field values of ``model`` under ``element`` by alias, nested models read alike."""
    values: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        alias = info.alias or name
        children = [c for c in element if c.tag == alias]
        if not children:
            continue
        inner = _model_in(info.annotation)
        items = [read_fields(c, inner) if inner else (c.text or "") for c in children]
        values[alias] = items if _is_sequence(info.annotation) else items[0]
    return values


def _type_args(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, list):
        return typing.get_args(annotation)
    return ()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in _type_args(annotation) if (m := _model_in(a))), None)


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (tuple, list, Sequence):
        return True
    return origin in (typing.Union, types.UnionType) and any(
        _is_sequence(a) for a in typing.get_args(annotation)
    )


# --- verification ---------------------------------------------------------------------------


def verify_document(
    element: etree._Element,
    trust: TrustStore,
    *,
    now: datetime,
    signer: str = ISSUER_SYSTEM,
) -> x509.Certificate:
    """Verify field 18: a valid, trusted signature *by* ``signer`` (integrity and authorship).

    Raises GatewayError (PAYLOAD_*) from ``verify_payload``, or DocumentError when the document
    is intact but signed by another system (T-X02).
    """
    certificate = verify_payload(element, trust, now=now)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if [n.value for n in names] != [signer]:
        raise DocumentError(f"signed by {', '.join(str(n.value) for n in names)}, not {signer}")
    return certificate
