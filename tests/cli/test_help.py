"""``kzgate --help`` and every command's own help read as user text, not developer notes."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from gateway.cli.main import build_parser


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:  # argparse has no public walk of its sub-commands
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _commands(child, (*path, name))


def test_the_tool_says_what_it_does() -> None:
    text = build_parser().format_help()
    assert "kzgate runs a simulated Kazakh e-government integration gateway" in text
    assert "``" not in text and "register" not in text and "Entry point" not in text


def test_every_command_describes_itself_in_its_own_help() -> None:
    commands = list(_commands(build_parser()))
    assert len(commands) > 20
    bare = [" ".join(path) for path, parser in commands if not parser.description]
    assert bare == []
    for _, parser in commands:
        assert "``" not in parser.format_help()
