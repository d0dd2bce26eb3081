"""The message broker between the gateway and the systems: one port, two adapters.

``port`` says what the rest of the code may rely on; ``rabbitmq`` is the production adapter
(aio-pika), ``embedded`` the in-process one for the one-machine default.
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
