"""The roster of systems is the one place a system is added: PKI, catalogue and launcher read it.

The proof adds a system the project has never heard of — one roster entry plus a package of its
own, written here into a temporary folder — and shows that the test PKI issues its certificate,
the gateway's registry places its endpoints, and the launcher starts it as a process that
answers on its roster port.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx2
import pytest

from connectors.config import Settings
from connectors.roster import (
    PUSH_PATH,
    ROSTER,
    RosterEntry,
    certificate_holders,
    check_roster,
    roster_entry,
)
from gateway.registry import load_registry
from gateway.registry.catalogue import DEFAULT_CATALOGUE
from kzgate.cli.serve import simulator_command
from tests.pki import make_test_pki
from tests.ports import free_port_block

NEW = RosterEntry("NEW_REGISTRY", "new_registry", 9, "SyncChannel.wsdl", push_path=PUSH_PATH)
ROSTER_WITH_NEW = (*ROSTER, NEW)

# The new system's package: a SHEP provider on the simulator kit, served by the kit's launcher.
NEW_PACKAGE = '''
"""A state system the project did not know: it answers every SyncChannel request with its data."""
from connectors import TransportKey, TrustStore
from connectors.roster import RosterEntry, PUSH_PATH
from simulators.kit.launch import serve
from simulators.kit.provider import ProviderResult, SyncProvider
import os
from pathlib import Path

ENTRY = RosterEntry("NEW_REGISTRY", "new_registry", 9, "SyncChannel.wsdl", push_path=PUSH_PATH)


def create_app():
    pki = Path(os.environ["KZGATE_PKI_DIR"])
    key = TransportKey.from_files(pki / "NEW_REGISTRY.pem", pki / "NEW_REGISTRY.key")
    return SyncProvider(
        ENTRY.system_id, key, TrustStore.from_dir(pki),
        handler=lambda request: ProviderResult(payload=request.data), wsdl_file=ENTRY.wsdl,
    ).app()


serve(ENTRY, create_app)
'''


def test_a_roster_entry_is_all_the_pki_catalogue_and_launcher_need(tmp_path: Path) -> None:
    pki = tmp_path / "pki"
    make_test_pki(pki, certificate_holders(ROSTER_WITH_NEW))
    assert (pki / "NEW_REGISTRY.pem").is_file() and (pki / "NEW_REGISTRY.key").is_file()

    base = free_port_block(10)
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(
        DEFAULT_CATALOGUE.read_text(encoding="utf-8")
        # What the catalogue holds for a new system is policy only: its password and services.
        + '\n[systems.NEW_REGISTRY]\npassword_hash = "scrypt$16384$8$1$AA==$AA=="\n'
        '\n[services.NewRegistryQuery_v1]\nprovider = "NEW_REGISTRY"\nmode = "sync"\n'
        'allowed_senders = ["EGOV_PORTAL"]\n',
        encoding="utf-8",
    )
    registry = load_registry(
        pki, catalogue=catalogue, simulator_base_port=base, roster=ROSTER_WITH_NEW
    )
    sender = registry.senders["NEW_REGISTRY"]
    assert sender.certificate is not None
    assert sender.push_endpoint == f"http://127.0.0.1:{base + 9}/shep/async"
    query = registry.service("NewRegistryQuery_v1")
    assert query.endpoint == f"http://127.0.0.1:{base + 9}/shep/sync"

    (tmp_path / "new_registry").mkdir()
    (tmp_path / "new_registry" / "__init__.py").write_text("")
    (tmp_path / "new_registry" / "__main__.py").write_text(textwrap.dedent(NEW_PACKAGE))
    settings = Settings(var_dir=tmp_path / "var", pki_dir_override=pki, simulator_base_port=base)
    repo = Path(__file__).resolve().parent.parent
    env = {**os.environ, "KZGATE_PKI_DIR": str(pki), "PYTHONPATH": f"{tmp_path}:{repo}"}
    child = subprocess.Popen(simulator_command(settings, NEW), env=env)
    try:
        health = _wait_for(f"http://127.0.0.1:{base + 9}/health", child)
        wsdl = httpx2.get(f"http://127.0.0.1:{base + 9}/shep/sync?wsdl", timeout=5)
    finally:
        child.terminate()
        child.wait(timeout=10)
    assert health == {"status": "ok", "system": "NEW_REGISTRY"}
    assert wsdl.status_code == 200 and b"definitions" in wsdl.content


def _wait_for(url: str, child: subprocess.Popen, seconds: float = 30.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert child.poll() is None, f"the simulator exited with code {child.returncode}"
        try:
            return httpx2.get(url, timeout=1).json()
        except httpx2.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered at {url}")


def test_the_catalogue_refuses_a_second_place_for_roster_facts(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(
        DEFAULT_CATALOGUE.read_text(encoding="utf-8").replace(
            "[systems.GBDUL]\n", "[systems.GBDUL]\nport_offset = 4\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="port_offset belongs in the roster"):
        load_registry(tmp_path, catalogue=catalogue)


def test_the_default_catalogue_places_every_roster_system() -> None:
    registry = load_registry(Path("/nonexistent"), simulator_base_port=9000)
    for entry in ROSTER:
        sender = registry.senders[entry.system_id]
        assert sender.port_offset == entry.port_offset
        expected = f"http://127.0.0.1:{9000 + entry.port_offset}{entry.push_path}"
        assert sender.push_endpoint == (expected if entry.push_path else None)
    assert sys.executable == simulator_command(Settings(), roster_entry("GBDUL"))[0]


def test_a_roster_with_a_clash_is_refused() -> None:
    with pytest.raises(ValueError, match="port_offset 4 given twice"):
        check_roster((*ROSTER, RosterEntry("OTHER", "simulators.other", 4, "X.wsdl")))
    with pytest.raises(ValueError, match="GATEWAY is the gateway"):
        check_roster((RosterEntry("GATEWAY", "simulators.gw", 20, "X.wsdl"),))
    with pytest.raises(KeyError, match="NOPE is not in the roster"):
        roster_entry("NOPE")
