"""The remembered password checks: a success is reused only while the catalogue's hash stands."""

from __future__ import annotations

import pytest

from gateway.registry import passwords
from gateway.registry.passwords import PasswordChecker, hash_password


@pytest.fixture
def scrypts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password that costs a scrypt check, in order."""
    seen: list[str] = []
    real = passwords.check_password

    def counted(password: str, stored: str) -> bool:
        seen.append(password)
        return real(password, stored)

    monkeypatch.setattr(passwords, "check_password", counted)
    return seen


def test_a_success_is_remembered(scrypts: list[str]) -> None:
    checker = PasswordChecker()
    stored = hash_password("first")
    assert checker.matches("EGOV_PORTAL", "first", stored)
    assert checker.matches("EGOV_PORTAL", "first", stored)
    assert scrypts == ["first"], "the second check is the remembered one"


def test_a_new_hash_in_the_catalogue_forgets_the_old_password(scrypts: list[str]) -> None:
    checker = PasswordChecker()
    assert checker.matches("EGOV_PORTAL", "first", hash_password("first"))
    rotated = hash_password("second")  # the catalogue now holds another password
    assert not checker.matches("EGOV_PORTAL", "first", rotated)
    assert checker.matches("EGOV_PORTAL", "second", rotated)
    assert scrypts == ["first", "first", "second"]
