"""What both adapters of the port hold the same way: retry policy, namespace, pending replies."""

from __future__ import annotations

from gateway.broker.naming import Namespace
from gateway.broker.port import RetryPolicy
from gateway.broker.rpc import PendingReplies

# What an adapter retries by when its caller names no policy (the factory always names one).
DEFAULT_RETRY = RetryPolicy()


class AdapterBase:
    """The state an adapter's broker starts with, whatever carries its messages.

    Each adapter's constructor names ``retry`` and ``namespace`` in its own signature (so that a
    reader sees every option there) and passes them here unchanged.
    """

    def __init__(self, *, retry: RetryPolicy, namespace: str) -> None:
        self._retry = retry
        self._ns = Namespace(namespace)
        # One private reply queue per broker: a responder anywhere answers there.
        self._reply_queue = self._ns.new_reply_queue()
        self._replies = PendingReplies()

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._retry


__all__ = ["DEFAULT_RETRY", "AdapterBase"]
