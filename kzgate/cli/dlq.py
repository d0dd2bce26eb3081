"""``kzgate dlq``: list, show and replay the messages parked in the dead-letter queue.

The broker is the one the gateway uses (``KZGATE_BROKER``, ``KZGATE_AMQP_URL``,
``KZGATE_BROKER_NAMESPACE``); nothing is removed except by ``replay``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from connectors.config import Settings
from gateway.broker import Broker, BrokerError, DeadLetter
from gateway.broker.factory import broker_kind, open_broker

T = TypeVar("T")
# How many dead letters ``show`` and ``list`` look through.
SCAN_LIMIT = 10_000


def register(subparsers: Any) -> None:
    """Add ``dlq list``, ``dlq show`` and ``dlq replay`` to the ``kzgate`` parser."""
    dlq = subparsers.add_parser("dlq", help="inspect and replay dead-lettered messages")
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True)

    listing = dlq_sub.add_parser("list", help="one line per dead letter, oldest first")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.set_defaults(func=run_list)

    show = dlq_sub.add_parser("show", help="headers and exact body of one dead letter")
    show.add_argument("message_id", help="the messageId `kzgate dlq list` shows")
    show.set_defaults(func=run_show)

    replay = dlq_sub.add_parser("replay", help="send one dead letter back to its queue")
    replay.add_argument("message_id", help="the messageId `kzgate dlq list` shows")
    replay.set_defaults(func=run_replay)


def run_list(args: argparse.Namespace) -> int:
    letters = _with_broker(lambda broker: broker.dead_letters(args.limit))
    if letters is None:
        return 1
    for letter in letters:
        print(format_line(letter))
    if not letters:
        print("the dead-letter queue is empty", file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    letters = _with_broker(lambda broker: broker.dead_letters(SCAN_LIMIT))
    if letters is None:
        return 1
    found = [letter for letter in letters if letter.message.message_id == args.message_id]
    if not found:
        print(f"no dead letter with messageId {args.message_id}", file=sys.stderr)
        return 1
    print(format_details(found[0]))
    sys.stdout.flush()
    # The exact bytes, not a re-encoding: what was parked is what a replay sends.
    sys.stdout.buffer.write(found[0].message.body)
    sys.stdout.buffer.write(b"\n")
    sys.stdout.buffer.flush()
    return 0


def run_replay(args: argparse.Namespace) -> int:
    replayed = _with_broker(lambda broker: broker.replay_dead_letter(args.message_id))
    if not replayed:
        if replayed is False:
            print(f"no dead letter with messageId {args.message_id}", file=sys.stderr)
        return 1
    print(f"replayed {args.message_id}")
    return 0


def format_line(letter: DeadLetter) -> str:
    when = letter.dead_lettered_at.isoformat(timespec="seconds")
    return (
        f"{letter.message.message_id}  {letter.queue}  attempts={letter.attempts}  "
        f"{when}  {letter.reason}"
    )


def format_details(letter: DeadLetter) -> str:
    message = letter.message
    lines = [
        f"messageId      {message.message_id}",
        f"correlationId  {message.correlation_id or '-'}",
        f"queue          {letter.queue}",
        f"attempts       {letter.attempts}",
        f"deadLettered   {letter.dead_lettered_at.isoformat()}",
        f"reason         {letter.reason}",
        f"contentType    {message.content_type}",
        *(f"header         {key}: {value}" for key, value in sorted(message.headers.items())),
        f"body           {len(message.body)} bytes:",
    ]
    return "\n".join(lines)


def _with_broker(work: Callable[[Broker], Awaitable[T]]) -> T | None:
    """Run ``work`` on the configured broker; None (and a message) if the broker fails."""

    async def run() -> T:
        settings = Settings()
        engine = None
        if await broker_kind(settings) == "embedded":
            from connectors.db import create_engine
            from gateway.storage import create_schema

            # Created here, not in open_broker, so that it is disposed before the loop ends.
            engine = create_engine(settings.database_url)
            await create_schema(engine)
        try:
            broker = await open_broker(settings, systems=[], engine=engine)
            try:
                return await work(broker)
            finally:
                await broker.close()
        finally:
            if engine is not None:
                await engine.dispose()

    try:
        return asyncio.run(run())
    except BrokerError as exc:
        print(f"kzgate dlq: {exc}", file=sys.stderr)
        return None
