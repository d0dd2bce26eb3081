"""Fixture data shipped inside simulator packages, read and validated in one call.

Reading through ``importlib.resources`` (not a path next to ``__file__``) keeps fixtures working
when the package is installed as a wheel or zip; validating into pydantic models at load time
means a broken fixture fails at start-up with the field that is wrong, not mid-request.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, TypeVar

from pydantic import TypeAdapter

T = TypeVar("T")


def load_json(package: str, name: str, schema: type[T] | Any) -> T:
    """The JSON resource ``name`` of ``package``, validated as ``schema``.

    ``schema`` is anything pydantic can validate against — a model, ``list[Model]``,
    ``dict[str, Model]`` … — or a ready ``TypeAdapter``. A missing resource raises
    FileNotFoundError (ModuleNotFoundError for a missing package), bad data ValidationError.
    """
    raw = resources.files(package).joinpath(name).read_bytes()
    adapter = schema if isinstance(schema, TypeAdapter) else _adapter(schema)
    return adapter.validate_json(raw)


@cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    # Building an adapter compiles a validator; fixtures of one schema reuse it.
    return TypeAdapter(schema)
