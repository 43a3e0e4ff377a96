"""Calendar arithmetic for loan terms."""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus `months` calendar months, the day clamped to the month's end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def within_term(start: dt.date, maturity: dt.date, max_months: int) -> bool:
    """Whether `maturity` falls no later than `max_months` after `start`.

    A term that ends past the last date Python knows (9999-12-31) holds every date.
    """
    if (start.year * 12 + start.month - 1 + max_months) // 12 > dt.MAXYEAR:
        return True
    return maturity <= add_months(start, max_months)
