"""The SHEP kit: what any state system uses to connect to the gateway, and what the gateway
itself stands on.

- ``soap``: hardened parsing, SOAP 1.1 envelopes, the SyncChannel and AsyncChannel models, SOAP
  faults, schema validation, the ``?wsdl``/``?xsd`` contracts;
- ``wsse``: the WS-Security transport signature, the payload signature, trust, the test PKI;
- ``errors``: the fault catalogue (``GatewayError`` and one ``FaultCode`` per SHEP errorCode);
- ``client``: the client SDK a state system uses to call the gateway; ``zeep_wsse``: the same
  signing and checking as a zeep WS-Security plugin (``zeep.Client(wsdl, wsse=ShepSignature(…))``).

The ground every process with state or telemetry stands on, imported from its own face rather
than re-exported here: ``config`` (the one ``Settings`` every process — gateway, simulator,
command line — reads from ``KZGATE_*``), ``db`` (engines, the UTC column type, concurrent table
creation), ``tracing`` (W3C trace context, spans, the HTTP middleware), ``scrape`` (the
``/metrics`` exposition); and ``attacks``, the catalogue of hostile envelopes every verifier must
refuse.

Import what you need from here (``from connectors import ShepClient, TransportKey``); the
submodules are the kit's own layout and may move. The kit imports nothing of ``gateway`` or
``simulators`` (``tests/test_architecture.py``); ``tests/test_public_face.py`` pins ``__all__``.
"""

from connectors import errors
from connectors.client import AnswerNotTrusted, GatewayFault, ShepClient, check_gateway_signature
from connectors.errors import FaultCode, GatewayError, all_faults
from connectors.paths import WSDL_DIR, XSD_DIR
from connectors.soap.async_ import (
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    MessageState,
    MessageType,
    ReceiveStatus,
    ResendMessage,
    build_change_status_notification,
    build_send_message_envelope,
)
from connectors.soap.contracts import ContractNotFound, render_wsdl, render_xsd
from connectors.soap.envelope import Envelope, split_envelope
from connectors.soap.faults import ErrorInfo, build_fault_envelope, parse_fault
from connectors.soap.fields import envelope_skeleton
from connectors.soap.namespaces import SOAP_ENV, WSSE, WSU, XSI, local_name, qname
from connectors.soap.parser import XmlLimits, parse_document
from connectors.soap.schema import PayloadSchemas, validate_operation
from connectors.soap.sync import (
    SyncRequest,
    SyncResponse,
    build_request_envelope,
    build_response_envelope,
    parse_sync_request,
    parse_sync_response,
)
from connectors.soap.values import KZ_TZ, format_datetime, new_session_id, parse_datetime
from connectors.tracing import trace_headers
from connectors.wire import GATEWAY_ID, KEEPALIVE_EXPIRY_SECONDS, SOAP_CONTENT_TYPE, SOAP_HEADERS
from connectors.wsse.payload import sign_payload, verify_payload
from connectors.wsse.pki import init_pki
from connectors.wsse.transport import (
    TransportKey,
    VerifiedSignature,
    find_transport_signature,
    sign_envelope,
    verify_envelope,
)
from connectors.wsse.trust import TrustStore
from connectors.zeep_wsse import ShepSignature

__all__ = [
    "GATEWAY_ID",
    "KEEPALIVE_EXPIRY_SECONDS",
    "KZ_TZ",
    "SOAP_CONTENT_TYPE",
    "SOAP_ENV",
    "SOAP_HEADERS",
    "WSDL_DIR",
    "WSSE",
    "WSU",
    "XSD_DIR",
    "XSI",
    # the client SDK
    "AnswerNotTrusted",
    # AsyncChannel (AsyncChannel.wsdl, AsyncChannelClient.wsdl)
    "AsyncMessageInfo",
    "AsyncSendMessageRequest",
    "ContractNotFound",
    "Envelope",
    "ErrorInfo",
    "FaultCode",
    "GatewayError",
    "GatewayFault",
    "MessageState",
    "MessageType",
    "PayloadSchemas",
    "ReceiveStatus",
    "ResendMessage",
    "ShepClient",
    "ShepSignature",
    # SyncChannel (SyncChannel.wsdl)
    "SyncRequest",
    "SyncResponse",
    # signatures and trust
    "TransportKey",
    "TrustStore",
    "VerifiedSignature",
    # the wire: parsing, envelopes, faults, schemas, contracts
    "XmlLimits",
    "all_faults",
    "build_change_status_notification",
    "build_fault_envelope",
    "build_request_envelope",
    "build_response_envelope",
    "build_send_message_envelope",
    "check_gateway_signature",
    "envelope_skeleton",
    # the fault catalogue
    "errors",
    "find_transport_signature",
    "format_datetime",
    "init_pki",
    "local_name",
    "new_session_id",
    "parse_datetime",
    "parse_document",
    "parse_fault",
    "parse_sync_request",
    "parse_sync_response",
    "qname",
    "render_wsdl",
    "render_xsd",
    "sign_envelope",
    "sign_payload",
    "split_envelope",
    "trace_headers",
    "validate_operation",
    "verify_envelope",
    "verify_payload",
]
