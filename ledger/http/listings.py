"""Lists to find things by: programs, institutions, SMEs, and an SME's guarantees.

The read models answer one id at a time; these lists name the ids (from the
decision state, whose rows are one per program, institution, SME and guarantee,
with their ids as keys) and answer each with its read model body, so a list
shows exactly what the read model routes show.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
from aiohttp import web

from events.types import IDENT
from ledger.http.access import guarantee_parties_of, not_found
from ledger.http.auth import READ_ROLES, authenticate
from ledger.http.context import LIMITS
from ledger.http.db import read_connection
from ledger.http.params import credit_code, int_param, text_param
from ledger.http.problems import Problem, invalid
from ledger.http.readmodel_schemas import GuaranteeSummary, ProgramSummary
from ledger.http.readmodels import polled
from ledger.http.schemas import json_response_body
from ledger.rules.state import InstitutionState, SmeState
from projections import queries

MAX_LIST = 1000
"""Most items one list answers with."""
_POLL = 0.02
"""Seconds between two looks at the read model while a page waits for it."""

routes = web.RouteTableDef()

_institution = msgspec.json.Decoder(InstitutionState)
_sme = msgspec.json.Decoder(SmeState)


def _json(body: dict[str, Any]) -> web.Response:
    return web.Response(body=json_response_body(body), content_type="application/json")


def _after(request: web.Request) -> str:
    after = text_param(request, "after") or ""
    if after and not IDENT.fullmatch(after):
        raise invalid("query.after", "must be an id: letters, digits, '.', '_' or '-'")
    return after


@routes.get("/v1/programs")
async def list_programs(request: web.Request) -> web.Response:
    """Every program's body, as GET /v1/programs/{id} answers it (any key)."""
    await authenticate(request)
    async with read_connection(request) as conn:
        ids = [r[0] for r in await conn.fetch("SELECT program_id FROM w_programs ORDER BY 1")]
        bodies, position = await queries.program_summaries(conn, ids)
    # Each as the type its own route answers with, so the two cannot differ.
    programs = [msgspec.convert(b, ProgramSummary) for b in bodies]
    return _json({"position": position, "programs": programs})


@routes.get("/v1/institutions")
async def list_institutions(request: web.Request) -> web.Response:
    """Every institution's id, kind and name (any key; positions need their own route)."""
    await authenticate(request)
    async with read_connection(request) as conn:
        rows = await conn.fetch("SELECT doc FROM w_institutions ORDER BY institution_id")
    found = [_institution.decode(r["doc"]) for r in rows]
    items = [{"institution_id": i.institution_id, "kind": i.kind, "name": i.name} for i in found]
    return _json({"institutions": items})


@routes.get("/v1/smes")
async def list_smes(request: web.Request) -> web.Response:
    """SMEs by id after `after`, at most `limit` (any key, as their exposure is)."""
    await authenticate(request)
    after = _after(request)
    limit = int_param(request, "limit", 100, 1, MAX_LIST)
    async with read_connection(request) as conn:
        rows = await conn.fetch(
            "SELECT doc FROM w_smes WHERE sme_id > $1 ORDER BY sme_id LIMIT $2", after, limit
        )
    found = [_sme.decode(r["doc"]) for r in rows]
    items = [{"sme_id": s.sme_id, "name": s.name} for s in found]
    next_after = items[-1]["sme_id"] if len(items) == limit else None
    return _json({"smes": items, "next_after": next_after})


@routes.get("/v1/smes/{sme_id}/guarantees")
async def sme_guarantees(request: web.Request) -> web.Response:
    """An SME's guarantees the key may read (readers all; an institution those it is party to)."""
    actor = await authenticate(request)
    sme_id = request.match_info["sme_id"]
    credit_code("path.sme_id", sme_id)
    after = _after(request)
    limit = int_param(request, "limit", 100, 1, MAX_LIST)
    async with read_connection(request) as conn:
        if await conn.fetchval("SELECT 1 FROM w_smes WHERE sme_id = $1", sme_id) is None:
            raise not_found(f"SME {sme_id}")
        rows = await conn.fetch(
            """SELECT guarantee_id, doc FROM w_guarantees
                WHERE sme_id = $1 AND guarantee_id > $2 ORDER BY guarantee_id LIMIT $3""",
            sme_id,
            after,
            limit,
        )
        ids = [
            r["guarantee_id"]
            for r in rows
            if actor.role in READ_ROLES or actor.institution_id in guarantee_parties_of(r["doc"])
        ]
        bodies, position = await _rendered(request, conn, ids)
    next_after = rows[-1]["guarantee_id"] if len(rows) == limit else None
    if len(bodies) < len(ids):
        # The page ends before the first guarantee the read model could not show yet,
        # so that the cursor never passes one: the next page starts with it.
        unshown = [r["guarantee_id"] for r in rows].index(ids[len(bodies)])
        if unshown == 0:
            raise Problem(
                "service-unavailable",
                f"guarantee {ids[0]} is stored but not yet in the read model "
                f"(at position {position}); retry shortly",
                extra={"reflected_position": position},
                headers={"Retry-After": "1"},
            )
        next_after = rows[unshown - 1]["guarantee_id"]
    found = [msgspec.convert(b, GuaranteeSummary) for b in bodies]
    return _json(
        {"sme_id": sme_id, "position": position, "guarantees": found, "next_after": next_after}
    )


async def _rendered(
    request: web.Request, conn: asyncpg.Connection, ids: list[str]
) -> tuple[list[dict[str, Any]], int]:
    """The read model's bodies of `ids`, waiting a little for those it lacks.

    The ids come from the decision state, written as a post is stored; the read model
    shows a guarantee once its issuance is sealed and applied, moments later.
    """
    deadline = asyncio.get_running_loop().time() + request.app[LIMITS].min_position_wait

    async def look() -> tuple[bool, tuple[list[dict[str, Any]], int]]:
        bodies, position = await queries.guarantee_summaries(conn, ids)
        return len(bodies) == len(ids), (bodies, position)

    _, (bodies, position) = await polled(conn, look, deadline, every=_POLL)
    # Only what the page shows: the first unshown guarantee ends it.
    shown = {b["guarantee_id"] for b in bodies}
    first = next((i for i, g in enumerate(ids) if g not in shown), len(ids))
    return bodies[:first], position
