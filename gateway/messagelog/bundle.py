"""Evidence bundles: one exchange (or flow) as a ZIP an auditor can check with no database.

Layout of the file::

    manifest.json          the records: every hop of the flow, and every record between its
                           first hop and the checkpoint (other exchanges' records by their hashed
                           fields only, never their bodies), in chain order
    hops/NNNN-SEQ-DIR.xml  the exact bytes of each hop of the flow
    checkpoint.xml         the chain's head at export, signed by the gateway (``checkpoint``)
    pki/ca.pem, crl.pem    the trust anchors, and pki/certs/*.pem the signers' certificates

``verify_bundle`` recomputes every link from the first hop to the checkpoint, checks the
checkpoint's signature, and checks each hop's own transport signature as of its recording time.
A changed byte, a removed or reordered record, or an edited field is reported by hop.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import (
    GATEWAY_ID,
    GatewayError,
    TransportKey,
    TrustStore,
    find_transport_signature,
    parse_document,
    verify_envelope,
)
from gateway.messagelog.chain import format_time, link_hash, record_fields
from gateway.messagelog.checkpoint import Checkpoint, make_checkpoint, read_checkpoint
from gateway.messagelog.records import StoredRecord
from gateway.messagelog.schema import from_row, records

FORMAT = "kzgate-evidence/1"
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.xml"
_LINK_COLUMNS = [c for c in records.columns if c.name != "body"]


class NothingToExport(LookupError):
    """No record matches what was asked for."""


# --- export --------------------------------------------------------------------------------------


async def export_bundle(
    engine: AsyncEngine,
    key: TransportKey,
    pki_dir: Path,
    hops: Sequence[StoredRecord],
    *,
    now: datetime,
    query: dict[str, Any] | None = None,
) -> bytes:
    """The bundle of ``hops`` (records of the log, bodies included) as ZIP bytes."""
    if not hops:
        raise NothingToExport("no records to export")
    checkpoint = await make_checkpoint(engine, key, now)
    flow = {hop.seq: hop for hop in hops}
    chain = await _links(engine, min(flow), checkpoint.seq)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as bundle:
        entries = []
        for index, link in enumerate(chain, start=1):
            entry = _entry(link)
            hop = flow.get(link["seq"])
            if hop is not None:
                name = f"hops/{index:04d}-{hop.seq}-{hop.direction.value}.xml"
                bundle.writestr(name, hop.body)
                entry["hop"] = name
            entries.append(entry)
        manifest = {
            "format": FORMAT,
            "exportedAt": format_time(now),
            "query": query or {},
            "checkpoint": CHECKPOINT,
            "records": entries,
        }
        bundle.writestr(MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False))
        bundle.writestr(CHECKPOINT, checkpoint.envelope)
        for name, pem in _pki_files(pki_dir, [flow[s].body for s in sorted(flow)]).items():
            bundle.writestr(name, pem)
    return buffer.getvalue()


async def _links(engine: AsyncEngine, first: int, last: int) -> list[dict[str, Any]]:
    query = (
        select(*_LINK_COLUMNS)
        .where(records.c.seq >= first, records.c.seq <= last)
        .order_by(records.c.seq)
    )
    async with engine.connect() as conn:
        result = await conn.execute(query)
        rows = [dict(row._mapping) for row in result]
    # The body's size is hashed; read it without reading the bodies of other exchanges.
    sizes = await _body_sizes(engine, first, last)
    for row in rows:
        row["body_size"] = sizes[row["seq"]]
    return rows


async def _body_sizes(engine: AsyncEngine, first: int, last: int) -> dict[int, int]:
    query = select(records.c.seq, func.length(records.c.body)).where(
        records.c.seq >= first, records.c.seq <= last
    )
    async with engine.connect() as conn:
        return {int(seq): int(size) for seq, size in (await conn.execute(query))}


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    stored = from_row(_RowView({**row, "body": b""}))
    return {
        "seq": int(row["seq"]),
        **record_fields(stored),
        "body_size": int(row["body_size"]),
        "body_sha256": row["body_sha256"],
        "prev_hash": row["prev_hash"],
        "record_hash": row["record_hash"],
        "hop": None,
    }


class _RowView:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _pki_files(pki_dir: Path, bodies: Sequence[bytes]) -> dict[str, bytes]:
    files = {"pki/ca.pem": (pki_dir / "ca.pem").read_bytes()}
    if (pki_dir / "crl.pem").exists():
        files["pki/crl.pem"] = (pki_dir / "crl.pem").read_bytes()
    trust = TrustStore.from_dir(pki_dir)
    signers = {GATEWAY_ID}
    for body in bodies:
        cert = _signer(body, trust)
        if cert is not None:
            signers.add(_common_name(cert))
    for system in sorted(signers):
        path = pki_dir / f"{system}.pem"
        if path.exists():
            files[f"pki/certs/{system}.pem"] = path.read_bytes()
    return files


def _signer(body: bytes, trust: TrustStore) -> x509.Certificate | None:
    try:
        root = parse_document(body, max_bytes=len(body) + 1, max_depth=256)
        return verify_envelope(root, trust, now=datetime.now().astimezone()).certificate
    except (GatewayError, ValueError):
        return None


def _common_name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else "unknown"


# --- verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HopCheck:
    """One hop of the bundle as the verifier saw it."""

    number: int  # 1-based position among the bundle's hops
    seq: int
    direction: str
    route: str
    file: str
    intact: bool
    signature: str  # "valid (CN)", "unsigned", or "invalid: code …"


@dataclass
class BundleReport:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    hops: list[HopCheck] = field(default_factory=list)
    checkpoint_seq: int | None = None
    checkpoint_signer: str | None = None

    def fail(self, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)


def verify_bundle(data: bytes) -> BundleReport:
    """Check a bundle offline; the report says which hop or record is wrong, if any."""
    report = BundleReport()
    try:
        bundle = zipfile.ZipFile(io.BytesIO(data))
        manifest = json.loads(bundle.read(MANIFEST))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        report.fail(f"not an evidence bundle: {exc}")
        return report
    if manifest.get("format") != FORMAT:
        report.fail(f"unknown bundle format {manifest.get('format')!r}")
        return report
    trust = _bundled_trust(bundle)
    entries = manifest.get("records", [])
    last_hash = _check_links(bundle, entries, trust, report)
    _check_checkpoint(bundle, manifest, entries, last_hash, trust, report)
    return report


def _check_links(
    bundle: zipfile.ZipFile,
    entries: list[dict[str, Any]],
    trust: TrustStore | None,
    report: BundleReport,
) -> str | None:
    prev: dict[str, Any] | None = None
    hop_number = 0
    for entry in entries:
        seq = int(entry["seq"])
        if entry.get("hop"):
            hop_number += 1
        what = _describe(entry, hop_number)
        if prev is not None and seq != prev["seq"] + 1:
            first_missing = prev["seq"] + 1
            gap = str(first_missing) if seq == first_missing + 1 else f"{first_missing}..{seq - 1}"
            report.fail(f"record {gap} is missing: the chain breaks just before {what}")
        elif prev is not None and entry["prev_hash"] != prev["record_hash"]:
            report.fail(f"{what} does not link to the record before it (seq {prev['seq']})")
        fields = _fields_of(entry)
        digest = entry["body_sha256"]
        if (
            link_hash(entry["prev_hash"], seq, fields, entry["body_size"], digest)
            != entry["record_hash"]
        ):
            report.fail(f"{what}: its record was edited (fields do not match its hash)")
        if entry.get("hop"):
            report.hops.append(_check_hop(bundle, entry, hop_number, what, trust, report))
        prev = entry
    return None if prev is None else prev["record_hash"]


def _check_hop(
    bundle: zipfile.ZipFile,
    entry: dict[str, Any],
    number: int,
    what: str,
    trust: TrustStore | None,
    report: BundleReport,
) -> HopCheck:
    route = f"{entry['sender_id']} → {entry['receiver_id'] or '-'}"
    try:
        body = bundle.read(entry["hop"])
    except KeyError:
        report.fail(f"{what}: its file {entry['hop']} is missing")
        return HopCheck(number, entry["seq"], entry["direction"], route, entry["hop"], False, "-")
    intact = (
        len(body) == entry["body_size"] and hashlib.sha256(body).hexdigest() == entry["body_sha256"]
    )
    if not intact:
        report.fail(f"{what}: its bytes were changed (they do not match the SHA-256 recorded)")
    signature = hop_signature(body, trust, entry["recorded_at"])
    return HopCheck(
        number, entry["seq"], entry["direction"], route, entry["hop"], intact, signature
    )


def hop_signature(body: bytes, trust: TrustStore | None, recorded_at: str) -> str:
    """The transport signature's status as of the hop's recording time."""
    if not body:
        return "unsigned (no body kept)"
    try:
        root = parse_document(body, max_bytes=len(body) + 1, max_depth=256)
    except GatewayError as error:
        return f"unreadable: {error.fault.code}"
    if find_transport_signature(root) is None:
        return "unsigned"
    if trust is None:
        return "not checked: no CA in the bundle"
    try:
        signed = verify_envelope(root, trust, now=_parse_time(recorded_at))
    except GatewayError as error:
        return f"invalid: {error.fault.code}"
    return f"valid ({_common_name(signed.certificate)})"


def _check_checkpoint(
    bundle: zipfile.ZipFile,
    manifest: dict[str, Any],
    entries: list[dict[str, Any]],
    last_hash: str | None,
    trust: TrustStore | None,
    report: BundleReport,
) -> None:
    try:
        raw = bundle.read(manifest.get("checkpoint", CHECKPOINT))
        root = etree.fromstring(raw)
        seq, head_hash, made_at = read_checkpoint(root)
    except (KeyError, ValueError, etree.XMLSyntaxError) as exc:
        report.fail(f"the signed checkpoint is missing or unreadable ({exc})")
        return
    report.checkpoint_seq = seq
    if trust is None:
        report.fail("the bundle carries no CA certificate: the checkpoint cannot be checked")
        return
    try:
        signed = verify_envelope(root, trust, now=_parse_time(made_at))
    except GatewayError as error:
        report.fail(f"the checkpoint's signature does not verify ({error.fault.code})")
        return
    report.checkpoint_signer = _common_name(signed.certificate)
    if report.checkpoint_signer != GATEWAY_ID:
        report.fail(f"the checkpoint is signed by {report.checkpoint_signer}, not the gateway")
    if not entries:
        report.fail("the bundle holds no records")
    elif entries[-1]["seq"] != seq or last_hash != head_hash:
        report.fail(
            f"the chain does not end at the signed checkpoint (seq {seq}): "
            f"it ends at seq {entries[-1]['seq']}"
        )


def _bundled_trust(bundle: zipfile.ZipFile) -> TrustStore | None:
    names = bundle.namelist()
    if "pki/ca.pem" not in names:
        return None
    cas = x509.load_pem_x509_certificates(bundle.read("pki/ca.pem"))
    crls = []
    if "pki/crl.pem" in names:
        crls = [x509.load_pem_x509_crl(bundle.read("pki/crl.pem"))]
    known = [
        x509.load_pem_x509_certificate(bundle.read(name))
        for name in names
        if name.startswith("pki/certs/")
    ]
    return TrustStore(cas, crls, known=known)


def _fields_of(entry: dict[str, Any]) -> dict[str, str | int | None]:
    names = (
        "recorded_at", "message_id", "correlation_id", "service_id", "sender_id",
        "receiver_id", "direction", "outcome", "fault_code", "security_policy", "elapsed_ms",
    )  # fmt: skip
    return {name: entry.get(name) for name in names}


def _describe(entry: dict[str, Any], hop_number: int) -> str:
    if entry.get("hop"):
        return (
            f"hop {hop_number} (seq {entry['seq']}, {entry['direction']} "
            f"{entry['sender_id']} → {entry['receiver_id'] or '-'}, {entry['service_id']})"
        )
    return f"record {entry['seq']}"


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


__all__ = ["BundleReport", "Checkpoint", "HopCheck", "NothingToExport", "export_bundle"]
