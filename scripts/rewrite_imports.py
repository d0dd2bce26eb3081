#!/usr/bin/env python3
"""Apply issue 11's module moves to a checkout: move the files (if still at their old place) and
rewrite every reference — imports, dotted names in strings (``monkeypatch`` targets, docs) and
file paths in prose — from the old module path to the new one.

Re-runnable and idempotent, so that it can be run again on a branch that added files meanwhile:
``python scripts/rewrite_imports.py [ROOT]`` (ROOT defaults to the checkout holding this script).
Files under ``gateway/broker/`` and ``gateway/storage/broker_queue.py`` only get their import
lines rewritten (another branch reshapes them).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

# old module → new module; the longest (most specific) prefixes first.
MODULES: list[tuple[str, str]] = [
    ("gateway.security.policy", "gateway.channels.policy"),
    ("gateway.security", "connectors.wsse"),
    ("gateway.soap", "connectors.soap"),
    ("gateway.errors", "connectors.errors"),
    ("connectors.system", "gateway.delivery.connector"),
    # The attack catalogue is wire-level (gateway_kit, the gateway's own, went to its CLI).
    ("gateway.attacks", "connectors.attacks"),
]

# old file → new file, moved with ``git mv`` when the old one still exists.
FILES: list[tuple[str, str]] = [
    ("gateway/security/policy.py", "gateway/channels/policy.py"),
    *(
        (f"gateway/security/{name}.py", f"connectors/wsse/{name}.py")
        for name in ("__init__", "dsig", "payload", "pki", "transport", "trust")
    ),
    *(
        (f"gateway/soap/{name}.py", f"connectors/soap/{name}.py")
        for name in (
            "__init__",
            "async_",
            "contracts",
            "envelope",
            "faults",
            "namespaces",
            "parser",
            "schema",
            "sync",
            "values",
        )
    ),
    ("gateway/errors.py", "connectors/errors.py"),
    ("connectors/system.py", "gateway/delivery/connector.py"),
    ("gateway/storage/engine.py", "connectors/db/engine.py"),
    ("gateway/storage/types.py", "connectors/db/types.py"),
]

SKIP = {"scripts/rewrite_imports.py", "tests/test_architecture.py"}
IMPORT_LINES_ONLY = ("gateway/broker/", "gateway/storage/broker_queue.py")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".sh", ".yml", ".yaml", ".html"}


def _module_rules() -> list[tuple[re.Pattern[str], str]]:
    rules = [
        # ``from gateway import errors`` names the module as an attribute of its package.
        (re.compile(r"\bfrom gateway import errors\b"), "from connectors import errors"),
        # The contract folders belong to the kit; PROJECT_ROOT (a checkout's root) does not.
        (
            re.compile(r"\bfrom gateway\.paths import (?=[WX]S\w*_DIR(?:, [WX]S\w*_DIR)?\n)"),
            "from connectors.paths import ",
        ),
        # The database plumbing went under both gateway and simulators, to the kit's ``db``;
        # imported through its face (run ``ruff check --fix`` afterwards to merge the lines).
        (
            re.compile(r"\bfrom gateway\.storage\.(?:engine|types) import\b"),
            "from connectors.db import",
        ),
        (
            re.compile(r"\bfrom gateway\.storage\.schema import create_tables\n"),
            "from connectors.db import create_tables\n",
        ),
        (
            re.compile(r"\bfrom gateway\.channels\.policy import check_freshness\n"),
            "from connectors.wsse.freshness import check_freshness\n",
        ),
    ]
    for old, new in MODULES:
        rules.append((re.compile(rf"(?<![\w.]){re.escape(old)}(?!\w)"), new))
        old_path, new_path = old.replace(".", "/"), new.replace(".", "/")
        rules.append((re.compile(rf"(?<![\w/.]){re.escape(old_path)}(?=/|\.py\b)"), new_path))
    return rules


RULES = _module_rules()


def rewrite(text: str) -> str:
    for pattern, new in RULES:
        text = pattern.sub(new, text)
    return text


def rewrite_imports_only(text: str) -> str:
    out = []
    for line in text.splitlines(keepends=True):
        stripped = line.lstrip()
        out.append(rewrite(line) if stripped.startswith(("from ", "import ")) else line)
    return "".join(out)


def move_files(root: Path) -> None:
    for old, new in FILES:
        source, target = root / old, root / new
        if source.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["git", "mv", old, new], cwd=root, check=True)


def main(root: Path) -> None:
    move_files(root)
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.splitlines()
    for name in tracked:
        path = root / name
        if name in SKIP or (path.suffix not in SUFFIXES and path.name not in {"run", "test"}):
            continue
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        new = rewrite_imports_only(text) if name.startswith(IMPORT_LINES_ONLY) else rewrite(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
            print("rewrote", name)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
