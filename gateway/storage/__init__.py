"""The gateway's database: engine creation, the shared ``MetaData`` and schema creation.

This package owns how the gateway talks to its database (SQLite file by default, PostgreSQL by
URL): durable-commit settings, write-lock semantics, the UTC timestamp column type, and the
replay-guard table (``seen_messages``). Tables of other packages register on ``metadata``.
"""

from gateway.storage.engine import create_engine, write_transaction
from gateway.storage.schema import create_schema, metadata
from gateway.storage.types import UtcDateTime

__all__ = ["UtcDateTime", "create_engine", "create_schema", "metadata", "write_transaction"]
