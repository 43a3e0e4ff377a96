"""POST /v1/events (post one event or an atomic batch) and GET /v1/events (follow the log)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from events.envelope import (
    MAX_BATCH,
    InvalidEvents,
    MalformedJson,
    PostedBatch,
    TooManyEvents,
    decode_posted,
)
from events.stored import read_log_entry
from ledger.auth.keys import UnknownKey
from ledger.http.auth import STAFF_ROLES, authenticate, bearer_key, require, unknown_key
from ledger.http.bodies import MAX_BODY, read_body
from ledger.http.cloudevents import batch_response, wants_batch
from ledger.http.context import LIMITS, LOG_ORIGIN, METRICS, RUNTIME, SEALED_LOG
from ledger.http.params import MAX_POSITION, int_param, seconds_param
from ledger.http.problems import Problem, unavailable
from ledger.http.replicas import log_from_standby
from ledger.http.schemas import EventPage, ReceiptBody, json_response_body
from ledger.rules.authorize import READ_ONLY_ROLES, read_only
from ledger.store.positions import SealTimeout

MAX_LIMIT = 1000
"""Most events one GET /v1/events answers with."""

MAX_WAIT = 30.0
"""Longest long poll, in seconds."""

routes = web.RouteTableDef()


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or (
        content_type.startswith("application/") and content_type.endswith("+json")
    )


async def _read_body(request: web.Request) -> bytes:
    if not _is_json(request.content_type):
        raise Problem(
            "unsupported-media-type",
            f"send the body as application/json, not {request.content_type[:80]!r}",
        )
    return await read_body(request)


async def _decoded(request: web.Request) -> PostedBatch:
    body = await _read_body(request)
    try:
        return decode_posted(body)
    except MalformedJson as exc:
        raise Problem("malformed-json", exc.detail) from None
    except TooManyEvents as exc:
        raise Problem("payload-too-large", exc.detail) from None
    except InvalidEvents as exc:
        detail = f"{len(exc.errors)} invalid field(s): " + "; ".join(
            f"{e.path}: {e.message}" for e in exc.errors[:3]
        )
        raise Problem("validation-error", detail[:1000], errors=exc.errors) from None


@routes.post("/v1/events")
async def post_events(request: web.Request) -> web.Response:
    """Post one envelope or an array of them: 201 with receipts, 200 for an identical repost."""
    # The key is looked up in the transaction that stores the post, beside the keys of
    # the posts stored with it, rather than in a round trip of its own.
    key = bearer_key(request)
    try:
        batch = await _decoded(request)
    except Problem as problem:
        # Who asks is answered before what is wrong with the body, as on every route: a
        # key that may post nothing at all is told so, not how to fix a body it may not send.
        actor = await authenticate(request)
        if actor.role in READ_ONLY_ROLES:
            raise Problem(
                "forbidden",
                read_only(actor.role),
                close=problem.close,
            ) from None
        raise
    runtime, limits = request.app[RUNTIME], request.app[LIMITS]
    try:
        async with asyncio.timeout(limits.post_timeout):
            result = await runtime.ledger.post(batch.events, key, batch=batch.is_array)
    except UnknownKey:
        raise unknown_key() from None
    except SealTimeout:
        raise unavailable(
            "the event is stored but has no position yet; repost the same event "
            "(same event_id) to get its receipt"
        ) from None
    except TimeoutError:
        raise unavailable(
            "the ledger did not answer in time; the post may or may not be stored: repost "
            "the same event (same event_id) to find out, it is never stored twice"
        ) from None
    if not result.replayed:
        request.app[METRICS].appended(len(result.receipts))
    receipts = [ReceiptBody.of(r) for r in result.receipts]
    return web.Response(
        status=200 if result.replayed else 201,
        body=json_response_body(receipts if batch.is_array else receipts[0]),
        content_type="application/json",
    )


@routes.get("/v1/events")
async def get_events(request: web.Request) -> web.Response:
    """Events after `after` in position order; waits up to `wait` seconds when there are none.

    With `Accept: application/cloudevents-batch+json`, a JSON array of CloudEvents.
    """
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "reading the event log")
    after = int_param(request, "after", 0, 0, MAX_POSITION)
    limit = int_param(request, "limit", 100, 1, MAX_LIMIT)
    wait = seconds_param(request, "wait", 0.0, MAX_WAIT)
    limits = request.app[LIMITS]
    rows = await log_from_standby(request, after, limit)
    if not rows:
        # Nothing new there (or no standby in use): the primary answers, and long polls
        # wait on it, since notifications of new seals reach only the primary's listeners.
        async with asyncio.timeout(wait + limits.read_timeout):
            rows = await request.app[SEALED_LOG].batch(after, limit, wait)
    if wants_batch(request):
        return batch_response(rows, request.app[LOG_ORIGIN])
    entries = [read_log_entry(r.body, r.position, r.hash.hex()) for r in rows]
    page = EventPage(events=entries, next_after=rows[-1].position if rows else after)
    return web.Response(body=json_response_body(page), content_type="application/json")


__all__ = ["MAX_BATCH", "MAX_BODY", "routes"]
