"""``kzgate faults``: the fault-code table (the README's table is this command's output)."""

from __future__ import annotations

import argparse

from connectors import all_faults


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("faults", help="print every fault code as a Markdown table")
    parser.set_defaults(func=_print)


def fault_table() -> str:
    lines = ["| errorCode | meaning | how to fix | SCE |", "|---|---|---|---|"]
    for fault in all_faults():
        lines.append(f"| `{fault.code}` | {fault.title} | {fault.hint} | {fault.legacy} |")
    return "\n".join(lines)


def _print(args: argparse.Namespace) -> int:
    print(fault_table())
    return 0
