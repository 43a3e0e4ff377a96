"""GET /v1/statements/{institution_id}: an institution's period statement."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec
from aiohttp import web

from events.business import SHANGHAI
from ledger.filed_statements import (
    DigestMismatch,
    changes,
    filed_statement,
    late_positions,
    latest_filing,
)
from ledger.http.access import known_shape, not_found
from ledger.http.auth import READ_ROLES, authenticate
from ledger.http.context import LIMITS, RUNTIME
from ledger.http.negotiate import preferred
from ledger.http.params import date_param, known_at_param, text_param
from ledger.http.problems import Problem, invalid
from ledger.http.readmodels import (
    asked_head,
    primary_reflects,
    standby_reflects,
    wanted_position,
)
from ledger.http.replicas import read_routed
from ledger.http.schemas import json_response_body
from ledger.http.statement_schemas import FiledStatement, Statement, StatementComparison
from ledger.periods import PERIOD_FORMS, period_dates
from ledger.standbys import Standby
from ledger.statement_csv import statement_csv
from ledger.store.reads import head_position
from projections.queries import reflected_position
from projections.statements import Cut, institution_kind, movements_position, statement

routes = web.RouteTableDef()

_MOVEMENTS = "the movements read model reflects"


@dataclass(frozen=True)
class Asked:
    """What a statement request asks for: whose, which business dates, as known when."""

    institution_id: str
    first: dt.date
    last: dt.date
    known_at: dt.datetime | None


def asked(request: web.Request) -> Asked:
    """The request's institution, period and known_at, or 422 naming what to fix."""
    ident = request.match_info["institution_id"]
    known_shape(ident)
    period = text_param(request, "period")
    first, last = date_param(request, "from"), date_param(request, "to")
    if period is not None:
        if first is not None or last is not None:
            raise invalid("query.period", "give period, or from and to, not both")
        try:
            first, last = period_dates(period)
        except ValueError as exc:
            raise invalid("query.period", str(exc)) from None
    elif first is None or last is None:
        missing = "to" if first is not None else "from" if last is not None else "period"
        raise invalid(
            f"query.{missing}",
            f"give period ({PERIOD_FORMS}), or from and to (YYYY-MM-DD, both included)",
        )
    if first > last:
        raise invalid("query.from", f"from {first} is after to {last}; swap them")
    known_at = known_at_param(request, now=request.app[RUNTIME].ledger.now())
    return Asked(ident, first, last, known_at)


def check_reader(actor_role: str, actor_institution: str | None, institution_id: str) -> None:
    """403 unless auditor, admin, reader or the institution itself."""
    if actor_role not in READ_ROLES and actor_institution != institution_id:
        raise Problem("forbidden", "an institution's key reads only its own statements")


def respond(
    request: web.Request, body: dict[str, Any], answer: type[msgspec.Struct] = Statement
) -> web.Response:
    """JSON as the type the OpenAPI document describes, or CSV when the client prefers
    text/csv (by weight, then the order it names them); the comparison is JSON only."""
    wants_csv = preferred(request, ("application/json", "text/csv")) == "text/csv"
    if wants_csv and answer is not StatementComparison:
        return web.Response(text=statement_csv(body), content_type="text/csv", charset="utf-8")
    typed = msgspec.convert(body, answer)
    return web.Response(body=json_response_body(typed), content_type="application/json")


@routes.get("/v1/statements/{institution_id}")
async def get_statement(request: web.Request) -> web.Response:
    """Per program: in force, movements, losses over a period (auditor, admin, reader, itself).

    `?filed=latest`: the latest filed statement of that period, recomputed and checked
    against its digest; `?compare=filed`: that one against the statement now.
    """
    actor = await authenticate(request)
    ask = asked(request)
    filed = text_param(request, "filed")
    compare = text_param(request, "compare")
    if filed not in (None, "latest"):
        raise invalid("query.filed", "the only choice is filed=latest")
    if compare not in (None, "filed"):
        raise invalid("query.compare", "the only choice is compare=filed")
    if filed and compare:
        raise invalid("query.compare", "give filed=latest or compare=filed, not both")
    check_reader(actor.role, actor.institution_id, ask.institution_id)
    wanted = wanted_position(request)
    deadline = asyncio.get_running_loop().time() + request.app[LIMITS].min_position_wait
    # The log as it stood when the request came is the primary's: a standby's own head
    # trails it, by up to its lag bound.
    head_then = await asked_head(request, ask.known_at, deadline)

    async def work(
        conn: asyncpg.Connection, standby: Standby | None
    ) -> tuple[dict[str, Any], type[msgspec.Struct]]:
        # As the read-model routes do: on a standby that reflects min_position, else the primary.
        if wanted is not None:
            if standby is None:
                await primary_reflects(conn, wanted, deadline)
            else:
                await standby_reflects(request, conn, standby, wanted, deadline)
        # And the log as it stood when the request came, in the read model statements are
        # summed from, so that a statement as known at a moment stays the same once it is
        # answered (as GET /v1/audit/state does for business dates).
        head = head_then if head_then is not None else await head_position(conn)
        if standby is None:
            await primary_reflects(conn, head, deadline, movements_position, _MOVEMENTS)
        else:
            await standby_reflects(request, conn, standby, head, deadline, movements_position)
        return await _answer(conn, ask, filed, compare)

    body, answer = await read_routed(request, work)
    return respond(request, body, answer)


async def _answer(
    conn: asyncpg.Connection, ask: Asked, filed: str | None, compare: str | None
) -> tuple[dict[str, Any], type[msgspec.Struct]]:
    kind = await institution_kind(conn, ask.institution_id)
    if kind is None:
        raise not_found(f"institution {ask.institution_id}")
    known_at = ask.known_at or dt.datetime.now(SHANGHAI)
    now = await statement(
        conn,
        ask.institution_id,
        kind,
        ask.first,
        ask.last,
        known_at.astimezone(SHANGHAI),
        Cut(known_at=ask.known_at),
    )
    if not (filed or compare):
        return now, Statement
    # As known at known_at: a filing recorded after it was not yet made then.
    filing = await latest_filing(conn, ask.institution_id, ask.first, ask.last, ask.known_at)
    if filing is None:
        when = "" if ask.known_at is None else f" by {ask.known_at.isoformat()}"
        raise not_found(
            f"statement filed by {ask.institution_id} for {ask.first} to {ask.last}{when}"
        )
    reflected = await reflected_position(conn)
    if reflected < filing.position:
        raise Problem(
            "service-unavailable",
            f"the read models reflect position {reflected}, not yet the filed "
            f"{filing.position}; retry shortly",
            headers={"Retry-After": "1"},
        )
    try:
        then = await filed_statement(conn, ask.institution_id, kind, ask.first, ask.last, filing)
    except DigestMismatch as exc:
        raise Problem("invalid-state", str(exc)) from None
    if filed:
        return then, FiledStatement
    late = await late_positions(conn, ask.institution_id, ask.last, filing.position, ask.known_at)
    body = {"filed": then, "now": now, "changes": changes(then, now), "late_events": late}
    return body, StatementComparison
