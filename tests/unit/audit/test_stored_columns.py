"""The values stored beside an event's bytes are checked against the bytes themselves."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
import pytest

from events.envelope import posted_fingerprint, store_posted
from events.stored import encode_stored
from ledger.audit.columns import disagreement, fingerprint_matches
from ledger.audit.scan import ScannedEvent
from tests.factory import ADMIN, institution, posted

RECORDED = dt.datetime(2026, 3, 2, 9, 30, 1, 250000, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _row(**envelope_extra: Any) -> ScannedEvent:
    """A log row as a post with `envelope_extra` (occurred_at, expected_version) stores it."""
    one = posted(institution("B-1", **envelope_extra))[0]
    event = store_posted(one, derived=None, stream_version=1, recorded_at=RECORDED, actor=ADMIN)
    return ScannedEvent(
        position=1,
        hash=bytes(32),
        seq=1,
        tx_id=1,
        body=encode_stored(event),
        fingerprint=posted_fingerprint(one),
        stream_id=event.stream_id,
        stream_version=event.stream_version,
        # As PostgreSQL gives a timestamptz back: the same moment, in UTC.
        event_id=event.event_id,
        type=event.type,
        recorded_at=RECORDED.astimezone(dt.UTC),
    )


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"occurred_at": "2026-02-27T18:00:00+05:30", "expected_version": 0},
        {"occurred_at": RECORDED.isoformat()},
        {"occurred_at": "2026-02-27T10:00:00Z"},
    ],
    ids=["left-out", "with-offset-and-version", "same-as-recorded", "utc"],
)
def test_an_event_as_stored_agrees_with_its_bytes(sent: dict[str, Any]) -> None:
    assert disagreement(_row(**sent)) is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("event_id", "00000000-0000-4000-8000-000000000000"),
        ("stream_id", "institution-B-2"),
        ("stream_version", 2),
        ("type", "sme.registered"),
        ("recorded_at", RECORDED + dt.timedelta(microseconds=1)),
    ],
)
def test_a_changed_copy_is_named_with_both_values(column: str, value: object) -> None:
    row = msgspec.structs.replace(_row(), **{column: value})
    reason = disagreement(row) or ""
    assert reason.startswith(f"its {column} is stored as ")


def test_a_fingerprint_of_another_post_is_named() -> None:
    other = _row(occurred_at="2026-02-27T10:00:00Z").fingerprint
    reason = disagreement(msgspec.structs.replace(_row(), fingerprint=other)) or ""
    assert reason.startswith("its fingerprint is stored as ")


def test_an_explicit_occurred_at_does_not_pass_for_a_left_out_one() -> None:
    """Sent with a time of its own, the post's fingerprint covers that time."""
    sent = _row(occurred_at="2026-02-27T10:00:00Z")
    left_out = _row()
    assert sent.body is not None
    assert left_out.fingerprint is not None
    assert not fingerprint_matches(sent.body, left_out.fingerprint)


def test_a_fingerprint_matches_the_body_it_was_posted_with() -> None:
    row = _row(occurred_at="2026-02-27T18:00:00+05:30", expected_version=0)
    assert row.body is not None
    assert row.fingerprint is not None
    assert fingerprint_matches(row.body, row.fingerprint)


def test_bytes_that_are_no_stored_event_match_no_fingerprint() -> None:
    assert not fingerprint_matches(b"not json", bytes(32))
