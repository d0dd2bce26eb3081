"""The simulated systems of the roster: each one's package serves it from the Settings alone."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from connectors.config import Settings
from connectors.roster import ROSTER, RosterEntry
from simulators.kit.database import simulator_database_url
from tests.simulators.pushing import client_of, post, push_envelope, signed


@pytest.fixture
def settings(pki: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.delenv("KZGATE_DATABASE_URL", raising=False)
    return Settings(var_dir=tmp_path / "var", pki_dir_override=pki)


def _app_of(entry: RosterEntry, settings: Settings):
    # What `python -m <package>` serves: the SYSTEM and create_app its __main__ hands to the kit's
    # launcher (from its service module, or its assembly where the wiring has a module of its
    # own). Found by the roster's package name, in a test, to prove every entry has one.
    spec = importlib.util.find_spec(f"{entry.package}.__main__")
    assert spec is not None and spec.origin is not None, f"{entry.package} has no __main__"
    factory = _module_serving(Path(spec.origin))
    module = importlib.import_module(factory)
    assert entry == module.SYSTEM, "the package names itself by its roster entry"
    return module.create_app(settings)


def _module_serving(main: Path) -> str:
    """The module a package's ``__main__`` imports ``SYSTEM`` and ``create_app`` from."""
    for node in ast.walk(ast.parse(main.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and {"SYSTEM", "create_app"} <= {
            alias.name for alias in node.names
        }:
            assert node.module is not None
            return node.module
    raise AssertionError(f"{main} does not import SYSTEM and create_app")


@pytest.mark.parametrize("entry", ROSTER, ids=lambda entry: entry.system_id)
async def test_every_roster_entry_is_served_by_its_package(
    settings: Settings, entry: RosterEntry
) -> None:
    async with client_of(_app_of(entry, settings)) as http:
        health = await http.get("/health")
        wsdl = await http.get(f"{entry.push_path or '/shep/sync'}?wsdl")
    assert health.json() == {"status": "ok", "system": entry.system_id}
    assert wsdl.status_code == 200 and b"definitions" in wsdl.content


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
    portal = next(entry for entry in ROSTER if entry.system_id == "EGOV_PORTAL")
    async with client_of(_app_of(portal, settings)) as http:
        status, _ = await post(http, signed(push_envelope(), gateway_key))
    assert status == 200
    assert (settings.var_dir / "simulators.db").is_file()
    assert not (settings.var_dir / "kzgate.db").exists()
