"""The look-up decision (the kit's, on GBDUL's data): one test per result code."""

import pytest

from simulators.kit.lookup import ResultCode
from simulators.legal_entities.models import OrganizationStatus
from simulators.legal_entities.payload import GBDUL, default_store


def test_found_carries_the_organization() -> None:
    org = next(iter(default_store()))
    result = GBDUL.look_up(org.bin, default_store())
    assert result.code == ResultCode.FOUND
    assert result.record == org


def test_inactive_organization_is_still_found() -> None:
    liquidated = next(o for o in default_store() if o.status is OrganizationStatus.LIQUIDATED)
    result = GBDUL.look_up(liquidated.bin, default_store())
    assert result.code == ResultCode.FOUND
    assert "LIQUIDATED" in result.message


def test_valid_but_unknown_bin_is_not_found() -> None:
    result = GBDUL.look_up("050140000120", default_store())  # valid check digit, not in fixtures
    assert result.code == ResultCode.NOT_FOUND
    assert result.record is None


@pytest.mark.parametrize(
    ("bin", "reason"),
    [
        ("050140000121", "check digit mismatch"),
        ("05014000012", "12 digits"),
        ("05014000012X", "12 digits"),
        ("050140001000", "unassignable"),
    ],
)
def test_invalid_bin_explains_why(bin: str, reason: str) -> None:
    result = GBDUL.look_up(bin, default_store())
    assert result.code == "INVALID_BIN"
    assert reason in result.message
    assert result.record is None
