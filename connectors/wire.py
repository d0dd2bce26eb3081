"""Names the SHEP deployment fixes on the HTTP wire, defined once for every participant: the
gateway's system id (the CN its transport certificate carries, the sender of what it relays) and
the SOAP 1.1 content type and request headers, and how long a kept-alive connection may idle."""

GATEWAY_ID = "GATEWAY"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
# SOAP 1.1 requires the SOAPAction header; SHEP dispatches on the body, so it stays empty.
SOAP_HEADERS = {"Content-Type": SOAP_CONTENT_TYPE, "SOAPAction": '""'}
# A pooled HTTP connection idle this long is not reused. Uvicorn (the gateway, the simulators)
# closes an idle connection after 5 s; a client that reused one at that moment would send into a
# closing socket and get no answer — a spurious "unreachable" for a request never read. Staying
# under the server's timeout leaves the closing to the client.
KEEPALIVE_EXPIRY_SECONDS = 4.0
