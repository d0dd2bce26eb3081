"""The broker port's contract: each case runs on every adapter (see ``conftest.broker``)."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from gateway.broker import (
    Broker,
    Delivery,
    Message,
    RequestTimeout,
    Unroutable,
    system_queue,
)
from tests.broker.conftest import FAST_RETRY, Inbox

ALPHA = system_queue("ALPHA")
BETA = system_queue("BETA")


def message(body: bytes = b"<Envelope/>", **overrides: object) -> Message:
    fields: dict[str, object] = {
        "body": body,
        "message_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "headers": {"serviceId": "LicenceCheck", "sender": "EGOV_PORTAL", "type": "async"},
    }
    fields.update(overrides)
    return Message(**fields)  # type: ignore[arg-type]


async def test_publish_consume_ack_delivers_once_and_intact(broker: Broker) -> None:
    sent = message("<Запрос>ИИН 900101300123</Запрос>".encode())
    await broker.publish(ALPHA, sent)
    inbox = Inbox()
    subscription = await broker.consume(ALPHA, inbox)
    delivery = await inbox.next()
    assert delivery.message == sent
    assert (delivery.queue, delivery.attempt, delivery.redelivered) == (ALPHA, 1, False)
    await delivery.ack()
    assert await inbox.nothing_more()
    await subscription.cancel()

    # Acked means gone: a new consumer of the queue gets nothing.
    again = Inbox()
    second = await broker.consume(ALPHA, again)
    assert await again.nothing_more()
    await second.cancel()


async def test_unsettled_delivery_comes_back_after_the_consumer_goes(broker: Broker) -> None:
    sent = message()
    await broker.publish(ALPHA, sent)
    crashed = Inbox()
    subscription = await broker.consume(ALPHA, crashed)
    first = await crashed.next()
    assert not first.redelivered
    await subscription.cancel()  # the consumer dies without settling

    survivor = Inbox()
    await broker.consume(ALPHA, survivor)
    again = await survivor.next()
    assert again.message == sent
    assert again.redelivered
    assert again.attempt == 2
    await again.ack()


async def test_retry_waits_then_dead_letters_and_replay_delivers_again(broker: Broker) -> None:
    sent = message()
    inbox = Inbox()
    await broker.consume(ALPHA, inbox)
    await broker.publish(ALPHA, sent)

    first = await inbox.next()
    assert first.attempt == 1
    retried_at = time.monotonic()
    await first.retry("provider busy")
    second = await inbox.next()
    assert second.attempt == 2 and second.message == sent
    assert time.monotonic() - retried_at >= FAST_RETRY.delays[0] * 0.8
    retried_at = time.monotonic()
    await second.retry("provider busy")
    third = await inbox.next()
    assert third.attempt == 3
    assert time.monotonic() - retried_at >= FAST_RETRY.delays[1] * 0.8
    await third.retry("provider still busy")  # max_attempts reached: parked
    assert await inbox.nothing_more()

    [dead] = await broker.dead_letters()
    assert dead.message == sent
    assert (dead.queue, dead.reason, dead.attempts) == (ALPHA, "provider still busy", 3)
    assert await broker.dead_letters() == [dead], "reading must not remove"

    assert await broker.replay_dead_letter(sent.message_id)
    replayed = await inbox.next()
    assert replayed.message == sent and replayed.attempt == 1
    await replayed.ack()
    assert await broker.dead_letters() == []
    assert not await broker.replay_dead_letter(sent.message_id)


async def test_dead_letter_parks_at_once_with_its_reason(broker: Broker) -> None:
    sent = message(b"<not-valid")
    inbox = Inbox()
    await broker.consume(ALPHA, inbox)
    await broker.publish(ALPHA, sent)
    await (await inbox.next()).dead_letter("payload is not well-formed XML")
    assert await inbox.nothing_more()
    [dead] = await broker.dead_letters()
    assert (dead.message, dead.reason, dead.attempts) == (sent, "payload is not well-formed XML", 1)
    assert dead.dead_lettered_at.tzinfo is not None


async def test_poison_message_is_parked_while_the_queue_keeps_flowing(broker: Broker) -> None:
    poison = message(b"<poison/>")
    good = [message(f"<ok n='{n}'/>".encode()) for n in range(3)]
    done: list[str] = []

    async def handler(delivery: Delivery) -> None:
        if delivery.message.body == b"<poison/>":
            await delivery.retry("handler cannot parse it")
        else:
            done.append(delivery.message.message_id)
            await delivery.ack()

    await broker.consume(ALPHA, handler, prefetch=1)
    for sent in [poison, *good]:
        await broker.publish(ALPHA, sent)
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline and not await broker.dead_letters():
        await asyncio.sleep(0.1)
    [dead] = await broker.dead_letters()
    assert dead.message == poison and dead.attempts == FAST_RETRY.max_attempts
    assert done == [m.message_id for m in good]


async def test_publish_to_a_queue_nobody_declared_is_unroutable(broker: Broker) -> None:
    with pytest.raises(Unroutable):
        await broker.publish(system_queue("NO_SUCH_SYSTEM"), message(), timeout=3)


async def test_request_gets_the_reply_of_its_own_request(broker: Broker) -> None:
    async def responder(delivery: Delivery) -> None:
        request = delivery.message
        await delivery.reply(
            Message(
                body=b"<answer>" + request.body + b"</answer>",
                message_id=str(uuid.uuid4()),
                correlation_id=request.correlation_id,
                headers={"x-kzgate-http-status": "200"},
            )
        )

    await broker.consume(BETA, responder)
    shared_correlation = str(uuid.uuid4())  # replies must not be matched on it alone
    requests = [
        message(f"<q>{n}</q>".encode(), correlation_id=shared_correlation) for n in range(3)
    ]
    replies = await asyncio.gather(*(broker.request(BETA, r, timeout=5) for r in requests))
    for request, reply in zip(requests, replies, strict=True):
        assert reply.body == b"<answer>" + request.body + b"</answer>"
        assert reply.correlation_id == shared_correlation
        assert reply.headers == {"x-kzgate-http-status": "200"}


async def test_request_without_a_responder_times_out(broker: Broker) -> None:
    started = time.monotonic()
    with pytest.raises(RequestTimeout):
        await broker.request(BETA, message(), timeout=0.5)
    assert time.monotonic() - started < 2


async def test_events_reach_matching_subscribers_only(broker: Broker) -> None:
    licences, taxes = Inbox(), Inbox()
    await broker.subscribe_events("licence.*", licences)
    await broker.subscribe_events("tax.#", taxes)
    event = message(b"<LicenceIssued/>")
    await broker.publish_event("licence.issued", event)
    await broker.publish_event("nobody.listens", message())  # not an error

    delivery = await licences.next()
    assert delivery.message == event
    await delivery.ack()
    assert await taxes.nothing_more()
    assert await licences.nothing_more(0.1)


async def test_prefetch_bounds_unsettled_deliveries(broker: Broker) -> None:
    for n in range(5):
        await broker.publish(ALPHA, message(f"<n>{n}</n>".encode()))
    inbox = Inbox()
    await broker.consume(ALPHA, inbox, prefetch=2)
    held = [await inbox.next(), await inbox.next()]
    assert await inbox.nothing_more(0.5), "a third delivery while two are unsettled"
    await held[0].ack()
    third = await inbox.next()
    assert third.message.body == b"<n>2</n>"
    assert await inbox.nothing_more(0.3)


async def test_one_queue_delivers_in_publish_order(broker: Broker) -> None:
    sent = [message(f"<n>{n}</n>".encode()) for n in range(10)]
    for m in sent:
        await broker.publish(ALPHA, m)
    inbox = Inbox()
    await broker.consume(ALPHA, inbox)
    received = []
    for _ in sent:
        delivery = await inbox.next()
        received.append(delivery.message.message_id)
        await delivery.ack()
    assert received == [m.message_id for m in sent]


async def test_a_message_whose_consumers_keep_dying_is_parked(broker: Broker) -> None:
    sent = message(b"<kills-its-consumer/>")
    await broker.publish(ALPHA, sent)
    for attempt in range(1, FAST_RETRY.max_attempts + 1):
        inbox = Inbox()
        subscription = await broker.consume(ALPHA, inbox)
        assert (await inbox.next()).attempt == attempt
        await subscription.cancel()  # dies before settling, every time

    survivor = Inbox()
    await broker.consume(ALPHA, survivor)
    assert await survivor.nothing_more()
    [dead] = await broker.dead_letters()
    assert dead.message == sent and dead.attempts == FAST_RETRY.max_attempts
