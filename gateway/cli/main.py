"""Entry point of ``kzgate``. Each command group lives in its own module with a ``register``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

# Each module has register(subparsers) and sets ``func`` on its parsers: func(args) -> exit code.
_COMMAND_MODULES = (
    "pki",
    "log",
    "send",
    "serve",
    "faults",
    "dlq",
    "demo",
    "status",
    "catalogue",
    "sim",
    "officer",
    "scenario",
    "attack",
)


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(prog="kzgate", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"gateway.cli.{name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
