"""Which answer a request's Accept header prefers (RFC 9110 §12.5.1): weights count."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import make_mocked_request

from ledger.http.cloudevents import BATCH_TYPE
from ledger.http.negotiate import preferred

JSON, CSV = "application/json", "text/csv"


def _chosen(accept: str | None, offered: tuple[str, ...]) -> str:
    headers = {} if accept is None else {"Accept": accept}
    return preferred(make_mocked_request("GET", "/", headers=headers), offered)


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, JSON),
        ("", JSON),
        (BATCH_TYPE, BATCH_TYPE),
        (f"{BATCH_TYPE};q=0", JSON),
        (f"{JSON}, {BATCH_TYPE};q=0.1", JSON),
        (f"{BATCH_TYPE}, {JSON};q=0.5", BATCH_TYPE),
        ("*/*", JSON),
        (f"*/*, {BATCH_TYPE}", BATCH_TYPE),
        ("application/*", JSON),
        ("text/html", JSON),
    ],
)
def test_the_event_page_or_a_cloudevents_batch(accept: str | None, chosen: str) -> None:
    assert _chosen(accept, (JSON, BATCH_TYPE)) == chosen


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (CSV, CSV),
        (f"{CSV}, {JSON}", CSV),
        (f"{JSON}, {CSV}", JSON),
        ("text/*", CSV),
        (f"*/*, {CSV}", CSV),
        (f"{CSV};q=0.5, {JSON};q=0.9", JSON),
        (f"{CSV};q=0", JSON),
        (f"{CSV}; charset=utf-8", CSV),
        ("TEXT/CSV;Q=1", CSV),
        (f"{CSV};q=x", CSV),
        (f"{CSV};q=nan", CSV),
    ],
)
def test_a_statement_as_json_or_csv(accept: str, chosen: str) -> None:
    assert _chosen(accept, (JSON, CSV)) == chosen
