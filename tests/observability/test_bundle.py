"""Evidence bundles of a licence flow: verified offline; one changed byte or one removed hop is
caught and named."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from gateway.messagelog.bundle import export_bundle, verify_bundle
from gateway.messagelog.flows import find_flow
from kzgate.cli.main import main
from tests.observability.conftest import LicenceFlow


def _rewrite(bundle: bytes, change) -> bytes:
    """A copy of ``bundle`` with ``change(files)`` applied to its name → bytes mapping."""
    with zipfile.ZipFile(io.BytesIO(bundle)) as source:
        files = {name: source.read(name) for name in source.namelist()}
    change(files)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in files.items():
            target.writestr(name, data)
    return out.getvalue()


async def test_a_licence_flow_bundle_verifies_and_names_what_was_tampered(
    licence_flow: LicenceFlow,
) -> None:
    harness = licence_flow.world.harness
    engine = harness.context.message_log._engine
    flow = await find_flow(engine, licence_flow.application)
    assert len({h.service_id for h in flow.hops}) == 7  # the whole flow, not one exchange
    bundle = await export_bundle(
        engine, harness.context.key, harness.pki_dir, flow.hops, now=harness.context.clock()
    )
    report = verify_bundle(bundle)
    assert report.ok, report.problems
    assert [h.seq for h in report.hops] == [h.seq for h in flow.hops]
    assert report.checkpoint_signer == "GATEWAY"
    # every hop the gateway sent or received was signed, and still verifies as recorded
    assert all(h.signature.startswith("valid") for h in report.hops), report.hops

    manifest = json.loads(zipfile.ZipFile(io.BytesIO(bundle)).read("manifest.json"))
    hops = [entry for entry in manifest["records"] if entry["hop"]]
    target = hops[4]

    def flip_one_byte(files: dict[str, bytes]) -> None:
        body = bytearray(files[target["hop"]])
        body[len(body) // 2] ^= 0x01
        files[target["hop"]] = bytes(body)

    changed = verify_bundle(_rewrite(bundle, flip_one_byte))
    assert not changed.ok
    assert [h.number for h in changed.hops if not h.intact] == [5]
    assert changed.problems == [
        f"hop 5 (chain {target['chain_id']} seq {target['chain_seq']}, {target['direction']} "
        f"{target['sender_id']} → "
        f"{target['receiver_id']}, {target['service_id']}): its bytes were changed "
        "(they do not match the SHA-256 recorded)"
    ]

    def remove_hop(files: dict[str, bytes]) -> None:
        kept = [e for e in manifest["records"] if e["seq"] != target["seq"]]
        files["manifest.json"] = json.dumps({**manifest, "records": kept}).encode()
        del files[target["hop"]]

    removed = verify_bundle(_rewrite(bundle, remove_hop))
    assert not removed.ok
    assert removed.problems[0].startswith(
        f"record {target['chain_seq']} of chain {target['chain_id']} is missing"
    )
    assert len(removed.hops) == len(hops) - 1


async def test_cli_exports_and_verifies_one_exchange(
    licence_flow: LicenceFlow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness = licence_flow.world.harness
    monkeypatch.setenv("KZGATE_DATABASE_URL", harness.settings.database_url)
    monkeypatch.setenv("KZGATE_PKI_DIR", str(harness.pki_dir))
    flow = await find_flow(harness.context.message_log._engine, licence_flow.application)
    correlation = flow.hops[0].correlation_id
    out = tmp_path / "evidence.zip"
    args = ["log", "export", "--correlation-id", correlation, "-o", str(out)]
    assert await asyncio.to_thread(main, args) == 0
    assert await asyncio.to_thread(main, ["log", "verify-bundle", str(out)]) == 0
    broken = _rewrite(out.read_bytes(), lambda files: files.pop("checkpoint.xml"))
    (tmp_path / "broken.zip").write_bytes(broken)
    assert (
        await asyncio.to_thread(main, ["log", "verify-bundle", str(tmp_path / "broken.zip")]) == 1
    )


async def test_each_hop_of_a_bundle_verifies_with_xmlsec1_as_the_readme_says(
    licence_flow: LicenceFlow, tmp_path: Path
) -> None:
    xmlsec1 = shutil.which("xmlsec1")
    if xmlsec1 is None:
        pytest.fail("xmlsec1 is not installed (./test installs it: apt-get install xmlsec1)")
    harness = licence_flow.world.harness
    engine = harness.context.message_log._engine
    flow = await find_flow(engine, licence_flow.application)
    bundle = await export_bundle(
        engine, harness.context.key, harness.pki_dir, flow.hops, now=harness.context.clock()
    )
    zipfile.ZipFile(io.BytesIO(bundle)).extractall(tmp_path)
    report = verify_bundle(bundle)
    for hop in report.hops:
        signer = hop.signature.removeprefix("valid (").removesuffix(")")
        command = [xmlsec1, *XMLSEC1_ARGS, "--pubkey-cert-pem", f"pki/certs/{signer}.pem", hop.file]
        ok = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
        assert ok.returncode == 0, (hop, ok.stderr)
        assert "OK" in ok.stdout + ok.stderr
    checkpoint = [xmlsec1, *XMLSEC1_ARGS, "--pubkey-cert-pem", "pki/certs/GATEWAY.pem"]
    assert subprocess.run([*checkpoint, "checkpoint.xml"], cwd=tmp_path).returncode == 0
    # The same command refuses a hop whose bytes were changed.
    first = tmp_path / report.hops[0].file
    first.write_bytes(first.read_bytes().replace(b"<data>", b"<data> ", 1))
    signer = report.hops[0].signature.removeprefix("valid (").removesuffix(")")
    command = [xmlsec1, *XMLSEC1_ARGS, "--pubkey-cert-pem", f"pki/certs/{signer}.pem",
               report.hops[0].file]  # fmt: skip
    assert subprocess.run(command, cwd=tmp_path, capture_output=True).returncode != 0


# As in the README ("Evidence bundles"): the Body is referenced by its wsu:Id.
XMLSEC1_ARGS = ["--verify", "--id-attr:Id", "Body", "--id-attr:Id", "Timestamp"]
