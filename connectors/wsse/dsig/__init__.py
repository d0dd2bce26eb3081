"""XML-DSig building blocks shared by the transport and the business-data signature.

Parsing a ``ds:Signature`` into its parts, the algorithm allow-list (checked before any crypto),
certificate loading with a cache of xmlsec keys, and running xmlsec with only the allowed
transforms enabled — classifying a failure as a digest mismatch or a bad signature value.

The package's face: ``algorithms`` (names, allow-list, profiles), ``parts`` (a signature taken
apart, references resolved), ``keys`` (certificates and xmlsec keys), ``verification`` (xmlsec
and the classification of a failure).
"""

from connectors.wsse.dsig import algorithms, keys, parts, verification
from connectors.wsse.dsig.algorithms import *  # noqa: F403
from connectors.wsse.dsig.keys import *  # noqa: F403
from connectors.wsse.dsig.parts import *  # noqa: F403
from connectors.wsse.dsig.verification import *  # noqa: F403

__all__ = [*algorithms.__all__, *parts.__all__, *keys.__all__, *verification.__all__]
