"""The catalogue of systems and services, and the three questions the gateway asks of it.

Who is this sender (``authenticate``), where does this serviceId go (``service``), and may this
sender call it (``authorise``); plus whether a signing certificate belongs to a system.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from connectors import GatewayError, errors
from connectors.roster import ROSTER, SYNC_PATH, RosterEntry, check_roster
from gateway.registry.passwords import PasswordChecker, SenderLocked, check_password

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.toml")


@dataclass(frozen=True)
class Sender:
    """A registered information system: its senderId, password hash and transport certificate."""

    sender_id: str
    password_hash: str = field(repr=False)
    description: str = ""
    certificate: x509.Certificate | None = None
    port_offset: int | None = None  # from the roster; None: not simulated here
    push_endpoint: str | None = None  # where AsyncChannel pushes go; None: the system polls

    @property
    def fingerprint(self) -> bytes | None:
        if self.certificate is None:
            return None
        return self.certificate.fingerprint(_SHA256)


@dataclass(frozen=True)
class Service:
    """One serviceId: which system provides it, at which endpoint, on which channel."""

    service_id: str
    provider: str
    endpoint: str | None  # async services of a polling system have none
    mode: Literal["sync", "async"]
    allowed_senders: frozenset[str]
    payload_schema: str | None = None
    wsdl: str | None = None
    description: str = ""


@dataclass
class Registry:
    """Senders, services and the access list, as loaded from the catalogue."""

    senders: dict[str, Sender]
    services: dict[str, Service]
    _passwords: PasswordChecker = field(default_factory=PasswordChecker, repr=False)

    def authenticate(self, sender_id: str, password: str | None) -> Sender:
        sender = self.senders.get(sender_id)
        if sender is None:
            raise GatewayError(errors.UNKNOWN_SENDER, f"senderId {sender_id!r}")
        try:
            right = bool(password) and self._passwords.matches(
                sender_id, password or "", sender.password_hash
            )
        except SenderLocked as locked:
            raise GatewayError(
                errors.AUTH_BACKOFF,
                f"senderId {sender_id!r}: try again in {max(1, round(locked.retry_after))} s",
            ) from None
        if not right:
            raise GatewayError(errors.WRONG_PASSWORD, f"senderId {sender_id!r}")
        return sender

    def limit_password_failures(self, *, failures_allowed: int, backoff_seconds: float) -> None:
        """Set the back-off for wrong passwords (the defaults are in ``PasswordChecker``)."""
        self._passwords = PasswordChecker(
            failures_allowed=failures_allowed, backoff_seconds=backoff_seconds
        )

    def service(self, service_id: str) -> Service:
        service = self.services.get(service_id)
        if service is None:
            raise GatewayError(errors.UNKNOWN_SERVICE, f"serviceId {service_id!r}")
        return service

    def authorise(self, sender: Sender, service: Service) -> None:
        if sender.sender_id not in service.allowed_senders:
            raise GatewayError(
                errors.SERVICE_NOT_ALLOWED,
                f"{sender.sender_id} may not call {service.service_id}",
            )

    def check_certificate_of(self, system_id: str, certificate: x509.Certificate) -> None:
        """The signing certificate must be the one registered for ``system_id``."""
        sender = self.senders.get(system_id)
        registered = sender.fingerprint if sender else None
        if registered is None or registered != certificate.fingerprint(_SHA256):
            raise GatewayError(
                errors.CERT_NOT_SENDER,
                f"certificate {_subject(certificate)} is not the one registered for {system_id}",
            )

    def dev_password_holders(self) -> list[str]:
        """Systems whose password is still the development default ``dev-<senderId>``."""
        return [
            s.sender_id
            for s in self.senders.values()
            if check_password(f"dev-{s.sender_id}", s.password_hash)
        ]


_SHA256 = hashes.SHA256()


def _subject(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()


def load_registry(
    pki_dir: Path,
    *,
    catalogue: Path | None = None,
    host: str = "127.0.0.1",
    simulator_base_port: int = 8100,
    roster: Iterable[RosterEntry] = ROSTER,
) -> Registry:
    """Read the catalogue; each system's certificate comes from ``pki_dir`` when present.

    Where a system's simulator runs and whether it takes pushes come from the ``roster``
    (``connectors.roster``); the catalogue holds the policy: passwords, services, access lists.
    """
    data = tomllib.loads((catalogue or DEFAULT_CATALOGUE).read_text(encoding="utf-8"))
    placed = {entry.system_id: entry for entry in check_roster(roster)}
    senders = {
        sid: _load_sender(sid, entry, pki_dir, placed.get(sid), host, simulator_base_port)
        for sid, entry in data.get("systems", {}).items()
    }
    services = {
        sid: _load_service(sid, entry, senders, host, simulator_base_port)
        for sid, entry in data.get("services", {}).items()
    }
    return Registry(senders=senders, services=services)


def _load_sender(
    sender_id: str,
    entry: dict,
    pki_dir: Path,
    placed: RosterEntry | None,
    host: str,
    base_port: int,
) -> Sender:
    moved = {"port_offset", "push_path"} & entry.keys()
    if moved:
        # One place for these facts: a second one in the catalogue would drift from the roster.
        raise ValueError(
            f"system {sender_id}: {', '.join(sorted(moved))} belongs in the roster "
            "(connectors/roster.py), not in the catalogue"
        )
    cert_path = pki_dir / entry.get("certificate", f"{sender_id}.pem")
    certificate = (
        x509.load_pem_x509_certificate(cert_path.read_bytes()) if cert_path.exists() else None
    )
    push_endpoint = entry.get("push_endpoint")
    if push_endpoint is None and placed is not None and placed.push_path is not None:
        push_endpoint = placed.url(host, base_port) + placed.push_path
    return Sender(
        sender_id=sender_id,
        password_hash=entry["password_hash"],
        description=entry.get("description", ""),
        certificate=certificate,
        port_offset=placed.port_offset if placed is not None else None,
        push_endpoint=push_endpoint,
    )


def _load_service(
    service_id: str, entry: dict, senders: dict[str, Sender], host: str, base_port: int
) -> Service:
    provider = entry["provider"]
    mode = entry.get("mode", "sync")
    endpoint = entry.get("endpoint") or (
        senders[provider].push_endpoint
        if mode == "async"
        else _simulator_endpoint(
            senders.get(provider), entry.get("path", SYNC_PATH), host, base_port
        )
    )
    unknown = set(entry.get("allowed_senders", [])) - senders.keys()
    if unknown:
        raise ValueError(f"service {service_id}: unknown allowed_senders {sorted(unknown)}")
    return Service(
        service_id=service_id,
        provider=provider,
        endpoint=endpoint,
        mode=mode,
        allowed_senders=frozenset(entry.get("allowed_senders", [])),
        payload_schema=entry.get("payload_schema"),
        wsdl=entry.get("wsdl"),
        description=entry.get("description", ""),
    )


def _simulator_endpoint(provider: Sender | None, path: str, host: str, base_port: int) -> str:
    if provider is None or provider.port_offset is None:
        raise ValueError("a service needs an endpoint or a provider in the roster of systems")
    return f"http://{host}:{base_port + provider.port_offset}{path}"
