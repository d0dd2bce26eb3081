"""Routing: the one seam through which the gateway hands a message to the system that provides it.

The gateway core knows only the ``Dispatcher`` protocol; how the bytes travel (HTTP straight to
the provider, or as an RPC over the message broker) is the adapter's business. ``sync_rpc`` is
that RPC, both ends: the dispatcher that publishes and waits, and the answer a connector sends.
No provider logic lives here.
"""

from gateway.routing.dispatcher import Dispatcher, Envelope, ProviderAnswer
from gateway.routing.http import HttpDispatcher
from gateway.routing.sync_rpc import SYNC_REQUEST, BrokerDispatcher, answer_sync_request

__all__ = [
    "SYNC_REQUEST",
    "BrokerDispatcher",
    "Dispatcher",
    "Envelope",
    "HttpDispatcher",
    "ProviderAnswer",
    "answer_sync_request",
]
