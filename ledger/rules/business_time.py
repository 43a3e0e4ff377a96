"""Rules of business time: occurred_at not ahead of the clock, and streams in business order."""

from __future__ import annotations

import datetime as dt

from events.business import HELD_MOMENTS, SHANGHAI, representable
from ledger.rules.refusal import Refusal, invalid_state

MAX_AHEAD = dt.timedelta(minutes=5)
"""How far occurred_at may lie after the time it is recorded (clocks differ a little)."""


def check_occurred(
    stream_id: str, occurred_at: dt.datetime, recorded_at: dt.datetime, latest: dt.datetime | None
) -> None:
    """Refuse an occurred_at too far ahead of `recorded_at`, or before the stream's `latest`."""
    if not representable(occurred_at):
        raise Refusal(
            422,
            "validation-error",
            f"occurred_at {occurred_at.isoformat()} lies outside the moments the ledger "
            f"holds ({HELD_MOMENTS}); give the time it happened, or omit it",
            path="$.occurred_at",
        )
    if occurred_at - recorded_at > MAX_AHEAD:
        raise Refusal(
            422,
            "validation-error",
            f"occurred_at {occurred_at.isoformat()} is more than 5 minutes after the time it "
            f"is recorded ({recorded_at.isoformat()}); give the time it happened, or omit it",
            path="$.occurred_at",
        )
    if latest is not None and occurred_at < latest:
        # Read back from the database in UTC: said in business time, as posters write it.
        latest = latest.astimezone(SHANGHAI)
        raise invalid_state(
            f"occurred_at {occurred_at.isoformat()} is earlier than {latest.isoformat()}, the "
            f"latest occurred_at already in stream {stream_id}: a stream keeps business order, "
            "so post this event with an occurred_at at or after that",
            stream_id=stream_id,
            occurred_at=occurred_at.isoformat(),
            latest_occurred_at=latest.isoformat(),
        )
