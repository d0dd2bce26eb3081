"""Which simulated systems exist and how to build each one's ASGI app (``kzgate up`` runs them)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

# system id → "module:factory"; a factory takes the PKI directory and returns the system's app.
SIMULATED_SYSTEMS: dict[str, str] = {
    "GBDUL": "simulators.legal_entities.service:create_app",
}


def app_factory(system_id: str) -> Callable[[Path], Starlette]:
    try:
        module_name, _, attribute = SIMULATED_SYSTEMS[system_id].partition(":")
    except KeyError:
        raise ValueError(
            f"no simulator for {system_id}; simulated: {', '.join(SIMULATED_SYSTEMS)}"
        ) from None
    return getattr(importlib.import_module(module_name), attribute)
