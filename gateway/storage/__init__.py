"""The gateway's database schema: the shared ``MetaData`` and its creation, and the replay guard.

This package owns the gateway's tables: ``metadata`` (tables of other gateway packages register
on it), ``create_schema`` and the replay-guard table (``seen_messages``). How a process talks to
its database — engines, the UTC column type, concurrent table creation — is the kit's
``connectors.db``, which the simulators stand on too.
"""

from gateway.storage.schema import create_schema, metadata

__all__ = ["create_schema", "metadata"]
