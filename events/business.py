"""Business time: the time zone that dates every event, and an event's business date."""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The business time zone; China keeps +08:00 all year, so a fixed offset is exact."""


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
