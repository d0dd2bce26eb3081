from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.tracing import add_span_processor, tracer
from tests.export_pilot.world import PilotWorld, running_pilot
from tests.gateway.harness import make_pki
from tests.licensing.world import World, running_world
from tests.simulators.elicensing.samples import import_application


@pytest.fixture(scope="session")
def observed_pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_pki(tmp_path_factory.mktemp("observed-pki"))


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span this test process makes, kept in memory (cleared by each user)."""
    exporter = InMemorySpanExporter()
    add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
async def licence_flow(
    observed_pki: Path, tmp_path: Path, spans: InMemorySpanExporter
) -> AsyncIterator[LicenceFlow]:
    """One import licence filed by the portal inside a span of its own, issued and delivered."""
    spans.clear()
    async with running_world(observed_pki, tmp_path) as world:
        with tracer().start_as_current_span("portal files an application") as root:
            filed = await world.file(import_application(number=None))
        app = await world.delivered(filed.number)
        await world.stages(filed.number)  # the DELIVERED stage has reached MONITORING
        trace_id = f"{root.get_span_context().trace_id:032x}"
        yield LicenceFlow(world, filed.number, app.document_number or "", trace_id)


@dataclass
class LicenceFlow:
    world: World
    application: str
    licence: str
    trace_id: str


@pytest.fixture
async def world(observed_pki: Path, tmp_path: Path) -> AsyncIterator[World]:
    """The whole system in-process on a virtual clock, ELICENSE's worker running."""
    async with running_world(observed_pki, tmp_path) as world:
        yield world


@pytest.fixture
async def pilot(world: World) -> AsyncIterator[PilotWorld]:
    """``world`` with the export pilot's worker running, nobody at the desk unless asked."""
    async with running_pilot(world) as pilot:
        yield pilot
