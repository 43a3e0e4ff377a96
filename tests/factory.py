"""Building posted events for tests, through the same strict decoder the HTTP API uses."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from events.envelope import Posted, decode_posted
from events.stored import Actor

ADMIN = Actor(role="admin")


def envelope(type_: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An envelope dict with a fresh event id unless one is given."""
    body: dict[str, Any] = {"event_id": str(extra.pop("event_id", uuid.uuid4())), "type": type_}
    body.update(extra)
    body["data"] = data
    return body


def posted(*envelopes: dict[str, Any]) -> list[Posted]:
    """Decode envelopes exactly as a POST body would be decoded."""
    body = envelopes[0] if len(envelopes) == 1 else list(envelopes)
    return decode_posted(msgspec.json.encode(body)).events


def institution(institution_id: str, kind: str = "bank", **extra: Any) -> dict[str, Any]:
    """An institution.registered envelope."""
    data = {"institution_id": institution_id, "name": f"Institution {institution_id}", "kind": kind}
    return envelope("institution.registered", data, **extra)


def actor(role: str, institution_id: str | None = None) -> Actor:
    """The actor of a key with this role (and institution)."""
    return Actor(role=role, institution_id=institution_id)
