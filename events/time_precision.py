"""Business times finer than a microsecond are refused, never rounded.

The ledger keeps `occurred_at` to the microsecond (PostgreSQL's and Python's
precision). The JSON decoder would round `23:59:59.9999999` up to the next
second, and so into the next day, quarter or year: the event would count in
another period than its poster wrote, and would pass as an identical repost of
an event at that rounded time. So a posted time with more than six fractional
digits is a 422 naming the field, where a poster can cut it to six.
"""

from __future__ import annotations

import re

import msgspec

from events.errors import FieldError

_LONG_FRACTION = re.compile(rb"\.[0-9]{7}")
"""Seven or more digits after a point, anywhere in a body: the fast look (under 1 us)."""
_FRACTION = re.compile(r"[0-9]:[0-9]{2}\.([0-9]+)")


class _Times(msgspec.Struct):
    occurred_at: object = None


_ONE_OR_MANY = msgspec.json.Decoder(_Times | list[_Times])

MESSAGE = (
    "has {digits} fractional digits; the ledger keeps business time to the microsecond: "
    "give at most 6 (e.g. 23:59:59.999999), it is never rounded into the next second"
)


def sub_microsecond_errors(body: bytes) -> list[FieldError]:
    """One error per envelope of a decoded `body` whose occurred_at is finer than 1 us."""
    # Digits and the point may be written as \u0030..\u0039 and \u002e, which the fast
    # look cannot see: any escaped ASCII character takes the slow path.
    if _LONG_FRACTION.search(body) is None and b"\\u00" not in body:
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
        found = _FRACTION.search(times.occurred_at)
        if found is not None and len(found.group(1)) > 6:
            message = MESSAGE.format(digits=len(found.group(1)))
            errors.append(FieldError(path=f"{prefix}.occurred_at", message=message))
    return errors
