"""Statement periods: a year, a quarter or a month, and nothing else."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from ledger.periods import period_dates, quarters


@pytest.mark.parametrize(
    ("period", "first", "last"),
    [
        ("2025", dt.date(2025, 1, 1), dt.date(2025, 12, 31)),
        ("2025-Q1", dt.date(2025, 1, 1), dt.date(2025, 3, 31)),
        ("2025-Q2", dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        ("2025-Q3", dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
        ("2025-Q4", dt.date(2025, 10, 1), dt.date(2025, 12, 31)),
        ("2024-02", dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2025-12", dt.date(2025, 12, 1), dt.date(2025, 12, 31)),
    ],
)
def test_a_period_covers_its_first_to_its_last_day(
    period: str, first: dt.date, last: dt.date
) -> None:
    assert period_dates(period) == (first, last)


@pytest.mark.parametrize(
    "bad", ["2025-Q5", "2025-Q0", "2025-13", "2025-6", "25", "0000", "", "2025-q2", "2025-Q2\n"]
)
def test_anything_else_is_refused_saying_what_a_period_looks_like(bad: str) -> None:
    with pytest.raises(ValueError, match=r"2025-Q2"):
        period_dates(bad)


def test_the_quarters_of_a_year_cover_it_without_gaps() -> None:
    days = [period_dates(q) for q in quarters(2025)]
    assert days[0][0] == dt.date(2025, 1, 1)
    assert days[-1][1] == dt.date(2025, 12, 31)
    for (_, end), (start, _) in itertools.pairwise(days):
        assert start - end == dt.timedelta(days=1)
