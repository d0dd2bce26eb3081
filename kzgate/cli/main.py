"""Entry point of ``kzgate``: the parser of every command. Each command group lives in its own
module with a ``register(subparsers)`` that sets ``func`` on its parsers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from kzgate.cli import (
    attack,
    catalogue,
    demo,
    dlq,
    faults,
    log,
    officer,
    pki,
    scenario,
    send,
    serve,
    sim,
    status,
)

# Each module has register(subparsers) and sets ``func`` on its parsers: func(args) -> exit code.
# Listed in the order ``kzgate --help`` shows them.
_COMMAND_MODULES = (
    pki,
    log,
    send,
    serve,
    faults,
    dlq,
    demo,
    status,
    catalogue,
    sim,
    officer,
    scenario,
    attack,
)


DESCRIPTION = """\
kzgate runs a simulated Kazakh e-government integration gateway (SHEP) together with simulated
state systems. Start everything with "kzgate up", send signed SOAP requests through the gateway
with "kzgate send", and inspect or steer the running system with the other commands.
Run "kzgate COMMAND --help" for what a command does and its options."""


class _DescribedSubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Sub-commands whose own ``--help`` opens with the line the command list shows.

    argparse shows ``help=`` only in the parent's list; without a ``description`` a command's
    own help would be bare usage. argparse offers no public hook for this default.
    """

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        if kwargs.get("help") and "description" not in kwargs:
            kwargs["description"] = kwargs["help"][:1].upper() + kwargs["help"][1:] + "."
        child = super().add_parser(name, **kwargs)
        child.register("action", "parsers", _DescribedSubParsers)
        return child


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kzgate", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.register("action", "parsers", _DescribedSubParsers)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in _COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
