"""Kazakhstan's 12-digit identifiers: IIN (ЖСН / ИИН, individual) and BIN (БСН / БИН, business).

Both share one check-digit algorithm (digit 12): a weighted sum of the first 11 digits mod 11,
with a second set of weights when the first pass gives 10. A number whose second pass also gives
10 can never be issued, so generators skip the serial that produces it.

Layouts:
- BIN: ``YYMM`` of registration, legal-entity type (4 resident, 5 non-resident, 6 joint
  individual entrepreneurship), attribute (0 head office, 1 branch, 2 representative office,
  3 peasant farm), 5-digit serial, check digit.
- IIN: ``YYMMDD`` of birth, century + sex (1/2 1800s, 3/4 1900s, 5/6 2000s; odd = male),
  4-digit serial, check digit.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

LENGTH = 12
_FIRST_WEIGHTS = tuple(range(1, 12))
_SECOND_WEIGHTS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_UNASSIGNABLE = 10

BIN_KINDS = {4: "resident legal entity", 5: "non-resident legal entity", 6: "joint IE"}
BIN_ATTRIBUTES = {0: "head office", 1: "branch", 2: "representative office", 3: "peasant farm"}
_BIN_SERIAL_LIMIT = 100_000
_IIN_SERIAL_LIMIT = 10_000
# First year of each century the IIN's 7th digit can express; the digit is 2*index+1 (+1 female).
_CENTURIES = (1800, 1900, 2000)


class Sex(StrEnum):
    MALE = "M"
    FEMALE = "F"


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11


def check_digit(first11: str) -> int | None:
    """The check digit for 11 leading digits, or None when the number is unassignable."""
    if len(first11) != LENGTH - 1 or not _is_ascii_digits(first11):
        raise ValueError(f"need 11 digits, got {first11!r}")
    value = _weighted(first11, _FIRST_WEIGHTS)
    if value == _UNASSIGNABLE:
        value = _weighted(first11, _SECOND_WEIGHTS)
    return None if value == _UNASSIGNABLE else value


def explain_invalid(number: str) -> str | None:
    """Why ``number`` is not a valid IIN/BIN, or None when it is valid."""
    if len(number) != LENGTH or not _is_ascii_digits(number):
        return f"must be exactly {LENGTH} digits, got {_shown(number)}"
    expected = check_digit(number[:-1])
    if expected is None:
        return "unassignable: the check digit computes to 10 on both passes"
    if expected != int(number[-1]):
        return f"check digit mismatch: expected {expected}, got {number[-1]}"
    return None


def is_valid_bin(number: str) -> bool:
    """True when ``number`` is a 12-digit BIN with a correct check digit."""
    # Only the check digit is enforced: registries answer by the number as issued, and older
    # BINs do not all follow the YYMM/type layout, so a layout check would reject real ones.
    return explain_invalid(number) is None


def is_valid_iin(number: str) -> bool:
    """True when ``number`` is a 12-digit IIN with a correct check digit."""
    return explain_invalid(number) is None


def make_bin(registered: date, kind: int, serial: int, attribute: int = 0) -> str:
    """A valid BIN; if ``serial`` is unassignable the next assignable serial is used."""
    if kind not in BIN_KINDS:
        raise ValueError(f"legal-entity type must be one of {sorted(BIN_KINDS)}, got {kind}")
    if attribute not in BIN_ATTRIBUTES:
        raise ValueError(f"attribute must be one of {sorted(BIN_ATTRIBUTES)}, got {attribute}")
    prefix = f"{registered:%y%m}{kind}{attribute}"
    return _complete(prefix, serial, _BIN_SERIAL_LIMIT)


def make_iin(birth: date, sex: Sex | str, serial: int) -> str:
    """A valid IIN; if ``serial`` is unassignable the next assignable serial is used."""
    prefix = f"{birth:%y%m%d}{_century_sex_digit(birth.year, Sex(sex))}"
    return _complete(prefix, serial, _IIN_SERIAL_LIMIT)


def _century_sex_digit(year: int, sex: Sex) -> int:
    index = (year - _CENTURIES[0]) // 100
    if not 0 <= index < len(_CENTURIES):
        raise ValueError(f"an IIN can encode birth years 1800-2099, got {year}")
    return 2 * index + (1 if sex is Sex.MALE else 2)


def _complete(prefix: str, serial: int, limit: int) -> str:
    """Append the first assignable serial >= ``serial`` and its check digit."""
    width = len(str(limit - 1))
    for candidate in range(serial, limit):
        first11 = f"{prefix}{candidate:0{width}d}"
        digit = check_digit(first11)
        if digit is not None:
            return f"{first11}{digit}"
    raise ValueError(f"no assignable serial from {serial} below {limit} for prefix {prefix}")


def _shown(text: str) -> str:
    # The explanation goes back to the caller; a huge input must not become a huge answer.
    limit = 2 * LENGTH
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}… ({len(text)} characters)"


def _is_ascii_digits(text: str) -> bool:
    # str.isdigit() also accepts other scripts' digits (e.g. Arabic-Indic), which no IIN/BIN has.
    return text.isascii() and text.isdigit()
