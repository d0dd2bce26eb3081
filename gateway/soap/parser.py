"""Hardened parsing of untrusted XML: refuse before anything can be expanded, loaded or exhausted.

The order matters. Size is checked on the raw bytes; the prolog is scanned for a DOCTYPE before
libxml2 sees the document, so a billion-laughs or XXE payload is refused by a linear text scan and
never parsed; then lxml parses with every loader off while a depth counter watches the start/end
events and stops at the first element too deep. Whitespace, comments and CDATA are kept: the
transport signature is computed over the exact content.
"""

from __future__ import annotations

import io
import re

from lxml import etree

from gateway.errors import (
    XML_DOCTYPE,
    XML_ENTITY_DECLARATION,
    XML_EXTERNAL_ENTITY,
    XML_MALFORMED,
    XML_TOO_DEEP,
    XML_TOO_LARGE,
    GatewayError,
)

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "remove_comments": False,
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


def parse_document(data: bytes, *, max_bytes: int, max_depth: int) -> etree._Element:
    """Parse untrusted bytes into the root element, or raise the precise ``Client.Xml.*`` fault."""
    if len(data) > max_bytes:
        raise GatewayError(XML_TOO_LARGE, f"{len(data)} bytes, the limit is {max_bytes}")
    if not data.strip():
        raise GatewayError(XML_MALFORMED, "the message is empty")
    text = _scan_text(data)
    doctype = _find_doctype(text) if text is not None else None
    if doctype is not None:
        raise _doctype_error(doctype)
    root = _parse_with_depth_limit(data, max_depth)
    _refuse_parsed_doctype(root)
    return root


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


def _parse_with_depth_limit(data: bytes, max_depth: int) -> etree._Element:
    """Parse with lxml's event stream, aborting as soon as an element nests deeper than allowed."""
    events = etree.iterparse(io.BytesIO(data), events=("start", "end"), **_PARSER_OPTIONS)
    depth = 0
    try:
        for event, _element in events:
            depth += 1 if event == "start" else -1
            if depth > max_depth:
                raise GatewayError(XML_TOO_DEEP, f"more than {max_depth} nested elements")
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise GatewayError(XML_MALFORMED, f"line {line}, column {column}: {exc.msg}") from None
    root = events.root
    if root is None:  # pragma: no cover - lxml raises on an empty document
        raise GatewayError(XML_MALFORMED, "no root element")
    return root


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
