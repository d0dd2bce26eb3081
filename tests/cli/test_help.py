"""``kzgate --help`` and every command's own help read as user text, not developer notes."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

import pytest

from kzgate.cli.main import build_parser

# What a module docstring or a developer note looks like; a user's help never reads like this.
DEVELOPER_WORDS = re.compile(r"``|Entry point|\bregister\(|\bfunc\b|\bsubparsers\b|:func:|:class:")


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:  # argparse has no public walk of its sub-commands
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield (*path, name), child
                yield from _commands(child, (*path, name))


def _arguments(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    """The options and positionals a user types (not --help, not the sub-command slot)."""
    for action in parser._actions:
        if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            yield action


COMMANDS = list(_commands(build_parser()))


def test_the_tool_says_what_it_does() -> None:
    text = build_parser().format_help()
    assert "kzgate runs a simulated Kazakh e-government integration gateway" in text
    assert not DEVELOPER_WORDS.search(text), text


def test_every_command_describes_itself_in_its_own_help() -> None:
    assert len(COMMANDS) > 20
    bare = [" ".join(path) for path, parser in COMMANDS if not parser.description]
    assert bare == []


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(path) for path, _ in COMMANDS])
def test_each_command_and_each_of_its_options_says_what_it_is_for(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    text = parser.format_help()
    assert not DEVELOPER_WORDS.search(text), f"kzgate {' '.join(path)} --help:\n{text}"
    unexplained = [
        "/".join(action.option_strings) or action.dest
        for action in _arguments(parser)
        if not action.help or action.help == argparse.SUPPRESS or not action.help.strip()
    ]
    assert unexplained == [], f"kzgate {' '.join(path)}: options without help"


def test_the_checks_catch_a_bare_option_and_a_docstring() -> None:
    parser = argparse.ArgumentParser(prog="kzgate x", description="``register`` adds this.")
    parser.add_argument("--limit")
    assert DEVELOPER_WORDS.search(parser.format_help())
    assert [a.dest for a in _arguments(parser) if not a.help] == ["limit"]
