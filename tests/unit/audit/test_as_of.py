"""Reading --as-of timestamps: RFC 3339, Asia/Shanghai when no offset is given."""

from __future__ import annotations

import datetime as dt

import pytest

from ledger.audit.replay import parse_as_of


def test_a_timestamp_with_an_offset_keeps_it() -> None:
    assert parse_as_of("2025-03-01T10:00:00Z") == dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)


def test_a_timestamp_without_an_offset_is_shanghai_time() -> None:
    moment = parse_as_of("2025-03-01T10:00:00")
    assert moment == dt.datetime(2025, 3, 1, 2, tzinfo=dt.UTC)


def test_something_that_is_not_a_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_as_of("yesterday")
