"""Attack kits: fresh envelopes for a channel, and the keys a signer has (or can make)."""

from __future__ import annotations

import copy
import tempfile
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from lxml import etree

from connectors import (
    AsyncMessageInfo,
    AsyncSendMessageRequest,
    MessageType,
    SyncRequest,
    TransportKey,
    build_request_envelope,
    build_send_message_envelope,
    init_pki,
)
from connectors.wsse.pki import CA_KEY_FILE, issue_certificate, revoke_serial

Payload = Callable[[], etree._Element | None]


def _data(payload: etree._Element | None) -> etree._Element:
    data = etree.Element("data")
    if payload is not None:
        data.append(copy.deepcopy(payload))
    return data


def sync_requests(
    *, sender_id: str, password: str | None, service_id: str, payload: Payload
) -> Callable[..., etree._Element]:
    """Fresh unsigned SendMessage envelopes; keyword arguments change SyncRequest fields."""

    def fresh(**changes: object) -> etree._Element:
        fields: dict[str, object] = {
            "message_id": str(uuid.uuid4()),
            "service_id": service_id,
            "message_date": datetime.now(UTC),
            "sender_id": sender_id,
            "password": password,
            "data": _data(payload()),
        }
        fields.update(changes)
        return build_request_envelope(SyncRequest(**fields))  # type: ignore[arg-type]

    return fresh


def async_requests(
    *, sender_id: str, password: str | None, service_id: str, payload: Payload
) -> Callable[..., etree._Element]:
    """Fresh unsigned sendMessage envelopes; keyword arguments change AsyncMessageInfo fields."""

    def fresh(**changes: object) -> etree._Element:
        fields: dict[str, object] = {
            "message_id": str(uuid.uuid4()),
            "service_id": service_id,
            "message_type": MessageType.REQUEST,
            "message_date": datetime.now(UTC),
            "sender_id": sender_id,
            "password": password,
        }
        fields.update(changes)
        info = AsyncMessageInfo(**fields)  # type: ignore[arg-type]
        return build_send_message_envelope(
            AsyncSendMessageRequest(info=info, data=_data(payload()))
        )

    return fresh


def key_of(pki_dir: Path, system_id: str) -> TransportKey:
    return TransportKey.from_files(pki_dir / f"{system_id}.pem", pki_dir / f"{system_id}.key")


@cache
def foreign_key(system_id: str) -> TransportKey:
    """``system_id``'s name on a certificate from a throwaway CA nobody trusts (made once)."""
    directory = Path(tempfile.mkdtemp(prefix="kzgate-foreign-ca-"))
    init_pki(directory, (system_id,))
    return key_of(directory, system_id)


def expired_key(pki_dir: Path, system_id: str) -> TransportKey | None:
    """``system_id``'s identity on a lapsed certificate from the trusted CA, if its key is here."""
    if not (pki_dir / CA_KEY_FILE).exists():
        return None
    start = datetime.now(UTC) - timedelta(days=800)
    cert_pem, key_pem = issue_certificate(
        pki_dir, system_id, not_before=start, not_after=start + timedelta(days=30)
    )
    return TransportKey.from_pem(cert_pem, key_pem)


@cache
def revoked_key(pki_dir: Path, system_id: str) -> TransportKey | None:
    """``system_id``'s identity on a throwaway certificate from the trusted CA, published on that
    CA's CRL (``crl.pem``, which the target follows), if the CA's key is here. The system's own
    certificate stays good; made once per process, so repeated attacks add no CRL entries."""
    if not (pki_dir / CA_KEY_FILE).exists():
        return None
    cert_pem, key_pem = issue_certificate(pki_dir, system_id)
    revoke_serial(pki_dir, x509.load_pem_x509_certificate(cert_pem).serial_number)
    return TransportKey.from_pem(cert_pem, key_pem)
