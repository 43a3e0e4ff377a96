"""Requests the HTTP parser cannot read, answered with problem+json like every refusal.

aiohttp refuses a request it cannot parse (a control character in a header, a line
too long, a malformed request line) before any handler or middleware runs, and
answers it with a text/plain 400. aiohttp offers no hook for that answer, so the
service's runner makes its connections with a request handler whose `handle_error`
gives the problem+json the ledger's clients read everywhere else. What aiohttp does
besides (logging the refusal, closing the connection, giving up when an answer was
already begun) is kept: the handler calls aiohttp's own first.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import structlog
from aiohttp import hdrs, web
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError

from ledger.http.bodies import unsupported_coding
from ledger.http.context import METRICS
from ledger.http.metrics import Metrics
from ledger.http.middleware import REQUEST_ID, SERVER
from ledger.http.problems import Problem, problem_response

_QUOTED = re.compile(r"""\s*:?\s*b?['"].*$""")
"""From where a reason starts quoting the request (`: b'...`) to the line's end."""

UNREADABLE_ROUTE = "(unreadable)"
"""The route label /metrics counts requests the parser refused under."""

DETAIL_LIMIT = 200
"""At most this many characters of the parser's reason go into the answer."""


def parser_reason(exc: HttpProcessingError) -> str:
    """Why the parser refused a request: the first line of its message, up to anything it
    quotes. The parser quotes the request itself (on the lines after, or after the reason
    for a line too long): a header's value, so a key, a password or a cookie."""
    first = (exc.message.strip().splitlines() or [""])[0]
    return _QUOTED.sub("", first).rstrip(": ") or "unreadable"


def unreadable_problem(status: int, exc: BaseException | None) -> Problem:
    """The problem that answers a request refused before any handler ran."""
    if isinstance(exc, ContentEncodingError):
        # A coding aiohttp knows but cannot decode here (br, zstd without their modules):
        # refused with the headers, before the body. A body not in its coding is refused
        # later, on reading (ledger/http/bodies.py).
        return unsupported_coding(None)
    if isinstance(exc, HttpProcessingError) and 400 <= status < 500:
        return Problem(
            "malformed-request",
            f"the request is not readable HTTP/1.1: {parser_reason(exc)[:DETAIL_LIMIT]}",
            status=status,
        )
    if status == 503:
        return Problem("service-unavailable", "the service cannot answer now; retry later")
    return Problem("internal-error", "the request could not be answered", status=status)


class ProblemRequestHandler(web.RequestHandler):
    """aiohttp's connection handler, answering what it refuses with problem+json."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's handling (it logs, and raises if an answer was begun), then ours: the
        answer and its log line carry a request id, and the refusal is counted."""
        request_id = str(uuid.uuid4())
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            super().handle_error(request, status, exc, message)
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
        answer = problem_response(unreadable_problem(status, exc))
        answer.headers[hdrs.SERVER] = SERVER
        answer.headers[REQUEST_ID] = request_id
        answer.force_close()
        metrics: Metrics | None = getattr(self._manager, "ledger_metrics", None)
        if metrics is not None:
            # Not a route's: the request was not read far enough to have one.
            metrics.observe("-", UNREADABLE_ROUTE, status, 0.0)
        return answer


class _ProblemServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        # As web.Server makes its handlers, with the same settings.
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


IDLE_TIMEOUT = 75.0
"""Seconds a connection may stay open with no request under way: from its opening (a
client that sends nothing, or its headers a line at a time) and between requests on a
kept-alive one. aiohttp's own default is an hour, so a few thousand silent sockets
would hold as many file descriptors for that long."""


class AppRunner(web.AppRunner):
    """web.AppRunner whose server answers unreadable requests with problem+json, and closes
    idle connections after IDLE_TIMEOUT (unless given another `keepalive_timeout`)."""

    def __init__(self, app: web.Application, **kwargs: Any) -> None:
        kwargs.setdefault("keepalive_timeout", IDLE_TIMEOUT)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # The app's own server, made as aiohttp makes it; only its handlers' class
        # differs (tests/unit/test_http_unreadable.py sees to it on each aiohttp).
        server.__class__ = _ProblemServer
        server.ledger_metrics = self.app.get(METRICS)  # type: ignore[attr-defined]
        return server
