"""Receipts of posts: built once a group's events have seqs, settled once they have positions."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from ledger.grouping import Accepted, Outcome, Post, Repeat
from ledger.rules.refusal import Refusal
from ledger.store.positions import PositionWaiter


@dataclass(frozen=True)
class Receipt:
    """Where an accepted event was stored."""

    event_id: str
    stream_id: str
    stream_version: int
    position: int
    recorded_at: dt.datetime


@dataclass(frozen=True)
class PostResult:
    """The receipts of a post; `replayed` when it repeated an earlier identical post."""

    receipts: list[Receipt]
    replayed: bool


@dataclass(frozen=True)
class Pending:
    """A receipt still without its position (unless the event was sealed before)."""

    event_id: str
    stream_id: str
    stream_version: int
    recorded_at: dt.datetime
    seq: int
    position: int | None


@dataclass(frozen=True)
class Stored:
    """What a poster waits for: its events' receipts once they have positions."""

    pending: list[Pending]
    replayed: bool
    expected: dict[int, asyncio.Future[int]]


def stored_or_refused(
    earlier: dict[str, Pending],
    posts: list[Post],
    outcomes: list[Outcome],
    recorded_at: dt.datetime,
    seq_of: dict[str, int],
    expected: dict[int, asyncio.Future[int]],
) -> list[Stored | Refusal]:
    """Each post's receipts-to-be (or its refusal), once the group's events have seqs;
    `earlier` holds the events stored before that the posts repeat."""
    pending_of = dict(earlier)
    for outcome in outcomes:
        if isinstance(outcome, Accepted):
            for s in outcome.stored:
                pending_of[s.event_id] = Pending(
                    s.event_id, s.stream_id, s.stream_version, recorded_at, seq_of[s.event_id], None
                )
    results: list[Stored | Refusal] = []
    for post, outcome in zip(posts, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            results.append(outcome)
            continue
        pending = [pending_of[event_id] for event_id in post.event_ids]
        mine = {p.seq: expected[p.seq] for p in pending if p.seq in expected}
        results.append(Stored(pending, isinstance(outcome, Repeat), mine))
    return results


async def settled(
    waiter: PositionWaiter,
    pending: list[Pending],
    expected: dict[int, asyncio.Future[int]],
    seal_timeout: float,
) -> list[Receipt]:
    """The receipts, once every event has its position (SealTimeout after `seal_timeout` s)."""
    positions: dict[int, int] = {}
    if expected:
        positions.update(await waiter.settle(expected, seal_timeout))
    # Repeated events stored earlier may be sealed already, or not yet.
    waiting = [p.seq for p in pending if p.position is None and p.seq not in expected]
    if waiting:
        positions.update(await waiter.wait(waiting, seal_timeout))
    return [
        Receipt(
            p.event_id,
            p.stream_id,
            p.stream_version,
            p.position if p.position is not None else positions[p.seq],
            p.recorded_at,
        )
        for p in pending
    ]
