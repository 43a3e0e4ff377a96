"""Daily totals of the as-of read model's 'sum' rows, kept as documents beside the rows.

Summing every row of a large institution or program under a cut reads as many rows as
it has events. The same sums are kept per business day, in one document per entity and
month (`daily:<entity>:<YYYY-MM>`: program -> day -> values) listed by `months:<entity>`,
so a cut (business_date <= D, position <= P) reads a few dozen documents and then takes
away the rows dated up to D but recorded after P, which are only those reported late.

A day's values are the row figures, then per role the number of rows that gave it that
role (so roles can be taken away too), then the number of rows (whether the institution
has a row in the program at all): every one of them a sum, so subtracting is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from events.types import ROLES
from projections.base import Docs


def daily_key(entity: str, month: str) -> str:
    """Key of an entity's document of the days of one month (YYYY-MM)."""
    return f"daily:{entity}:{month}"


def months_key(entity: str) -> str:
    """Key of the document listing the months an entity has days in."""
    return f"months:{entity}"


def keys(entities: Iterable[str], day: dt.date) -> list[str]:
    """The documents adding a row of each entity on `day` reads and writes."""
    month = day.isoformat()[:7]
    return [k for e in entities for k in (daily_key(e, month), months_key(e))]


def values(figures: list[int], bits: int) -> list[int]:
    """What one row adds to its day: figures, a count per role in `bits`, one row."""
    return [*figures, *(bits >> n & 1 for n in range(len(ROLES))), 1]


def add(
    docs: Docs, entity: str, program_id: str, day: dt.date, figures: list[int], bits: int
) -> None:
    """Add one 'sum' row to its day's totals."""
    month = day.isoformat()[:7]
    key = daily_key(entity, month)
    doc = docs.get(key) or {}
    days = doc.setdefault(program_id, {})
    row = values(figures, bits)
    held = days.get(day.isoformat())
    days[day.isoformat()] = row if held is None else [a + b for a, b in zip(held, row, strict=True)]
    docs.put(key, doc)
    listed = docs.get(months_key(entity)) or {"months": []}
    if month not in listed["months"]:
        docs.put(months_key(entity), {"months": sorted([*listed["months"], month])})
