"""Message security: the test PKI, the trust store, the WS-Security transport signature, the
business-data (payload) signature and the security policy (freshness, replay).

This package owns every cryptographic decision the gateway makes about a message: which
certificates are trusted, which XML-DSig algorithms and layouts are accepted, and which element a
signature really covers. It raises ``connectors.errors.GatewayError`` with the Client.Security.*
codes; it never parses bytes off the wire (the SOAP layer hands it parsed lxml trees).

``lxml.etree`` is imported before ``xmlsec`` everywhere: both must bind the same libxml2.
"""

import lxml.etree  # noqa: F401  (before xmlsec, see above)
