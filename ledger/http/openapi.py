"""GET /v1/openapi.json: the OpenAPI 3.1 document of every route, body, answer and problem."""

from __future__ import annotations

import functools
from typing import Any

from aiohttp import web

from events.types import IDENT_PATTERN, SME_ID_PATTERN
from ledger.http.access import STREAM_PATTERN
from ledger.http.bodies import MAX_BODY
from ledger.http.cloudevents import BATCH_TYPE as CLOUDEVENTS_BATCH
from ledger.http.cloudevents import SCHEMA as CLOUDEVENT_SCHEMA
from ledger.http.openapi_op import Op
from ledger.http.openapi_operations import OPERATIONS
from ledger.http.openapi_schemas import REF, components
from ledger.http.params import MAX_POSITION
from ledger.http.problems import PROBLEM_TYPE, SLUG_STATUS, TITLES
from ledger.http.schemas import json_response_body

routes = web.RouteTableDef()


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _success(name: str) -> dict[str, Any]:
    if name == "text":
        return {"text/plain": {"schema": {"type": "string"}}}
    if name == "html":
        return {"text/html": {"schema": {"type": "string"}}}
    if name == "asset":
        kinds = ("text/javascript", "text/css", "image/svg+xml", "text/plain")
        return {kind: {"schema": {"type": "string"}} for kind in kinds}
    if name == "binary":
        return {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
    if name == "ndjson":
        return {"application/x-ndjson": {"schema": {"type": "string"}}}
    if name == "EventPage":
        cloudevents = {"type": "array", "items": CLOUDEVENT_SCHEMA}
        return {
            "application/json": {"schema": _ref(name)},
            CLOUDEVENTS_BATCH: {"schema": cloudevents},
        }
    if name == "event-stream":
        # One schema per server-sent event, as event-stream readers (and schemathesis) apply it.
        event = {
            "type": "object",
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+$"},
                "event": {"type": "string"},
                "data": {
                    "type": "string",
                    "contentMediaType": "application/json",
                    "contentSchema": {"anyOf": [_ref("LogEntry"), CLOUDEVENT_SCHEMA]},
                },
                "retry": {"type": "integer"},
            },
        }
        return {"text/event-stream": {"schema": event}}
    if name == "object":
        return {"application/json": {"schema": {"type": "object"}}}
    if name == "Receipt(s)":
        schema = {
            "oneOf": [_ref("ReceiptBody"), {"type": "array", "items": _ref("ReceiptBody")}],
            "description": "One receipt for one envelope, an array for an array.",
        }
        return {"application/json": {"schema": schema}}
    return {"application/json": {"schema": _ref(name)}}


def _problems(status: int, op: Op) -> dict[str, Any]:
    slugs = sorted(
        s for s, st in SLUG_STATUS.items() if st == status and (st != 409 or s in op.conflicts)
    )
    return {
        "description": "; ".join(f"/problems/{s}: {TITLES[s]}" for s in slugs),
        "content": {PROBLEM_TYPE: {"schema": _ref("ProblemBody")}},
    }


_IDENTIFIER = (
    {"type": "string", "pattern": IDENT_PATTERN},
    "an identifier: a letter or digit, then up to 63 letters, digits, '.', '_' or '-'",
)
PATH_PARAMS: dict[str, tuple[dict[str, Any], str]] = {
    "institution_id": _IDENTIFIER,
    "program_id": _IDENTIFIER,
    "guarantee_id": _IDENTIFIER,
    "claim_id": _IDENTIFIER,
    "sme_id": (
        {"type": "string", "pattern": SME_ID_PATTERN},
        "the SME's 18-character unified social credit code (422 with a wrong check character)",
    ),
    "stream_id": (
        {"type": "string", "pattern": STREAM_PATTERN},
        "institution-, program-, sme-, guarantee- or witness- and the identifier",
    ),
    "event_id": ({"type": "string", "format": "uuid"}, "the event's id, a UUID"),
    "size": (
        {"type": "integer", "minimum": 0, "maximum": MAX_POSITION},
        "a tree size (the ledger signs none at 0: 404)",
    ),
}
"""What each path parameter may be, and says: an id of another shape names nothing
(404), a size out of range is refused (422). Others are plain strings."""


def _path_parameter(name: str) -> dict[str, Any]:
    schema, description = PATH_PARAMS.get(name, ({"type": "string"}, ""))
    param = {"name": name, "in": "path", "required": True, "schema": schema}
    return param | {"description": description} if description else param


def _operation(op: Op) -> dict[str, Any]:
    params = [_path_parameter(seg[1:-1]) for seg in op.path.split("/") if seg.startswith("{")]
    params += [
        {"name": n, "in": "query", "required": n in op.required, "schema": s, "description": d}
        for n, s, d in op.query
    ]
    params += [
        {"name": n, "in": "header", "required": False, "schema": s, "description": d}
        for n, s, d in op.headers
    ]
    statuses = set(op.problems) | {405} if op.secured else set(op.problems)
    responses: dict[str, Any] = {
        str(code): {"description": "success", "content": _success(name)}
        for code, name in op.ok.items()
    }
    for status in sorted(statuses):
        responses[str(status)] = _problems(status, op)
    doc: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method}{op.path}",
        "parameters": params,
        "responses": responses,
    }
    if op.secured:
        doc["security"] = [{"bearer": []}]
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "description": f"At most {MAX_BODY} bytes.",
            "content": {"application/json": {"schema": _ref(op.body)}},
        }
    doc.update(op.extra)
    return doc


@functools.cache
def document(extra: tuple[Op, ...] = ()) -> bytes:
    """The OpenAPI 3.1 document, encoded once per set of operations."""
    paths: dict[str, dict[str, Any]] = {}
    for op in (*OPERATIONS, *extra):
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    doc = {
        "openapi": "3.1.0",
        "info": {
            "title": "Guarantee ledger",
            "version": "1",
            "description": "System of record for government-backed loan guarantees.",
        },
        "paths": paths,
        "components": {
            "schemas": components(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from `ledger keys create`.",
                }
            },
        },
    }
    return json_response_body(doc)


@routes.get("/v1/openapi.json")
async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document of this API."""
    return web.Response(body=document(), content_type="application/json")
