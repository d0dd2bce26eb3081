"""The registry's data: persons loaded from fixtures into a read-only in-memory index."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from types import MappingProxyType

from pydantic import TypeAdapter

from simulators.individuals.models import Person
from simulators.kit.fixtures import load_json

FIXTURES = Path(__file__).parent / "fixtures" / "persons.json"
_PERSONS = TypeAdapter(list[Person])


class PersonStore:
    """Persons indexed by IIN; read-only after construction."""

    def __init__(self, persons: Iterable[Person]) -> None:
        index: dict[str, Person] = {}
        for person in persons:
            if person.iin in index:
                raise ValueError(f"duplicate IIN in registry data: {person.iin}")
            index[person.iin] = person
        self._by_iin = MappingProxyType(index)

    @classmethod
    def from_json(cls, path: Path) -> PersonStore:
        return cls(_PERSONS.validate_json(path.read_bytes()))

    def find(self, iin: str) -> Person | None:
        return self._by_iin.get(iin)

    def __len__(self) -> int:
        return len(self._by_iin)

    def __iter__(self) -> Iterator[Person]:
        return iter(self._by_iin.values())


@cache
def default_store() -> PersonStore:
    """The store over the shipped fixtures, loaded once (it is immutable, so sharing is safe)."""
    return PersonStore(load_json(f"{__package__}.fixtures", FIXTURES.name, _PERSONS))
