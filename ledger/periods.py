"""Statement periods: a year (`2025`), a quarter (`2025-Q2`) or a month (`2025-06`)."""

from __future__ import annotations

import calendar
import datetime as dt
import re

_PERIOD = re.compile(r"^(?P<year>[0-9]{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?$")

PERIOD_FORMS = "a year (2025), a quarter (2025-Q2) or a month (2025-06)"
"""How a period is written, for messages."""


def period_dates(text: str) -> tuple[dt.date, dt.date]:
    """The first and last business dates of a period; ValueError saying what is wrong."""
    found = _PERIOD.fullmatch(text)
    if found is None or int(found["year"]) < 1:
        raise ValueError(f"{text!r} is not a period: give {PERIOD_FORMS}")
    year = int(found["year"])
    if found["quarter"]:
        first_month = 3 * (int(found["quarter"]) - 1) + 1
        last_month = first_month + 2
    elif found["month"]:
        first_month = last_month = int(found["month"])
    else:
        first_month, last_month = 1, 12
    last_day = calendar.monthrange(year, last_month)[1]
    return dt.date(year, first_month, 1), dt.date(year, last_month, last_day)


def quarters(year: int) -> list[str]:
    """The four quarters of a year, as periods."""
    return [f"{year:04d}-Q{q}" for q in range(1, 5)]
