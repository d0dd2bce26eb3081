"""Reading a scenario file: YAML → ``Scenario``, every error naming its line and its field.

PyYAML's node tree keeps the line of every mapping key and value; the loader walks it once to
build the plain data and a map from each field's path to its line, so a pydantic error at
``steps.2.file_licence.as`` is reported as ``line 9: steps[2].file_licence.as: Field required``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kzgate.rehearsal.model import Scenario

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ScenarioError(Exception):
    """A scenario file that cannot be run; ``problems`` are 'line N: field: message' lines."""

    file: str
    problems: tuple[str, ...]

    def __str__(self) -> str:
        return "\n".join(f"{self.file}: {p}" for p in self.problems)


def load_scenario(file: Path) -> Scenario:
    """The scenario in ``file``, or ``ScenarioError`` naming the line and the field."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(str(file), (f"cannot read: {exc.strerror}",)) from exc
    return parse_scenario(text, str(file))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        raise ScenarioError(name, (f"{where}not YAML: {getattr(exc, 'problem', exc)}",)) from exc
    if node is None:
        raise ScenarioError(name, ("line 1: the file is empty",))
    lines: dict[Path_, int] = {}
    data = _plain(node, (), lines)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(name, tuple(_problem(e, lines) for e in exc.errors())) from exc


def _plain(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = str(SafeConstructor.construct_scalar_value(key_node))
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _plain(value_node, (*path, key), lines)
            lines[(*path, key)] = key_node.start_mark.line + 1  # the key's line, not its value's
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_plain(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return SafeConstructor.construct_scalar_value(node)


class SafeConstructor(yaml.SafeLoader):
    """PyYAML's safe typing of one scalar (dates, numbers, booleans, null) outside a document."""

    @classmethod
    def construct_scalar_value(cls, node: yaml.Node) -> Any:
        loader = cls("")
        try:
            return loader.construct_object(node, deep=True)
        finally:
            loader.dispose()


def _problem(error: Any, lines: dict[Path_, int]) -> str:
    loc = tuple(error["loc"])
    # Discriminated unions put the step kind in the location twice (the tag, then the field).
    data_path = tuple(part for i, part in enumerate(loc) if not (i and loc[i - 1] == part))
    line = _nearest_line(data_path, lines)
    field = _dotted(data_path) or "(top level)"
    message = error["msg"]
    if error["type"] == "extra_forbidden":
        message = "unknown field (misspelt?)"
    return f"line {line}: {field}: {message}"


def _nearest_line(path: Path_, lines: dict[Path_, int]) -> int:
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
