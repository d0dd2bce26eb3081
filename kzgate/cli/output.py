"""How commands print: a table for people by default, ``--json`` for machines, and a progress
bar (on a terminal) while work takes more than a few seconds."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines")


def print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def console() -> Console:
    # No colours when piped: a table in a file or a CI log stays plain text.
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)


def print_table(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str = ""
) -> None:
    table = Table(title=title, caption=caption or None, header_style="bold", title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    console().print(table)


@contextmanager
def progress(description: str, total: float | None = None) -> Iterator[Any]:
    """A progress bar (or a spinner when ``total`` is unknown) on stderr, only on a terminal;
    yields a function ``advance(done=None, text=None)``."""
    enabled = sys.stderr.isatty()
    bar = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f}" if total else ""),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=not enabled,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(done: float | None = None, text: str | None = None) -> None:
            bar.update(task, completed=done, description=text or description)

        yield advance
