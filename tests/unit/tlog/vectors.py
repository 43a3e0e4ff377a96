"""The shared test vectors, copied unchanged into the tests (see vectors/README.md)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent / "vectors"


def load(kind: str) -> list[tuple[str, dict[str, Any]]]:
    """Every RFC 6962 vector of `kind` (inclusion or consistency), named by its path."""
    found = sorted((ROOT / "rfc6962" / kind).rglob("*.json"))
    assert found, f"no {kind} vectors under {ROOT}"
    return [(str(p.relative_to(ROOT)), json.loads(p.read_text())) for p in found]


def b64(value: str | None) -> bytes:
    """A vector's base64 field as bytes (empty when absent)."""
    return base64.b64decode(value or "")


def hashes(values: list[str] | None) -> list[bytes]:
    """A vector's proof as a list of hashes."""
    return [b64(v) for v in values or []]


def signed_note() -> dict[str, str]:
    """The signed-note key pair, text and exact signed note."""
    data: dict[str, str] = json.loads((ROOT / "signed-note.json").read_text())
    return data
