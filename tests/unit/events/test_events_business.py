"""Business time: the moments the ledger can hold, in UTC and in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt

import pytest

from events.business import business_date, representable


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T00:00:00+00:00", "0001-01-01T08:00:00+08:00", "9999-12-31T23:59:59+08:00"],
)
def test_the_first_and_last_moments_are_held(moment: str) -> None:
    assert representable(dt.datetime.fromisoformat(moment))


@pytest.mark.parametrize(
    "moment",
    ["0001-01-01T07:59:59+08:00", "9999-12-31T16:00:00+00:00", "9999-12-31T23:00:00-05:00"],
)
def test_a_moment_outside_utc_or_shanghai_dates_is_not(moment: str) -> None:
    assert not representable(dt.datetime.fromisoformat(moment))


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        ("2025-03-31T15:59:59.999999+00:00", "2025-03-31"),
        ("2025-03-31T16:00:00+00:00", "2025-04-01"),
        # Shanghai's clocks showed +09:00 in the summer of 1988; business dates keep +08:00,
        # as the SQL that computes them does, on any machine's tz database.
        ("1988-06-01T15:30:00+00:00", "1988-06-01"),
    ],
)
def test_a_business_date_is_the_date_at_plus_eight_hours(moment: str, day: str) -> None:
    assert business_date(dt.datetime.fromisoformat(moment)).isoformat() == day
