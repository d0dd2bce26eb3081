"""RPC over the broker, the same on both adapters: requests waiting for replies, replies addressed.

A requester publishes with ``reply_to`` (its private reply queue) and a request id of its own,
then waits until the deadline. The request id — not the correlation id, which carries the SHEP
correlation — matches the reply; a reply that comes after the deadline, or twice, is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from gateway.broker.port import BrokerError, Message, RequestTimeout

log = logging.getLogger(__name__)


class PendingReplies:
    """The requests of one broker that wait for their reply, by request id."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[Message]] = {}

    async def request(
        self, queue: str, send: Callable[[str], Awaitable[None]], *, timeout: float
    ) -> Message:
        """``send(request_id)`` publishes the request; then wait for its reply until the deadline.

        The deadline counts from now: a slow publish eats into the wait. RequestTimeout if none.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        request_id = uuid.uuid4().hex
        future: asyncio.Future[Message] = loop.create_future()
        self._waiting[request_id] = future
        try:
            await send(request_id)
            return await asyncio.wait_for(future, max(deadline - loop.time(), 0.0))
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply from {queue} in {timeout:g} s") from exc
        finally:
            self._waiting.pop(request_id, None)

    def awaits(self, request_id: str) -> bool:
        """Whether a request of this broker still waits for the reply ``request_id``."""
        future = self._waiting.get(request_id)
        return future is not None and not future.done()

    def resolve(self, request_id: str, reply: Message) -> None:
        """Hand ``reply`` to its waiting request; a late or unknown reply is dropped."""
        future = self._waiting.pop(request_id, None)
        if future is None or future.done():
            log.info("late or unknown reply %s dropped", reply.message_id)
            return
        future.set_result(reply)

    def fail_all(self, error: BrokerError) -> None:
        """Every waiting request raises ``error`` (the broker is closing)."""
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(error)
        self._waiting.clear()

    def cancel_all(self) -> None:
        """Every waiting request is cancelled (the broker is closing)."""
        for future in self._waiting.values():
            future.cancel()
        self._waiting.clear()


def addressed_reply(request: Message, reply: Message) -> tuple[str, Message]:
    """Where the answer to ``request`` goes, and the answer carrying the request's correlation.

    ``reply_to`` is the requester's real queue name: no namespace is added to it.
    """
    if not request.reply_to:
        raise BrokerError(f"{request.message_id} is not a request: no reply_to")
    answer = replace(reply, correlation_id=reply.correlation_id or request.correlation_id)
    return request.reply_to, answer


def requester_gone(request: Message) -> None:
    """The reply queue is gone (its requester closed or crashed): nobody can use the answer."""
    log.warning("reply to %s dropped: the requester is gone", request.message_id)


__all__ = ["PendingReplies", "addressed_reply", "requester_gone"]
