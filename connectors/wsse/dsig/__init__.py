"""XML-DSig building blocks shared by the transport and the business-data signature.

Parsing a ``ds:Signature`` into its parts, the algorithm allow-list (checked before any crypto),
certificate loading with a cache of xmlsec keys, and running xmlsec with only the allowed
transforms enabled — classifying a failure as a digest mismatch or a bad signature value.

The package's face: ``algorithms`` (names, allow-list, profiles), ``parts`` (a signature taken
apart, references resolved), ``keys`` (certificates and xmlsec keys), ``verification`` (xmlsec
and the classification of a failure).
"""

from connectors.wsse.dsig.algorithms import (
    C14N,
    C14N_COMMENTS,
    C14N_TRANSFORMS,
    DIGESTS,
    DS,
    DS_SIGNATURE,
    DS_X509DATA,
    ENVELOPED,
    EXC_C14N,
    EXC_C14N_COMMENTS,
    EXC_C14N_NS,
    PAYLOAD_PROFILE,
    REFERENCE_ALGORITHMS,
    REFERENCE_TRANSFORMS,
    SIGNATURE_TRANSFORMS,
    TRANSPORT_PROFILE,
    WSU_ID,
    XML_ID,
    Profile,
    check_algorithms,
)
from connectors.wsse.dsig.keys import (
    key_for,
    load_certificate,
    public_key,
    signer_certificate,
)
from connectors.wsse.dsig.parts import (
    ReferenceParts,
    SignatureParts,
    Target,
    child,
    children,
    decode_base64,
    fragment_id,
    parse_signature,
    resolve_id,
)
from connectors.wsse.dsig.verification import (
    classify_failure,
    reference_digest,
    verify_crypto,
)

__all__ = [
    "C14N",
    "C14N_COMMENTS",
    "C14N_TRANSFORMS",
    "DIGESTS",
    "DS",
    "DS_SIGNATURE",
    "DS_X509DATA",
    "ENVELOPED",
    "EXC_C14N",
    "EXC_C14N_COMMENTS",
    "EXC_C14N_NS",
    "PAYLOAD_PROFILE",
    "REFERENCE_ALGORITHMS",
    "REFERENCE_TRANSFORMS",
    "SIGNATURE_TRANSFORMS",
    "TRANSPORT_PROFILE",
    "WSU_ID",
    "XML_ID",
    "Profile",
    "ReferenceParts",
    "SignatureParts",
    "Target",
    "check_algorithms",
    "child",
    "children",
    "classify_failure",
    "decode_base64",
    "fragment_id",
    "key_for",
    "load_certificate",
    "parse_signature",
    "public_key",
    "reference_digest",
    "resolve_id",
    "signer_certificate",
    "verify_crypto",
]
