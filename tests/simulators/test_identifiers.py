"""IIN/BIN check digit and generators, as table tests.

Known-valid numbers, computed by hand (weights 1..11 first, then 3,4,5,6,7,8,9,10,11,1,2):
- 05014000012 → 0+10+0+4+20+0+0+0+0+10+22 = 66, 66 mod 11 = 0            → 050140000120
- 05014000020 → first pass 0+10+0+4+20+0+0+0+0+20+0 = 54 mod 11 = 10;
                second pass 0+20+0+6+28+0+0+0+0+2+0 = 56 mod 11 = 1        → 050140000201
- 05014000100 → first pass 10+4+20+9 = 43 mod 11 = 10;
                second pass 20+6+28+11 = 65 mod 11 = 10                     → unassignable
- 85031530001 → 8+10+0+12+5+30+21+0+0+0+11 = 97, 97 mod 11 = 9            → 850315300019
- 01123160042 → 0+2+3+8+15+6+42+0+0+40+22 = 138, 138 mod 11 = 6           → 011231600426
"""

from datetime import date

import pytest

from simulators.kit.identifiers import (
    Sex,
    check_digit,
    explain_invalid,
    is_valid_bin,
    is_valid_iin,
    make_bin,
    make_iin,
)

VALID = ["050140000120", "050140000201", "850315300019", "011231600426"]


@pytest.mark.parametrize(
    ("first11", "expected"),
    [
        ("05014000012", 0),
        ("05014000020", 1),  # needs the second pass
        ("05014000100", None),  # 10 on both passes
        ("85031530001", 9),
        ("01123160042", 6),
    ],
)
def test_check_digit(first11: str, expected: int | None) -> None:
    assert check_digit(first11) == expected


@pytest.mark.parametrize("bad", ["", "0501400001", "050140000120", "0501400001a"])
def test_check_digit_needs_eleven_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        check_digit(bad)


@pytest.mark.parametrize("number", VALID)
def test_valid_numbers(number: str) -> None:
    assert explain_invalid(number) is None
    assert is_valid_bin(number)
    assert is_valid_iin(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("050140000121", "check digit mismatch: expected 0, got 1"),
        ("850315300018", "check digit mismatch: expected 9, got 8"),
        ("050140001000", "unassignable"),
        ("050140001005", "unassignable"),
        ("05014000012", "must be exactly 12 digits"),
        ("0501400001200", "must be exactly 12 digits"),
        ("", "must be exactly 12 digits"),
        ("05014000012A", "must be exactly 12 digits"),
        (" 50140000120", "must be exactly 12 digits"),
        ("٠٥٠١٤٠٠٠٠١٢٠", "must be exactly 12 digits"),  # Arabic-Indic digits are not ASCII
    ],
)
def test_invalid_numbers(number: str, reason: str) -> None:
    explanation = explain_invalid(number)
    assert explanation is not None
    assert reason in explanation
    assert not is_valid_bin(number)
    assert not is_valid_iin(number)


@pytest.mark.parametrize(
    ("registered", "kind", "serial", "attribute", "expected"),
    [
        (date(2005, 1, 20), 4, 12, 0, "050140000120"),
        (date(2005, 1, 20), 4, 20, 0, "050140000201"),
        (date(2005, 1, 20), 4, 100, 0, "050140001011"),  # 100 is unassignable → 101
    ],
)
def test_make_bin(registered: date, kind: int, serial: int, attribute: int, expected: str) -> None:
    assert make_bin(registered, kind, serial, attribute) == expected


@pytest.mark.parametrize(
    ("registered", "kind", "attribute"),
    [(date(1999, 12, 1), 5, 2), (date(2021, 6, 30), 6, 0), (date(2010, 9, 1), 4, 1)],
)
def test_make_bin_layout(registered: date, kind: int, attribute: int) -> None:
    number = make_bin(registered, kind, 777, attribute)
    assert is_valid_bin(number)
    assert number[:4] == f"{registered:%y%m}"
    assert number[4:6] == f"{kind}{attribute}"
    assert number[6:11] == "00777"


@pytest.mark.parametrize(
    ("kind", "attribute", "serial"), [(3, 0, 1), (7, 0, 1), (4, 9, 1), (4, 0, 100_000)]
)
def test_make_bin_rejects(kind: int, attribute: int, serial: int) -> None:
    with pytest.raises(ValueError):
        make_bin(date(2020, 1, 1), kind, serial, attribute)


@pytest.mark.parametrize(
    ("birth", "sex", "serial", "expected"),
    [
        (date(1985, 3, 15), Sex.MALE, 1, "850315300019"),
        (date(2001, 12, 31), Sex.FEMALE, 42, "011231600426"),
        (date(2001, 12, 31), "F", 42, "011231600426"),
    ],
)
def test_make_iin(birth: date, sex: Sex | str, serial: int, expected: str) -> None:
    assert make_iin(birth, sex, serial) == expected


@pytest.mark.parametrize(
    ("birth", "sex", "digit"),
    [
        (date(1899, 1, 1), Sex.MALE, "1"),
        (date(1899, 1, 1), Sex.FEMALE, "2"),
        (date(1950, 1, 1), Sex.MALE, "3"),
        (date(1950, 1, 1), Sex.FEMALE, "4"),
        (date(2000, 1, 1), Sex.MALE, "5"),
        (date(2099, 1, 1), Sex.FEMALE, "6"),
    ],
)
def test_make_iin_century_sex_digit(birth: date, sex: Sex, digit: str) -> None:
    number = make_iin(birth, sex, 5)
    assert number[6] == digit
    assert number[:6] == f"{birth:%y%m%d}"
    assert is_valid_iin(number)


@pytest.mark.parametrize(
    ("birth", "sex", "serial"),
    [(date(1799, 1, 1), "M", 1), (date(2100, 1, 1), "M", 1), (date(1990, 1, 1), "X", 1)],
)
def test_make_iin_rejects(birth: date, sex: str, serial: int) -> None:
    with pytest.raises(ValueError):
        make_iin(birth, sex, serial)


def test_generators_skip_every_unassignable_serial() -> None:
    numbers = [make_bin(date(2012, 7, 1), 4, serial) for serial in range(300)]
    assert all(is_valid_bin(n) for n in numbers)
    # Unassignable serials collapse onto the next one, so some duplicates are expected.
    assert len(set(numbers)) < len(numbers)


def test_explanation_of_a_huge_input_stays_short() -> None:
    explanation = explain_invalid("9" * 100_000)
    assert explanation is not None
    assert len(explanation) < 100
    assert "100000 characters" in explanation
