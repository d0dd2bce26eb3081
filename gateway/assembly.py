"""Putting one gateway process together from settings, and refusing to start when unsafe.

The composition root: the only place that knows every part, connectors included.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from connectors import GATEWAY_ID, PayloadSchemas, TransportKey, TrustStore
from connectors.config import Settings
from connectors.db import create_engine
from connectors.tracing import setup_tracing
from connectors.wsse.pki import is_dev_certificate
from gateway.channels.admission import AdmissionRules
from gateway.channels.context import GatewayContext, utc_now
from gateway.channels.policy import SecurityPolicy
from gateway.console.auth import default_credential_problems
from gateway.delivery.connector import SystemConnector
from gateway.delivery.context import DeliveryContext, DeliverySettings
from gateway.messagelog import MessageLog
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.tracing import TracedBroker
from gateway.registry import Registry, load_registry
from gateway.routing import BrokerDispatcher, Dispatcher, HttpDispatcher
from gateway.storage import create_schema
from gateway.storage.seen_messages import SeenMessages
from gateway.tracking import MessageTracker
from gateway.tracking.notify import StatusNotifier

log = logging.getLogger(__name__)


class StartupRefused(RuntimeError):
    """The gateway will not serve with this configuration; the message says what to fix."""


def load_trust(settings: Settings, registry: Registry) -> TrustStore:
    trust = TrustStore.from_dir(settings.pki_dir)
    for sender in registry.senders.values():
        if sender.certificate is not None:
            trust.add_known_certificate(sender.certificate)
    return trust


def load_gateway_key(settings: Settings) -> TransportKey:
    cert, key = settings.pki_dir / f"{GATEWAY_ID}.pem", settings.pki_dir / f"{GATEWAY_ID}.key"
    if not cert.exists() or not key.exists():
        raise StartupRefused(
            f"no gateway transport key in {settings.pki_dir}: run `kzgate pki init` (./run does)"
        )
    return TransportKey.from_files(cert, key)


def production_problems(settings: Settings, registry: Registry, key: TransportKey) -> list[str]:
    """Why this configuration is unfit for production (empty when it is fit)."""
    problems = [f"{sid} still has the dev password" for sid in registry.dev_password_holders()]
    if is_dev_certificate(key.certificate):
        problems.append("the gateway's transport key is a dev key (KZGATE TEST PKI)")
    problems += [
        f"{s.sender_id}'s certificate is a dev certificate"
        for s in registry.senders.values()
        if s.certificate is not None and is_dev_certificate(s.certificate)
    ]
    if settings.security_policy == SecurityPolicy.EMULATOR.value:
        problems.append("security policy 'emulator' accepts unsigned messages")
    problems += default_credential_problems(settings)
    return problems


@dataclass
class Runtime:
    """A running gateway: its context and what must be shut down with it."""

    context: GatewayContext
    engine: AsyncEngine
    delivery: DeliveryContext | None = None  # what the connectors use; None without a broker
    connectors: list[SystemConnector] = field(default_factory=list)
    provider_http: HttpDispatcher | None = None


async def assemble(
    settings: Settings,
    *,
    dispatcher: Dispatcher | None = None,
    provider_http: HttpDispatcher | None = None,
    connectors: Iterable[str] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Runtime:
    """Build the gateway. Without an explicit ``dispatcher`` every exchange crosses the broker.

    ``connectors`` names the systems whose connectors run in this process; by default all of
    them, or none when ``settings.connectors`` is "external".
    """
    registry = load_registry(
        settings.pki_dir,
        catalogue=settings.catalogue_path,
        host=settings.host,
        simulator_base_port=settings.simulator_base_port,
    )
    registry.limit_password_failures(
        failures_allowed=settings.password_failures_allowed,
        backoff_seconds=settings.password_backoff_seconds,
    )
    key = load_gateway_key(settings)
    setup_tracing("kzgate-gateway")
    if settings.env == "production":
        problems = production_problems(settings, registry, key)
        if problems:
            raise StartupRefused("refusing to start in production: " + "; ".join(problems))
    engine = create_engine(settings.database_url)
    await create_schema(engine)
    # This worker's own chain; its clean close signs a checkpoint over every chain.
    message_log = MessageLog(engine, instance_id=settings.instance_id, key=key, clock=clock)
    await message_log.start()
    trust = load_trust(settings, registry)
    tracker = MessageTracker(engine)
    metrics = GatewayMetrics(registry)  # one set of counters per process, on /metrics
    broker, notifier, delivery = None, None, None
    if dispatcher is None:
        from gateway.broker.factory import open_broker

        broker = TracedBroker(
            await open_broker(settings, systems=sorted(registry.senders), engine=engine)
        )
        notifier = StatusNotifier(tracker, broker, registry, key, clock)
        dispatcher = BrokerDispatcher(broker)
        delivery = DeliveryContext(
            settings=DeliverySettings.from_settings(settings),
            registry=registry,
            trust=trust,
            broker=broker,
            tracker=tracker,
            notifier=notifier,
            clock=clock,
            metrics=metrics,
        )
        log.info("dispatch over %s", broker.description)
    context = GatewayContext(
        settings=settings,
        registry=registry,
        trust=trust,
        key=key,
        message_log=message_log,
        dispatcher=dispatcher,
        admission=_admission_rules(settings, registry, trust),
        tracker=tracker,
        broker=broker,
        notifier=notifier,
        clock=clock,
        metrics=metrics,
    )
    runtime = Runtime(context=context, engine=engine, delivery=delivery)
    if delivery is not None:
        systems = connected_systems(registry) if connectors is None else set(connectors)
        if connectors is None and settings.connectors == "external":
            systems = set()
        await _start_connectors(runtime, delivery, provider_http or HttpDispatcher(), systems)
    return runtime


def _admission_rules(settings: Settings, registry: Registry, trust: TrustStore) -> AdmissionRules:
    return AdmissionRules(
        registry=registry,
        trust=trust,
        payload_schemas=PayloadSchemas(),
        policy=SecurityPolicy(settings.security_policy),
        window_seconds=settings.freshness_window_seconds,
        skew_seconds=settings.clock_skew_seconds,
    )


def connected_systems(registry: Registry) -> set[str]:
    """The systems something is delivered to: providers of sync services, push endpoints."""
    providers = {s.provider for s in registry.services.values() if s.mode == "sync"}
    return providers | {s.sender_id for s in registry.senders.values() if s.push_endpoint}


async def _start_connectors(
    runtime: Runtime, delivery: DeliveryContext, http: HttpDispatcher, systems: set[str]
) -> None:
    runtime.provider_http = http
    for system_id in sorted(systems):
        connector = SystemConnector(system_id, delivery, http)
        await connector.start()
        runtime.connectors.append(connector)


async def purge_expired_claims(engine: AsyncEngine, every_seconds: float = 600.0) -> None:
    """Forever: drop messageId claims whose freshness window has passed (they can never match)."""
    seen = SeenMessages(engine)
    while True:
        try:
            await seen.purge()
        except Exception:  # a busy database now is no reason to stop purging later
            log.exception("purging expired messageId claims failed")
        await asyncio.sleep(every_seconds)


async def disassemble(runtime: Runtime) -> None:
    for connector in runtime.connectors:
        await connector.close()
    await runtime.context.message_log.close()
    await runtime.context.dispatcher.close()
    if runtime.provider_http is not None:
        await runtime.provider_http.close()
    await runtime.engine.dispose()
    runtime.context.xml_threads.shutdown()
