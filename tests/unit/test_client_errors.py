"""The client's problem classes: one per documented slug, chosen by the document's type."""

from __future__ import annotations

import pytest

from ledger import client as lc
from ledger.client.errors import problem_error
from ledger.http.problems import SLUG_STATUS

# Every slug of docs/api.md's table. Some are answered by features other
# parts of the ledger add; their mapping is tested here from the document alone.
DOCUMENTED_SLUGS = {
    "malformed-json": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not-found": 404,
    "version-conflict": 409,
    "idempotency-conflict": 409,
    "cap-exceeded": 409,
    "invalid-state": 409,
    "not-eligible": 409,
    "program-suspended": 409,
    "leverage-exceeded": 409,
    "concentration-exceeded": 409,
    "not-checkpointed": 409,
    "payload-too-large": 413,
    "unsupported-media-type": 415,
    "validation-error": 422,
    "service-unavailable": 503,
}


@pytest.mark.parametrize("slug", sorted(DOCUMENTED_SLUGS))
def test_each_documented_slug_has_its_own_class(slug: str) -> None:
    status = DOCUMENTED_SLUGS[slug]
    doc = {"type": f"/problems/{slug}", "title": "t", "status": status, "detail": "d"}
    error = problem_error(doc)
    assert type(error) is lc.BY_SLUG[slug]
    assert type(error) is not lc.ProblemError
    assert isinstance(error, lc.LedgerError)
    assert error.problem == doc
    assert error.status == DOCUMENTED_SLUGS[slug]


def test_every_slug_the_service_answers_has_a_class() -> None:
    assert set(SLUG_STATUS) <= set(lc.BY_SLUG)


def test_classes_are_distinct() -> None:
    assert len(set(lc.BY_SLUG.values())) == len(lc.BY_SLUG)


def test_an_unknown_slug_is_the_common_base() -> None:
    error = problem_error({"type": "/problems/brand-new", "status": 409, "detail": "d"})
    assert type(error) is lc.ProblemError


def test_not_checkpointed_carries_its_retry_after() -> None:
    doc = {"type": "/problems/not-checkpointed", "status": 409, "detail": "wait"}
    error = problem_error(doc, {"Retry-After": "2"})
    assert isinstance(error, lc.NotCheckpointed)
    assert error.retry_after == 2.0


def test_extra_members_stay_in_the_document() -> None:
    doc = {"type": "/problems/cap-exceeded", "status": 409, "detail": "d", "balance": 5, "cap": 9}
    error = problem_error(doc)
    assert (error.problem["balance"], error.problem["cap"]) == (5, 9)


def test_backoff_waits_are_bounded() -> None:
    backoff = lc.Backoff(retries=10, first=0.1, most=2.0)
    waits = [backoff.delay(n) for n in range(30)]
    assert all(0 < w <= 2.0 for w in waits)
    assert backoff.delay(0, asked=600) == lc.LONGEST_ASKED


def test_backoff_honours_a_retry_after_longer_than_its_own_waits() -> None:
    backoff = lc.Backoff(retries=10, first=0.1, most=2.0)
    assert backoff.delay(0, asked=5) == 5.0


def test_retry_after_is_read_whatever_the_case_of_its_name() -> None:
    doc = {"type": "/problems/service-unavailable", "status": 503, "detail": "d"}
    assert problem_error(doc, {"retry-after": "3"}).retry_after == 3.0
