"""The database plumbing every process with state stands on: the gateway and each simulator.

This package owns how a process talks to its database (a SQLite file by default, PostgreSQL by URL):
engine creation with durable-commit settings and write-lock semantics (``engine``), the UTC
timestamp column type (``types``) and creating tables that several processes may create at once
(``tables``), and hot statements on PostgreSQL's driver connection (``driver``). It defines no table
of its own: the gateway's tables live in ``gateway.storage`` and the others', each simulator's, in
its own package.
"""

from connectors.db.driver import (
    DriverStatement,
    InsertOnce,
    StatementsByColumns,
    driver_connection,
    statement_transaction,
)
from connectors.db.engine import (
    create_engine,
    read_statement,
    write_statement,
    write_transaction,
)
from connectors.db.tables import create_tables
from connectors.db.types import UtcDateTime

__all__ = [
    "DriverStatement",
    "InsertOnce",
    "StatementsByColumns",
    "UtcDateTime",
    "create_engine",
    "create_tables",
    "driver_connection",
    "read_statement",
    "statement_transaction",
    "write_statement",
    "write_transaction",
]
