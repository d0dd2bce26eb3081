"""The declarant confirms the declaration with their own EDS (seed 004 Annex 5 para 10,
process 4, L1131-1132: «ЭЦҚ-мен растай отырып»), and KEDEN checks it before forming it.

Condition 2 (L1132-1134) also checks the data "in ҰЕО", which the seed does not expand.
UNCERTAIN reading: the national certification centre (НУЦ / ҰКО), i.e. the certificate's chain,
validity and revocation — what ``verify_payload`` checks against the trust store and its CRL.
The signer must be the declarant: in the test PKI the certificate's common name is
``DECLARANT-<BIN/IIN>`` (``simulators.kit.personal_keys``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from cryptography.x509.oid import NameOID
from lxml import etree

from connectors import GatewayError, TrustStore, verify_payload
from connectors.wsse.dsig import DS
from simulators.customs.declarations import Reason
from simulators.customs.payload import standalone
from simulators.kit.personal_keys import declarant_name

_REMEDY = "Sign the declaration with the declarant's own EDS key (not the portal's) and file again."


def declarant_signature(
    element: etree._Element, trust: TrustStore, declarant_id: str
) -> list[Reason]:
    """No reason when ``element`` carries a valid enveloped signature by the declarant."""
    if element.find(f"{{{DS}}}Signature") is None:
        return [
            Reason(
                "DECLARANT_SIGNATURE_MISSING",
                "the declaration is not confirmed with the declarant's EDS "
                "(Annex 5 para 10, process 4)",
                _REMEDY,
            )
        ]
    document = etree.fromstring(standalone(element))
    try:
        # Certificates are checked on real time: business time may be virtual.
        certificate = verify_payload(document, trust, now=datetime.now(UTC))
    except GatewayError as exc:
        return [
            Reason(
                "DECLARANT_SIGNATURE_INVALID",
                f"the declarant's EDS does not verify: {exc.detail or exc.message} "
                "(Annex 5 para 10, condition 2)",
                _REMEDY,
            )
        ]
    names = [a.value for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if names != [declarant_name(declarant_id)]:
        return [
            Reason(
                "DECLARANT_SIGNATURE_NOT_DECLARANTS",
                f"the declaration is signed by {', '.join(map(str, names))}, "
                f"not by declarant {declarant_id}",
                _REMEDY,
            )
        ]
    return []
