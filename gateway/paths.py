"""Where the project's contract files live, independent of the working directory."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WSDL_DIR = PROJECT_ROOT / "wsdl"
XSD_DIR = PROJECT_ROOT / "xsd"
