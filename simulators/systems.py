"""Which simulated systems exist and how to build each one's ASGI app (``kzgate up`` runs them)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from starlette.applications import Starlette

from gateway.config import Settings

# system id → "module:factory"; a factory takes the Settings and returns the system's app.
SIMULATED_SYSTEMS: dict[str, str] = {
    "GBDUL": "simulators.legal_entities.service:create_app",
    "MONITORING": "simulators.monitoring.service:app_from_settings",
    "EGOV_PORTAL": "simulators.portal.service:app_from_settings",
    "KEDEN": "simulators.customs.service:create_app",
    "GBDFL": "simulators.individuals.service:create_app",
    "KGD": "simulators.tax.service:create_app",
    "PEP": "simulators.payments.service:create_app",
    "ELICENSE": "simulators.elicensing.service:create_app",
}


def app_factory(system_id: str) -> Callable[[Settings], Starlette]:
    try:
        module_name, _, attribute = SIMULATED_SYSTEMS[system_id].partition(":")
    except KeyError:
        raise ValueError(
            f"no simulator for {system_id}; simulated: {', '.join(SIMULATED_SYSTEMS)}"
        ) from None
    return getattr(importlib.import_module(module_name), attribute)


def simulator_database_url(settings: Settings) -> str:
    """Where simulators keep their state: ``var/simulators.db``, or the configured database.

    The simulated systems are not the gateway, so by default they do not write into its file;
    an explicit ``KZGATE_DATABASE_URL`` (e.g. PostgreSQL) is shared, their tables being ``sim_*``.
    """
    if settings.database_url_override:
        return settings.database_url_override
    return f"sqlite+aiosqlite:///{settings.var_dir / 'simulators.db'}"
