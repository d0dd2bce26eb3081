"""The kit's public face is a promise: ``connectors.__all__`` changes only on purpose.

Adding a name is a decision (edit ``EXPORTED`` here too); dropping or renaming one breaks every
state system built on the kit, so this test makes such a change visible in review.
"""

from __future__ import annotations

import types

import connectors

EXPORTED = {
    "ShepSignature",
    "check_gateway_signature",
    "GATEWAY_ID",
    "SOAP_CONTENT_TYPE",
    "SOAP_HEADERS",
    "KEEPALIVE_EXPIRY_SECONDS",
    "all_faults",
    "AnswerNotTrusted",
    "AsyncMessageInfo",
    "AsyncSendMessageRequest",
    "build_change_status_notification",
    "build_fault_envelope",
    "build_request_envelope",
    "build_response_envelope",
    "build_send_message_envelope",
    "ContractNotFound",
    "Envelope",
    "envelope_skeleton",
    "ErrorInfo",
    "errors",
    "FaultCode",
    "find_transport_signature",
    "format_datetime",
    "GatewayError",
    "GatewayFault",
    "init_pki",
    "KZ_TZ",
    "local_name",
    "MessageState",
    "MessageType",
    "new_session_id",
    "parse_datetime",
    "parse_document",
    "parse_fault",
    "parse_sync_request",
    "parse_sync_response",
    "PayloadSchemas",
    "qname",
    "ReceiveStatus",
    "render_wsdl",
    "render_xsd",
    "ResendMessage",
    "ShepClient",
    "sign_envelope",
    "sign_payload",
    "SOAP_ENV",
    "split_envelope",
    "SyncRequest",
    "SyncResponse",
    "trace_headers",
    "TransportKey",
    "TrustStore",
    "validate_operation",
    "VerifiedSignature",
    "verify_envelope",
    "verify_payload",
    "WSDL_DIR",
    "WSSE",
    "WSU",
    "XmlLimits",
    "XSD_DIR",
    "XSI",
}


def face_drift(module: types.ModuleType, expected: set[str]) -> list[str]:
    """What differs between a module's ``__all__`` and the pinned names, and what is unbound."""
    exported = set(getattr(module, "__all__", ()))
    problems = [f"exported but not pinned: {name}" for name in sorted(exported - expected)]
    problems += [f"pinned but not exported: {name}" for name in sorted(expected - exported)]
    problems += [f"exported but unbound: {n}" for n in sorted(exported) if not hasattr(module, n)]
    return problems


def test_the_kit_exports_exactly_the_pinned_names() -> None:
    assert face_drift(connectors, EXPORTED) == []


def test_a_drifting_face_is_caught() -> None:
    planted = types.ModuleType("planted")
    planted.__all__ = ["ShepClient", "leaked", "ghost"]  # type: ignore[attr-defined]
    planted.ShepClient = connectors.ShepClient  # type: ignore[attr-defined]
    planted.leaked = object()  # type: ignore[attr-defined]
    assert face_drift(planted, {"ShepClient", "TrustStore"}) == [
        "exported but not pinned: ghost",
        "exported but not pinned: leaked",
        "pinned but not exported: TrustStore",
        "exported but unbound: ghost",
    ]
