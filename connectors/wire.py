"""Names the SHEP deployment fixes on the HTTP wire, defined once for every participant: the
gateway's system id (the CN its transport certificate carries, the sender of what it relays) and
the SOAP 1.1 content type and request headers."""

GATEWAY_ID = "GATEWAY"
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"
# SOAP 1.1 requires the SOAPAction header; SHEP dispatches on the body, so it stays empty.
SOAP_HEADERS = {"Content-Type": SOAP_CONTENT_TYPE, "SOAPAction": '""'}
