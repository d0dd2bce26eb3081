"""The envelope split: namespaces not prefixes, one Body, mustUnderstand."""

from __future__ import annotations

import pytest

from connectors import SOAP_ENV, Envelope, GatewayError, errors, split_envelope
from connectors.soap.namespaces import SEND_MESSAGE
from tests.soap.samples import parse, request_xml

ENV = f'xmlns:soap="{SOAP_ENV}"'
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def split(xml: str) -> Envelope:
    return split_envelope(parse(xml.encode()))


def test_mixed_prefixes_split_by_namespace():
    envelope = split_envelope(parse(request_xml()))
    assert envelope.header is not None and envelope.header.prefix == "SOAP-ENV"
    assert envelope.body.prefix == "soap"
    assert envelope.operation.tag == SEND_MESSAGE


def test_any_prefix_and_default_namespace_work():
    envelope = split(f'<Envelope xmlns="{SOAP_ENV}"><Body><op xmlns="urn:x"/></Body></Envelope>')
    assert envelope.header is None
    assert envelope.operation.tag == "{urn:x}op"


@pytest.mark.parametrize(
    "xml",
    [
        "<Envelope><Body><op/></Body></Envelope>",  # right names, no namespace
        f'<soap:Envelope xmlns:soap="{SOAP_ENV.upper()}"><soap:Body><op/></soap:Body>'
        "</soap:Envelope>",
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><op/></s:Body>'
        "</s:Envelope>",
        f"<soap:Body {ENV}><op/></soap:Body>",
        f"<soap:Envelope {ENV}><soap:Header/></soap:Envelope>",
        f"<soap:Envelope {ENV}><soap:Body><op/></soap:Body><soap:Body><op/></soap:Body>"
        "</soap:Envelope>",
        f"<soap:Envelope {ENV}><soap:Body><op/></soap:Body><soap:Header/></soap:Envelope>",
        f"<soap:Envelope {ENV}><soap:Header/><soap:Header/><soap:Body><op/></soap:Body>"
        "</soap:Envelope>",
        f"<soap:Envelope {ENV}><soap:Body> <!-- nothing --> text </soap:Body></soap:Envelope>",
        f"<soap:Envelope {ENV}><wrapper><soap:Body><op/></soap:Body></wrapper></soap:Envelope>",
        f"<soap:Envelope {ENV}><soap:Body><op/></soap:Body><trailer/></soap:Envelope>",
    ],
)
def test_not_an_envelope(xml: str):
    with pytest.raises(GatewayError) as caught:
        split(xml)
    assert caught.value.fault is errors.SOAP_NOT_ENVELOPE


def test_must_understand_unknown_header_is_refused():
    xml = (
        f'<soap:Envelope {ENV}><soap:Header><x:Routing xmlns:x="urn:x" soap:mustUnderstand="1"/>'
        "</soap:Header><soap:Body><op/></soap:Body></soap:Envelope>"
    )
    with pytest.raises(GatewayError) as caught:
        split(xml)
    assert caught.value.fault is errors.SOAP_MUST_UNDERSTAND
    assert "urn:x" in caught.value.detail


def test_must_understand_true_is_refused_too():
    xml = (
        f'<soap:Envelope {ENV}><soap:Header><x:A xmlns:x="urn:x" soap:mustUnderstand="true"/>'
        "</soap:Header><soap:Body><op/></soap:Body></soap:Envelope>"
    )
    with pytest.raises(GatewayError) as caught:
        split(xml)
    assert caught.value.fault is errors.SOAP_MUST_UNDERSTAND


def test_wsse_security_with_must_understand_and_optional_headers_are_accepted():
    xml = (
        f'<soap:Envelope {ENV}><soap:Header><wsse:Security xmlns:wsse="{WSSE}" '
        'soap:mustUnderstand="1"/><x:Info xmlns:x="urn:x" soap:mustUnderstand="0"/>'
        '<x:Plain xmlns:x="urn:x" mustUnderstand="1"/>'
        "</soap:Header><soap:Body><op/></soap:Body></soap:Envelope>"
    )
    assert split(xml).operation.tag == "op"
