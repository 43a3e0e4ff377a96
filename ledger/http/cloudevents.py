"""Events as CloudEvents 1.0 in the structured JSON format."""

from __future__ import annotations

import datetime as dt

import msgspec
from aiohttp import web

from events.payloads import Payload
from events.stored import LogEntry, read_log_entry
from ledger.http.negotiate import preferred
from ledger.http.schemas import json_response_body
from ledger.store.reads import LogRow

BATCH_TYPE = "application/cloudevents-batch+json"
"""Media type of a JSON array of CloudEvents (asked for with Accept on GET /v1/events)."""

EVENT_TYPE = "application/cloudevents+json"
"""Media type of one CloudEvent."""


class CloudEvent(msgspec.Struct, kw_only=True):
    """One ledger event as a CloudEvent: context attributes, data, and ledger extensions."""

    specversion: str = "1.0"
    id: str
    """The event_id."""
    source: str
    """The log origin."""
    type: str
    subject: str
    """The stream_id."""
    time: dt.datetime
    """occurred_at: the business time."""
    datacontenttype: str = "application/json"
    data: Payload
    position: int
    """Extension: the global position."""
    streamversion: int
    """Extension: the version within the stream."""
    recordedtime: dt.datetime
    """Extension: when the ledger recorded it."""
    ledgerhash: str
    """Extension: the chain hash at this position (hex)."""

    @classmethod
    def of(cls, entry: LogEntry, origin: str) -> CloudEvent:
        """The CloudEvent of a log entry from the log named `origin`."""
        return cls(
            id=entry.event_id,
            source=origin,
            type=entry.type,
            subject=entry.stream_id,
            time=entry.occurred_at,
            data=entry.data,
            position=entry.position,
            streamversion=entry.stream_version,
            recordedtime=entry.recorded_at,
            ledgerhash=entry.hash,
        )


_STRING = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}
_INT = {"type": "integer", "minimum": 1}

_PROPERTIES = {
    "specversion": {"const": "1.0"},
    "id": {**_STRING, "description": "the event_id"},
    "source": {**_STRING, "description": "the log origin"},
    "type": _STRING,
    "subject": {**_STRING, "description": "the stream_id"},
    "time": {**_TIME, "description": "occurred_at"},
    "datacontenttype": {"const": "application/json"},
    "data": {"type": "object", "description": "the event's data; `type` decides its shape"},
    "position": _INT,
    "streamversion": _INT,
    "recordedtime": _TIME,
    "ledgerhash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
}

SCHEMA = {
    "type": "object",
    "description": "A ledger event as a CloudEvent 1.0 (structured JSON format).",
    "required": list(_PROPERTIES),
    "properties": _PROPERTIES,
}
"""JSON schema of one CloudEvent, for the OpenAPI document."""


def cloudevent_of(row: LogRow, origin: str) -> CloudEvent:
    """The CloudEvent of a sealed log row."""
    return CloudEvent.of(read_log_entry(row.body, row.position, row.hash.hex()), origin)


def wants_batch(request: web.Request) -> bool:
    """Whether the request's Accept header prefers a CloudEvents batch to the ledger's page
    (weights counted: `;q=0` refuses it)."""
    return preferred(request, ("application/json", BATCH_TYPE)) == BATCH_TYPE


def batch_response(rows: list[LogRow], origin: str) -> web.Response:
    """A JSON array of CloudEvents, in position order."""
    return web.Response(
        body=json_response_body([cloudevent_of(r, origin) for r in rows]),
        headers={"Content-Type": BATCH_TYPE},
    )
