"""Routing: the one seam through which the gateway hands a message to the system that provides it.

The gateway core knows only the ``Dispatcher`` protocol; how the bytes travel (HTTP straight to
the provider, or as an RPC over the message broker) is the adapter's business. No provider logic
lives here.
"""

from gateway.routing.broker import BrokerDispatcher
from gateway.routing.dispatcher import Dispatcher, Envelope, ProviderAnswer
from gateway.routing.http import HttpDispatcher

__all__ = ["BrokerDispatcher", "Dispatcher", "Envelope", "HttpDispatcher", "ProviderAnswer"]
