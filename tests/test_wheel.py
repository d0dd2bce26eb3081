"""The package as a user installs it: a wheel built from the checkout, installed into a fresh
virtualenv outside it, runs ``kzgate`` from an empty folder — help, a test PKI, and ``kzgate up``
serving its ``/health`` and the SHEP contracts (``?wsdl``), which travel inside the wheel.

Offline and quick: the wheel is built without build isolation (setuptools is a dev dependency)
and installed without its dependencies, which the new virtualenv borrows from the project's
``.venv`` through a ``.pth`` line (``venv --system-site-packages`` would only reach the base
interpreter's packages, not those of the ``.venv`` the tests run in).
"""

from __future__ import annotations

import os
import shutil
import signal
import site
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from lxml import etree

from gateway.paths import PROJECT_ROOT
from tests.ports import free_port_block

pytestmark = pytest.mark.slow  # a whole system: scheduled first (tests/conftest.py)

# What a wheel is built from: the packaging files, the packages and the contracts.
SOURCES = (
    *("pyproject.toml", "setup.py", "README.md"),
    *("kzgate", "gateway", "connectors", "simulators"),
)
CONTRACTS = ("wsdl", "xsd")
PIP = (sys.executable, "-m", "pip", "--quiet")
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


@dataclass
class Installed:
    wheel: Path
    venv: Path
    home: Path  # an empty folder, the working directory of every command

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KZGATE_")}
        env.pop("PYTHONPATH", None)
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return {**env, **extra}

    def kzgate(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.venv / "bin" / "kzgate"), *args],
            cwd=self.home,
            env=self.env(**env),
            capture_output=True,
            text=True,
            timeout=60,
        )


def build_wheel(source: Path, out: Path, contracts: tuple[str, ...] = CONTRACTS) -> Path:
    """Copy what a wheel is built from into ``source`` (the checkout stays untouched by the
    build's own folders), then build it into ``out``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")
    for name in (*SOURCES, *contracts):
        origin = PROJECT_ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=ignore)
        else:
            shutil.copy2(origin, source / name)
    subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (wheel,) = out.glob("kzgate-*.whl")
    return wheel


def install(wheel: Path, venv: Path) -> None:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (purelib,) = venv.glob("lib/python*/site-packages")
    (purelib / "kzgate-test-deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    python = venv / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--no-index",
            "--no-compile",
            "--force-reinstall",
            "--quiet",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("wheel")
    (work / "src").mkdir()
    wheel = build_wheel(work / "src", work / "dist")
    install(wheel, work / "venv")
    (work / "home").mkdir()
    return Installed(wheel=wheel, venv=work / "venv", home=work / "home")


def test_the_wheel_carries_the_contracts_and_the_console(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder, suffix in (("wsdl", ".wsdl"), ("xsd", ".xsd")):
        inside = f"connectors/contracts/{folder}/"
        shipped = {n.removeprefix(inside) for n in names if n.startswith(inside)}
        wanted = {p.name for p in (PROJECT_ROOT / folder).glob(f"*{suffix}")}
        assert shipped == wanted, f"{folder}/ in the wheel"
    assert "gateway/console/templates/base.html" in names
    assert "gateway/console/static/console.js" in names
    assert "gateway/registry/catalogue.toml" in names


def test_the_installed_tool_runs_from_the_virtualenv_not_the_checkout(
    installed: Installed,
) -> None:
    where = subprocess.run(
        [
            str(installed.venv / "bin" / "python"),
            "-c",
            "import gateway, connectors.paths as p;print(gateway.__file__); print(p.WSDL_DIR)",
        ],
        cwd=installed.home,
        env=installed.env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert all(Path(line).is_relative_to(installed.venv) for line in where), where
    helped = installed.kzgate("--help")
    assert helped.returncode == 0, helped.stderr
    assert "kzgate runs a simulated Kazakh e-government integration gateway" in helped.stdout


def test_kzgate_up_from_an_empty_folder_serves_health_contracts_and_requests(
    installed: Installed,
) -> None:
    port = free_port_block(12)  # the gateway's, then the simulators' (port_offset 1…8)
    env = {
        "KZGATE_PORT": str(port),
        "KZGATE_SIMULATOR_BASE_PORT": str(port),
        "KZGATE_BROKER": "embedded",
    }
    pki = installed.kzgate("pki", "init", **env)
    assert pki.returncode == 0, pki.stderr
    assert (installed.home / "var" / "pki").is_dir(), "the PKI goes under the working folder"

    up = subprocess.Popen(
        [str(installed.venv / "bin" / "kzgate"), "up"],
        cwd=installed.home,
        env=installed.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _wait_for_banner(up)
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/sync" in banner
        assert httpx2.get(f"{url}/health", timeout=5).status_code == 200
        wsdl = httpx2.get(f"{url}/sync?wsdl", timeout=5)
        assert wsdl.status_code == 200, wsdl.text
        root = etree.fromstring(wsdl.content)
        assert root.tag == f"{{{WSDL_NS}}}definitions"
        assert root.get("name") or root.get("targetNamespace")
        # A signed request through the installed gateway to an installed simulator, which reads
        # its payload schema from the packaged contracts.
        sent = installed.kzgate(
            "send",
            "--as",
            "EGOV_PORTAL",
            "--service",
            "GbdulInfoByBin_v1",
            "--data",
            str(PROJECT_ROOT / "examples" / "gbdul-request.xml"),
            **env,
        )
        assert sent.returncode == 0, sent.stderr
        answer = etree.fromstring(sent.stdout.encode())
        assert answer.findtext("resultCode") == "FOUND"
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            up.wait(timeout=20)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
    assert up.returncode == 0, "kzgate up stops cleanly on SIGTERM"
    assert (installed.home / "var" / "kzgate.db").exists(), "state goes under the working folder"


def _wait_for_banner(up: subprocess.Popen[str]) -> str:
    assert up.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline:
        line = up.stdout.readline()
        if not line and up.poll() is not None:
            raise AssertionError("kzgate up exited:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("try:"):
            return "".join(lines)
    raise AssertionError("kzgate up did not become ready:\n" + "".join(lines))
