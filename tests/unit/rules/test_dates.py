"""Term arithmetic: calendar months, clamped to the end of shorter months."""

from __future__ import annotations

import datetime as dt

from ledger.rules.dates import add_months, within_term


def test_adding_months_keeps_the_day_of_month() -> None:
    assert add_months(dt.date(2025, 3, 1), 60) == dt.date(2030, 3, 1)


def test_adding_months_clamps_to_the_end_of_a_shorter_month() -> None:
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2023, 8, 31), 6) == dt.date(2024, 2, 29)


def test_adding_months_crosses_year_ends() -> None:
    assert add_months(dt.date(2025, 11, 15), 14) == dt.date(2027, 1, 15)


def test_a_maturity_on_the_last_allowed_day_is_within_the_term() -> None:
    assert within_term(dt.date(2025, 8, 31), dt.date(2026, 2, 28), 6)
    assert not within_term(dt.date(2025, 8, 31), dt.date(2026, 3, 1), 6)


def test_a_term_ending_past_the_year_9999_holds_every_date() -> None:
    assert within_term(dt.date(9999, 6, 1), dt.date(9999, 12, 31), 60)
    assert within_term(dt.date(9995, 12, 1), dt.date(9999, 12, 31), 60)


def test_a_term_ending_in_the_year_9999_is_still_checked() -> None:
    assert not within_term(dt.date(9999, 1, 1), dt.date(9999, 12, 31), 6)
