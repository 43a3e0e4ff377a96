"""Request middleware: request id, access log and metrics; every failure as a problem."""

from __future__ import annotations

import re
import time
import uuid
from contextvars import ContextVar

import msgspec
import structlog
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from events.errors import shorten
from events.stored import UnreadableEvent
from ledger.filing import MovementsBehind
from ledger.http.context import ACCESS_LOG, METRICS
from ledger.http.problems import PROBLEM_TYPE, Problem, problem_response, unavailable
from ledger.rules.refusal import Refusal
from ledger.store.failures import database_unavailable, unavailable_detail
from ledger.store.tree import MissingTile
from projections.spill import SpillError

log = structlog.get_logger("ledger.http")

REQUEST_ID = "X-Request-ID"
"""Header carrying the request id in both directions."""

_CURRENT_ID: ContextVar[str | None] = ContextVar("ledger_request_id", default=None)
"""The id of the request this task answers (set by `observe`)."""

SERVER = "ledger"
"""The Server header of every answer: aiohttp's own names its and Python's versions."""

_SANE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+=-]{0,127}$")

_HTTP_SLUGS = {
    400: "malformed-json",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def _route_name(request: web.Request) -> str:
    # The route template keeps metric labels few; unmatched paths share one label.
    route = request.match_info.route
    if route.resource is None or request.match_info.http_exception is not None:
        return "unmatched"
    return route.resource.canonical


def refusal_problem(refusal: Refusal) -> Problem:
    """The problem answer of a rule's refusal (422 ones name their field)."""
    from events.errors import FieldError

    errors = None
    if refusal.status == 422:
        errors = [FieldError(path=refusal.path or "$", message=refusal.detail)]
    return Problem(
        refusal.slug, refusal.detail, status=refusal.status, errors=errors, extra=refusal.extra
    )


def _http_problem(exc: web.HTTPException, method: str) -> Problem:
    slug = _HTTP_SLUGS.get(exc.status, "internal-error" if exc.status >= 500 else "not-found")
    headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
    if exc.status == 404:
        detail = "no such resource"
    elif exc.status == 405:
        detail = (
            f"{shorten(method, 20)} is not allowed here; allowed: {exc.headers.get('Allow', '')}"
        )
    elif exc.status == 413:
        detail = "the body is larger than 1 MiB"
    else:
        detail = exc.reason
    return Problem(slug, detail, status=exc.status, headers=headers)


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn whatever a handler raised into a problem+json answer; never a bare 500."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem_response(problem)
    except Refusal as refusal:
        return problem_response(refusal_problem(refusal))
    except web.HTTPException as exc:
        return problem_response(_http_problem(exc, request.method))
    except MovementsBehind as exc:
        return problem_response(unavailable(str(exc)))
    except MissingTile as exc:
        # A proof needs a tile the stored tree lacks: the tree no longer matches the log
        # its checkpoints signed (or has not caught up with an imported one).
        log.error("request.tree_incomplete", error=str(exc))
        return problem_response(
            Problem(
                "invalid-state",
                f"the ledger's Merkle tree lacks what this answer needs ({exc}); "
                "its operator should run `ledger audit verify`",
            )
        )
    except UnreadableEvent as exc:
        log.error("request.unreadable_event", position=exc.position, error=shorten(str(exc), 300))
        return problem_response(
            Problem("invalid-state", f"{exc}; its operator should run `ledger audit verify`")
        )
    except SpillError as exc:
        # A fold of the log (GET /v1/audit/state) outgrew memory and found no room for
        # its temporary file: the operator's to fix, the request's to retry.
        log.error("request.spill_failed", error=shorten(str(exc), 500))
        return problem_response(
            unavailable("no room left for this request's temporary file; retry later")
        )
    except Exception as exc:
        if database_unavailable(exc):
            log.warning("request.database_unavailable", error=shorten(repr(exc), 300))
            return problem_response(unavailable(unavailable_detail(exc)))
        # The last resort: the request was valid input the code failed on.
        log.exception("request.failed")
        return problem_response(
            Problem("internal-error", "the ledger failed to answer this request; it was logged")
        )


class _ProblemType(msgspec.Struct):
    type: str = ""


_PROBLEM_TYPE = msgspec.json.Decoder(_ProblemType)


def _problem_slug(response: web.StreamResponse) -> dict[str, str]:
    """{"problem": slug} of a problem+json answer, for its access line; else nothing."""
    body = getattr(response, "body", None)
    if response.content_type != PROBLEM_TYPE or not isinstance(body, bytes):
        return {}
    try:
        kind = _PROBLEM_TYPE.decode(body).type
    except msgspec.MsgspecError:
        return {}
    return {"problem": kind.removeprefix("/problems/")}


async def name_server(request: web.Request, response: web.StreamResponse) -> None:
    """Answer as the ledger, with the request's id (on_response_prepare: streams are
    prepared in their handler, before `observe` sees their answer)."""
    response.headers[hdrs.SERVER] = SERVER
    request_id = _CURRENT_ID.get()
    if request_id is not None:
        response.headers[REQUEST_ID] = request_id


@web.middleware
async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind a request id to every log line, log one access line, count the request."""
    given = request.headers.get(REQUEST_ID, "")
    request_id = given if _SANE_ID.fullmatch(given) else str(uuid.uuid4())
    started = time.perf_counter()
    route = _route_name(request)
    # Bound and reset by token rather than with bound_contextvars, which also reads
    # every bound variable on the way in and out of each request.
    tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
    current = _CURRENT_ID.set(request_id)  # for answers sent before the handler returns
    try:
        response = await handler(request)
        response.headers[REQUEST_ID] = request_id
        elapsed = time.perf_counter() - started
        request.app[METRICS].observe(request.method, route, response.status, elapsed)
        # The path only: query strings and headers may carry secrets. A refusal says which
        # problem it was (its slug: never the detail, which may quote what was sent).
        why = _problem_slug(response) if response.status >= 400 else {}
        request.app[ACCESS_LOG].info(
            "request",
            method=request.method,
            route=route,
            path=shorten(request.path, 200),
            status=response.status,
            latency_ms=round(elapsed * 1000, 2),
            **why,
        )
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
        _CURRENT_ID.reset(current)
    return response
