"""How the port's queue names become the names a broker really stores.

Both adapters put every queue and exchange under a ``namespace`` prefix ("" in production, a
unique one per test run) so that tests can share a broker with a running gateway; the port only
ever sees names without it. The private queues an adapter makes for itself (RPC replies, event
subscriptions) get unique names here too, the same on both adapters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from gateway.broker.port import DEAD_LETTER_QUEUE, SYSTEM_QUEUE_PREFIX

REPLY_PREFIX = "kzgate.reply."
EVENT_QUEUE_PREFIX = "kzgate.events.sub."


@dataclass(frozen=True)
class Namespace:
    """A prefix put before every name on the broker and taken off again for the port."""

    prefix: str = ""

    def stored(self, name: str) -> str:
        """The name on the broker of the port's ``name``."""
        return f"{self.prefix}{name}"

    def port_name(self, stored: str) -> str:
        """The name as the port knows it (without the namespace)."""
        return stored.removeprefix(self.prefix)

    def describe(self, where: str) -> str:
        """A broker's one-line description, naming the namespace when there is one."""
        return where + (f" (namespace {self.prefix!r})" if self.prefix else "")

    def new_reply_queue(self) -> str:
        """A fresh private reply queue for one broker's RPC requests (stored name)."""
        return self.stored(f"{REPLY_PREFIX}{uuid.uuid4().hex}")

    def new_event_queue(self) -> str:
        """A fresh queue for one event subscription (stored name)."""
        return self.stored(f"{EVENT_QUEUE_PREFIX}{uuid.uuid4().hex}")


def is_system_queue(queue: str) -> bool:
    return queue.startswith(SYSTEM_QUEUE_PREFIX)


def declared_at_start(queue: str) -> bool:
    """Whether ``start()`` declares ``queue`` (a system queue or the dead-letter queue).

    ``consume`` declares such a queue too, so a consumer may come up before the publisher; any
    other queue (a reply or event queue) must exist already.
    """
    return is_system_queue(queue) or queue == DEAD_LETTER_QUEUE


__all__ = [
    "EVENT_QUEUE_PREFIX",
    "REPLY_PREFIX",
    "Namespace",
    "declared_at_start",
    "is_system_queue",
]
