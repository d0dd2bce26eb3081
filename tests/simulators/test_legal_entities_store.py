"""GBDUL fixtures and store: every identifier valid and unique, every status present."""

import json
from collections import Counter
from datetime import date

import pytest
from pydantic import ValidationError

from simulators.kit.identifiers import is_valid_bin, is_valid_iin
from simulators.legal_entities.fixtures import generate
from simulators.legal_entities.models import Organization, OrganizationStatus
from simulators.legal_entities.payload import GBDUL, default_store

FIXTURES = GBDUL.fixtures_path


@pytest.fixture(scope="module")
def organizations() -> list[Organization]:
    return list(default_store())


def test_enough_fixtures(organizations: list[Organization]) -> None:
    assert len(organizations) >= 30


def test_every_bin_and_head_iin_valid_and_unique(organizations: list[Organization]) -> None:
    bins = [org.bin for org in organizations]
    iins = [org.head.iin for org in organizations]
    assert all(is_valid_bin(b) for b in bins)
    assert all(is_valid_iin(i) for i in iins)
    assert len(set(bins)) == len(bins)
    assert len(set(iins)) == len(iins)


def test_every_status_present_and_most_active(organizations: list[Organization]) -> None:
    counts = Counter(org.status for org in organizations)
    assert set(counts) == set(OrganizationStatus)
    assert counts[OrganizationStatus.ACTIVE] > len(organizations) / 2


def test_bin_layout_matches_registration(organizations: list[Organization]) -> None:
    for org in organizations:
        assert org.bin[:4] == f"{org.registration_date:%y%m}", org.bin
        assert org.bin[4] in "456", org.bin


def test_shipped_json_is_what_the_script_generates() -> None:
    shipped = json.loads(FIXTURES.read_text(encoding="utf-8"))
    assert shipped == [org.model_dump(mode="json") for org in generate.generate()]


def test_find(organizations: list[Organization]) -> None:
    store = default_store()
    first = organizations[0]
    assert store.find(first.bin) == first
    assert store.find("000000000000") is None
    assert len(store) == len(organizations)


def test_store_rejects_duplicate_bins(organizations: list[Organization]) -> None:
    with pytest.raises(ValueError, match="duplicate BIN"):
        GBDUL.index([organizations[0], organizations[0]])


def test_organizations_are_read_only(organizations: list[Organization]) -> None:
    with pytest.raises(ValidationError):
        organizations[0].status = OrganizationStatus.LIQUIDATED  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("bin", "050140000121", "check digit mismatch"),
        ("oked_code", "4690", "pattern"),
        ("status_date", date(1990, 1, 1), "precedes"),
    ],
)
def test_model_rejects_bad_data(
    organizations: list[Organization], field: str, value: object, error: str
) -> None:
    data = organizations[0].model_dump() | {field: value}
    with pytest.raises(ValidationError, match=error):
        Organization.model_validate(data)


def test_model_rejects_bad_head_iin(organizations: list[Organization]) -> None:
    data = organizations[0].model_dump()
    data["head"]["iin"] = "850315300018"
    with pytest.raises(ValidationError, match="check digit mismatch"):
        Organization.model_validate(data)
