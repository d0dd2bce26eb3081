"""A deliberately weak SyncChannel provider, the kind ``kzgate attack`` exists to catch.

It does what many hand-written verifiers do: parses with lxml's defaults (comments kept), checks
the signature with xmlsec against whatever certificate KeyInfo carries (no chain, no validity, no
owner), registers every ``wsu:Id`` it finds (the first one wins), reads the first operation in the
Body and the first text node of each field, and ignores the Content-Type. It does verify that the
signature value and the digests match — so plain tampering is refused.
"""

from __future__ import annotations

import base64
import contextlib

import xmlsec
from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
PATH = "/shep/sync"

_LENIENT = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


def _verify(root: etree._Element) -> None:
    signature = root.find(f".//{{{DS}}}Signature")
    if signature is None:
        raise ValueError("unsigned")
    token = root.find(f".//{{{WSSE}}}KeyIdentifier")
    if token is None:
        token = root.find(f".//{{{DS}}}X509Certificate")
    if token is None:
        raise ValueError("no certificate")
    der = base64.b64decode("".join((token.text or "").split()))
    ctx = xmlsec.SignatureContext()
    for element in root.xpath("//*[@wsu:Id]", namespaces={"wsu": WSU}):
        with contextlib.suppress(xmlsec.Error):  # the first one registered wins
            ctx.register_id(element, "Id", WSU)
    ctx.key = xmlsec.Key.from_memory(der, xmlsec.KeyFormat.CERT_DER)
    ctx.verify(signature)


def _fault(text: str) -> Response:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body><soap:Fault><faultcode>soap:Client'
        f"</faultcode><faultstring>{text}</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    )
    return Response(body, status_code=500, media_type="text/xml")


async def endpoint(request: Request) -> Response:
    try:
        root = etree.fromstring(await request.body(), _LENIENT)
        _verify(root)
    except (etree.XMLSyntaxError, ValueError, xmlsec.Error) as exc:
        return _fault(type(exc).__name__)
    message_id = root.find(".//messageId")
    echoed = message_id.text if message_id is not None else ""
    answer = (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Body>'
        '<ns2:SendMessageResponse xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types"><response>'
        f"<responseInfo><correlationId>{echoed}</correlationId></responseInfo>"
        "</response></ns2:SendMessageResponse></soap:Body></soap:Envelope>"
    )
    return Response(answer, media_type="text/xml")


def weak_app() -> Starlette:
    return Starlette(routes=[Route(PATH, endpoint, methods=["POST"])])
