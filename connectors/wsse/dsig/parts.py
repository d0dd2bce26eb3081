"""A ``ds:Signature`` taken apart: its SignedInfo, methods and references (each exactly once where
the standard says so, or SIG_MALFORMED), and each reference resolved to the one element it
covers — an id carried twice, on any id attribute, is a wrapping attempt.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import lxml.etree as etree

from connectors import errors
from connectors.errors import GatewayError
from connectors.soap.namespaces import WSU
from connectors.wsse.dsig.algorithms import DS, WSU_ID, XML_ID

__all__ = [
    "ReferenceParts",
    "SignatureParts",
    "Target",
    "child",
    "children",
    "decode_base64",
    "fragment_id",
    "parse_signature",
    "resolve_id",
]


def _ds(local: str) -> str:
    return f"{{{DS}}}{local}"


@dataclass(frozen=True)
class ReferenceParts:
    """One ``ds:Reference``: its URI, transforms (URI + element), digest method and value."""

    element: etree._Element
    uri: str | None
    transforms: tuple[tuple[str, etree._Element], ...]
    digest_method: str
    digest_value: bytes


@dataclass(frozen=True)
class SignatureParts:
    """The pieces of one ``ds:Signature`` that verification looks at."""

    element: etree._Element
    signed_info: etree._Element
    c14n_method: str
    signature_method: str
    references: tuple[ReferenceParts, ...]
    key_info: etree._Element | None


# Children are matched by comparing tag strings, not with find()/iter(tag): lxml's tag matcher
# misses elements that xmlsec's template functions created (their names are not interned).
def children(parent: etree._Element, tag: str) -> list[etree._Element]:
    """The direct children of ``parent`` named ``tag`` (Clark notation)."""
    return [child for child in parent if child.tag == tag]


def child(parent: etree._Element, tag: str) -> etree._Element | None:
    """The first direct child of ``parent`` named ``tag``, if any."""
    return next((c for c in parent if c.tag == tag), None)


def _grouped(parent: etree._Element) -> dict[str, list[etree._Element]]:
    # One pass over the children (each lxml child access builds a proxy: hot path).
    groups: dict[str, list[etree._Element]] = {}
    for element in parent:
        groups.setdefault(element.tag, []).append(element)  # type: ignore[arg-type]
    return groups


def _exactly_one(
    groups: dict[str, list[etree._Element]], local: str, fault: errors.FaultCode
) -> etree._Element:
    found = groups.get(_ds(local), [])
    if len(found) != 1:
        raise GatewayError(fault, f"expected exactly one ds:{local}, found {len(found)}")
    return found[0]


def _algorithm(element: etree._Element, fault: errors.FaultCode) -> str:
    value = element.get("Algorithm")
    if not value:
        raise GatewayError(fault, f"{etree.QName(element).localname} has no Algorithm")
    return value


def decode_base64(text: str | None) -> bytes:
    """Strict base64 (whitespace and line breaks allowed); ValueError on anything else."""
    compact = "".join((text or "").split())
    try:
        return base64.b64decode(compact, validate=True)
    except binascii.Error as exc:
        raise ValueError("invalid base64") from exc


def _parse_reference(ref: etree._Element, fault: errors.FaultCode) -> ReferenceParts:
    groups = _grouped(ref)
    transforms_el = groups.get(_ds("Transforms"), [])
    if len(transforms_el) > 1:
        raise GatewayError(fault, "a ds:Reference has more than one ds:Transforms")
    transforms = tuple(
        (_algorithm(t, fault), t)
        for t in (transforms_el[0] if transforms_el else ())
        if isinstance(t.tag, str)
    )
    digest_method = _algorithm(_exactly_one(groups, "DigestMethod", fault), fault)
    try:
        digest_value = decode_base64(_exactly_one(groups, "DigestValue", fault).text)
    except ValueError as exc:
        raise GatewayError(fault, "ds:DigestValue is not base64") from exc
    return ReferenceParts(ref, ref.get("URI"), transforms, digest_method, digest_value)


def parse_signature(
    signature: etree._Element, fault: errors.FaultCode = errors.SIG_MALFORMED
) -> SignatureParts:
    """Split ``signature`` into its parts; ``fault`` when a required part is missing or doubled."""
    groups = _grouped(signature)
    signed_info = _exactly_one(groups, "SignedInfo", fault)
    value = _exactly_one(groups, "SignatureValue", fault)
    if not (value.text or "").strip():
        raise GatewayError(fault, "ds:SignatureValue is empty")
    key_infos = groups.get(_ds("KeyInfo"), [])
    if len(key_infos) > 1:
        raise GatewayError(fault, "more than one ds:KeyInfo")
    info = _grouped(signed_info)
    references = tuple(_parse_reference(r, fault) for r in info.get(_ds("Reference"), []))
    if not references:
        raise GatewayError(fault, "ds:SignedInfo holds no ds:Reference")
    return SignatureParts(
        element=signature,
        signed_info=signed_info,
        c14n_method=_algorithm(_exactly_one(info, "CanonicalizationMethod", fault), fault),
        signature_method=_algorithm(_exactly_one(info, "SignatureMethod", fault), fault),
        references=references,
        key_info=key_infos[0] if key_infos else None,
    )


def fragment_id(uri: str | None, fault: errors.FaultCode = errors.SIG_MALFORMED) -> str:
    """The id of a same-document ``#id`` reference; XPointer and external URIs are refused."""
    if not uri or not uri.startswith("#") or len(uri) < 2:
        raise GatewayError(fault, f"reference URI {uri!r} is not a same-document #id")
    ident = uri[1:]
    if any(ch in ident for ch in "()'\"# \t\r\n"):
        raise GatewayError(fault, f"reference URI {uri!r} is not a plain #id")
    return ident


# Elements with any attribute of that value (one cheap scan); filtered to the id carriers below.
_WITH_VALUE = etree.XPath("//@*[. = $v]/..")
# Every attribute that may carry an id: a value carried twice across them is a wrapping attempt.
_ID_CARRIERS = (WSU_ID, "Id", "ID", XML_ID)
# Order of precedence when registering the id attribute with xmlsec (protocol sheet §7.9).
_ID_ATTRIBUTES = ((WSU_ID, "Id", WSU), ("Id", "Id", None), ("ID", "ID", None))


@dataclass(frozen=True)
class Target:
    """A reference resolved to its element, and the id attribute xmlsec must register."""

    reference: ReferenceParts
    element: etree._Element
    id_name: str | None  # None for URI="": xmlsec resolves the document itself
    id_ns: str | None


def resolve_id(document: etree._Element, ident: str, reference: ReferenceParts) -> Target:
    """Resolve ``ident`` over the whole document; an id carried twice → SIG_WRAPPING."""
    carriers = [
        el for el in _WITH_VALUE(document, v=ident) if any(el.get(a) == ident for a in _ID_CARRIERS)
    ]
    if len(carriers) > 1:
        raise GatewayError(
            errors.SIG_WRAPPING, f"id {ident!r} is carried by {len(carriers)} elements"
        )
    if not carriers:
        raise GatewayError(errors.SIG_MALFORMED, f"reference #{ident} does not resolve")
    element = carriers[0]
    for attribute, name, ns in _ID_ATTRIBUTES:
        if element.get(attribute) == ident:
            return Target(reference, element, name, ns)
    raise GatewayError(errors.SIG_MALFORMED, f"#{ident} is an xml:id, not a wsu:Id, Id or ID")
