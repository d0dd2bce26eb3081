"""Hardened parsing of untrusted XML: refuse before anything can be expanded, loaded or exhausted.

The order matters. Size is checked on the raw bytes; the prolog is scanned for a DOCTYPE before
libxml2 sees the document, so a billion-laughs or XXE payload is refused by a linear text scan and
never parsed; then lxml parses with every loader off while a depth counter watches the start/end
events and stops at the first element too deep, the first element with too many attributes, the
first namespace declaration over the document's budget, the first element over the element budget
and the first text node too long (``XmlLimits``). Those limits are what makes the work on a message
linear in its size: everything after the parser (schema copies, lxml attribute and namespace
handling, c14n) is O(attributes × namespaces in scope) or worse, so hostile shapes must never reach
it. A document that cannot break a limit by its very bytes (UTF-8, no DOCTYPE, too small for the
element and text budgets, fewer ``xmlns`` than the namespace budget) takes a quicker road: one
plain parse with the same options, then its depth and attribute counts checked by compiled XPath
in C; if any of that fails or is in doubt, the document goes the full way above, so every refusal
and its message is the full way's.

Whitespace and CDATA are kept; comments are dropped, with the text around them joined, because the
transport signature (exclusive C14N without comments) never covers them: what the gateway reads
and forwards is then exactly the signed content (a ``<bin>0308<!---->50</bin>`` reads as ``030850``,
not ``0308``).
"""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from connectors.errors import (
    XML_DOCTYPE,
    XML_ENTITY_DECLARATION,
    XML_EXTERNAL_ENTITY,
    XML_MALFORMED,
    XML_TEXT_TOO_LARGE,
    XML_TOO_DEEP,
    XML_TOO_LARGE,
    XML_TOO_MANY_ATTRIBUTES,
    XML_TOO_MANY_ELEMENTS,
    XML_TOO_MANY_NAMESPACES,
    GatewayError,
)


@dataclass(frozen=True)
class XmlLimits:
    """Bounds on the shape of one document, checked while it is parsed (see the module doc)."""

    max_attributes: int = 64  # on one element, namespace declarations included
    max_namespaces: int = 1024  # namespace declarations in the whole document
    max_elements: int = 200_000
    max_text_chars: int = 4 * 1024 * 1024  # one text node (CDATA included)


DEFAULT_LIMITS = XmlLimits()

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": True,
    "remove_blank_text": False,
    "strip_cdata": False,
}

_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_SUBSET_END = re.compile(r"\]\s*>")
_EXTERNAL_ID = re.compile(r"\b(?:SYSTEM|PUBLIC)\b")
_ENTITY_DECL = re.compile(r"<!ENTITY\s+(%\s+)?[^\s>]+\s+(?P<rest>[^>]*)>", re.DOTALL)


def parse_document(
    data: bytes, *, max_bytes: int, max_depth: int, limits: XmlLimits = DEFAULT_LIMITS
) -> etree._Element:
    """Parse untrusted bytes into the root element, or raise the precise ``Client.Xml.*`` fault."""
    if len(data) > max_bytes:
        raise GatewayError(XML_TOO_LARGE, f"{len(data)} bytes, the limit is {max_bytes}")
    if not data.strip():
        raise GatewayError(XML_MALFORMED, "the message is empty")
    root = _parse_plain(data, max_depth, limits)
    if root is not None:
        return root
    _prescan_shape(data, limits)
    text = _scan_text(data)
    doctype = _find_doctype(text) if text is not None else None
    if doctype is not None:
        raise _doctype_error(doctype)
    root = _parse_bounded(data, max_depth, limits)
    _refuse_parsed_doctype(root)
    return root


# A start tag with more than N attribute-shaped pairs, and a namespace declaration: found by the
# C regex engine in the raw bytes (ASCII-compatible encodings), so the commonest bombs are refused
# before libxml2 spends ~0.5-1.5 µs per attribute on them. The parser counts exactly afterwards;
# the scan only makes refusing cheap (it also sees markup inside CDATA, which no SOAP needs).
_PAIR = rb"""\s+[^\s=<>/]+\s*=\s*(?:"[^"<]*"|'[^'<]*')"""
_XMLNS_DECLARATION = re.compile(rb"""\sxmlns(?::[^\s=<>/]+)?\s*=""")


@lru_cache(maxsize=8)
def _crowded_start_tag(max_attributes: int) -> re.Pattern[bytes]:
    return re.compile(rb"<[A-Za-z_][^\s<>/]*(?:" + _PAIR + rb"){%d}" % (max_attributes + 1))


def _prescan_shape(data: bytes, limits: XmlLimits) -> None:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
        return  # UTF-16/32: the byte patterns do not apply; the parser's own count still does
    # Namespaces first: 100,000 declarations on one element are a namespace bomb, and say so.
    if data.count(b"xmlns") > limits.max_namespaces:
        for seen, _ in enumerate(_XMLNS_DECLARATION.finditer(data), start=1):
            if seen > limits.max_namespaces:
                raise GatewayError(
                    XML_TOO_MANY_NAMESPACES,
                    f"more than {limits.max_namespaces} namespace declarations",
                )
    crowded = _crowded_start_tag(limits.max_attributes).search(data)
    if crowded is not None:
        raise GatewayError(
            XML_TOO_MANY_ATTRIBUTES,
            f"a start tag at byte {crowded.start()} has more than {limits.max_attributes} "
            "attributes",
        )


def _scan_text(data: bytes) -> str | None:
    """The document as text for the prolog scan, or None when it cannot hold a DOCTYPE."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data.decode(codec, errors="replace")
    if data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):  # UTF-16 without BOM
        codec = "utf-16-le" if data[0] == 0x3C else "utf-16-be"
        return data.decode(codec, errors="replace")
    # In ASCII-compatible encodings the keyword is these bytes; one C-speed search spares the
    # decode for the normal message. latin-1 maps bytes 1:1, so ASCII markup is found in any case.
    return data.decode("latin-1") if b"<!DOCTYPE" in data else None


def _find_doctype(text: str) -> str | None:
    """The DOCTYPE declaration's text if the prolog has one, else None.

    Walks the prolog as XML defines it (declaration, PIs, comments, whitespace) so a DOCTYPE
    inside a comment is not a false hit, and stops at the first element: O(prolog length).
    """
    pos = 1 if text.startswith("\ufeff") else 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos)
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
        elif text.startswith("<!DOCTYPE", pos):
            return _doctype_text(text, pos)
        else:
            return None  # the root element, or garbage the parser will report
        if end < 0:
            return None
        pos = end + 2


def _doctype_text(text: str, start: int) -> str:
    """The DOCTYPE from ``start`` to its end (internal subset included), or to end of text."""
    bracket = text.find("[", start)
    close = text.find(">", start)
    if bracket < 0 or (0 <= close < bracket):
        return text[start : close + 1 if close >= 0 else len(text)]
    # "]" may occur inside an entity value, so the subset ends at the first "]" followed by ">".
    end = _SUBSET_END.search(text, bracket)
    return text[start : end.end() if end else len(text)]


def _doctype_error(doctype: str) -> GatewayError:
    """Classify a DOCTYPE: external entity or external subset, entity declarations, or bare."""
    declarations = list(_ENTITY_DECL.finditer(doctype))
    external = any(_EXTERNAL_ID.search(m["rest"]) for m in declarations)
    subset_start = doctype.find("[")
    head = doctype if subset_start < 0 else doctype[:subset_start]
    if external or _EXTERNAL_ID.search(head):
        return GatewayError(XML_EXTERNAL_ENTITY, "the DOCTYPE references an external resource")
    if declarations or "<!ENTITY" in doctype:
        return GatewayError(XML_ENTITY_DECLARATION, f"{len(declarations)} entity declaration(s)")
    return GatewayError(XML_DOCTYPE, "a DOCTYPE declaration precedes the root element")


# An optional UTF-8 BOM, XML whitespace, then either an XML declaration (whose encoding, if
# named, is UTF-8) or an element or a comment/PI: the bytes are the characters, so the counts on
# the bytes below bound the counts in the document.
_UTF8_START = re.compile(
    rb"""(?:\xef\xbb\xbf)?[ \t\r\n]*(?:<\?xml\s+version\s*=\s*["'][0-9.]+["']"""
    rb"""(?:\s+encoding\s*=\s*["'](?i:utf-8)["'])?(?:\s+standalone\s*=\s*["'](?:yes|no)["'])?"""
    rb"""\s*\?>|<(?!\?xml))"""
)
_plain = threading.local()  # lxml parsers and XPath evaluators are per thread


def _parse_plain(data: bytes, max_depth: int, limits: XmlLimits) -> etree._Element | None:
    """The quick road for a document that cannot break a limit by its bytes; None: take the full
    way (``_parse_bounded``), which then decides and words any refusal.

    Why the byte counts are bounds, for UTF-8 without a DOCTYPE (no entity can add text): an
    element takes at least 4 bytes (``<a/>``), a text node no more characters than bytes, and
    every namespace declaration spells ``xmlns``; so the element, text and namespace budgets hold
    from the size alone, and an element's attributes plus declarations are at most its attributes
    plus every ``xmlns`` in the document. Depth and attributes are then counted on the tree.
    """
    if (
        len(data) > limits.max_text_chars
        or len(data) > 4 * limits.max_elements
        or b"<!DOCTYPE" in data
        or _UTF8_START.match(data) is None
    ):
        return None
    declarations = data.count(b"xmlns")
    spare_attributes = limits.max_attributes - declarations
    if declarations > limits.max_namespaces or spare_attributes < 0:
        return None
    checks = _plain_checks()
    try:
        root = etree.fromstring(data, checks.parser)
    except etree.LxmlError:
        return None
    if root is None or checks.too_deep(max_depth)(root) or checks.crowded(root, n=spare_attributes):
        return None
    return root


class _PlainChecks:
    """One thread's parser and compiled XPath checks (lxml's are not to be shared by threads)."""

    def __init__(self) -> None:
        self.parser = etree.XMLParser(**_PARSER_OPTIONS)
        self.crowded = etree.XPath("boolean(//*[count(@*) > $n])")
        self._too_deep: dict[int, etree.XPath] = {}

    def too_deep(self, max_depth: int) -> etree.XPath:
        """True when an element sits at depth ``max_depth + 1``: a path of that many child steps."""
        check = self._too_deep.get(max_depth)
        if check is None:
            check = self._too_deep[max_depth] = etree.XPath(
                "boolean(" + "/*" * (max_depth + 1) + ")"
            )
        return check


def _plain_checks() -> _PlainChecks:
    checks: _PlainChecks | None = getattr(_plain, "checks", None)
    if checks is None:
        checks = _plain.checks = _PlainChecks()
    return checks


def _parse_bounded(data: bytes, max_depth: int, limits: XmlLimits) -> etree._Element:
    """Parse with lxml's event stream, aborting at the first event that breaks a limit.

    Each check is O(1) per event, so a refused document costs no more than parsing up to the
    offending element. A text node is complete when its element ends (``text``) or when the next
    sibling starts or the parent ends (``tail``): that is where each is measured.
    """
    events = etree.iterparse(
        io.BytesIO(data), events=("start", "end", "start-ns"), **_PARSER_OPTIONS
    )
    depth = elements = namespaces = declared_here = 0
    try:
        for event, element in events:
            if event == "start-ns":
                namespaces += 1
                declared_here += 1  # start-ns events come just before their element's start
                if namespaces > limits.max_namespaces:
                    raise GatewayError(
                        XML_TOO_MANY_NAMESPACES,
                        f"more than {limits.max_namespaces} namespace declarations",
                    )
            elif event == "start":
                depth += 1
                elements += 1
                if depth > max_depth:
                    raise GatewayError(XML_TOO_DEEP, f"more than {max_depth} nested elements")
                if elements > limits.max_elements:
                    raise GatewayError(
                        XML_TOO_MANY_ELEMENTS, f"more than {limits.max_elements} elements"
                    )
                attributes = len(element.attrib) + declared_here
                declared_here = 0
                if attributes > limits.max_attributes:
                    raise GatewayError(
                        XML_TOO_MANY_ATTRIBUTES,
                        f"<{etree.QName(element).localname}> has {attributes} attributes and "
                        f"namespace declarations, the limit is {limits.max_attributes}",
                    )
                _check_text(element.getprevious(), "tail", limits)
            else:
                depth -= 1
                _check_text(element, "text", limits)
                if len(element):
                    _check_text(element[-1], "tail", limits)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise GatewayError(XML_MALFORMED, f"line {line}, column {column}: {exc.msg}") from None
    root = events.root
    if root is None:  # pragma: no cover - lxml raises on an empty document
        raise GatewayError(XML_MALFORMED, "no root element")
    return root


def _check_text(node: etree._Element | None, which: str, limits: XmlLimits) -> None:
    if node is None:
        return
    text = node.text if which == "text" else node.tail
    if text is not None and len(text) > limits.max_text_chars:
        raise GatewayError(
            XML_TEXT_TOO_LARGE,
            f"a text node of {len(text)} characters, the limit is {limits.max_text_chars}",
        )


def _refuse_parsed_doctype(root: etree._Element) -> None:
    """Second line of defence: a DOCTYPE the scan could not see (exotic encoding) is refused too."""
    docinfo = root.getroottree().docinfo
    dtd = docinfo.internalDTD
    if dtd is None and not docinfo.doctype:
        return
    entities = list(dtd.iterentities()) if dtd is not None else []
    if docinfo.system_url or docinfo.public_id or any(e.system_url for e in entities):
        raise GatewayError(XML_EXTERNAL_ENTITY, "the DOCTYPE references an external resource")
    if entities:
        raise GatewayError(XML_ENTITY_DECLARATION, f"{len(entities)} entity declaration(s)")
    raise GatewayError(XML_DOCTYPE, "a DOCTYPE declaration precedes the root element")
