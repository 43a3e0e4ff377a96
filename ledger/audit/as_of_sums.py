"""Sums of the as-of read model's 'sum' rows under a cut, from its daily totals.

The totals of every day up to D (projections/as_of_daily.py, as of the read model's
checkpoint) less the rows dated up to D but recorded after P: the late reports, few
unless P lies far back. Read in one snapshot, so the totals and the rows agree.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from events.types import ROLES
from ledger.audit.as_of_rows import Cut
from projections import as_of, as_of_daily

DOCS_SQL = """SELECT key, doc::text AS doc FROM proj_as_of
               WHERE generation = $1 AND key = ANY($2::text[])"""


def late_sql(width: int, known_at: bool = False) -> str:
    """Per (entity, program), the sums of the rows dated under the cut but not counted by it:
    placed after its position ($4), or (`known_at`) recorded after its moment ($5).

    Two statements, not one with `$5 IS NULL OR ...`: in a generic plan that OR keeps the
    position out of the index condition, and every row of the entity dated under the cut
    would be read to find the few placed after it."""
    after = "(position > $4 OR recorded_at > $5)" if known_at else "position > $4"
    # As numeric: a sum of bigints has no bound a bigint could hold (the totals do not).
    figures = [f"coalesce(sum(figures[{n}]), 0)" for n in range(1, width + 1)]
    roles = [f"coalesce(sum((roles >> {n}) & 1), 0)" for n in range(len(ROLES))]
    values = ", ".join([*figures, *roles, "count(*)"])
    return f"""SELECT entity, program_id, ARRAY[{values}]::numeric[] AS v
                 FROM proj_as_of_rows
                WHERE generation = $1 AND entity = ANY($2::text[]) AND entity <> '*'
                  AND kind = 'sum'
                  AND business_date <= $3
                  AND {after}
                GROUP BY entity, program_id"""  # noqa: S608 - fixed column numbers, no input


_LATE = {
    (width, known): late_sql(width, known)
    for width in (len(as_of.SUMS_I), len(as_of.SUMS_P))
    for known in (False, True)
}
_DECODE = msgspec.json.Decoder(dict[str, Any])


async def _docs(conn: asyncpg.Connection, generation: int, keys: list[str]) -> dict[str, Any]:
    found = await conn.fetch(DOCS_SQL, generation, keys)
    return {r["key"]: _DECODE.decode(r["doc"]) for r in found}


async def sums(
    conn: asyncpg.Connection, cut: Cut, entities: list[str], width: int
) -> dict[tuple[str, str], list[int]]:
    """Per (entity, program) with a row under the cut: its `width` figures summed, then
    per role how many rows gave it that role, then how many rows (always above 0)."""
    months = await _docs(conn, cut.generation, [as_of_daily.months_key(e) for e in entities])
    last = cut.day.isoformat()
    wanted = [
        as_of_daily.daily_key(e, month)
        for e in entities
        for month in months.get(as_of_daily.months_key(e), {}).get("months", [])
        if month <= last[:7]
    ]
    out: dict[tuple[str, str], list[int]] = {}
    for key, doc in (await _docs(conn, cut.generation, wanted)).items():
        entity = key.removeprefix("daily:").rsplit(":", 1)[0]
        for program_id, days in doc.items():
            for day, values in days.items():
                if day <= last:
                    held = out.get((entity, program_id))
                    out[entity, program_id] = (
                        values
                        if held is None
                        else [a + b for a, b in zip(held, values, strict=True)]
                    )
    args: tuple[object, ...] = (cut.generation, entities, cut.day, cut.position)
    if cut.known_at is not None:
        args += (cut.known_at,)
    late = await conn.fetch(_LATE[width, cut.known_at is not None], *args)
    for row in late:
        held = out[row["entity"], row["program_id"]]
        out[row["entity"], row["program_id"]] = [
            a - int(b) for a, b in zip(held, row["v"], strict=True)
        ]
    return {k: v for k, v in out.items() if v[-1] > 0}


def roles_of(values: list[int], width: int) -> list[str]:
    """The roles some row under the cut gave (in the order of ROLES)."""
    return [role for n, role in enumerate(ROLES) if values[width + n] > 0]


def totals_of(figures: list[int]) -> dict[str, Any]:
    """A program's totals (as the programs read model keeps them) from its summed figures."""
    totals: dict[str, Any] = {}
    for name, value in zip(as_of.SUMS_P, figures, strict=True):
        field, _, role = name.partition(".")
        if role:
            totals.setdefault(field, {})[role] = value
        else:
            totals[field] = value
    return totals


async def program_totals(
    conn: asyncpg.Connection, cut: Cut, program_ids: list[str]
) -> dict[str, dict[str, Any] | None]:
    """The totals of each program under the cut; None for a program with no guarantee
    event under it."""
    summed = await sums(conn, cut, [f"program:{pid}" for pid in program_ids], len(as_of.SUMS_P))
    out: dict[str, dict[str, Any] | None] = {}
    for pid in program_ids:
        values = summed.get((f"program:{pid}", pid))
        out[pid] = None if values is None else totals_of(values[: len(as_of.SUMS_P)])
    return out
