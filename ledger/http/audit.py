"""Audit routes for auditors and admins: recompute the hash chain, read models as they stood."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import msgspec
import structlog
from aiohttp import web

from events.types import IDENT, IDENT_PATTERN
from ledger.audit import state_process
from ledger.audit.as_of import state_as_of
from ledger.audit.replay import ReplayError
from ledger.audit.state import STATE_IDS, OutOfBusinessOrder, state_at
from ledger.audit.verify import verify_chain
from ledger.http.as_of import as_of_cut
from ledger.http.auth import STAFF_ROLES, authenticate, require
from ledger.http.context import LIMITS, RUNTIME, STATE_FOLDS
from ledger.http.db import pooled
from ledger.http.params import (
    MAX_POSITION,
    credit_code,
    date_param,
    int_param,
    known_at_param,
    optional_int,
    text_param,
)
from ledger.http.problems import Problem, invalid, unavailable
from ledger.http.readmodel_schemas import (
    ClaimShares,
    GuaranteeSummary,
    InstitutionPosition,
    ProgramSummary,
    SmeExposure,
)
from ledger.http.readmodels import asked_head
from ledger.http.replicas import Behind, read_routed
from ledger.http.schemas import ChainCheck, json_response_body
from ledger.standbys import Standby
from ledger.store.reads import head_position

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()


@routes.get("/v1/audit/verify")
async def verify(request: web.Request) -> web.Response:
    """Recompute the chain through `through` (default the head); name the first bad position."""
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "verifying the chain")
    through = optional_int(request, "through", 1, MAX_POSITION)
    limits = request.app[LIMITS]
    async with pooled(
        request.app[RUNTIME].pool, limits.acquire_timeout, limits.audit_timeout
    ) as conn:
        report = await verify_chain(conn, through=through)
    body = msgspec.convert(report.to_json(), ChainCheck)
    return web.Response(body=json_response_body(body), content_type="application/json")


STATE_BODIES: dict[str, type[msgspec.Struct]] = {
    "guarantee_id": GuaranteeSummary,
    "claim_id": ClaimShares,
    "sme_id": SmeExposure,
    "institution_id": InstitutionPosition,
    "program_id": ProgramSummary,
}
"""What GET /v1/audit/state answers, by the id it is given: the read model's own body."""
assert tuple(STATE_BODIES) == STATE_IDS


@routes.get("/v1/audit/state")
async def state(request: web.Request) -> web.Response:
    """One read model as it stood at `position`, or as of `business_date` (and `known_at`)."""
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "reading past states")
    day = date_param(request, "business_date")
    known_at = known_at_param(request, now=request.app[RUNTIME].ledger.now())
    if day is None and "position" not in request.query:
        raise invalid(
            "query.position", "required: the log position (or a business_date) to look at"
        )
    if day is not None and "position" in request.query:
        raise invalid("query", "give position or business_date, not both")
    if known_at is not None and day is None:
        raise invalid("query.known_at", "known_at goes with business_date")
    position = None if day is not None else int_param(request, "position", 0, 0, MAX_POSITION)
    given = [(name, value) for name in STATE_IDS if (value := text_param(request, name))]
    if len(given) != 1:
        raise invalid("query", "give exactly one of " + ", ".join(STATE_IDS))
    name, ident = given[0]
    if name == "sme_id":
        credit_code("query.sme_id", ident)
    elif not IDENT.fullmatch(ident):
        # Echoed in a 404 otherwise, control characters and all: no event gives one.
        raise invalid(f"query.{name}", f"not an id: ids match {IDENT_PATTERN}")
    deadline = asyncio.get_running_loop().time() + request.app[LIMITS].min_position_wait
    # The books of a day hold the primary's log as it stood when the request came.
    head_then = None if day is None else await asked_head(request, known_at, deadline)

    async def work(conn: asyncpg.Connection, standby: Standby | None) -> dict[str, Any] | None:
        if day is not None:
            # The books of a day come from the as-of read model, never a fold of the log.
            head = head_then if head_then is not None else await head_position(conn)
            cut = await as_of_cut(conn, standby, day, known_at, deadline, head)
            try:
                body: dict[str, Any] | None = await state_as_of(conn, cut, name, ident)
            except OutOfBusinessOrder as exc:
                raise Problem("invalid-state", str(exc)) from None
            return body
        head = await head_position(conn)
        if position is not None and position > head:
            if standby is not None:
                raise Behind(f"standby {standby.name} has not replayed position {position}")
            raise invalid("query.position", f"beyond the head of the log ({head})")
        try:
            if position is not None and position >= state_process.ELSEWHERE_FROM:
                # A long fold: in a process of its own, off this event loop.
                dsn = request.app[RUNTIME].dsn if standby is None else standby.dsn
                async with request.app[STATE_FOLDS]:
                    return await state_process.state_elsewhere(dsn, position, name, ident)
            return await state_at(
                conn, position, business_date=day, known_at=known_at, **{name: ident}
            )
        except state_process.FoldFailed as exc:
            log.warning("audit.state_fold_failed", error=str(exc))
            raise unavailable(f"folding this state failed ({exc}); retry later") from None
        except OutOfBusinessOrder as exc:
            raise Problem("invalid-state", str(exc)) from None
        except ReplayError as exc:
            # The history up to there does not verify: no state is answered from it.
            raise Problem("invalid-state", f"{exc}; see GET /v1/audit/verify") from None

    body = await read_routed(request, work, within=request.app[LIMITS].audit_timeout)
    if body is None:
        when = f"position {position}" if day is None else f"business date {day}"
        raise Problem("not-found", f"no {name.removesuffix('_id')} {ident} at {when}")
    typed = msgspec.convert(body, STATE_BODIES[name])
    return web.Response(body=json_response_body(typed), content_type="application/json")
