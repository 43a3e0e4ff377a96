"""docs/api.md is the reference of the OpenAPI document the service serves, as it is now."""

from __future__ import annotations

import json
from pathlib import Path

from ledger.http.openapi import document
from ledger.http.reference import render

API_MD = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_docs_api_md_is_written_from_the_current_document() -> None:
    wanted = render(json.loads(document()))
    assert API_MD.read_text(encoding="utf-8") == wanted, (
        "docs/api.md is stale: python -m ledger.http.reference > docs/api.md"
    )


def _conflicts(doc: dict[str, object], method: str, path: str) -> set[str]:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    described = paths[path][method]["responses"]["409"]["description"]
    return {part.split(":")[0] for part in described.split("; ")}


def test_each_route_documents_only_the_conflicts_it_can_answer() -> None:
    """A read cannot be refused for the cap: its 409 is a stored event it cannot read, and
    a proof's also no checkpoint yet; a post's every refusal of the rules."""
    doc = json.loads(document())
    assert _conflicts(doc, "get", "/v1/statements/{institution_id}") == {
        "/problems/invalid-state"
    }
    assert _conflicts(doc, "get", "/v1/log/proof/inclusion") == {
        "/problems/invalid-state",
        "/problems/not-checkpointed",
    }
    posted = _conflicts(doc, "post", "/v1/events")
    assert "/problems/not-checkpointed" not in posted
    assert {"/problems/cap-exceeded", "/problems/version-conflict"} <= posted


def test_a_console_page_documents_no_404() -> None:
    """Every path under /console/ but its assets is the console's page, which shows its own
    "No such page"; only an asset can be missing."""
    paths = json.loads(document())["paths"]
    assert "404" not in paths["/console/{page}"]["get"]["responses"]
    assert "404" in paths["/console/assets/{name}"]["get"]["responses"]
