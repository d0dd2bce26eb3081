"""What only the RabbitMQ adapter has: surviving a broker restart, and ``kzgate dlq`` on it."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.broker import BrokerError, BrokerUnavailable, Delivery, Message, RetryPolicy
from gateway.broker.rabbitmq import RabbitBroker
from kzgate.cli.main import main as kzgate
from tests.broker.conftest import FAST_RETRY, SYSTEMS, Inbox, fresh_namespace, rabbit_broker
from tests.broker.test_contract import ALPHA, message
from tests.services import require_rabbitmq

pytestmark = pytest.mark.rabbitmq

RABBITMQCTL = "/usr/sbin/rabbitmqctl"
OUTAGE_PUBLISH_TIMEOUT = 2.0


@pytest.fixture
async def rabbit() -> AsyncIterator[RabbitBroker]:
    async for broker in rabbit_broker(require_rabbitmq(), confirm_timeout=3.0):
        yield broker


async def rabbitmqctl(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        RABBITMQCTL,
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, f"rabbitmqctl {' '.join(args)}: {stderr.decode()}"


async def publish_until_confirmed(broker: RabbitBroker, sent: Message, *, within: float) -> None:
    """Publish, retrying while the adapter is still reconnecting after the restart."""
    deadline = time.monotonic() + within
    while True:
        try:
            await broker.publish(ALPHA, sent, timeout=2)
            return
        except BrokerUnavailable:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


@pytest.mark.serial
async def test_confirmed_messages_survive_a_broker_restart(rabbit: RabbitBroker) -> None:
    received: set[str] = set()
    first_batch_seen = asyncio.Event()

    async def slow_handler(delivery: Delivery) -> None:
        received.add(delivery.message.message_id)
        if len(received) >= 2:
            first_batch_seen.set()
        await asyncio.sleep(0.3)  # keeps deliveries unacked while the broker goes down
        with contextlib.suppress(BrokerError):
            await delivery.ack()

    await rabbit.consume(ALPHA, slow_handler, prefetch=4)
    before = [message(f"<before n='{n}'/>".encode()) for n in range(10)]
    for sent in before:
        await rabbit.publish(ALPHA, sent)
    await asyncio.wait_for(first_batch_seen.wait(), 5)

    await rabbitmqctl("stop_app")
    try:
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable):
            await rabbit.publish(ALPHA, message(b"<during/>"), timeout=OUTAGE_PUBLISH_TIMEOUT)
        assert time.monotonic() - started < OUTAGE_PUBLISH_TIMEOUT + 1, "publish hung"
    finally:
        await rabbitmqctl("start_app")

    after = [message(f"<after n='{n}'/>".encode()) for n in range(5)]
    for sent in after:
        await publish_until_confirmed(rabbit, sent, within=15)
    expected = {m.message_id for m in before + after}
    deadline = time.monotonic() + 15
    while not expected <= received and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    # The same subscription got the post-restart messages: the consumer came back by itself.
    assert expected - received == set()


@pytest.mark.serial
async def test_messages_waiting_for_a_retry_survive_a_broker_restart() -> None:
    """Every message sits in a delay level when the broker stops and is overdue when it starts:
    with classic delay queues RabbitMQ expired them at boot, before the quorum system queue was
    back, and dropped them (dead-lettering at most once) — confirmed messages lost."""
    url = require_rabbitmq()
    broker = RabbitBroker(
        url, retry=RetryPolicy(max_attempts=5, delays=(2.0,)), namespace=fresh_namespace()
    )
    await broker.start(SYSTEMS)
    try:
        waiting: set[str] = set()
        came_back: set[str] = set()

        async def retry_once(delivery: Delivery) -> None:
            with contextlib.suppress(BrokerError):  # unsettled: the broker redelivers it
                if delivery.attempt == 1:
                    await delivery.retry("the provider answered 503")
                    waiting.add(delivery.message.message_id)
                else:
                    came_back.add(delivery.message.message_id)
                    await delivery.ack()

        await broker.consume(ALPHA, retry_once, prefetch=50)
        sent = [message(f"<waits n='{n}'/>".encode()) for n in range(200)]
        for each in sent:
            await broker.publish(ALPHA, each)
        expected = {m.message_id for m in sent}
        deadline = time.monotonic() + 10
        while waiting != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert waiting == expected, "every message is in the delay level"
        await rabbitmqctl("stop_app")
        try:
            await asyncio.sleep(2.5)  # past the delay: all overdue when the broker boots
        finally:
            await rabbitmqctl("start_app")
        deadline = time.monotonic() + 30
        while came_back != expected and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert expected - came_back == set(), f"{len(expected - came_back)} of 200 lost"
    finally:
        with contextlib.suppress(BrokerError):
            await broker.delete_topology()
        await broker.close()


def _setup_dead_letter(url: str, namespace: str, parked: Message) -> None:
    async def park() -> None:
        broker = RabbitBroker(url, retry=FAST_RETRY, namespace=namespace)
        await broker.start(SYSTEMS)
        try:
            inbox = Inbox()
            subscription = await broker.consume(ALPHA, inbox)
            await broker.publish(ALPHA, parked)
            await (await inbox.next()).dead_letter("schema violation: <Iin> missing")
            await subscription.cancel()
        finally:
            await broker.close()

    asyncio.run(park())


def _consume_one(url: str, namespace: str) -> Delivery:
    async def consume() -> Delivery:
        broker = RabbitBroker(url, retry=FAST_RETRY, namespace=namespace)
        await broker.start(SYSTEMS)
        try:
            inbox = Inbox()
            await broker.consume(ALPHA, inbox)
            delivery = await inbox.next()
            await delivery.ack()
            return delivery
        finally:
            await broker.close()

    return asyncio.run(consume())


def _delete_namespace(url: str, namespace: str) -> None:
    async def delete() -> None:
        # The test's policy and the CLI's default one declare different delay levels.
        for policy in (FAST_RETRY, RetryPolicy()):
            broker = RabbitBroker(url, retry=policy, namespace=namespace)
            await broker.start(SYSTEMS)
            await broker.delete_topology()
            await broker.close()

    asyncio.run(delete())


def test_dlq_cli_lists_shows_and_replays(
    monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    url = require_rabbitmq()
    namespace = fresh_namespace()
    for name, value in {
        "KZGATE_BROKER": "rabbitmq",
        "KZGATE_AMQP_URL": url,
        "KZGATE_BROKER_NAMESPACE": namespace,
    }.items():
        monkeypatch.setenv(name, value)
    body = "<Запрос><ИИН>900101300123</ИИН></Запрос>\r\n".encode()
    parked = message(body, message_id=str(uuid.uuid4()))
    try:
        _setup_dead_letter(url, namespace, parked)

        assert kzgate(["dlq", "list"]) == 0
        [line] = capfdbinary.readouterr().out.decode().splitlines()
        assert line.startswith(f"{parked.message_id}  {ALPHA}  attempts=1  ")
        assert line.endswith("schema violation: <Iin> missing")

        assert kzgate(["dlq", "show", parked.message_id]) == 0
        shown = capfdbinary.readouterr().out
        assert b"header         serviceId: LicenceCheck" in shown
        assert b"reason         schema violation: <Iin> missing" in shown
        assert shown.endswith(b"bytes:\n" + body + b"\n")

        assert kzgate(["dlq", "replay", parked.message_id]) == 0
        replayed = _consume_one(url, namespace)
        assert replayed.message == parked and replayed.attempt == 1

        capfdbinary.readouterr()
        assert kzgate(["dlq", "replay", parked.message_id]) == 1
        assert kzgate(["dlq", "show", parked.message_id]) == 1
        assert kzgate(["dlq", "list"]) == 0
        assert capfdbinary.readouterr().out == b""
    finally:
        _delete_namespace(url, namespace)


async def test_a_reply_to_a_requester_on_another_connection_travels_through_its_queue() -> None:
    """Two gateway processes: one asks, the other's connector answers. The answer crosses the
    broker to the asker's reply queue (a requester in the answering process itself gets it in
    memory: ``test_contract.test_request_gets_the_reply_of_its_own_request``)."""
    url, namespace = require_rabbitmq(), fresh_namespace()
    async with contextlib.AsyncExitStack() as stack:
        asker, answerer = [
            await stack.enter_async_context(
                contextlib.asynccontextmanager(rabbit_broker)(url, namespace=namespace)
            )
            for _ in range(2)
        ]

        async def answer(delivery: Delivery) -> None:
            request = delivery.message
            await delivery.reply(
                Message(b"<a>" + request.body + b"</a>", "re", request.correlation_id)
            )

        await answerer.consume(ALPHA, answer)
        asked = [message(f"<q>{n}</q>".encode()) for n in range(3)]
        replies = await asyncio.gather(*(asker.request(ALPHA, m, timeout=5) for m in asked))
    assert [r.body for r in replies] == [b"<a>" + m.body + b"</a>" for m in asked]
    assert [r.correlation_id for r in replies] == [m.correlation_id for m in asked]
