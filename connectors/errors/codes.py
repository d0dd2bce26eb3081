"""What a fault code is (``FaultCode``), how one is declared (``declare``: once per code, in the
order the catalogue lists them), looked up (``by_code``, ``all_faults``) and raised
(``GatewayError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["FaultCode", "GatewayError", "all_faults", "by_code", "declare"]


@dataclass(frozen=True)
class FaultCode:
    """One refusal ground: a stable ``code``, a human ``title`` and a ``hint`` for the fix."""

    code: str
    title: str
    hint: str
    legacy: str = ""

    @property
    def side(self) -> Literal["Client", "Server"]:
        return "Client" if self.code.startswith("Client.") else "Server"


_DECLARED: dict[str, FaultCode] = {}


def declare(code: str, title: str, hint: str, legacy: str = "") -> FaultCode:
    fault = FaultCode(code, title, hint, legacy)
    if code in _DECLARED:
        raise ValueError(f"fault code {code} declared twice")
    _DECLARED[code] = fault
    return fault


def by_code(code: str) -> FaultCode:
    """The declared fault with this code (KeyError for an unknown one)."""
    return _DECLARED[code]


def all_faults() -> list[FaultCode]:
    """Every declared fault code, in declaration order."""
    return list(_DECLARED.values())


class GatewayError(Exception):
    """A refusal or failure that becomes a SOAP fault carrying ``fault``'s ErrorInfo.

    ``detail`` says what exactly was wrong with this message (never secrets, never a stack trace);
    ``sub_error`` carries a provider's own ErrorInfo when the gateway relays its fault.
    """

    def __init__(self, fault: FaultCode, detail: str = "", *, sub_error: object | None = None):
        super().__init__(f"{fault.code}: {detail or fault.title}")
        self.fault = fault
        self.detail = detail
        self.sub_error = sub_error

    @property
    def message(self) -> str:
        return f"{self.fault.title}: {self.detail}" if self.detail else self.fault.title
