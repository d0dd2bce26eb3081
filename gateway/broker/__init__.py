"""The message broker between the gateway and the systems: one port, two adapters.

``port`` says what the rest of the code may rely on; ``rabbitmq`` is the production adapter
(aio-pika), ``embedded`` the in-process one for the one-machine default; ``factory`` picks one
from the settings. What both adapters do the same way is written once beside the port:
``delivery`` (settle once, retry to the dead-letter queue at max_attempts, a handler that
raises), ``rpc`` (requests waiting for replies, deadline, late replies dropped), ``naming``
(the namespace prefix, private queue names) and ``adapter`` (the state both start with).
"""

from gateway.broker.port import (
    DEAD_LETTER_QUEUE,
    EVENTS_EXCHANGE,
    Broker,
    BrokerError,
    BrokerUnavailable,
    DeadLetter,
    Delivery,
    Handler,
    Message,
    RequestTimeout,
    RetryPolicy,
    Subscription,
    Unroutable,
    system_queue,
)

__all__ = [
    "DEAD_LETTER_QUEUE",
    "EVENTS_EXCHANGE",
    "Broker",
    "BrokerError",
    "BrokerUnavailable",
    "DeadLetter",
    "Delivery",
    "Handler",
    "Message",
    "RequestTimeout",
    "RetryPolicy",
    "Subscription",
    "Unroutable",
    "system_queue",
]
