"""SyncChannel messages as SHEP clients send them, for the SOAP-layer tests."""

from __future__ import annotations

from lxml import etree

from connectors import parse_document

LIMITS = {"max_bytes": 1_000_000, "max_depth": 64}

REQUEST_INFO = """<requestInfo>
     <messageId>6d1c6d0e-3c54-4b0e-9b59-0c9a5e0d1f11</messageId>
     <correlationId/>
     <serviceId>GbdulInfoByBin_v2</serviceId>
     <messageDate>2025-01-01T12:00:00.000+05:00</messageDate>
     <routeId/>
     <sender><senderId>smartbridge</senderId><password>s3cret-pw</password></sender>
     <properties/>
     <properties><key>CONNECTOR_CLIENT</key><value>true</value></properties>
     <sessionId/>
    </requestInfo>"""

DATA = '<data xsi:type="p:GbdulRequest"><p:bin>123456789012</p:bin><p:lang>ru</p:lang></data>'

TEMPLATE = """<?xml version="1.0" encoding="UTF-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:p="urn:test:payload">
 <SOAP-ENV:Header xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"/>
 <soap:Body>
  <t:SendMessage xmlns:t="http://bip.bee.kz/SyncChannel/v10/Types">
   <request>
    {info}
    <requestData>{data}</requestData>
   </request>
  </t:SendMessage>
 </soap:Body>
</soap:Envelope>
"""

RESPONSE = """<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/">
 <S:Body>
  <ns2:SendMessageResponse xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types">
   <response>
    <responseInfo>
     <messageId>resp-1</messageId>
     <responseDate>2023-05-01T09:30:00.123+06:00</responseDate>
     <status><code>SCSS001</code><message>Message has been processed successfully</message></status>
     <sessionId>6d1c6d0e-3c54-4b0e-9b59-0c9a5e0d1f11</sessionId>
    </responseInfo>
    <responseData>{data}</responseData>
   </response>
  </ns2:SendMessageResponse>
 </S:Body>
</S:Envelope>
"""


def request_xml(*, info: str = REQUEST_INFO, data: str = DATA) -> bytes:
    return TEMPLATE.format(info=info, data=data).encode()


def response_xml(*, data: str = "<data><answer>ok</answer></data>") -> bytes:
    return RESPONSE.format(data=data).encode()


def parse(xml: bytes) -> etree._Element:
    return parse_document(xml, **LIMITS)
