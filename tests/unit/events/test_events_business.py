"""Business time: the moments the ledger can hold, in UTC and in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt

import pytest

from events.business import representable


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
