"""The system as a user starts it: ``kzgate up`` (what ./run calls) in real processes on real ports,
called by ``kzgate send`` and by a zeep client that signs with zeep's own WS-Security plugin."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import xmlsec
import zeep
from lxml import etree
from zeep.wsse.signature import Signature

from connectors import TrustStore, verify_envelope
from gateway.paths import PROJECT_ROOT
from tests.gateway.harness import ACTIVE_BIN, SERVICE
from tests.ports import free_port_block
from tests.ports import is_free as _free
from tests.services import delete_broker_namespace

pytestmark = pytest.mark.slow  # a whole system: scheduled first (tests/conftest.py)

GBDUL_NS = "http://kzgate.kz/simulators/gbdul/v1"


@dataclass
class RunningSystem:
    url: str
    env: dict[str, str]
    pki: Path

    def kzgate(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kzgate.cli.main", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=60,
            cwd=PROJECT_ROOT,
        )


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    var = tmp_path_factory.mktemp("var")
    gateway_port = free_port_block(12)
    base = gateway_port  # simulators listen on base + their port_offset (1…8)
    env = {
        **os.environ,
        "KZGATE_VAR_DIR": str(var),
        "KZGATE_PORT": str(gateway_port),
        "KZGATE_SIMULATOR_BASE_PORT": str(base),
        # ./run's own choice (RabbitMQ when one answers), kept apart from other users of it
        "KZGATE_BROKER_NAMESPACE": f"test-{uuid.uuid4().hex[:12]}.",
    }
    env.pop("KZGATE_DATABASE_URL", None)
    env.pop("KZGATE_PKI_DIR", None)
    up = subprocess.Popen(
        [sys.executable, "-m", "kzgate.cli.main", "up"],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{gateway_port}"
    try:
        banner = _wait_for_banner(up)
        assert f"{url}/sync" in banner
        yield RunningSystem(url=url, env=env, pki=var / "pki")
    finally:
        up.terminate()
        up.wait(timeout=20)
        asyncio.run(_delete_broker_namespace(env["KZGATE_BROKER_NAMESPACE"], var / "pki"))
    assert up.returncode == 0, "kzgate up stops cleanly on SIGTERM"


async def _delete_broker_namespace(namespace: str, pki: Path) -> None:
    """Remove the queues and exchanges the test system declared on the shared RabbitMQ."""
    if not _free(5672):  # a broker answers: kzgate up chose it
        await delete_broker_namespace("amqp://guest:guest@127.0.0.1:5672/", namespace, pki)


def _wait_for_banner(up: subprocess.Popen) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + 150  # kzgate up itself gives up after 120 s
    while time.monotonic() < deadline:
        line = up.stdout.readline().decode()
        if not line and up.poll() is not None:
            raise AssertionError("kzgate up exited:\n" + "".join(lines))
        lines.append(line)
        if line.startswith("try:"):
            return "".join(lines)
    raise AssertionError("kzgate up did not become ready:\n" + "".join(lines))


def test_kzgate_send_prints_the_registry_answer(system: RunningSystem) -> None:
    done = system.kzgate(
        "send",
        "--as",
        "EGOV_PORTAL",
        "--service",
        SERVICE,
        "--data",
        str(PROJECT_ROOT / "examples" / "gbdul-request.xml"),
    )
    assert done.returncode == 0, done.stderr.decode()
    answer = etree.fromstring(done.stdout)
    assert answer.nsmap == {"gbdul": GBDUL_NS}, "only the payload's own namespace is printed"
    assert answer.findtext("resultCode") == "FOUND"
    assert answer.findtext("organization/bin") == ACTIVE_BIN


def test_kzgate_send_reports_a_refusal(system: RunningSystem) -> None:
    done = system.kzgate(
        "send",
        "--as",
        "MONITORING",
        "--service",
        SERVICE,
        "--data",
        "-",
        stdin=(PROJECT_ROOT / "examples" / "gbdul-request.xml").read_bytes(),
    )
    assert done.returncode == 2
    assert b"Client.Auth.ServiceNotAllowed" in done.stderr


def test_health_answers(system: RunningSystem) -> None:
    assert httpx2.get(f"{system.url}/health").json()["status"] == "ok"


class _SignOnly(Signature):
    """zeep's signer; the answer is checked by our own verifier below, not zeep's."""

    def verify(self, envelope):
        return envelope


def test_a_zeep_client_signed_by_zeep_is_served(system: RunningSystem) -> None:
    signer = _SignOnly(
        str(system.pki / "EGOV_PORTAL.key"),
        str(system.pki / "EGOV_PORTAL.pem"),
        signature_method=xmlsec.Transform.RSA_SHA256,
        digest_method=xmlsec.Transform.SHA256,
    )
    # The service's WSDL (from GET /services) types the payload, so zeep can build it.
    client = zeep.Client(f"{system.url}/services/{SERVICE}?wsdl", wsse=signer)
    request_type = client.get_type(f"{{{GBDUL_NS}}}OrganizationRequest")
    payload = zeep.xsd.AnyObject(request_type, request_type(bin=ACTIVE_BIN))
    from datetime import UTC, datetime

    with client.settings(raw_response=True):
        response = client.service.SendMessage(
            request={
                "requestInfo": {
                    "messageId": str(uuid.uuid4()),
                    "serviceId": SERVICE,
                    "messageDate": datetime.now(UTC),
                    "sender": {"senderId": "EGOV_PORTAL", "password": "dev-EGOV_PORTAL"},
                },
                "requestData": {"data": payload},
            }
        )
    assert response.status_code == 200, response.text
    root = etree.fromstring(response.content)
    verified = verify_envelope(root, TrustStore.from_dir(system.pki), now=datetime.now(UTC))
    assert "GATEWAY" in verified.certificate.subject.rfc4514_string()
    assert root.findtext(f".//{{{GBDUL_NS}}}OrganizationResponse/resultCode") == "FOUND"


def test_a_zeep_client_with_the_kits_wsse_plugin_is_served_and_checks_the_answer(
    system: RunningSystem, tmp_path: Path
) -> None:
    """The SDK's zeep plugin: SHEP-layout signing out, the kit's wrapping-safe check in."""
    from datetime import UTC, datetime

    from connectors import AnswerNotTrusted, ShepSignature, TransportKey, init_pki

    key = TransportKey.from_files(system.pki / "EGOV_PORTAL.pem", system.pki / "EGOV_PORTAL.key")
    trust = TrustStore.from_dir(system.pki)
    client = zeep.Client(f"{system.url}/services/{SERVICE}?wsdl", wsse=ShepSignature(key, trust))
    request_type = client.get_type(f"{{{GBDUL_NS}}}OrganizationRequest")

    def request() -> dict:
        return {
            "requestInfo": {
                "messageId": str(uuid.uuid4()),
                "serviceId": SERVICE,
                "messageDate": datetime.now(UTC),
                "sender": {"senderId": "EGOV_PORTAL", "password": "dev-EGOV_PORTAL"},
            },
            "requestData": {"data": zeep.xsd.AnyObject(request_type, request_type(bin=ACTIVE_BIN))},
        }

    answer = client.service.SendMessage(request=request())  # verified by the plugin
    assert answer is not None
    # An answer whose signer the client cannot trust is refused: here the client trusts only
    # another PKI's CA, so even the real gateway's signature is not believed.
    init_pki(tmp_path, ["EGOV_PORTAL"])
    with pytest.raises(AnswerNotTrusted):
        untrusting = ShepSignature(key, TrustStore.from_dir(tmp_path))
        zeep.Client(f"{system.url}/services/{SERVICE}?wsdl", wsse=untrusting).service.SendMessage(
            request=request()
        )


def _delivered(metrics_text: str) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "kzgate_exchanges_total"
        and sample.labels.get("service_id") == SERVICE
        and sample.labels.get("outcome") == "delivered"
    )


def test_status_console_and_metrics_of_the_running_system(system: RunningSystem) -> None:
    status = system.kzgate("status")
    assert status.returncode == 0, status.stderr.decode()
    assert b"ELICENSE applications" in status.stdout and b"GBDUL" in status.stdout
    machine = system.kzgate("status", "--json")
    assert json.loads(machine.stdout)["gateway"]["status"] == "ok"

    # Whichever worker answers a scrape counts every worker's exchanges.
    workers = httpx2.get(f"{system.url}/health").json()["worker"]["of"]
    assert workers == (os.cpu_count() or 1)  # KZGATE_WORKERS' default: one per core
    before = [_delivered(httpx2.get(f"{system.url}/metrics").text) for _ in range(4)]
    sent = system.kzgate(
        "send", "--as", "EGOV_PORTAL", "--service", SERVICE,
        "--data", str(PROJECT_ROOT / "examples" / "gbdul-request.xml"),
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr.decode()
    after = [_delivered(httpx2.get(f"{system.url}/metrics").text) for _ in range(4)]
    assert len(set(before)) == 1 and set(after) == {before[0] + 1}

    login = ("operator", "dev-console")
    assert httpx2.get(f"{system.url}/console/catalogue").status_code == 303
    api = httpx2.get(f"{system.url}/console/api/catalogue", auth=login)
    assert api.status_code == 200 and "GBDUL" in {s["systemId"] for s in api.json()["systems"]}
