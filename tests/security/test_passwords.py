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


class _Clock:
    """A monotonic clock the test moves by hand: back-offs end without anyone waiting."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def test_the_right_password_works_again_once_the_back_off_ends(scrypts: list[str]) -> None:
    clock = _Clock()
    checker = PasswordChecker(failures_allowed=3, backoff_seconds=60.0, clock=clock)
    stored = hash_password("right")
    assert [checker.matches("EGOV_PORTAL", "guess", stored) for _ in range(3)] == [False] * 3
    clock.now += 59.0
    with pytest.raises(passwords.SenderLocked) as locked:
        checker.matches("EGOV_PORTAL", "right", stored)
    assert locked.value.retry_after == pytest.approx(1.0)
    clock.now += 1.5
    assert checker.matches("EGOV_PORTAL", "right", stored)
    assert scrypts == ["guess"] * 3 + ["right"], "nothing was checked while locked"


def test_each_wrong_password_past_the_lock_doubles_it_and_a_right_one_ends_the_series(
    scrypts: list[str],
) -> None:
    clock = _Clock()
    checker = PasswordChecker(failures_allowed=1, backoff_seconds=10.0, clock=clock)
    stored = hash_password("right")
    assert not checker.matches("KEDEN", "guess", stored)  # locked for 10 s
    clock.now += 10.5
    assert not checker.matches("KEDEN", "guess", stored)  # locked for 20 s
    clock.now += 19.0
    with pytest.raises(passwords.SenderLocked):
        checker.matches("KEDEN", "right", stored)
    clock.now += 1.5
    assert checker.matches("KEDEN", "right", stored)
    assert not checker.matches("KEDEN", "guess", stored)  # a new series: locked 10 s again
    clock.now += 10.5
    assert checker.matches("KEDEN", "right", stored)
