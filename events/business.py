"""Business time: the time zone that dates every event, and an event's business date."""

from __future__ import annotations

import datetime as dt

SHANGHAI = dt.timezone(dt.timedelta(hours=8), "Asia/Shanghai")
"""The business time zone; China keeps +08:00 all year, so a fixed offset is exact."""


def business_date(moment: dt.datetime) -> dt.date:
    """The date of `moment` in Asia/Shanghai."""
    return moment.astimezone(SHANGHAI).date()
