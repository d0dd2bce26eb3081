"""Reaching the real PostgreSQL and RabbitMQ of these machines from tests.

Under ``CI=true`` a missing service fails the test: CI must prove the real parts work, so it may
never pass by skipping them. On a developer's machine without them the test is skipped.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get(
    "KZGATE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
AMQP_URL = os.environ.get("KZGATE_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")


def require_tcp(host: str, port: int, what: str) -> None:
    try:
        with socket.create_connection((host, port), timeout=2):
            return
    except OSError as exc:
        message = f"{what} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " — under CI=true this is a failure, not a skip")
        pytest.skip(message)


def require_postgres() -> str:
    require_tcp("127.0.0.1", 5432, "PostgreSQL")
    return POSTGRES_URL


def require_rabbitmq() -> str:
    require_tcp("127.0.0.1", 5672, "RabbitMQ")
    return AMQP_URL


async def delete_broker_namespace(amqp_url: str, namespace: str, pki_dir: Path) -> None:
    """Remove the queues and exchanges a test's gateway declared under ``namespace`` on the
    shared RabbitMQ (its quorum queues would outlive the test)."""
    from gateway.broker.rabbitmq import RabbitBroker  # only tests that reach RabbitMQ load it
    from gateway.registry import load_registry

    broker = RabbitBroker(amqp_url, namespace=namespace)
    await broker.start(sorted(load_registry(pki_dir).senders))
    await broker.delete_topology()
    await broker.close()
