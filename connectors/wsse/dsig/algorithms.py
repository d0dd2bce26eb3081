"""The XML-DSig names and the algorithm allow-list: namespace and algorithm URIs, the xmlsec
transforms each allowed URI maps to, one ``Profile`` per kind of signature (transport, payload),
and ``check_algorithms``, run on a parsed signature before any crypto.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import xmlsec

from connectors import errors
from connectors.errors import GatewayError
from connectors.soap.namespaces import WSU

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
    "check_algorithms",
]

if TYPE_CHECKING:
    from connectors.wsse.dsig.parts import SignatureParts


DS = "http://www.w3.org/2000/09/xmldsig#"
EXC_C14N_NS = "http://www.w3.org/2001/10/xml-exc-c14n#"

DS_SIGNATURE = f"{{{DS}}}Signature"
DS_X509DATA = f"{{{DS}}}X509Data"
WSU_ID = f"{{{WSU}}}Id"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
C14N_COMMENTS = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

C14N_TRANSFORMS = {
    EXC_C14N: xmlsec.Transform.EXCL_C14N,
    EXC_C14N_COMMENTS: xmlsec.Transform.EXCL_C14N_COMMENTS,
    C14N: xmlsec.Transform.C14N,
    C14N_COMMENTS: xmlsec.Transform.C14N_COMMENTS,
}
SIGNATURE_TRANSFORMS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": xmlsec.Transform.RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": xmlsec.Transform.RSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": xmlsec.Transform.RSA_SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": xmlsec.Transform.ECDSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": xmlsec.Transform.ECDSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": xmlsec.Transform.ECDSA_SHA512,
}
DIGESTS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": (xmlsec.Transform.SHA256, "sha256"),
    "http://www.w3.org/2001/04/xmldsig-more#sha384": (xmlsec.Transform.SHA384, "sha384"),
    "http://www.w3.org/2001/04/xmlenc#sha512": (xmlsec.Transform.SHA512, "sha512"),
}
REFERENCE_TRANSFORMS = {**C14N_TRANSFORMS, ENVELOPED: xmlsec.Transform.ENVELOPED}
REFERENCE_ALGORITHMS = {**REFERENCE_TRANSFORMS, **{u: d[0] for u, d in DIGESTS.items()}}


@dataclass(frozen=True)
class Profile:
    """The one allow-list of a kind of signature: every algorithm URI it may name, by role.

    ``final_c14n``: a Reference must end with one of these transforms. Without it XML-DSig falls
    back to inclusive C14N for the node-set, which is exactly what the profile refuses.
    """

    name: str
    c14n: frozenset[str]
    signature: frozenset[str]
    digest: frozenset[str]
    transforms: frozenset[str]
    final_c14n: frozenset[str] = frozenset()


# The transport signature (README "The transport signature", protocol sheet §5.1): exclusive C14N
# only — no inclusive C14N, no WithComments variant anywhere (a comment is outside what is
# signed, so a with-comments reference would let signed and forwarded content differ). The
# enveloped-signature transform is a no-op on a Body reference; legacy Java clients add it.
TRANSPORT_PROFILE = Profile(
    name="transport",
    c14n=frozenset({EXC_C14N}),
    signature=frozenset(SIGNATURE_TRANSFORMS),
    digest=frozenset(DIGESTS),
    transforms=frozenset({EXC_C14N, ENVELOPED}),
    final_c14n=frozenset({EXC_C14N}),
)
# The business-data signature (sheet §5.2) is produced by Kalkan-style signers with inclusive
# C14N; URI="" drops comments before any transform (XML-DSig 4.3.3.3), and the hardened parser
# has dropped them already, so its WithComments transform sees none.
PAYLOAD_PROFILE = Profile(
    name="payload",
    c14n=frozenset(C14N_TRANSFORMS),
    signature=frozenset(SIGNATURE_TRANSFORMS),
    digest=frozenset(DIGESTS),
    transforms=frozenset(REFERENCE_TRANSFORMS),
)


def _refuse_algorithm(kind: str, uri: str) -> GatewayError:
    return GatewayError(errors.SIG_ALGORITHM, f"{kind} {uri} is not allowed")


def check_algorithms(parts: SignatureParts, profile: Profile) -> None:
    """Refuse any algorithm outside ``profile`` (SHA-1 included); runs before any crypto."""
    if parts.c14n_method not in profile.c14n:
        raise _refuse_algorithm("canonicalization", parts.c14n_method)
    if parts.signature_method not in profile.signature:
        raise _refuse_algorithm("signature method", parts.signature_method)
    for ref in parts.references:
        if ref.digest_method not in profile.digest:
            raise _refuse_algorithm("digest method", ref.digest_method)
        for uri, _ in ref.transforms:
            if uri not in profile.transforms:
                raise _refuse_algorithm("transform", uri)
        if profile.final_c14n and (
            not ref.transforms or ref.transforms[-1][0] not in profile.final_c14n
        ):
            raise GatewayError(
                errors.SIG_ALGORITHM,
                f"reference {ref.uri} must end with the transform "
                f"{' or '.join(sorted(profile.final_c14n))}",
            )
