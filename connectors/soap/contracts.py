"""Serving the channel contracts: WSDL and XSD files with their locations made absolute.

The files in ``wsdl/`` and ``xsd/`` reference each other by relative location so they also work
from disk (zeep, SoapUI, wsimport). Over HTTP every reference is rewritten to the gateway's own
URL: ``<address>?xsd=<file>`` for schemas, ``<address>?wsdl=<file>`` for imported WSDL documents,
and the service's ``soap:address`` to ``address`` itself.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from lxml import etree

from connectors.paths import WSDL_DIR, XSD_DIR

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
XS_NS = "http://www.w3.org/2001/XMLSchema"
DEFAULT_WSDL = "SyncChannel.wsdl"

# Our own trusted files, but parsed with the same loaders off: a contract never loads anything.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class ContractNotFound(FileNotFoundError):
    """The requested contract file does not exist inside its directory (HTTP 404)."""


def render_wsdl(name: str, address: str) -> bytes:
    """The WSDL ``name`` (``SyncChannel`` or ``SyncChannel.wsdl``; empty → the SyncChannel one)
    with soap:address set to ``address`` and every import pointing back at ``address``."""
    name = name or DEFAULT_WSDL
    path = contract_path(WSDL_DIR, name if name.endswith(".wsdl") else f"{name}.wsdl")
    tree = etree.parse(str(path), _PARSER)
    for element in tree.iter(f"{{{WSDL_SOAP_NS}}}address"):
        element.set("location", address)
    for element in tree.iter(f"{{{WSDL_NS}}}import"):
        _rewrite(element, "location", path.parent, WSDL_DIR, f"{address}?wsdl=")
    _rewrite_schema_locations(tree, path.parent, address)
    return _serialise(tree)


def render_xsd(file: str, base_url: str) -> bytes:
    """The schema ``file`` from ``XSD_DIR`` with imports/includes pointing at ``base_url?xsd=…``."""
    path = contract_path(XSD_DIR, file)
    tree = etree.parse(str(path), _PARSER)
    _rewrite_schema_locations(tree, path.parent, base_url)
    return _serialise(tree)


def contract_path(directory: Path, name: str) -> Path:
    """``directory/name`` if it is an existing file inside ``directory``; else ContractNotFound.

    Refuses absolute names, ``..`` escapes and symlinks that lead outside the directory.
    """
    base = directory.resolve()
    candidate = (base / name).resolve()
    if not name or not candidate.is_relative_to(base) or not candidate.is_file():
        raise ContractNotFound(name)
    return candidate


def _rewrite_schema_locations(tree: etree._ElementTree, here: Path, address: str) -> None:
    for tag in ("import", "include", "redefine"):
        for element in tree.iter(f"{{{XS_NS}}}{tag}"):
            _rewrite(element, "schemaLocation", here, XSD_DIR, f"{address}?xsd=")


def _rewrite(element: etree._Element, attr: str, here: Path, root: Path, prefix: str) -> None:
    """Point a relative location at ``prefix`` + its path inside ``root``; leave URLs alone."""
    location = element.get(attr)
    if not location or "://" in location:
        return
    target = (here / location).resolve()
    base = root.resolve()
    if not target.is_relative_to(base):
        raise ContractNotFound(f"{location} (referenced from {here.name}) is outside {base.name}/")
    element.set(attr, prefix + quote(target.relative_to(base).as_posix(), safe="/"))


def _serialise(tree: etree._ElementTree) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
