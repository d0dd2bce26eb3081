"""The XML documents of E-licensing (``xsd/elicense.xsd``), their numbers and field 18: one face.

Documents: the licence application (what the portal sends in SHEP ``data``), the licence
(Annexes 5/6), the motivated refusal (Annex 4), the draft permit and the permit (permit rules,
Annexes 4/5). Callers use this one name (``documents.parse_licence``, ``documents.build_refusal``
…); the work is done by three modules, one job each: the models, numbers and issuing
(``issued_documents``), writing and signing the XML (``document_writing``), and validating,
parsing and verifying it (``document_reading``).

Field 18 of a licence, refusal or permit — the transport signature — is an enveloped XML-DSig by
ELICENSE's key over the whole document (``connectors.wsse.payload.sign_payload``): it verifies
offline with any XML-DSig tool and with ``verify_document``.
"""

from __future__ import annotations

from simulators.elicensing.document_reading import (
    parse_application,
    parse_licence,
    parse_permit,
    parse_permit_draft,
    parse_permit_not_issued,
    parse_refusal,
    read_fields,
    schema,
    validate,
    verify_document,
)
from simulators.elicensing.document_writing import (
    build_application,
    build_licence,
    build_permit,
    build_permit_draft,
    build_permit_not_issued,
    build_refusal,
    to_bytes,
    to_xml,
)
from simulators.elicensing.issued_documents import (
    ISSUER_SYSTEM,
    LICENCE_NUMBER,
    NAMESPACE,
    PERMIT_COUNTRY_ROLE,
    PERMIT_NUMBER,
    REFUSAL_NUMBER,
    SCHEMA_PATH,
    Document,
    DocumentError,
    Licence,
    MotivatedRefusal,
    Permit,
    PermitNotIssued,
    issue_licence,
    issue_permit,
    licence_number,
    not_issued,
    permit_number,
    refusal_number,
    refuse,
)

__all__ = [
    "ISSUER_SYSTEM",
    "LICENCE_NUMBER",
    "NAMESPACE",
    "PERMIT_COUNTRY_ROLE",
    "PERMIT_NUMBER",
    "REFUSAL_NUMBER",
    "SCHEMA_PATH",
    "Document",
    "DocumentError",
    "Licence",
    "MotivatedRefusal",
    "Permit",
    "PermitNotIssued",
    "build_application",
    "build_licence",
    "build_permit",
    "build_permit_draft",
    "build_permit_not_issued",
    "build_refusal",
    "issue_licence",
    "issue_permit",
    "licence_number",
    "not_issued",
    "parse_application",
    "parse_licence",
    "parse_permit",
    "parse_permit_draft",
    "parse_permit_not_issued",
    "parse_refusal",
    "permit_number",
    "read_fields",
    "refusal_number",
    "refuse",
    "schema",
    "to_bytes",
    "to_xml",
    "validate",
    "verify_document",
]
