"""Business time: the time zone that dates every event, and an event's business date."""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The business time zone, Asia/Shanghai, as the fixed offset +08:00 it has kept since
1992 (it also kept summer time at +09:00 from 1986 to 1991, and before 1949 other
offsets). Every business date is taken at this one offset, in Python and in SQL
alike, so a date never depends on the tz database a machine has (docs/statements.md)."""


def business_date(moment: dt.datetime) -> dt.date:
    """The date of `moment` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()


HELD_MOMENTS = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59+08:00"
"""The moments `representable` allows, as a refusal names them."""


def representable(moment: dt.datetime) -> bool:
    """Whether `moment` can be said in UTC, as it is stored, and in Asia/Shanghai: an offset
    may put a moment of the year 1 before 0001-01-01T00:00:00Z, or one of the year 9999
    after the last, where Python's dates end."""
    try:
        moment.astimezone(dt.UTC)
        moment.astimezone(SHANGHAI)
    except OverflowError:
        return False
    return True
