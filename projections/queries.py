"""Reading the read models: the read routes' bodies, each with the position it reflects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import asyncpg

from events.business import SHANGHAI
from ledger.store.reads import head_position
from projections import claims, guarantees, institutions, programs
from projections import sme_exposure as exposure
from projections.base import Doc
from projections.registry import PROJECTIONS
from projections.store import decode_doc

Conn = asyncpg.Connection | asyncpg.Pool


# One statement: the checkpoint and the documents of the generation it names come from
# the same snapshot, so a rebuild's swap is seen whole or not at all. Each key is its
# own unique-index probe (see store.LOAD_DOCS: `key = ANY` let stale statistics turn a
# read into a scan of the whole generation).
READ_DOCS = """SELECT c.position, k.key,
                      (SELECT d.doc::text FROM {table} d
                        WHERE d.generation = c.generation AND d.key = k.key) AS doc
                 FROM projection_checkpoints c
                 LEFT JOIN LATERAL unnest($2::text[]) AS k(key) ON true
                WHERE c.name = $1"""


async def _docs(conn: Conn, name: str, keys: list[str]) -> tuple[dict[str, Doc], int]:
    rows = await conn.fetch(READ_DOCS.format(table=PROJECTIONS[name].table), name, keys)
    position = int(rows[0]["position"]) if rows else 0
    return {r["key"]: decode_doc(r["doc"]) for r in rows if r["doc"] is not None}, position


async def _one(conn: Conn, name: str, key: str) -> tuple[Doc | None, int]:
    found, position = await _docs(conn, name, [key])
    return found.get(key), position


async def _with_programs(
    conn: Conn, name: str, key: str, program_keys: Callable[[Doc], list[str]]
) -> tuple[Doc, dict[str, Doc], int] | None:
    # The main document names the program documents it needs; they are read together
    # with it again, and read once more if a batch in between named a new program.
    doc, _ = await _one(conn, name, key)
    for _ in range(5):
        if doc is None:
            return None
        found, position = await _docs(conn, name, [key, *program_keys(doc)])
        doc = found.get(key)
        if doc is not None and all(k in found for k in program_keys(doc)):
            return doc, found, position
    raise LookupError(f"read model {name} is missing documents for {key}")


async def sme_exposure(conn: Conn, sme_id: str) -> dict[str, Any] | None:
    """The SME exposure body, or None when the SME is unknown."""
    got = await _with_programs(conn, exposure.NAME, exposure.sme_key(sme_id), exposure.program_keys)
    if got is None:
        return None
    doc, found, position = got
    return exposure.render(doc, found, position)


async def guarantee_summary(conn: Conn, guarantee_id: str) -> dict[str, Any] | None:
    """The guarantee body, or None when the guarantee is unknown."""
    doc, position = await _one(conn, guarantees.NAME, f"guarantee:{guarantee_id}")
    return None if doc is None else guarantees.render(doc, position)


async def claim_shares(conn: Conn, claim_id: str) -> dict[str, Any] | None:
    """The claim body, or None when the claim is unknown."""
    doc, position = await _one(conn, claims.NAME, claims.claim_key(claim_id))
    return None if doc is None else claims.render(doc, position)


async def institution_position(conn: Conn, institution_id: str) -> dict[str, Any] | None:
    """The institution position body, or None when the institution is unknown."""
    got = await _with_programs(
        conn,
        institutions.NAME,
        institutions.institution_key(institution_id),
        institutions.program_keys,
    )
    if got is None:
        return None
    doc, found, position = got
    # The breaker shown is the current year's, in business time.
    year = dt.datetime.now(SHANGHAI).year
    return institutions.render(doc, found, position, year)


async def program_summary(conn: Conn, program_id: str) -> dict[str, Any] | None:
    """The program body, or None when the program is unknown."""
    doc, position = await _one(conn, programs.NAME, programs.program_key(program_id))
    return None if doc is None else programs.render(doc, position)


async def program_summaries(conn: Conn, program_ids: list[str]) -> tuple[list[dict[str, Any]], int]:
    """The bodies of the programs the read model knows among `program_ids`, and its position."""
    keys = [programs.program_key(p) for p in program_ids]
    found, position = await _docs(conn, programs.NAME, keys)
    return [programs.render(found[k], position) for k in keys if k in found], position


async def guarantee_summaries(
    conn: Conn, guarantee_ids: list[str]
) -> tuple[list[dict[str, Any]], int]:
    """The bodies of the guarantees the read model knows among `guarantee_ids`, and its position."""
    keys = [f"guarantee:{g}" for g in guarantee_ids]
    found, position = await _docs(conn, guarantees.NAME, keys)
    return [guarantees.render(found[k], position) for k in keys if k in found], position


async def projection_positions(conn: Conn) -> dict[str, int]:
    """Each projection's checkpoint: the last log position it reflects."""
    rows = await conn.fetch("SELECT name, position FROM projection_checkpoints ORDER BY name")
    return {r["name"]: int(r["position"]) for r in rows}


async def reflected_position(conn: Conn) -> int:
    """The position every read model reflects (the lowest checkpoint)."""
    value = await conn.fetchval("SELECT coalesce(min(position), 0) FROM projection_checkpoints")
    return int(value)


async def projection_lag(conn: Conn) -> int:
    """Events sealed but not yet in every read model: head position minus reflected position."""
    return max(0, await head_position(conn) - await reflected_position(conn))
