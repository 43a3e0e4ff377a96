"""Posted business times the JSON decoder would take but the ledger refuses.

Business times finer than a microsecond are refused, never rounded. The ledger
keeps `occurred_at` to the microsecond (PostgreSQL's and Python's precision).
The JSON decoder would round `23:59:59.9999999` up to the next second, and so
into the next day, quarter or year: the event would count in another period
than its poster wrote, and would pass as an identical repost of an event at
that rounded time. So a posted time with more than six fractional digits is a
422 naming the field, where a poster can cut it to six.

Timestamps are RFC 3339, whose offset is `Z` or `+HH:MM`. The decoder also
takes `+HHMM` (ISO 8601's basic form), which the query parameters refuse: a
post gets the same answer as a query, a 422 naming the field.
"""

from __future__ import annotations

import re

import msgspec

from events.errors import FieldError

_WORTH_A_LOOK = re.compile(rb'\.[0-9]{7}|[0-9][+-][0-9]{4}"')
"""Seven digits after a point, or an offset without its colon, anywhere in a body:
the fast look (under 1 us)."""
_FRACTION = re.compile(r"[0-9]:[0-9]{2}\.([0-9]+)")
_BASIC_OFFSET = re.compile(r"[+-][0-9]{4}$")


class _Times(msgspec.Struct):
    occurred_at: object = None


_ONE_OR_MANY = msgspec.json.Decoder(_Times | list[_Times])

MESSAGE = (
    "has {digits} fractional digits; the ledger keeps business time to the microsecond: "
    "give at most 6 (e.g. 23:59:59.999999), it is never rounded into the next second"
)
OFFSET_MESSAGE = (
    "has the offset {offset!r}; timestamps are RFC 3339: write it {fixed!r} "
    "(e.g. 2025-03-01T10:00:00+08:00)"
)


def posted_time_errors(body: bytes) -> list[FieldError]:
    """One error per envelope of a decoded `body` whose occurred_at is finer than 1 us
    or has an offset without its colon."""
    # Digits, signs and the point may be written as \u0030..\u0039, \u002b and so on,
    # which the fast look cannot see: any escaped ASCII character takes the slow path.
    if _WORTH_A_LOOK.search(body) is None and b"\\u00" not in body:
        return []
    try:
        top = _ONE_OR_MANY.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return []  # the envelope decoder has said what is wrong with it
    items = [("$", top)] if isinstance(top, _Times) else [(f"$[{i}]", t) for i, t in enumerate(top)]
    errors = []
    for prefix, times in items:
        if not isinstance(times.occurred_at, str):
            continue
        message = _time_problem(times.occurred_at)
        if message is not None:
            errors.append(FieldError(path=f"{prefix}.occurred_at", message=message))
    return errors


def _time_problem(value: str) -> str | None:
    found = _FRACTION.search(value)
    if found is not None and len(found.group(1)) > 6:
        return MESSAGE.format(digits=len(found.group(1)))
    offset = _BASIC_OFFSET.search(value)
    if offset is not None:
        basic = offset.group(0)
        return OFFSET_MESSAGE.format(offset=basic, fixed=f"{basic[:3]}:{basic[3:]}")
    return None
