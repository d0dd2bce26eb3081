"""``/metrics`` of a simulated system: what it was asked, how it answered, what was injected.

One ``SimulatorMetrics`` per system object, with its own registry (several simulators share one
process in tests). A system with business state adds families read at scrape time
(``extra``), as ELICENSE does with its applications.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import Metric
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.scrape import render

Extra = Callable[[], Awaitable[Sequence[Metric]]]


class SimulatorMetrics:
    def __init__(self, system_id: str) -> None:
        self.system_id = system_id
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "kzgate_simulator_requests",
            "SOAP requests a simulated system answered, by channel and how",
            ["system", "channel", "outcome"],
            registry=self.registry,
        )
        self.extra: Extra | None = None

    def answered(self, channel: str, status: int, injected: str) -> None:
        """``injected``: the fault injector's decision ("pass" when nothing was injected)."""
        if injected not in ("pass", "slow"):
            outcome = f"injected-{injected}"
        else:
            outcome = "ok" if status == 200 else "fault"
        self.requests.labels(self.system_id, channel, outcome).inc()

    def routes(self) -> list[Route]:
        async def endpoint(request: Request) -> Response:
            families = await self.extra() if self.extra is not None else ()
            return render(self.registry, families)

        return [Route("/metrics", endpoint, methods=["GET"])]
