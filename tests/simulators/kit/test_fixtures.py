"""Fixture loading: package resources validated into models, with clear failures."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError

from simulators.kit.fixtures import load_json
from simulators.legal_entities.models import Organization
from simulators.legal_entities.payload import GBDUL, default_store


class Rate(BaseModel):
    year: int
    mrp: int


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway importable package ``kitfixtures`` holding two JSON resources."""
    root = tmp_path / "kitfixtures"
    root.mkdir()
    (root / "__init__.py").write_text("")
    (root / "rates.json").write_text('[{"year": 2026, "mrp": 4325}]', encoding="utf-8")
    (root / "broken.json").write_text('[{"year": "last", "mrp": 4325}]', encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    return "kitfixtures"


def test_loads_and_validates_into_models(package: str) -> None:
    assert load_json(package, "rates.json", list[Rate]) == [Rate(year=2026, mrp=4325)]
    assert load_json(package, "rates.json", TypeAdapter(list[Rate]))[0].mrp == 4325


def test_bad_data_fails_with_the_field(package: str) -> None:
    with pytest.raises(ValidationError, match="year"):
        load_json(package, "broken.json", list[Rate])


def test_missing_resource_fails(package: str) -> None:
    with pytest.raises(FileNotFoundError):
        load_json(package, "absent.json", list[Rate])


def test_the_registry_store_loads_through_it() -> None:
    loaded = load_json("simulators.legal_entities.fixtures", GBDUL.fixtures, list[Organization])
    assert loaded == list(default_store())
    assert len(loaded) >= 30
