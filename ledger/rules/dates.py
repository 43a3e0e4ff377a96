"""Calendar arithmetic for loan terms."""

from __future__ import annotations

import calendar
import datetime as dt


def _month_after(day: dt.date, months: int) -> tuple[int, int]:
    """The year and month (1 to 12) `months` calendar months after `day`'s."""
    year, month = divmod(day.year * 12 + (day.month - 1) + months, 12)
    return year, month + 1


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, the day clamped to the month's end."""
    year, month = _month_after(day, months)
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


def within_term(start: dt.date, maturity: dt.date, max_months: int) -> bool:
    """Whether `maturity` falls no later than `max_months` after `start`.

    A term that ends past the last date Python knows (9999-12-31) holds every date.
    """
    if _month_after(start, max_months)[0] > dt.MAXYEAR:
        return True
    return maturity <= add_months(start, max_months)
