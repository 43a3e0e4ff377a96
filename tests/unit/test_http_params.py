"""Whole numbers read from requests: digits only, within their bounds, up to 2^62."""

from __future__ import annotations

import pytest

from ledger.http.params import MAX_POSITION, whole_number


def test_the_largest_position_a_request_may_name_is_two_to_the_62() -> None:
    assert MAX_POSITION == 4_611_686_018_427_387_904
    assert whole_number(str(MAX_POSITION), 0, MAX_POSITION) == MAX_POSITION


@pytest.mark.parametrize("raw", ["", "-1", "+1", "1.0", "1e3", " 1", "1\n", "٣", "1" * 20])
def test_anything_but_plain_digits_is_not_a_whole_number(raw: str) -> None:
    assert whole_number(raw, 0, MAX_POSITION) is None


@pytest.mark.parametrize(("raw", "expected"), [("0", None), ("1", 1), ("7", 7), ("8", None)])
def test_a_whole_number_outside_its_bounds_is_refused(raw: str, expected: int | None) -> None:
    assert whole_number(raw, 1, 7) == expected


def test_one_above_two_to_the_62_is_refused() -> None:
    assert whole_number(str(MAX_POSITION + 1), 0, MAX_POSITION) is None
