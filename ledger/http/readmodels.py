"""Read model routes: SME exposure, guarantees, claims, institution positions, programs."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import asyncpg
import msgspec
from aiohttp import web

from events.stored import Actor
from ledger.http.access import (
    check_claim_access,
    check_guarantee_access,
    known_shape,
    not_found,
)
from ledger.http.auth import READ_ROLES, authenticate
from ledger.http.context import LIMITS, RUNTIME
from ledger.http.db import read_connection
from ledger.http.params import MAX_POSITION, credit_code, optional_int
from ledger.http.problems import Problem, invalid, unavailable
from ledger.http.readmodel_schemas import (
    ClaimShares,
    GuaranteeSummary,
    InstitutionPosition,
    ProgramSummary,
    SmeExposure,
)
from ledger.http.replicas import Behind, read_routed
from ledger.http.schemas import json_response_body
from ledger.standbys import Standby
from ledger.store.failures import database_unavailable
from ledger.store.reads import head_position
from ledger.store.recorded_by import StillStoring, sealed_through
from projections import queries
from projections.runner import READ_WAITING_CHANNEL

Query = Callable[[asyncpg.Connection, str], Awaitable[dict[str, Any] | None]]
"""A read model query: one id in, its documented body out (None when unknown)."""

_POLL = 0.05
T = TypeVar("T")

routes = web.RouteTableDef()


async def reflected_position(conn: asyncpg.Connection) -> int:
    """The last position every read model reflects."""
    return await queries.reflected_position(conn)


Reflected = Callable[[asyncpg.Connection], Awaitable[int]]
"""The last position the read models a read needs reflect (default: all of them)."""


def wanted_position(request: web.Request) -> int | None:
    """The `min_position` a read asks to reflect, if any (422 when malformed)."""
    return optional_int(request, "min_position", 0, MAX_POSITION)


def _beyond_head(head: int) -> Problem:
    # Positions come from receipts, so one past the head names no event yet: waiting
    # could not help (and a 503 would invite retrying for ever).
    return invalid("query.min_position", f"the log ends at position {head}")


def trailing(what: str, reflected: int, wanted: int) -> Problem:
    """The 503 of a read whose read model has not reached the position it needs yet."""
    return Problem(
        "service-unavailable",
        f"{what} position {reflected}, not yet {wanted}; retry shortly",
        extra={"reflected_position": reflected, "min_position": wanted},
        headers={"Retry-After": "1"},
    )


async def hurry_runner(conn: asyncpg.Connection) -> None:
    """Tell the read-model runner a read is waiting, so it applies what is sealed at once
    instead of letting more seals gather first (projections/runner.py)."""
    await conn.execute(f"NOTIFY {READ_WAITING_CHANNEL}")


@contextlib.asynccontextmanager
async def _on_primary(request: web.Request) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection to the primary; the primary slow or away is a 503 of its own.

    Asked from work on a standby, that 503 is never taken for a failure of the standby
    (which the read router would then stop using).
    """
    try:
        async with read_connection(request) as conn:
            yield conn
    except Exception as exc:
        if not (isinstance(exc, TimeoutError) or database_unavailable(exc)):
            raise
        raise unavailable("the primary did not say where the log is; retry later") from None


async def primary_head(request: web.Request, *, hurry: bool = True) -> int:
    """The primary's head: where the log is, whichever database answers the request; with
    `hurry`, the runner is told a read waits for it (a standby's read behind it does)."""
    async with _on_primary(request) as c:
        if hurry:
            await hurry_runner(c)
        return await head_position(c)


async def known_head(request: web.Request, known_at: dt.datetime, deadline: float) -> int:
    """The primary's head once every event recorded by `known_at` is sealed in it, so a
    read "as known at" that moment counts what it will count when asked again
    (ledger/store/recorded_by.py); a 503 past `deadline`, or when the primary is away."""
    try:
        async with _on_primary(request) as c:
            return await sealed_through(c, known_at, deadline)
    except StillStoring as exc:
        raise unavailable(f"{exc}; retry shortly") from None


async def asked_head(
    request: web.Request, known_at: dt.datetime | None, deadline: float
) -> int | None:
    """The head a read of the log as it stood (as known at `known_at`, if given) must
    hold: `head_before_routing`, or with `known_at` the head once every event recorded
    by then, some perhaps still being stored, is sealed in it (`known_head`)."""
    if known_at is None:
        return await head_before_routing(request)
    return await known_head(request, known_at, deadline)


async def head_before_routing(request: web.Request) -> int | None:
    """Where the primary's log is as the request comes, asked before a standby is picked
    when standbys are configured (None without: the primary's work reads it itself), so
    that the primary slow or away is never taken for a failure of the standby. Nothing
    waits yet, so the runner is not hurried: the work does that if it must wait."""
    if not request.app[RUNTIME].reads.standbys:
        return None
    return await primary_head(request, hurry=False)


async def standby_reflects(
    request: web.Request,
    conn: asyncpg.Connection,
    standby: Standby,
    wanted: int,
    deadline: float,
    reflected: Reflected = reflected_position,
) -> None:
    """Wait (bounded) for the standby's read models to reflect `wanted`; Behind if they do not.

    The standby's own head may trail the primary's, so whether `wanted` names an
    event at all is asked of the primary, once, and only when the standby is behind.
    """
    loop = asyncio.get_running_loop()
    if await reflected(conn) >= wanted:
        return
    head = await primary_head(request)
    if wanted > head:
        raise _beyond_head(head)
    while loop.time() < deadline and standby.usable:
        await asyncio.sleep(_POLL)
        if await reflected(conn) >= wanted:
            return
    raise Behind(f"standby {standby.name} does not reflect position {wanted} yet")


async def polled(
    conn: asyncpg.Connection,
    look: Callable[[], Awaitable[tuple[bool, T]]],
    deadline: float,
    *,
    hurry: bool = True,
    every: float = _POLL,
) -> tuple[bool, T]:
    """Look again every `every` s until `look` says it is done or `deadline` passes; what
    it saw last, and whether it was done. With `hurry`, the runner is told once, after the
    first look, that a read waits for it."""
    loop = asyncio.get_running_loop()
    hurried = not hurry
    while True:
        done, seen = await look()
        if done or loop.time() >= deadline:
            return done, seen
        if not hurried:
            await hurry_runner(conn)
            hurried = True
        await asyncio.sleep(every)


async def primary_reflects(
    conn: asyncpg.Connection,
    wanted: int,
    deadline: float,
    reflected: Reflected = reflected_position,
    what: str = "the read models reflect",
) -> None:
    """Wait until `deadline` for the primary's read models to reflect `wanted`; 503 if not."""
    head = await head_position(conn)
    if wanted > head:
        raise _beyond_head(head)

    async def look() -> tuple[bool, int]:
        reached = await reflected(conn)
        return reached >= wanted, reached

    done, reached = await polled(conn, look, deadline)
    if not done:
        raise trailing(what, reached, wanted)


Check = Callable[[asyncpg.Connection, Actor, str], Awaitable[None]]


async def _anyone(conn: asyncpg.Connection, actor: Actor, ident: str) -> None:
    return None


async def _itself(conn: asyncpg.Connection, actor: Actor, ident: str) -> None:
    if actor.role not in READ_ROLES and actor.institution_id != ident:
        raise Problem("forbidden", "an institution's key reads only its own position")


async def _answer(
    request: web.Request,
    param: str,
    run: Query,
    check: Check,
    what: str,
    answer: type[msgspec.Struct],
) -> web.Response:
    actor = await authenticate(request)
    ident = request.match_info[param]
    if param == "sme_id":
        credit_code("path.sme_id", ident)
    known_shape(ident)
    wanted = wanted_position(request)
    limits = request.app[LIMITS]
    # One bound for the whole wait, on the standby and then on the primary.
    deadline = asyncio.get_running_loop().time() + limits.min_position_wait

    async def work(conn: asyncpg.Connection, standby: Standby | None) -> dict[str, Any]:
        await check(conn, actor, ident)
        if wanted is not None:
            if standby is None:
                await primary_reflects(conn, wanted, deadline)
            else:
                await standby_reflects(request, conn, standby, wanted, deadline)
        body = await run(conn, ident)
        if body is None:
            raise not_found(f"{what} {ident}")
        return body

    body = await read_routed(request, work)
    # Sent as the type the OpenAPI document describes (ledger/http/schemas.py), so the
    # document cannot drift from what is sent.
    typed = msgspec.convert(body, answer)
    return web.Response(body=json_response_body(typed), content_type="application/json")


@routes.get("/v1/smes/{sme_id}/exposure")
async def sme_exposure(request: web.Request) -> web.Response:
    """Per program: balance, cap, headroom, active guarantees (any key)."""
    return await _answer(request, "sme_id", queries.sme_exposure, _anyone, "SME", SmeExposure)


@routes.get("/v1/guarantees/{guarantee_id}")
async def guarantee(request: web.Request) -> web.Response:
    """State, balance, fixed shares and claims (auditor, admin, reader, parties)."""
    return await _answer(
        request,
        "guarantee_id",
        queries.guarantee_summary,
        check_guarantee_access,
        "guarantee",
        GuaranteeSummary,
    )


@routes.get("/v1/claims/{claim_id}")
async def claim(request: web.Request) -> web.Response:
    """Per role: institution, borne, recovered, net (auditor, admin, reader, parties)."""
    return await _answer(
        request, "claim_id", queries.claim_shares, check_claim_access, "claim", ClaimShares
    )


@routes.get("/v1/institutions/{institution_id}/position")
async def institution_position(request: web.Request) -> web.Response:
    """Per program: volume, balance, borne, recovered, cap use (auditor, admin, reader, itself)."""
    return await _answer(
        request,
        "institution_id",
        queries.institution_position,
        _itself,
        "institution",
        InstitutionPosition,
    )


@routes.get("/v1/programs/{program_id}")
async def program(request: web.Request) -> web.Response:
    """Current terms, version and totals (any key)."""
    return await _answer(
        request, "program_id", queries.program_summary, _anyone, "program", ProgramSummary
    )
