"""XSD validation of the channel envelope content and of the services' payloads.

Schemas come only from ``XSD_DIR``: a resolver maps every import/include into that directory and
refuses anything else, and the parser never touches the network. Validation runs on a fresh copy,
never on the received tree, so nothing a validator does can change the bytes a signature covers.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlparse

from lxml import etree

from connectors.errors import (
    INTERNAL,
    SCHEMA_INVALID,
    SCHEMA_PAYLOAD_INVALID,
    FaultCode,
    GatewayError,
)
from connectors.paths import XSD_DIR
from connectors.soap.namespaces import XSI, local_name, qname
from connectors.soap.parser import parse_document

# "async" also knows the Types/Client elements (its XSD imports them): the gateway accepts
# sendMessage in both namespaces (sheet §3.2). "async-client" is the participant's PUSH interface.
CHANNEL_SCHEMAS = {
    "sync": "SyncChannel-v10-Types.xsd",
    "async": "AsyncChannel-v10-Types.xsd",
    "async-client": "AsyncChannel-v10-Types-Client.xsd",
}

XMLDSIG = "http://www.w3.org/2000/09/xmldsig#"
_XSI_TYPE = qname(XSI, "type")
_PAYLOAD_CONTAINERS = frozenset({"requestData", "responseData", "messageData"})
_CHANNEL_TYPE_NS_PREFIX = "http://bip.bee.kz/"
_TYPED_WRAPPER_NS = "urn:kzgate:payload-type"


class _DirectoryResolver(etree.Resolver):
    """Serves schema documents from one directory; everything else resolves to a non-schema."""

    def __init__(self, base_dir: Path) -> None:
        super().__init__()
        self._base = base_dir.resolve()

    def resolve(self, system_url: str, public_id: str | None, context: object) -> object:
        path = _local_path(system_url)
        if path is not None and path.is_relative_to(self._base) and path.is_file():
            return self.resolve_filename(str(path), context)
        # Not a silent skip: the schema then fails to compile and the operator sees why.
        return self.resolve_string(f"<refused-outside-xsd-dir url={_quote(system_url)}/>", context)


# Schemas compile one at a time: libxml2 does not promise that compiling schemas that import
# others is thread-safe, and one run of two fresh gateways answered concurrent first requests
# (checked in worker threads) with "does not compile" — not reproduced since, in or out of
# process. Each schema compiles once per process, so the lock costs nothing.
_COMPILING = threading.Lock()


def load_schema(xsd_file: str, base_dir: Path = XSD_DIR) -> etree.XMLSchema:
    """Compile ``base_dir/xsd_file`` with imports confined to ``base_dir`` (raises INTERNAL)."""
    base = base_dir.resolve()
    path = (base / xsd_file).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        raise GatewayError(INTERNAL, f"schema {xsd_file!r} is not a file in the schema directory")
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_DirectoryResolver(base))
    try:
        with _COMPILING:
            return etree.XMLSchema(etree.parse(str(path), parser))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise GatewayError(INTERNAL, f"schema {xsd_file!r} does not compile: {exc}") from None


@cache
def channel_schema(channel: str = "sync") -> etree.XMLSchema:
    """The compiled channel schema, compiled once per process."""
    if channel not in CHANNEL_SCHEMAS:
        raise ValueError(f"no schema for channel {channel!r}")
    return load_schema(CHANNEL_SCHEMAS[channel])


def validate_operation(operation: etree._Element, channel: str = "sync") -> None:
    """Check a Body's operation element against the channel XSD or raise ``SCHEMA_INVALID``.

    ``data`` is the service's business and is checked by ``PayloadSchemas``; here it is replaced by
    an empty placeholder, so a payload ``xsi:type`` naming the provider's own type (or ``data``
    qualified in another namespace, sheet §7.4) does not fail the channel contract.
    """
    _assert_valid(
        channel_schema(channel),
        _validation_copy(operation),
        SCHEMA_INVALID,
        operation.sourceline or 1,
    )


class PayloadSchemas:
    """The services' payload XSDs from one directory, compiled on first use and cached."""

    def __init__(self, base_dir: Path = XSD_DIR, *, max_depth: int = 64) -> None:
        self._base_dir = base_dir
        self._max_depth = max_depth
        self._schemas: dict[str, etree.XMLSchema] = {}
        self._typed: dict[str, etree.XMLSchema | None] = {}
        self._namespaces: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def schema(self, xsd_file: str) -> etree.XMLSchema:
        """The compiled schema of ``xsd_file`` (a name inside the directory)."""
        with self._lock:
            if xsd_file not in self._schemas:
                self._schemas[xsd_file] = load_schema(xsd_file, self._base_dir)
            return self._schemas[xsd_file]

    def validate(self, data: etree._Element, xsd_file: str) -> None:
        """Check each element child of ``data`` against ``xsd_file``; ``SCHEMA_PAYLOAD_INVALID``.

        A ``data`` that names its payload type with ``xsi:type`` (the JAXB/zeep style, children
        directly inside ``data``) is checked as an element of that type.
        """
        type_name = self._payload_type(data, xsd_file)
        typed_schema = self._typed_schema(xsd_file, type_name) if type_name else None
        if typed_schema is not None:
            typed = _detached_copy(data)
            typed.tag = qname(_TYPED_WRAPPER_NS, "data")
            del typed.attrib[_XSI_TYPE]
            _assert_valid(typed_schema, typed, SCHEMA_PAYLOAD_INVALID, data.sourceline or 1)
            return
        schema = self.schema(xsd_file)
        for element, line_offset in self._payload_roots(data):
            _assert_valid(schema, element, SCHEMA_PAYLOAD_INVALID, line_offset)

    def _payload_type(self, data: etree._Element, xsd_file: str) -> tuple[str, str] | None:
        """``(namespace, local name)`` of data's xsi:type when it names a type of this schema."""
        value = data.get(_XSI_TYPE)
        if not value:
            return None
        prefix, _, local = value.rpartition(":")
        namespace = data.nsmap.get(prefix or None)
        if namespace is None or namespace != self._target_namespace(xsd_file):
            return None
        return namespace, local

    def _target_namespace(self, xsd_file: str) -> str | None:
        if xsd_file not in self._namespaces:
            self.schema(xsd_file)  # compiles it first, so the file is known to be a good schema
            document = etree.parse(str((self._base_dir / xsd_file).resolve()))
            self._namespaces[xsd_file] = document.getroot().get("targetNamespace")
        return self._namespaces[xsd_file]

    def _typed_schema(self, xsd_file: str, type_name: tuple[str, str]) -> etree.XMLSchema | None:
        """The schema for ``data`` of that type; ``None`` when the schema has no such type."""
        key = f"{xsd_file}#{{{type_name[0]}}}{type_name[1]}"
        with self._lock:
            if key not in self._typed:
                self._typed[key] = _wrapper_schema(self._base_dir, xsd_file, *type_name)
            return self._typed[key]

    def _payload_roots(self, data: etree._Element) -> list[tuple[etree._Element, int]]:
        # An enveloped business signature may sit as the last child of data (sheet §5.2); it is
        # not part of the service's document.
        roots = [
            (_detached_copy(e), e.sourceline or 1)
            for e in data.iterchildren(tag=etree.Element)
            if e.tag != qname(XMLDSIG, "Signature")
        ]
        if roots:
            return roots
        return [(self._escaped_payload(data), data.sourceline or 1)]

    def _escaped_payload(self, data: etree._Element) -> etree._Element:
        """The payload sent as escaped XML text (``xsi:type="xs:string"``), parsed as hardened."""
        text = (data.text or "").strip()
        if not text.startswith("<"):
            raise GatewayError(SCHEMA_PAYLOAD_INVALID, "data carries no XML document")
        raw = text.encode("utf-8")
        try:
            return parse_document(raw, max_bytes=len(raw), max_depth=self._max_depth)
        except GatewayError as exc:
            raise GatewayError(SCHEMA_PAYLOAD_INVALID, f"escaped payload: {exc.message}") from None


def _wrapper_schema(
    base_dir: Path, xsd_file: str, namespace: str, local: str
) -> etree.XMLSchema | None:
    """A one-element schema: ``data`` of the service's type ``{namespace}local``."""
    text = (
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:p="{namespace}"'
        f' targetNamespace="{_TYPED_WRAPPER_NS}">'
        f'<xs:import namespace="{namespace}" schemaLocation="{xsd_file}"/>'
        f'<xs:element name="data" type="p:{local}"/></xs:schema>'
    )
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_DirectoryResolver(base_dir))
    base_url = str(base_dir.resolve() / "payload-wrapper.xsd")
    try:
        return etree.XMLSchema(etree.XML(text.encode(), parser, base_url=base_url))
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError):
        return None  # not a type of this schema: the children are checked as global elements


def _assert_valid(
    schema: etree.XMLSchema, element: etree._Element, fault: FaultCode, line_offset: int
) -> None:
    try:
        schema.assertValid(element)
    except etree.DocumentInvalid as exc:
        first = exc.error_log[0] if len(exc.error_log) else None
        if first is None:  # pragma: no cover - libxml2 always logs the reason
            raise GatewayError(fault, str(exc)) from None
        line = first.line + line_offset - 1
        raise GatewayError(fault, f"line {line}: {first.message}") from None


def _detached_copy(element: etree._Element) -> etree._Element:
    # Serialising a subtree carries every ancestor namespace declaration, so QNames inside
    # xsi:type values still resolve in the copy.
    # UTF-8, not lxml's default ASCII: a non-ASCII name (<Атауы>) cannot be a character reference
    # (found by fuzzing: such a payload was answered Server.Internal).
    return etree.fromstring(etree.tostring(element, with_tail=False, encoding="UTF-8"))


def _validation_copy(element: etree._Element) -> etree._Element:
    """A copy of the operation for the channel schema, with the payload reduced to ``<data/>``.

    Linear in the size of the operation: one serialise/re-parse (which keeps every in-scope
    namespace declaration, for QNames in xsi:type values), then one pass over the copy. Building
    the copy element by element with each one's ``nsmap`` and attributes was O(elements ×
    namespaces in scope) and O(attributes²) per element inside lxml — minutes for one hostile
    message (issue 8, finding 1).
    """
    copy = _detached_copy(element)
    for container in [e for e in copy.iter(etree.Element) if local_name(e) in _PAYLOAD_CONTAINERS]:
        for data in [d for d in container.iterchildren(tag=etree.Element)]:
            if local_name(data) == "data":
                placeholder = etree.Element("data")
                placeholder.text, placeholder.tail = data.text, data.tail
                container.replace(data, placeholder)
    for node in copy.iter(etree.Element):
        if node.get(_XSI_TYPE) is not None:
            _drop_channel_xsi_type(node)
    return copy


# The namespace bound to one prefix, looked up in C (``nsmap`` builds every in-scope binding).
_NAMESPACE_OF_PREFIX = etree.XPath("string(namespace::*[name() = $prefix])")


def _drop_channel_xsi_type(element: etree._Element) -> None:
    """Remove an xsi:type naming a SHEP type in any letter case (sheet §7.2)."""
    value = element.get(_XSI_TYPE) or ""
    prefix = value.partition(":")[0] if ":" in value else ""
    namespace = str(_NAMESPACE_OF_PREFIX(element, prefix=prefix))
    if namespace.lower().startswith(_CHANNEL_TYPE_NS_PREFIX):
        del element.attrib[_XSI_TYPE]


def _local_path(url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path)).resolve()
    if parsed.scheme and len(parsed.scheme) > 1:  # http:, https:, ftp: … (one letter: a drive)
        return None
    return Path(url).resolve()


def _quote(url: str) -> str:
    return '"' + url.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;") + '"'
