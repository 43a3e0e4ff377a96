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
