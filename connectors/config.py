"""One settings object for every process, read from ``KZGATE_*`` environment variables.

It lives in the kit, not in the gateway, because every process reads it alike: the gateway, each
simulator and the command line that starts them all.
"""

from __future__ import annotations

import os
import socket
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.soap.parser import XmlLimits

SecurityPolicyName = Literal["shep", "strict", "emulator"]


class Settings(BaseSettings):
    """Embedded defaults run the whole system on one machine; every field is an env var."""

    model_config = SettingsConfigDict(env_prefix="KZGATE_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8080
    var_dir: Path = Path("var")
    pki_dir_override: Path | None = Field(default=None, alias="KZGATE_PKI_DIR")
    database_url_override: str | None = Field(default=None, alias="KZGATE_DATABASE_URL")
    catalogue_path: Path | None = Field(default=None, alias="KZGATE_CATALOGUE")
    simulator_base_port: int = 8100
    security_policy: SecurityPolicyName = "shep"
    max_message_bytes: int = 10 * 1024 * 1024
    # How much of a refused request the message log keeps when no verified signature tied it to
    # a registered system: anyone can send those, and kept whole they would fill the log's disk.
    log_unverified_max_bytes: int = Field(default=64 * 1024, ge=0)
    max_xml_depth: int = 64
    # The shape limits of connectors.soap.parser.XmlLimits (see there for why they exist).
    max_attributes_per_element: int = 64
    max_namespace_declarations: int = 1024
    max_elements: int = 200_000
    max_text_chars: int = 4 * 1024 * 1024
    # The gateway's own work on one message (parse, schemas, signature, password) must end by then.
    request_deadline_seconds: float = 5.0
    # Wrong passwords a sender may send before each further one locks it out, doubling from this.
    password_failures_allowed: int = 5
    password_backoff_seconds: float = 1.0
    freshness_window_seconds: int = 300
    clock_skew_seconds: int = 60
    provider_timeout_seconds: float = 30.0
    # "auto": RabbitMQ when amqp_url is set or a broker answers on 127.0.0.1:5672, else embedded.
    broker: Literal["auto", "rabbitmq", "embedded"] = "auto"
    amqp_url: str | None = None
    broker_namespace: str = ""  # prefix of every queue/exchange name (tests share one broker)
    max_delivery_attempts: int = 5
    # "in-process": the gateway runs every system's connector; "external": `kzgate serve
    # connectors` runs them in processes of their own (which may then crash on their own).
    connectors: Literal["in-process", "external"] = "in-process"
    # seconds before attempt 2, 3, …; the last repeats (KZGATE_RETRY_DELAYS='[1, 5, 30, 120]')
    retry_delays: tuple[float, ...] = (1.0, 5.0, 30.0, 120.0)
    # how often the message log's head is signed (evidence bundles also sign one on export)
    checkpoint_interval_seconds: float = 300.0
    # the web console's operator (/console); production refuses the dev password
    console_user: str = "operator"
    console_password: str = Field(default="dev-console", repr=False)
    # Gateway worker processes behind one port (0: one per core). Workers share nothing but the
    # database and the broker (replay claims, tracking, the message log, queues), so any worker
    # may take any request and a dead one is replaced without losing what was accepted.
    workers: int = Field(default=0, ge=0)
    # This gateway instance's name among those sharing one database (default: the host name).
    # Each worker's message-log chain is named after it (instance/pid/token).
    instance_id: str = Field(default_factory=lambda: socket.gethostname().replace("/", "-"))

    @property
    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1

    @cached_property
    def pki_dir(self) -> Path:
        return self.pki_dir_override or self.var_dir / "pki"

    @cached_property
    def database_url(self) -> str:
        return self.database_url_override or f"sqlite+aiosqlite:///{self.var_dir / 'kzgate.db'}"

    @cached_property
    def xml_limits(self) -> XmlLimits:
        return XmlLimits(
            max_attributes=self.max_attributes_per_element,
            max_namespaces=self.max_namespace_declarations,
            max_elements=self.max_elements,
            max_text_chars=self.max_text_chars,
        )

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.port}"
