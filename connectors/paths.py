"""Where the SHEP contracts (WSDL and XSD files) live, independent of the working directory."""

from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
WSDL_DIR = _ROOT / "wsdl"
XSD_DIR = _ROOT / "xsd"
