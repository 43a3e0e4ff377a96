"""The OpenAPI operation table: every route the service serves, with its answers and problems."""

from __future__ import annotations

from ledger.http import readmodel_schemas, schemas
from ledger.http.events import MAX_LIMIT, MAX_WAIT
from ledger.http.openapi_log_operations import LOG_OPERATIONS
from ledger.http.openapi_op import AFTER_ID, Op
from ledger.http.openapi_op import MIN_POSITION as _MIN_POSITION
from ledger.http.openapi_op import READ as _READ
from ledger.http.openapi_op import integer as _int
from ledger.http.params import MAX_POSITION

POST_CONFLICTS = (
    "cap-exceeded",
    "concentration-exceeded",
    "idempotency-conflict",
    "invalid-state",
    "leverage-exceeded",
    "not-eligible",
    "program-suspended",
    "version-conflict",
)
"""What the rules and the event store refuse a post with."""

OPERATIONS: tuple[Op, ...] = (
    Op(
        "post",
        "/v1/events",
        "Post one event, or an array of events atomically",
        {201: "Receipt(s)", 200: "Receipt(s)"},
        (400, 401, 403, 409, 413, 415, 422, 503),
        body="PostedBody",
        conflicts=POST_CONFLICTS,
    ),
    Op(
        "get",
        "/v1/events",
        "Events after a position, in order; long poll with wait",
        {200: "EventPage"},
        (401, 403, 422, 503),
        query=(
            ("after", _int(0, MAX_POSITION), "events after this position (default 0)"),
            ("limit", _int(1, MAX_LIMIT), "at most this many (default 100)"),
            (
                "wait",
                {"type": "number", "minimum": 0, "maximum": MAX_WAIT},
                "seconds to wait when there are none yet (default 0)",
            ),
        ),
    ),
    Op(
        "get",
        "/v1/events/stream",
        "Server-sent events: the log after a position, then live (auditor, admin)",
        {200: "event-stream"},
        (401, 403, 422, 503),
        query=(
            ("after", _int(0, MAX_POSITION), "events after this position (default 0)"),
            (
                "format",
                {"enum": ["ledger", "cloudevents"]},
                "event data as in GET /v1/events (default) or as structured CloudEvents",
            ),
        ),
        headers=(
            (
                "Last-Event-ID",
                {"type": "string", "pattern": "^[0-9]{0,19}$"},
                "the last position received: the stream resumes after it (wins over after)",
            ),
        ),
        extra={
            "description": (
                "Each event as `id: <position>`, `event: <type>`, `data: <the event as in "
                "GET /v1/events>`, and a comment line on an idle stream. A `Last-Event-ID` "
                "header (sent by a reconnecting EventSource) wins over `after`. A consumer "
                "that stops reading is cut off and resumes from its last id."
            )
        },
    ),
    Op(
        "get",
        "/v1/streams/{stream_id}",
        "One stream's events (auditor, admin, parties)",
        {200: "StreamPage"},
        _READ,
        query=(("from_version", _int(1, 2**31 - 1), "first version (default 1)"),),
    ),
    Op(
        "get",
        "/v1/smes/{sme_id}/exposure",
        "An SME's balance, cap and headroom per program",
        {200: readmodel_schemas.SmeExposure.__name__},
        _READ,
        query=(_MIN_POSITION,),
    ),
    Op(
        "get",
        "/v1/guarantees/{guarantee_id}",
        "A guarantee (auditor, admin, reader, parties)",
        {200: readmodel_schemas.GuaranteeSummary.__name__},
        _READ,
        query=(_MIN_POSITION,),
    ),
    Op(
        "get",
        "/v1/claims/{claim_id}",
        "A claim's shares per role (auditor, admin, reader, parties)",
        {200: readmodel_schemas.ClaimShares.__name__},
        _READ,
        query=(_MIN_POSITION,),
    ),
    Op(
        "get",
        "/v1/institutions/{institution_id}/position",
        "An institution's position per program (auditor, admin, reader, itself)",
        {200: readmodel_schemas.InstitutionPosition.__name__},
        _READ,
        query=(_MIN_POSITION,),
    ),
    Op(
        "get",
        "/v1/programs/{program_id}",
        "A program's current terms, version and totals",
        {200: readmodel_schemas.ProgramSummary.__name__},
        _READ,
        query=(_MIN_POSITION,),
    ),
    Op(
        "get",
        "/v1/audit/verify",
        "Recompute the hash chain; name the first bad position",
        {200: schemas.ChainCheck.__name__},
        (401, 403, 422, 503),
        query=(
            ("through", _int(1, MAX_POSITION), "verify through this position (default: the head)"),
        ),
    ),
    Op(
        "get",
        "/v1/audit/state",
        "A read model as it stood at a position, or as of a business date",
        {200: "AuditState"},
        (401, 403, 404, 409, 422, 503),
        query=(
            ("position", _int(0, MAX_POSITION), "the log position (or give business_date)"),
            ("business_date", {"type": "string", "format": "date"}, "the books as of this day"),
            (
                "known_at",
                {"type": "string", "format": "date-time"},
                "with business_date: counting events recorded by then (default now)",
            ),
            ("guarantee_id", {"type": "string"}, "a guarantee (give exactly one id)"),
            ("claim_id", {"type": "string"}, "a claim"),
            ("sme_id", {"type": "string"}, "an SME's exposure"),
            ("institution_id", {"type": "string"}, "an institution's position"),
            ("program_id", {"type": "string"}, "a program"),
        ),
    ),
    Op(
        "get",
        "/v1/audit/export",
        "The log as NDJSON lines of `ledger audit export`, exact stored bytes (auditor, admin)",
        {200: "ndjson"},
        (401, 403, 422, 503),
        query=(
            ("after", _int(0, MAX_POSITION), "events after this position (default 0)"),
            ("limit", _int(1, 10_000), "at most this many (default 1000)"),
        ),
    ),
    Op(
        "get",
        "/v1/statements/{institution_id}",
        "An institution's statement per program over business dates: JSON, or CSV "
        "for Accept: text/csv (auditor, admin, reader, itself)",
        {200: "StatementAnswer"},
        (*_READ, 409),
        query=(
            ("period", {"type": "string"}, "2025, 2025-Q2 or 2025-06 (or give from and to)"),
            ("from", {"type": "string", "format": "date"}, "first business date (included)"),
            ("to", {"type": "string", "format": "date"}, "last business date (included)"),
            (
                "known_at",
                {"type": "string", "format": "date-time"},
                "count the events recorded by then (default now)",
            ),
            ("filed", {"type": "string", "enum": ["latest"]}, "the latest filed statement"),
            ("compare", {"type": "string", "enum": ["filed"]}, "the filed statement against now"),
            _MIN_POSITION,
        ),
        extra={
            "description": "With Accept: text/csv, one row per program, columns named by "
            "their JSON path (issued.count ...)."
        },
    ),
    *LOG_OPERATIONS,
    Op(
        "get",
        "/v1/programs",
        "Every program, each as GET /v1/programs/{program_id} answers it",
        {200: "object"},
        (401, 503),
    ),
    Op(
        "get",
        "/v1/institutions",
        "Every institution's id, kind and name",
        {200: "object"},
        (401, 503),
    ),
    Op(
        "get",
        "/v1/smes",
        "SMEs (id and name) in id order, a page at a time",
        {200: "object"},
        (401, 404, 422, 503),
        query=(
            ("after", AFTER_ID, "SMEs after this id (default: from the first)"),
            ("limit", _int(1, 1000), "at most this many (default 100)"),
        ),
    ),
    Op(
        "get",
        "/v1/smes/{sme_id}/guarantees",
        "An SME's guarantees this key may read, each as GET /v1/guarantees/{id} answers it; "
        "a page ends before one stored but not yet in the read model (503 if it comes first)",
        {200: "object"},
        (401, 404, 422, 503),
        query=(
            ("after", AFTER_ID, "guarantees after this id (default: from the first)"),
            ("limit", _int(1, 1000), "at most this many (default 100)"),
        ),
    ),
    Op("get", "/", "The web console", {200: "html"}, (), secured=False),
    Op("get", "/console", "The web console", {200: "html"}, (), secured=False),
    Op("get", "/console/{page}", "A page of the web console", {200: "html"}, (), secured=False),
    Op(
        "get",
        "/console/assets/{name}",
        "A script, style sheet or image of the web console",
        {200: "asset"},
        (404,),
        secured=False,
    ),
    Op("get", "/v1/openapi.json", "This document", {200: "object"}, (), secured=False),
    Op("get", "/healthz", "Liveness: the process answers", {200: "Health"}, (), secured=False),
    Op(
        "get",
        "/readyz",
        "Readiness: database reachable, migrations applied",
        {200: "Health"},
        (503,),
        secured=False,
    ),
    Op("get", "/metrics", "Prometheus metrics", {200: "text"}, (), secured=False),
)
"""Every route the service serves (audit routes are added by their module)."""
