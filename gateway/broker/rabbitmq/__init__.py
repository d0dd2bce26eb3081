"""The RabbitMQ adapter of the broker port (aio-pika, robust connection, publisher confirms).

- ``broker``: ``RabbitBroker``, the port surface: publish with confirms, consume, RPC, dead letters.
- ``topology``: what ``start()`` declares (quorum system queues, delay levels, DLQ, events).
- ``messages``: a port ``Message`` as an AMQP message and back; the adapter's own headers.
- ``delivery``: one AMQP delivery as a port ``Delivery`` (confirmed copy first, then the ack).
- ``subscription``: a consumer's channel, cancelled cleanly.
"""

from gateway.broker.rabbitmq.broker import RabbitBroker

__all__ = ["RabbitBroker"]
