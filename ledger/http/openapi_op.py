"""One documented operation of the OpenAPI document, and the pieces operations share."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.types import IDENT_PATTERN
from ledger.http.params import MAX_POSITION

READ = (401, 403, 404, 422, 503)
"""The problems of a read route."""


@dataclass(frozen=True)
class Op:
    """One documented operation."""

    method: str
    path: str
    summary: str
    ok: dict[int, str]
    """Success status -> component name (or "text" for plain text)."""
    problems: tuple[int, ...]
    query: tuple[tuple[str, dict[str, Any], str], ...] = ()
    body: str | None = None
    secured: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    headers: tuple[tuple[str, dict[str, Any], str], ...] = ()
    required: tuple[str, ...] = ()
    """The query parameters the operation refuses to go without (422 when absent)."""
    conflicts: tuple[str, ...] = ("invalid-state",)
    """The 409 problems it can answer (a read: only an event stored unreadable)."""


def integer(low: int, high: int) -> dict[str, Any]:
    """The schema of an integer from `low` to `high`."""
    return {"type": "integer", "minimum": low, "maximum": high}


MIN_POSITION = (
    "min_position",
    integer(0, MAX_POSITION),
    "wait (a few seconds) until the read model reflects this position",
)


AFTER_ID: dict[str, Any] = {"type": "string", "pattern": f"^({IDENT_PATTERN[1:-1]})?$"}
"""A list's `after` cursor: an id (as listings.py checks it), or empty for the first page."""
