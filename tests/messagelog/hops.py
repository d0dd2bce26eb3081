"""Hop records for tests: realistic SOAP bytes, including non-ASCII text and odd whitespace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.messagelog import Direction, HopRecord, Outcome

T0 = datetime(2025, 3, 21, 9, 30, 0, 123456, tzinfo=UTC)


def envelope(n: int) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
        f"<soap:Body>\r\n  <data>Қазақстан Республикасы №{n}</data></soap:Body>"
        "</soap:Envelope>"
    ).encode()


def hop(n: int, correlation_id: str = "corr-1", **overrides: object) -> HopRecord:
    fields: dict[str, object] = {
        "message_id": f"msg-{n}",
        "correlation_id": correlation_id,
        "service_id": "GBDUL_GET_COMPANY",
        "sender_id": "ELICENSE",
        "receiver_id": "GBDUL",
        "direction": Direction.REQUEST_IN,
        "outcome": Outcome.ACCEPTED,
        "security_policy": "shep",
        "body": envelope(n),
        "recorded_at": T0 + timedelta(microseconds=n),
        "elapsed_ms": n,
    }
    fields.update(overrides)
    return HopRecord(**fields)  # type: ignore[arg-type]
