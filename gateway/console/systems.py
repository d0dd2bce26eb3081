"""The systems' side of the console: the catalogue, and the simulated systems' ops endpoints
(``/ops/sla``, ``/desk/sla``, ``/ops/declarations/sla``, ``/ops/clock``, ``/ops/faults``) at the
addresses the catalogue gives them.

Needs no database, so ``kzgate catalogue``, ``kzgate sim`` and ``kzgate status`` use it as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx2

from connectors.config import Settings
from connectors.ops_access import operator_headers
from gateway.registry import Registry

OPS_TIMEOUT = 10.0


class NotFound(LookupError):
    """What was asked for does not exist (a record, a dead letter, a system)."""


@dataclass
class SystemsView:
    registry: Registry
    settings: Settings
    ops: httpx2.AsyncClient

    # --- catalogue --------------------------------------------------------------------------

    def catalogue(self) -> dict[str, Any]:
        registry = self.registry
        systems = [
            {
                "systemId": s.sender_id,
                "description": s.description,
                "url": self.system_url(s.sender_id),
                "receives": "push" if s.push_endpoint else "polls",
                "certificate": s.certificate.subject.rfc4514_string() if s.certificate else None,
                "certificateValidTo": s.certificate.not_valid_after_utc.isoformat()
                if s.certificate
                else None,
            }
            for s in sorted(registry.senders.values(), key=lambda s: s.sender_id)
        ]
        services = [
            {
                "serviceId": s.service_id,
                "provider": s.provider,
                "mode": s.mode,
                "description": s.description,
                "endpoint": s.endpoint,
                "allowedSenders": sorted(s.allowed_senders),
                "wsdl": f"/services/{s.service_id}?wsdl" if s.wsdl else f"/{s.mode}?wsdl",
            }
            for s in sorted(registry.services.values(), key=lambda s: s.service_id)
        ]
        return {"systems": systems, "services": services}

    def system_url(self, system_id: str) -> str | None:
        sender = self.registry.senders.get(system_id)
        if sender is None or sender.port_offset is None:
            return None
        settings = self.settings
        return f"http://{settings.host}:{settings.simulator_base_port + sender.port_offset}"

    # --- SLA board and the testers' controls -------------------------------------------------

    async def sla(self) -> dict[str, Any]:
        """ELICENSE's licences and permits (``kzgate status``)."""
        return await self.call("ELICENSE", "GET", "/ops/sla")

    async def sla_boards(self) -> dict[str, dict[str, Any]]:
        """Every service with terms, each from its system's read-only endpoint: ELICENSE's
        licences and permits, the export-permit pilot's desk, KEDEN's declarations."""
        return {
            "licences": await self.sla(),
            "exportPilot": await self.call("ELICENSE", "GET", "/desk/sla"),
            "declarations": await self.call("KEDEN", "GET", "/ops/declarations/sla"),
        }

    def simulated_systems(self) -> list[str]:
        return [sid for sid in sorted(self.registry.senders) if self.system_url(sid)]

    async def clocks(self) -> list[dict[str, Any]]:
        return [
            {"systemId": sid, **await self.call(sid, "GET", "/ops/clock")}
            for sid in self.simulated_systems()
        ]

    async def set_clock(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.call(system_id, "POST", "/ops/clock", body)

    async def faults(self) -> list[dict[str, Any]]:
        return [
            {"systemId": sid, **await self.call(sid, "GET", "/ops/faults")}
            for sid in self.simulated_systems()
        ]

    async def set_faults(self, system_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self.call(system_id, "POST", "/ops/faults", body)

    async def call(
        self, system_id: str, method: str, path: str, body: Any = None
    ) -> dict[str, Any]:
        base = self.system_url(system_id)
        if base is None:
            raise NotFound(f"{system_id} is not a simulated system with ops endpoints")
        try:
            reply = await self.ops.request(
                method, base + path, json=body, timeout=OPS_TIMEOUT, headers=operator_headers()
            )
        except httpx2.HTTPError as exc:
            return {"error": f"{system_id} is not reachable: {exc.__class__.__name__}"}
        try:
            data = reply.json()
        except ValueError:
            data = {"error": f"{system_id} answered HTTP {reply.status_code}"}
        if reply.status_code >= 400 and isinstance(data, dict):
            data.setdefault("error", f"HTTP {reply.status_code}")
        return data if isinstance(data, dict) else {"value": data}
