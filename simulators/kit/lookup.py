"""A state registry's look-up by number, written once: what GBDUL (by BIN) and GBDFL (by IIN) are.

Such a registry is three things of its own — a model (one pydantic record per number), a fixture
(the records as JSON in its package) and a ``LookupRegistry`` (its payload contract and wording)
— and the kit does the rest the same way for each:

- the decision: a malformed 12-digit number is the business answer ``INVALID_<NUMBER>`` with the
  reason (``kit/identifiers.py``), not a broken message; an unknown one is ``NOT_FOUND``; a known
  one is ``FOUND`` even when its status is inactive (liquidated, deceased): the registry reports
  the status and leaves the decision (a refusal, say) to the asking system;
- the payload: the request read from ``data`` (wrapped or ``xsi:type``-typed), the response
  written with ``resultCode``, ``resultMessage`` and the record;
- the endpoint: a SHEP provider (``kit/provider.py``) over a read-only index of the fixture.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Generic, TypeVar

from lxml import etree
from pydantic import BaseModel, TypeAdapter

from connectors import SyncRequest, TrustStore
from connectors.roster import RosterEntry
from simulators.kit.fixtures import load_json
from simulators.kit.identifiers import explain_invalid
from simulators.kit.payloads import PayloadSpec, read_payload, required
from simulators.kit.provider import ProviderResult, SyncProvider
from simulators.kit.xml import Layout, write_model

Record = TypeVar("Record", bound=BaseModel)


class ResultCode(StrEnum):
    """The answers every registry gives; the third is ``LookupRegistry.invalid`` (per number)."""

    FOUND = "FOUND"
    NOT_FOUND = "NOT_FOUND"


@dataclass(frozen=True)
class LookupResult(Generic[Record]):
    """The registry's answer for one requested number."""

    code: str  # FOUND, NOT_FOUND or INVALID_<NUMBER>
    message: str
    number: str
    record: Record | None = None


class RecordIndex(Generic[Record]):
    """Records indexed by their number; read-only after construction (registry data does not
    change in a simulator, so there is no write path)."""

    def __init__(self, records: Iterable[Record], key: str) -> None:
        index: dict[str, Record] = {}
        for record in records:
            number = getattr(record, key)
            if number in index:
                raise ValueError(f"duplicate {key.upper()} in registry data: {number}")
            index[number] = record
        self._by_number = MappingProxyType(index)

    def find(self, number: str) -> Record | None:
        return self._by_number.get(number)

    def __len__(self) -> int:
        return len(self._by_number)

    def __iter__(self) -> Iterator[Record]:
        return iter(self._by_number.values())


@dataclass(frozen=True)
class LookupRegistry(Generic[Record]):
    """One registry's contract and wording; its look-up, payload and endpoint follow from it.

    By the project's conventions the rest is named after the system and the model: the payload
    contract is ``PayloadSpec.of(system)``; a ``Person`` is asked for with ``PersonRequest``,
    answered in ``PersonResponse`` as ``<person>``, and shipped in ``fixtures/persons.json``.
    """

    system: RosterEntry
    model: type[Record]
    key: str  # the number: the request's field and the record's attribute (iin, bin)
    noun: str  # what a record is, in messages ("person", "legal entity")
    record_layout: Layout  # how a record is written in the response (``kit/xml.py``)

    @property
    def payload(self) -> PayloadSpec:
        return PayloadSpec.of(self.system)

    @property
    def request(self) -> str:
        return f"{self.model.__name__}Request"

    @property
    def response(self) -> str:
        return f"{self.model.__name__}Response"

    @property
    def record_element(self) -> str:
        return self.model.__name__.lower()

    @property
    def fixtures(self) -> str:
        """The JSON resource in the package's ``fixtures``."""
        return f"{self.record_element}s.json"

    @property
    def invalid(self) -> str:
        return f"INVALID_{self.key.upper()}"

    @property
    def fixtures_package(self) -> str:
        return f"{self.system.package}.fixtures"

    @property
    def fixtures_path(self) -> Path:
        """The fixture file in the source tree (its generator writes it)."""
        return (
            Path(__file__)
            .resolve()
            .parents[2]
            .joinpath(*self.fixtures_package.split("."), self.fixtures)
        )

    def look_up(self, number: str, store: RecordIndex[Record]) -> LookupResult[Record]:
        """Validate the number, then search the registry."""
        label = self.key.upper()
        reason = explain_invalid(number)
        if reason is not None:
            return LookupResult(self.invalid, f"Invalid {label}: {reason}", number)
        record = store.find(number)
        if record is None:
            missing = f"No {self.noun} with {label} {number}"
            return LookupResult(ResultCode.NOT_FOUND, missing, number)
        status = getattr(record, "status", None)
        found = f"{self.noun[0].upper()}{self.noun[1:]} found, status {status}"
        return LookupResult(ResultCode.FOUND, found, number, record)

    def parse_request(self, data: etree._Element) -> str:
        """The requested number (whitespace-trimmed, not validated: see ``look_up``)."""
        _, request = self.payload.find_request(data, (self.request,), direct_field=self.key)
        return required(request, self.key)

    def build_request(self, number: str) -> etree._Element:
        """The request element, for clients and tests that call the registry."""
        return self.payload.element(self.request, ((self.key, number),))

    def build_response(self, result: LookupResult[Record]) -> etree._Element:
        """The response element for a look-up result, to be placed inside ``data``."""
        response = self.payload.result(self.response, result.code, result.message)
        if result.record is not None:
            record = etree.SubElement(response, self.record_element)
            write_model(record, result.record, self.record_layout)
        return response

    def index(self, records: Iterable[Record]) -> RecordIndex[Record]:
        return RecordIndex(records, self.key)

    def default_store(self) -> RecordIndex[Record]:
        """The index over the shipped fixture, loaded once (immutable, so sharing is safe)."""
        return _fixture_index(self)

    def handler(self, store: RecordIndex[Record]) -> Callable[[SyncRequest], ProviderResult]:
        """The business function: the number in ``data`` → the registry's answer in ``data``."""

        def handle(request: SyncRequest) -> ProviderResult:
            number = read_payload(request, self.parse_request)
            return ProviderResult(payload=self.build_response(self.look_up(number, store)))

        return handle

    def provider(
        self,
        pki_dir: Path,
        *,
        store: RecordIndex[Record] | None = None,
        trust: TrustStore | None = None,
    ) -> SyncProvider:
        """The registry's SyncChannel endpoint, over ``store`` (default: the fixture)."""
        handler = self.handler(store or self.default_store())
        return SyncProvider.from_pki(self.system, pki_dir, handler, trust=trust)


@cache
def _fixture_index(registry: LookupRegistry) -> RecordIndex:
    records = load_json(registry.fixtures_package, registry.fixtures, _list_of(registry.model))
    return registry.index(records)


@cache
def _list_of(model: type[BaseModel]) -> TypeAdapter:
    return TypeAdapter(list[model])
