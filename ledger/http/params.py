"""Query parameters: parsed strictly, bad values answered with 422 naming the parameter."""

from __future__ import annotations

import math
import re

from aiohttp import web

from ledger.http.problems import invalid

_INT = re.compile(r"^[0-9]{1,18}$")
_NUMBER = re.compile(r"^[0-9]{1,6}(\.[0-9]{1,6})?$")


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
    if not _INT.match(raw) or not low <= int(raw) <= high:
        raise invalid(f"query.{name}", f"must be a whole number from {low} to {high}")
    return int(raw)


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
    value = float(raw) if _NUMBER.match(raw) else math.nan
    if not 0 <= value <= high:
        raise invalid(f"query.{name}", f"must be a number of seconds from 0 to {high:g}")
    return value


def text_param(request: web.Request, name: str) -> str | None:
    """A text query parameter as given, or None when absent."""
    return _one(request, name)
