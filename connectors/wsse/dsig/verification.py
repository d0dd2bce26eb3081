"""Running xmlsec with only the allow-listed algorithms enabled, and classifying a failure: a
reference whose digest no longer matches (a changed element) or a bad signature value.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Sequence

import lxml.etree as etree
import xmlsec

from connectors import errors
from connectors.errors import GatewayError
from connectors.wsse.dsig.algorithms import (
    C14N,
    C14N_TRANSFORMS,
    DIGESTS,
    ENVELOPED,
    EXC_C14N,
    EXC_C14N_COMMENTS,
    EXC_C14N_NS,
    REFERENCE_ALGORITHMS,
    SIGNATURE_TRANSFORMS,
)
from connectors.wsse.dsig.parts import ReferenceParts, SignatureParts, Target, child

__all__ = ["classify_failure", "reference_digest", "verify_crypto"]


def _enabled_context(parts: SignatureParts, key: xmlsec.Key) -> xmlsec.SignatureContext:
    ctx = xmlsec.SignatureContext()
    # Defence in depth: xmlsec may run only the (already allow-listed) algorithms named here.
    ctx.enable_signature_transform(C14N_TRANSFORMS[parts.c14n_method])
    ctx.enable_signature_transform(SIGNATURE_TRANSFORMS[parts.signature_method])
    enabled: set[str] = set()
    for ref in parts.references:
        for uri in (ref.digest_method, *(u for u, _ in ref.transforms)):
            if uri not in enabled:
                enabled.add(uri)
                ctx.enable_reference_transform(REFERENCE_ALGORITHMS[uri])
    ctx.key = key
    return ctx


def verify_crypto(parts: SignatureParts, targets: Sequence[Target], key: xmlsec.Key) -> None:
    """Run xmlsec on ``parts.element``; SIG_DIGEST_MISMATCH / SIG_INVALID on failure."""
    ctx = _enabled_context(parts, key)
    for target in targets:
        if target.id_name is None:
            continue
        try:
            ctx.register_id(target.element, target.id_name, target.id_ns)
        except xmlsec.Error as exc:
            # xmlsec already knows this id value on another attribute (e.g. an xml:id).
            raise GatewayError(errors.SIG_WRAPPING, "a signed id is declared twice") from exc
    try:
        ctx.verify(parts.element)
    except xmlsec.Error as exc:
        raise classify_failure(parts, targets) from exc


def classify_failure(parts: SignatureParts, targets: Sequence[Target]) -> GatewayError:
    """After xmlsec refused: recompute each digest to tell a changed element from a bad value."""
    for target in targets:
        if reference_digest(target.reference, target.element, parts.element) != (
            target.reference.digest_value
        ):
            uri = target.reference.uri or "(whole document)"
            return GatewayError(errors.SIG_DIGEST_MISMATCH, f"digest of {uri} does not match")
    return GatewayError(errors.SIG_INVALID, "the signature value does not verify")


def _index_path(element: etree._Element) -> list[int]:
    path = []
    while (parent := element.getparent()) is not None:
        path.append(parent.index(element))
        element = parent
    return path[::-1]


def _follow(root: etree._Element, path: list[int]) -> etree._Element:
    for index in path:
        root = root[index]
    return root


def _without_signature(
    target: etree._Element, signature: etree._Element
) -> tuple[etree._Element, etree._Element | None]:
    """A copy of the whole document; returns the copy of ``target`` and of ``signature``."""
    root = copy.deepcopy(target.getroottree()).getroot()
    twin = _follow(root, _index_path(target))
    # A target inside the signature (a ds:Object) would vanish with it: leave both alone then.
    within = signature is target or any(a is signature for a in target.iterancestors())
    return twin, None if within else _follow(root, _index_path(signature))


def _detach(element: etree._Element) -> None:
    # lxml moves the tail text with a removed element; the enveloped transform keeps it.
    parent, tail = element.getparent(), element.tail
    if parent is None:
        return
    previous = element.getprevious()
    if tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(element)


def reference_digest(
    ref: ReferenceParts, target: etree._Element, signature: etree._Element
) -> bytes | None:
    """Recompute a reference's digest with lxml's C14N (failure path only, so it may be slow)."""
    uris = [uri for uri, _ in ref.transforms]
    node = target
    if ENVELOPED in uris:
        node, sig_twin = _without_signature(target, signature)
        if sig_twin is not None:
            _detach(sig_twin)
    c14n = [(u, el) for u, el in ref.transforms if u in C14N_TRANSFORMS]
    method, element = c14n[-1] if c14n else (C14N, None)
    exclusive = method in (EXC_C14N, EXC_C14N_COMMENTS)
    prefixes = _inclusive_prefixes(element) if exclusive and element is not None else None
    # Same-document references drop comments before any c14n (XML-DSig 4.3.3.3).
    try:
        data = etree.tostring(
            node,
            method="c14n",
            exclusive=exclusive,
            with_comments=False,
            inclusive_ns_prefixes=prefixes,
        )
    except etree.C14NError:
        # Content C14N cannot express (a relative namespace URI) was not what anyone signed:
        # no digest, so the caller reports a changed element (found by fuzzing; it was
        # Server.Internal).
        return None
    entry = DIGESTS.get(ref.digest_method)
    return hashlib.new(entry[1], data).digest() if entry else None


def _inclusive_prefixes(transform: etree._Element) -> list[str] | None:
    found = child(transform, f"{{{EXC_C14N_NS}}}InclusiveNamespaces")
    if found is None:
        return None
    return [p if p != "#default" else "" for p in (found.get("PrefixList") or "").split()]
