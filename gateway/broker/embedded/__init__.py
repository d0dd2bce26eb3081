"""The embedded adapter of the broker port: queues kept in the gateway's own database.

On the one-machine default there is no RabbitMQ, yet "accepted means durable" still holds: a
publish is one committed INSERT into ``broker_messages`` (see ``tables``), so an acknowledged
message survives a crash of any process. Every process that opens the same database (SQLite
file or PostgreSQL) shares the queues.

How a delivery works::

  publish(queue)     INSERT row (queue, body, …, attempt 1, available_at now)
                       FK to broker_queues: undeclared queue → Unroutable
  consumer task      claims ≤ prefetch rows: UPDATE … SET lease_owner, lease_expires_at
                       WHERE the row is available and its lease is free or expired, RETURNING
                       (SQLite: BEGIN IMMEDIATE; PostgreSQL: FOR UPDATE SKIP LOCKED)
                       woken at once by publishes of this process, else every poll_interval
  handler running    the broker renews the lease every lease/3 (a long handler is not a crash)
  ack                DELETE the row
  retry(reason)      attempt+1, available_at = now + delay, lease cleared (DLQ at max_attempts)
  dead_letter        queue := kzgate.dead-letters, with reason, original queue and time
  consumer died      its lease expires; the next claim counts it: redelivered, attempt+1
                       (a row whose redelivery would exceed max_attempts is dead-lettered:
                       a message that kills its consumer must not loop forever)
  subscription or    running handlers are cancelled and their leases released at once, so
  close()              the rows are redelivered without waiting for the lease to expire

RPC: each broker has a private reply queue ``kzgate.reply.<uuid>`` in the database, so a
responder in another process can answer; the answer is matched on a request id column (the
correlation id carries the SHEP correlation). Events: each ``subscribe_events`` declares its own
queue ``kzgate.events.sub.<uuid>`` carrying its binding key; ``publish_event`` copies the event,
in one transaction, into every such queue whose key matches (AMQP topic rules). So subscribers
in other processes receive events too, with the same retry and dead-letter handling. Reply and
event queues are auto-delete: their broker renews them while it lives; once one has expired
(its process died) any broker drops it, and its messages with it.

Modules, by job:
- ``broker``: ``EmbeddedBroker``, the port surface and the settlements;
- ``leases``: the SQL of at-least-once delivery (claim, renew, release, bury the worn-out);
- ``queues``: the SQL of declared queues (durable, auto-delete, renewal and expiry);
- ``dead_letters``: the SQL of listing and replaying dead letters;
- ``subscription`` and ``delivery``: a consumer and one claimed row as a port ``Delivery``;
- ``tables``: the two tables and a ``Message``'s columns; ``topics``: AMQP topic matching;
- ``database``: transactions bounded in time, with database failures as port errors.
"""

from gateway.broker.embedded.broker import EmbeddedBroker
from gateway.broker.embedded.topics import topic_matches

__all__ = ["EmbeddedBroker", "topic_matches"]
