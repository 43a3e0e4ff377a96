"""OpenAPI component schemas, generated from the msgspec types the API decodes and encodes."""

from __future__ import annotations

from typing import Any

import msgspec

from events.envelope import MAX_BATCH, Envelope
from events.errors import FieldError
from events.payloads import PAYLOADS
from events.stored import LogEntry
from events.types import published_pattern
from ledger.http import readmodel_schemas, schemas
from ledger.http.audit import STATE_BODIES
from ledger.http.problems import ProblemBody
from ledger.http.statement_schemas import STATEMENT_ANSWERS

REF = "#/components/schemas/{name}"

# msgspec documents a union of Structs only when they are tagged; event data is
# told apart by the envelope's `type` instead. The types that embed event data
# are therefore documented through twins whose data field is left open, and the
# open field is then filled in with the payload schemas.
_DATA_TWIN = {LogEntry: "data", schemas.EventPage: "events", schemas.StreamPage: "events"}


def _twin(cls: type[msgspec.Struct], replace: dict[str, Any]) -> type[msgspec.Struct]:
    fields = []
    for f in msgspec.structs.fields(cls):
        typ = replace.get(f.name, f.type)
        fields.append((f.name, typ) if f.required else (f.name, typ, f.default))
    twin = msgspec.defstruct(cls.__name__, fields, kw_only=True)
    twin.__doc__ = cls.__doc__
    return twin


_LogEntryDoc = _twin(LogEntry, {"data": msgspec.Raw})
_EventPageDoc = _twin(schemas.EventPage, {"events": list[_LogEntryDoc]})  # type: ignore[valid-type]
_StreamPageDoc = _twin(schemas.StreamPage, {"events": list[_LogEntryDoc]})  # type: ignore[valid-type]

DOCUMENTED: tuple[type[msgspec.Struct], ...] = (
    *PAYLOADS.values(),
    _LogEntryDoc,
    _EventPageDoc,
    _StreamPageDoc,
    schemas.ReceiptBody,
    schemas.Health,
    readmodel_schemas.SmeExposure,
    readmodel_schemas.GuaranteeSummary,
    readmodel_schemas.ClaimShares,
    readmodel_schemas.InstitutionPosition,
    readmodel_schemas.ProgramSummary,
    schemas.ChainCheck,
    schemas.InclusionProof,
    schemas.ConsistencyProof,
    schemas.CosignaturesAccepted,
    *STATEMENT_ANSWERS,
    ProblemBody,
    FieldError,
)


def posted_name(type_: str) -> str:
    """Component name of the envelope for one event type (`Posted.guarantee.issued`)."""
    return f"Posted.{type_}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _envelopes(envelope: dict[str, Any]) -> dict[str, Any]:
    """One envelope schema per event type, `type` fixed and `data` its payload's schema."""
    found: dict[str, Any] = {}
    for type_, cls in PAYLOADS.items():
        props = dict(envelope["properties"])
        props["type"] = {"const": type_}
        props["data"] = _ref(cls.__name__)
        found[posted_name(type_)] = {
            "title": f"Posted {type_}",
            "description": cls.__doc__,
            "type": "object",
            "properties": props,
            "required": envelope["required"],
            "additionalProperties": False,
        }
    found["PostedEnvelope"] = {
        "description": "One event as posted; `type` decides the shape of `data`.",
        "oneOf": [_ref(posted_name(t)) for t in PAYLOADS],
    }
    found["PostedBody"] = {
        "description": f"One envelope, or an array of 1 to {MAX_BATCH} posted atomically.",
        "oneOf": [
            _ref("PostedEnvelope"),
            {
                "type": "array",
                "items": _ref("PostedEnvelope"),
                "minItems": 1,
                "maxItems": MAX_BATCH,
            },
        ],
    }
    return found


def components() -> dict[str, Any]:
    """Every schema the API document refers to, by component name."""
    (_, found) = msgspec.json.schema_components(DOCUMENTED, ref_template=REF)
    (_, envelope_only) = msgspec.json.schema_components([Envelope], ref_template=REF)
    found.update(_envelopes(envelope_only["Envelope"]))
    entry = found["LogEntry"]
    entry["properties"]["data"] = {
        "description": "The event's data; `type` decides its shape.",
        "anyOf": [_ref(cls.__name__) for cls in PAYLOADS.values()],
    }
    found["AuditState"] = {
        "description": "The read model asked for, as it stood at the position or business "
        "date: the body of its own route (guarantee, claim, SME, institution or program).",
        "oneOf": [_ref(cls.__name__) for cls in STATE_BODIES.values()],
    }
    found["StatementAnswer"] = {
        "description": "A statement; with filed=latest the filed one (with filed_at and "
        "digest); with compare=filed both, with the changes and late events.",
        "oneOf": [_ref(cls.__name__) for cls in STATEMENT_ANSWERS],
    }
    return {name: published_schema(found[name]) for name in sorted(found)}


def published_schema(schema: Any) -> Any:
    """`schema` with each pattern as published: the API's own, read as ECMA-262 reads it
    (the decoders match the same patterns written for Python, see events.types.exact)."""
    if isinstance(schema, dict):
        return {
            key: published_pattern(value)
            if key == "pattern" and isinstance(value, str)
            else published_schema(value)
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [published_schema(item) for item in schema]
    return schema
