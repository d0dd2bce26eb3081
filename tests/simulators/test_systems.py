"""The simulator registry: every simulated system is built from the Settings alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.config import Settings
from simulators.systems import SIMULATED_SYSTEMS, app_factory, simulator_database_url
from tests.simulators.pushing import client_of, post, push_envelope, signed


@pytest.fixture
def settings(pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("KZGATE_DATABASE_URL", raising=False)
    return Settings(var_dir=tmp_path / "var", pki_dir_override=pki)


@pytest.mark.parametrize("system_id", sorted(SIMULATED_SYSTEMS))
async def test_every_simulator_starts_from_settings(settings: Settings, system_id: str) -> None:
    async with client_of(app_factory(system_id)(settings)) as http:
        response = await http.get("/health")
    assert response.json() == {"status": "ok", "system": system_id}


def test_async_participants_are_registered() -> None:
    assert {"MONITORING", "EGOV_PORTAL", "GBDUL"} <= set(SIMULATED_SYSTEMS)
    with pytest.raises(ValueError, match="no simulator for NOPE"):
        app_factory("NOPE")


def test_simulators_keep_their_own_file_unless_a_database_is_configured(
    settings: Settings,
) -> None:
    assert simulator_database_url(settings) == (
        f"sqlite+aiosqlite:///{settings.var_dir / 'simulators.db'}"
    )
    assert simulator_database_url(settings) != settings.database_url
    shared = Settings(var_dir=settings.var_dir, database_url_override="postgresql+asyncpg://h/db")
    assert simulator_database_url(shared) == "postgresql+asyncpg://h/db"


async def test_participant_inbox_file_lands_under_var(settings: Settings, gateway_key) -> None:
    async with client_of(app_factory("EGOV_PORTAL")(settings)) as http:
        status, _ = await post(http, signed(push_envelope(), gateway_key))
    assert status == 200
    assert (settings.var_dir / "simulators.db").is_file()
    assert not (settings.var_dir / "kzgate.db").exists()
