"""Where the simulated systems keep their state: their own database file, or the configured one."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class StorageSettings(Protocol):
    """What of the deployment's settings decides the simulators' database."""

    @property
    def database_url_override(self) -> str | None: ...

    @property
    def var_dir(self) -> Path: ...


def simulator_database_url(settings: StorageSettings) -> str:
    """``var/simulators.db``, or the configured database.

    The simulated systems are not the gateway, so by default they do not write into its file;
    an explicit ``KZGATE_DATABASE_URL`` (e.g. PostgreSQL) is shared, their tables being ``sim_*``.
    """
    if settings.database_url_override:
        return settings.database_url_override
    return f"sqlite+aiosqlite:///{settings.var_dir / 'simulators.db'}"
