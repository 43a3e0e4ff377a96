"""The verifiable log's operations in the OpenAPI document: its key, checkpoints, proofs,
tiles and cosignatures."""

from __future__ import annotations

from ledger.http.bodies import MAX_BODY
from ledger.http.openapi_op import READ as _READ
from ledger.http.openapi_op import Op
from ledger.http.openapi_op import integer as _int
from ledger.http.params import MAX_POSITION

_SIZE = _int(1, MAX_POSITION)
_UNPROVED = ("invalid-state", "not-checkpointed")
"""A proof's 409s: no signed checkpoint covers the position yet, or an event stored
unreadable."""
LOG_OPERATIONS: tuple[Op, ...] = (
    Op("get", "/v1/log/key", "The log's verifier key (signed-note vkey)", {200: "text"}, _READ),
    Op(
        "get",
        "/v1/log/checkpoint",
        "The latest signed checkpoint with its cosignatures (C2SP tlog-checkpoint)",
        {200: "text"},
        _READ,
    ),
    Op(
        "get",
        "/v1/log/checkpoints/{size}",
        "The checkpoint signed at that tree size, with its cosignatures",
        {200: "text"},
        _READ,
    ),
    Op(
        "get",
        "/v1/log/proof/inclusion",
        "RFC 9162 inclusion proof of a position in a tree size",
        {200: "InclusionProof"},
        (*_READ, 409),
        conflicts=_UNPROVED,
        query=(
            ("position", _SIZE, "the log position to prove"),
            ("size", _SIZE, "the tree size (default: the latest checkpoint's)"),
        ),
        required=("position",),
    ),
    Op(
        "get",
        "/v1/log/proof/consistency",
        "RFC 9162 consistency proof between two tree sizes",
        {200: "ConsistencyProof"},
        _READ,
        query=(
            ("from", _SIZE, "the smaller tree size"),
            ("to", _SIZE, "the larger tree size"),
        ),
        required=("from", "to"),
    ),
    Op(
        "get",
        "/v1/log/tile/{level}/{index}",
        "A C2SP tlog-tiles hash tile: index as x###/.../### and .p/W for a partial one",
        {200: "binary"},
        _READ,
    ),
    Op(
        "get",
        "/v1/events/{event_id}/proof",
        "The event's C2SP tlog-proof@v1 (auditor, admin, parties to its stream)",
        {200: "text"},
        (*_READ, 409),
        conflicts=_UNPROVED,
    ),
    Op(
        "post",
        "/v1/log/cosignatures",
        "A witness's cosigned checkpoint (C2SP tlog-cosignature): kept and served with it",
        {201: "CosignaturesAccepted", 200: "CosignaturesAccepted"},
        (401, 404, 413, 422, 503),
        extra={
            "requestBody": {
                "required": True,
                "description": "The checkpoint note as GET /v1/log/checkpoint gives it, with "
                f"one or more registered witnesses' cosignature lines. At most {MAX_BODY} bytes.",
                "content": {"text/plain": {"schema": {"type": "string"}}},
            }
        },
    ),
)
"""The verifiable log's routes (docs/verifiable-log.md, docs/witnesses.md)."""
