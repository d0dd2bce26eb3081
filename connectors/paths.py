"""Where the SHEP contracts (WSDL and XSD files) live, independent of the working directory.

In a checkout they are the top-level ``wsdl/`` and ``xsd/`` folders; an installed wheel carries
them inside the kit as ``connectors/contracts/`` (``setup.py`` copies them there at build time).
The packaged copy wins when it exists, so an installed kit never reads a stray folder beside
site-packages.
"""

from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "contracts"
_CHECKOUT = Path(__file__).resolve().parent.parent
_ROOT = _PACKAGED if (_PACKAGED / "wsdl").is_dir() else _CHECKOUT
WSDL_DIR = _ROOT / "wsdl"
XSD_DIR = _ROOT / "xsd"
