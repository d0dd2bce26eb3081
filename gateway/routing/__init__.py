"""Routing: the one seam through which the gateway hands a message to the system that provides it.

The gateway core knows only the ``Dispatcher`` protocol; how the bytes travel (HTTP straight to the
provider today, RabbitMQ next) is the adapter's business. No provider logic lives here.
"""

from gateway.routing.dispatcher import Dispatcher, ProviderAnswer
from gateway.routing.http import HttpDispatcher

__all__ = ["Dispatcher", "HttpDispatcher", "ProviderAnswer"]
