"""Query parameters: parsed strictly, bad values answered with 422 naming the parameter."""

from __future__ import annotations

import datetime as dt
import math
import re

from aiohttp import web

from events.business import HELD_MOMENTS, representable
from events.credit_code import credit_code_problem
from ledger.http.problems import invalid
from ledger.store.recorded_by import CLOCK_MARGIN

MAX_POSITION = 2**62
"""The largest position or tree size a request may name (4611686018427387904)."""

# Up to 19 digits: the highest bound any parameter has is MAX_POSITION.
_INT = re.compile(r"^[0-9]{1,19}$")
# A decimal number as JSON and Python write one (str(0.00001) is "1e-05"), bounded in
# length; no sign, NaN or infinity.
_NUMBER = re.compile(r"^(?=.{1,32}$)[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,3})?$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_MOMENT = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,6})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _one(request: web.Request, name: str) -> str | None:
    values = request.query.getall(name, [])
    if len(values) > 1:
        raise invalid(f"query.{name}", "given more than once")
    return values[0] if values else None


def int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within [low, high], or `default` when absent."""
    raw = _one(request, name)
    if raw is None:
        return default
    value = whole_number(raw, low, high)
    if value is None:
        raise invalid(f"query.{name}", f"must be a whole number from {low} to {high}")
    return value


def whole_number(raw: str, low: int, high: int) -> int | None:
    """`raw` as a whole number within [low, high] (high at most MAX_POSITION), or None."""
    if not _INT.fullmatch(raw):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def optional_int(request: web.Request, name: str, low: int, high: int) -> int | None:
    """An integer query parameter within [low, high], or None when absent."""
    if _one(request, name) is None:
        return None
    return int_param(request, name, low, low, high)


def seconds_param(request: web.Request, name: str, default: float, high: float) -> float:
    """A number of seconds from 0 to `high` (decimals allowed), or `default` when absent."""
    raw = _one(request, name)
    if raw is None:
        return default
    value = float(raw) if _NUMBER.fullmatch(raw) else math.nan
    if not 0 <= value <= high:
        raise invalid(f"query.{name}", f"must be a number of seconds from 0 to {high:g}")
    return value


def text_param(request: web.Request, name: str) -> str | None:
    """A text query parameter as given, or None when absent."""
    return _one(request, name)


def date_param(request: web.Request, name: str) -> dt.date | None:
    """A `YYYY-MM-DD` date query parameter, or None when absent."""
    raw = _one(request, name)
    if raw is None:
        return None
    try:
        if not _DATE.fullmatch(raw):
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise invalid(f"query.{name}", "must be a date YYYY-MM-DD, e.g. 2025-06-30") from None


def moment_param(request: web.Request, name: str, *, now: dt.datetime) -> dt.datetime | None:
    """An RFC 3339 timestamp with its offset, not after `now`, or None when absent."""
    raw = _one(request, name)
    if raw is None:
        return None
    try:
        if not _MOMENT.fullmatch(raw):
            raise ValueError
        moment = dt.datetime.fromisoformat(raw.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            f"query.{name}",
            "must be an RFC 3339 timestamp with its offset and at most 6 fractional digits, "
            "e.g. 2026-01-05T10:00:00+08:00 (write + as %2B in a URL)",
        ) from None
    if not representable(moment):
        raise invalid(
            f"query.{name}", f"{raw} lies outside the moments the ledger holds ({HELD_MOMENTS})"
        )
    if moment > now:
        raise invalid(f"query.{name}", f"{raw} is in the future; give a moment up to now")
    return moment


def known_at_param(request: web.Request, *, now: dt.datetime) -> dt.datetime | None:
    """`known_at`, not after `now` by the ledger's clock plus CLOCK_MARGIN, or None.

    A client's "now" may be a little ahead of the ledger's: the clocks are kept in sync
    only to a margin. The read waits until the moment plus that margin has passed
    anyway (ledger/store/recorded_by.py), so its answer stays what it was answered.
    """
    return moment_param(request, "known_at", now=now + CLOCK_MARGIN)


def credit_code(where: str, sme_id: str) -> None:
    """422 at `where` (`path.sme_id`, `query.sme_id`) unless `sme_id` is a valid unified
    social credit code: a wrong check character is named, as in a posted event."""
    problem = credit_code_problem(sme_id)
    if problem is not None:
        raise invalid(where, f"not a unified social credit code: {problem}")
