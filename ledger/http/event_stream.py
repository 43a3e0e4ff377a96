"""GET /v1/events/stream: the sealed log as server-sent events.

Each event goes out as `id: <position>`, `event: <type>`, `data: <the event>`; a
reconnecting consumer resumes after its `Last-Event-ID`. Every connection waits on
the one shared seal notification (ledger.http.follow), so an idle stream costs no
queries; a consumer that stops reading is cut off instead of buffered for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import structlog
from aiohttp import web

from events.stored import UnreadableEvent, read_log_entry
from ledger.aio import wait_event
from ledger.http.auth import STAFF_ROLES, authenticate, require
from ledger.http.cloudevents import cloudevent_of
from ledger.http.context import LIMITS, LOG_ORIGIN, SEALED_LOG
from ledger.http.params import MAX_POSITION, int_param, text_param, whole_number
from ledger.http.problems import Problem, invalid
from ledger.http.replicas import log_from_standby
from ledger.http.schemas import json_response_body
from ledger.store.failures import database_unavailable
from ledger.store.reads import LogRow

log = structlog.get_logger(__name__)

routes = web.RouteTableDef()

PAGE = 256
"""Events read and written at a time: what is written ahead of a slow consumer is at most
one page beyond the transport's own high-water mark, since every write waits for the
transport to drain below it (aiohttp's StreamResponse.write)."""

RETRY_MS = 1000
"""The reconnection delay the stream asks EventSource clients to use."""

HEARTBEAT = b": keep-alive\n\n"
"""The comment line sent on an idle stream."""

Frame = Callable[[LogRow], bytes]


def resume_position(request: web.Request) -> int:
    """Where the stream starts: after `Last-Event-ID` when sent, else after `?after` (0).

    The header wins: an EventSource reconnects to the URL it was first given, `?after`
    included, and sends the id of the last event it received in the header, the
    later of the two.
    """
    after = int_param(request, "after", 0, 0, MAX_POSITION)
    last_id = request.headers.get("Last-Event-ID")
    if last_id is None:
        return after
    last_id = last_id.strip()
    if not last_id:
        return after  # an EventSource that has received nothing yet sends it empty
    position = whole_number(last_id, 0, MAX_POSITION)
    if position is None:
        raise invalid(
            "header.Last-Event-ID", f"must be a position (a whole number from 0 to {MAX_POSITION})"
        )
    return position


def ledger_frame(row: LogRow) -> bytes:
    """One event as a server-sent event: the event exactly as GET /v1/events gives it."""
    entry = read_log_entry(row.body, row.position, row.hash.hex())
    data = json_response_body(entry)
    # The JSON has no line breaks (strings escape them), so it fits one `data:` line.
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (row.position, entry.type.encode(), data)


def cloudevents_frame(origin: str) -> Frame:
    """Events as server-sent events whose data is the structured CloudEvent."""

    def frame(row: LogRow) -> bytes:
        event = cloudevent_of(row, origin)
        data = json_response_body(event)
        return b"id: %d\nevent: %s\ndata: %s\n\n" % (row.position, event.type.encode(), data)

    return frame


FORMATS = ("ledger", "cloudevents")
"""What `?format=` may ask for: the feed's own event bodies (default) or CloudEvents."""


def _frame(request: web.Request) -> Frame:
    wanted = text_param(request, "format") or "ledger"
    if wanted not in FORMATS:
        raise invalid("query.format", "must be 'ledger' or 'cloudevents'")
    return ledger_frame if wanted == "ledger" else cloudevents_frame(request.app[LOG_ORIGIN])


class ConsumerTooSlow(Exception):
    """The consumer did not take what was sent within the stall limit."""


class EventStream:
    """Writes the log after a position to one consumer, until it leaves or stalls."""

    def __init__(self, request: web.Request, response: web.StreamResponse, frame: Frame) -> None:
        """Stream to `response` (already prepared) in the shape `frame` gives each event."""
        self._request = request
        self._response = response
        self._frame = frame
        self._limits = request.app[LIMITS]
        self._sealed = request.app[SEALED_LOG]
        self.sent_through = 0
        """The last position written to the connection."""

    async def _send(self, chunk: bytes) -> None:
        try:
            async with asyncio.timeout(self._limits.stream_stall):
                await self._response.write(chunk)
        except TimeoutError:
            raise ConsumerTooSlow from None

    async def run(self, after: int) -> None:
        """Send every event after `after`, then new ones as they are sealed, with heartbeats."""
        loop = asyncio.get_running_loop()
        heartbeat = self._limits.stream_heartbeat
        self.sent_through = after
        await self._send(b"retry: %d\n\n" % RETRY_MS)
        beat_at = check_at = loop.time() + heartbeat
        end_at = loop.time() + self._limits.stream_lifetime
        stopping = self._sealed.stopping
        while loop.time() < end_at and not stopping.is_set():
            if loop.time() >= check_at:
                # A revoked key stops reading within a heartbeat, not at the stream's end.
                require(await authenticate(self._request), STAFF_ROLES, "reading the event log")
                check_at = loop.time() + heartbeat
            # Taken before reading: a seal that lands between the read and the wait
            # still wakes this stream.
            sealed = await self._sealed.next_seal()
            # A standby in use sends what it has; the primary the rest (the stream only
            # ever reads after what it sent, so its positions never go backwards).
            rows = await log_from_standby(self._request, self.sent_through, PAGE)
            if not rows:
                async with asyncio.timeout(self._limits.read_timeout):
                    rows = await self._sealed.read(self.sent_through, PAGE)
            if rows:
                await self._send(b"".join(self._frame(r) for r in rows))
                self.sent_through = rows[-1].position
                beat_at = loop.time() + heartbeat
                continue
            idle = min(beat_at, end_at) - loop.time()
            if beat_at <= loop.time():
                await self._send(HEARTBEAT)
                beat_at = loop.time() + heartbeat
            elif sealed is None:
                # No LISTEN connection right now: look again soon, it is re-opened then.
                await wait_event(stopping, min(idle, 1.0))
            else:
                # The service stopping wakes it too (SealedLog.stop_waiting).
                await wait_event(sealed, idle)


@routes.get("/v1/events/stream")
async def get_event_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the log after `after` (or Last-Event-ID), then live."""
    actor = await authenticate(request)
    require(actor, STAFF_ROLES, "reading the event log")
    after = resume_position(request)
    frame = _frame(request)
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            # Proxies such as nginx would otherwise hold events back to fill a buffer.
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    if request.method == "HEAD":
        # The headers alone: an answer to HEAD has no body, and this one would never end.
        await response.write_eof()
        return response
    stream = EventStream(request, response, frame)
    try:
        await stream.run(after)
    except ConsumerTooSlow:
        transport = request.transport
        pending = transport.get_write_buffer_size() if transport is not None else 0
        log.warning(
            "event_stream.consumer_cut_off",
            reason="the consumer did not take one write (a page of events at most) in time",
            stalled_s=request.app[LIMITS].stream_stall,
            sent_through=stream.sent_through,
            pending_bytes=pending,
            resume="reconnect with Last-Event-ID set to the last id received",
        )
        if transport is not None:
            transport.abort()
    except Problem as problem:
        # The key was revoked (or lost its role) while the stream was open.
        log.info(
            "event_stream.ended", reason="the key may no longer read the log", slug=problem.slug
        )
    except ConnectionError:
        # The consumer left; a stream left idle notices at its next heartbeat at the latest.
        pass
    except UnreadableEvent as exc:
        # The page holding it is not sent (it is framed whole before it is written); a
        # consumer that resumes meets the same bytes, and each attempt is logged so.
        log.error("event_stream.ended", reason=str(exc), position=exc.position)
    except Exception as exc:
        if not (database_unavailable(exc) or isinstance(exc, TimeoutError)):
            raise
        # The answer has begun: a problem can no longer be sent. The consumer
        # reconnects and resumes from its last id once the database is back.
        log.warning("event_stream.ended", reason="database unavailable", error=repr(exc)[:300])
    return response
