"""Evidence bundles: one exchange (or flow) as a ZIP an auditor can check with no database.

Layout of the file::

    manifest.json          the records: for each chain that holds a hop of the flow, every
                           record from its first hop to the length the checkpoint signs (other
                           exchanges' records by their hashed fields only, never their bodies),
                           chain by chain, in chain order
    hops/NNNN-SEQ-DIR.xml  the exact bytes of each hop of the flow
    checkpoint.xml         every chain's head at export and their Merkle root, signed by the
                           gateway (``checkpoint``)
    pki/ca.pem, crl.pem    the trust anchors, and pki/certs/*.pem the signers' certificates

``verify_bundle`` recomputes every link from each hop through its chain to the head the
checkpoint lists for that chain, recomputes the checkpoint's Merkle root, checks its signature,
and checks each hop's own transport signature as of its recording time. A changed byte, a
removed or reordered record, or an edited field is reported by hop.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509
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
from gateway.messagelog.checkpoint import (
    Checkpoint,
    check_checkpoint,
    make_checkpoint,
    parse_time,
    signer_name,
)
from gateway.messagelog.records import StoredRecord
from gateway.messagelog.schema import from_row, records

FORMAT = "kzgate-evidence/2"
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
    chain: list[dict[str, Any]] = []
    for chain_id in sorted({hop.chain_id for hop in hops}):
        signed = checkpoint.head_of(chain_id)
        if signed is None:
            raise NothingToExport(f"chain {chain_id} is in no checkpoint: its row is missing")
        first = min(hop.chain_seq for hop in hops if hop.chain_id == chain_id)
        chain += await _links(engine, chain_id, first, signed.length)
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


async def _links(engine: AsyncEngine, chain_id: str, first: int, last: int) -> list[dict[str, Any]]:
    # The body's size is hashed; read it without reading the bodies of other exchanges.
    query = (
        select(*_LINK_COLUMNS, func.length(records.c.body).label("body_size"))
        .where(
            records.c.chain_id == chain_id,
            records.c.chain_seq >= first,
            records.c.chain_seq <= last,
        )
        .order_by(records.c.chain_seq)
    )
    async with engine.connect() as conn:
        result = await conn.execute(query)
        return [dict(row._mapping) for row in result]


def _entry(row: dict[str, Any]) -> dict[str, Any]:
    stored = from_row(_RowView({**row, "body": b""}))
    return {
        "seq": int(row["seq"]),
        "chain_id": row["chain_id"],
        "chain_seq": int(row["chain_seq"]),
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
            signers.add(signer_name(cert))
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
    checkpoint_root: str | None = None  # the Merkle root the checkpoint signs
    checkpoint_records: int | None = None  # records it vouches for, over all chains
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
    ends = _check_links(bundle, entries, trust, report)
    _check_checkpoint(bundle, manifest, ends, trust, report)
    return report


def _check_links(
    bundle: zipfile.ZipFile,
    entries: list[dict[str, Any]],
    trust: TrustStore | None,
    report: BundleReport,
) -> dict[str, dict[str, Any]]:
    """Every record's hash and link within its chain; the last entry of each chain by id."""
    last: dict[str, dict[str, Any]] = {}
    hop_number = 0
    for entry in entries:
        chain_id, seq = str(entry["chain_id"]), int(entry["chain_seq"])
        prev = last.get(chain_id)
        if entry.get("hop"):
            hop_number += 1
        what = _describe(entry, hop_number)
        if prev is not None and seq != prev["chain_seq"] + 1:
            first_missing = prev["chain_seq"] + 1
            gap = str(first_missing) if seq == first_missing + 1 else f"{first_missing}..{seq - 1}"
            report.fail(
                f"record {gap} of chain {chain_id} is missing: the chain breaks just before {what}"
            )
        elif prev is not None and entry["prev_hash"] != prev["record_hash"]:
            report.fail(f"{what} does not link to the record before it (seq {prev['chain_seq']})")
        digest = entry["body_sha256"]
        link = link_hash(
            entry["prev_hash"], chain_id, seq, _fields_of(entry), entry["body_size"], digest
        )
        if link != entry["record_hash"]:
            report.fail(f"{what}: its record was edited (fields do not match its hash)")
        if entry.get("hop"):
            report.hops.append(_check_hop(bundle, entry, hop_number, what, trust, report))
        last[chain_id] = entry
    return last


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
        signed = verify_envelope(root, trust, now=parse_time(recorded_at))
    except GatewayError as error:
        return f"invalid: {error.fault.code}"
    return f"valid ({signer_name(signed.certificate)})"


def _check_checkpoint(
    bundle: zipfile.ZipFile,
    manifest: dict[str, Any],
    ends: dict[str, dict[str, Any]],
    trust: TrustStore | None,
    report: BundleReport,
) -> None:
    try:
        raw = bundle.read(manifest.get("checkpoint", CHECKPOINT))
    except KeyError as exc:
        report.fail(f"the signed checkpoint is missing ({exc})")
        return
    if trust is None:
        report.fail("the bundle carries no CA certificate: the checkpoint cannot be checked")
        return
    checked = check_checkpoint(raw, trust)
    report.checkpoint_signer = checked.signer
    if checked.problem is not None:
        report.fail(f"the signed checkpoint cannot be trusted: {checked.problem}")
        return
    heads = {head.chain_id: head for head in checked.heads}
    report.checkpoint_records = sum(head.length for head in checked.heads)
    report.checkpoint_root = checked.root
    if not ends:
        report.fail("the bundle holds no records")
    for chain_id, entry in ends.items():
        head = heads.get(chain_id)
        if head is None:
            report.fail(f"chain {chain_id} is not in the signed checkpoint")
        elif entry["chain_seq"] != head.length or entry["record_hash"] != head.head_hash:
            report.fail(
                f"chain {chain_id} does not end at the head the checkpoint signs "
                f"(seq {head.length}): it ends at seq {entry['chain_seq']}"
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
            f"hop {hop_number} (chain {entry['chain_id']} seq {entry['chain_seq']}, "
            f"{entry['direction']} "
            f"{entry['sender_id']} → {entry['receiver_id'] or '-'}, {entry['service_id']})"
        )
    return f"record {entry['chain_seq']} of chain {entry['chain_id']}"


__all__ = ["BundleReport", "Checkpoint", "HopCheck", "NothingToExport", "export_bundle"]
