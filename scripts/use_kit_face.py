#!/usr/bin/env python3
"""Make code outside the kit import the kit through its public face.

``from connectors.soap.sync import SyncRequest, copy_payload`` becomes
``from connectors import SyncRequest`` plus ``from connectors.soap.sync import copy_payload``:
every name that ``connectors.__all__`` exports (the very same object) is taken from the face, the
rest stays where it is. Re-runnable; run it with the project's interpreter (it imports the kit),
then ``ruff check --fix`` merges and sorts the import blocks:

    .venv/bin/python scripts/use_kit_face.py [ROOT] && .venv/bin/ruff check --fix -q .
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

SCOPES = ("kzgate", "gateway", "simulators", "tests", "examples", "bench")


def _face() -> dict[str, object]:
    import connectors

    return {name: getattr(connectors, name) for name in connectors.__all__}


def _rewrite(text: str, face: dict[str, object]) -> str:
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(ast.parse(text)):
        if not (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").startswith("connectors.")
        ):
            continue
        module = importlib.import_module(node.module)
        public, rest = [], []
        for alias in node.names:
            same = alias.name in face and getattr(module, alias.name, None) is face[alias.name]
            (public if same else rest).append(alias)
        if not public:
            continue
        indent = lines[node.lineno - 1][: node.col_offset]
        # A trailing comment (a noqa marker) stays with every statement the import becomes.
        tail = lines[(node.end_lineno or node.lineno) - 1][node.end_col_offset :].rstrip("\n")

        def render(
            module_name: str, aliases: list[ast.alias], indent: str = indent, tail: str = tail
        ) -> str:
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in aliases)
            return f"{indent}from {module_name} import {names}{tail}\n"

        new = render("connectors", public) + (render(node.module, rest) if rest else "")
        edits.append((node.lineno - 1, node.end_lineno or node.lineno, new))
    for start, end, new in sorted(edits, reverse=True):
        lines[start:end] = [new]
    return "".join(lines)


def main(root: Path) -> None:
    sys.path.insert(0, str(root))
    face = _face()
    tracked = subprocess.run(
        ["git", "ls-files", *SCOPES], cwd=root, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    for name in tracked:
        path = root / name
        if path.suffix != ".py" or name == "tests/test_architecture.py":
            continue
        text = path.read_text(encoding="utf-8")
        new = _rewrite(text, face)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print("rewrote", name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
