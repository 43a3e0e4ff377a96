"""Deciding posts that arrive together: one View, one transaction, each post all or nothing.

Concurrent posts are stored in one transaction, so they share its round
trips and its commit. They are decided one after another, in the order they
will have in the log, against one View loaded under the locks of them all:
exactly as if each had been posted alone after the one before it. A refused
post is taken back out of the View and stores nothing; the others stand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from events.envelope import Posted, posted_fingerprint, store_posted
from events.payloads import GuaranteeIssued, Payload, WitnessRegistered
from events.stored import Actor, StoredEvent
from ledger.rules.authorize import authorize
from ledger.rules.business_time import check_occurred
from ledger.rules.decide import admit, settle
from ledger.rules.footprint import (
    Footprint,
    GuaranteeRef,
    changes_limits,
    footprint,
    issued_guarantees,
    referenced_guarantees,
)
from ledger.rules.refusal import Refusal, invalid_state
from ledger.rules.state import View
from ledger.rules.undo import Undo
from ledger.store.decisions import Prepared


@dataclass(eq=False)
class Post:
    """One post: an event, or an atomic batch (`batch`: refusals name the event's index).

    `actor` is None until the poster's key has been looked up.
    """

    events: list[Posted]
    actor: Actor | None
    batch: bool = False

    @cached_property
    def payloads(self) -> list[Payload]:
        """The events' data."""
        return [p.payload for p in self.events]

    @cached_property
    def event_ids(self) -> list[str]:
        """The events' ids, in canonical form."""
        return [p.event_id for p in self.events]

    @cached_property
    def streams(self) -> list[str]:
        """The streams the events belong to, sorted, without repeats."""
        return sorted({p.payload.stream_id for p in self.events})

    def looked_up(self) -> set[str]:
        """Guarantees whose program and SME this post's footprint needs from storage.

        An issuance carries its own, so a guarantee first named by its issuance
        in this post is not looked up (a single issuance needs no lookup at all).
        """
        first_issued: set[str] = set()
        seen: set[str] = set()
        for event in self.payloads:
            gid = getattr(event, "guarantee_id", None)
            if gid is None or gid in seen:
                continue
            seen.add(gid)
            if isinstance(event, GuaranteeIssued):
                first_issued.add(gid)
        return referenced_guarantees(self.payloads) - first_issued


def partition(posts: list[Post], refs: Mapping[str, GuaranteeRef]) -> tuple[list[Post], list[Post]]:
    """The posts to decide together now, and those to decide after them.

    A post naming a guarantee that is not stored yet but that an earlier post
    of the group issues waits for the next group: its footprint was computed
    without that guarantee (its SME and program are not locked or loaded for
    it), so it must be decided once the issuance is stored, as it would be
    had it been posted after it.

    A post that changes which risk limits apply (a program amended, a guarantor's
    net assets or limits recorded) is stored alone: the limits' locks and sums a
    transaction reads are chosen before any of its posts is decided, so a post
    after it in the same transaction would be checked without what the change
    makes apply. It goes first in a transaction of its own; the posts after it
    wait for the next.
    """
    now: list[Post] = []
    later: list[Post] = []
    issued: set[str] = set()
    for index, post in enumerate(posts):
        if changes_limits(post.payloads):
            if now or later:
                later.extend(posts[index:])
            else:
                now.append(post)
                later.extend(posts[index + 1 :])
            break
        own = issued_guarantees(post.payloads)
        unknown = referenced_guarantees(post.payloads) - refs.keys() - set(own)
        if unknown & issued:
            later.append(post)
            continue
        now.append(post)
        issued.update(own)
    return now, later


def footprints(posts: list[Post], refs: Mapping[str, GuaranteeRef]) -> list[Footprint]:
    """Each post's own footprint, as it would be were it posted alone."""
    return [footprint(post.payloads, refs) for post in posts]


@dataclass(frozen=True)
class Accepted:
    """A post whose events are to be stored, with the fingerprint of each."""

    stored: list[StoredEvent]
    fingerprints: list[bytes]


@dataclass(frozen=True)
class Repeat:
    """A post repeating events already stored, or accepted earlier in the group."""

    event_ids: list[str]


Outcome = Accepted | Repeat | Refusal


@dataclass
class Decided:
    """Every post's outcome, in order, and the stream versions the accepted ones reached."""

    outcomes: list[Outcome] = field(default_factory=list)
    versions: dict[str, int] = field(default_factory=dict)


def decide_group(
    prepared: Prepared,
    posts: list[Post],
    fps: list[Footprint],
    recorded_at: dt.datetime,
) -> Decided:
    """Decide `posts` in order against `prepared`; the View keeps what the accepted ones did."""
    view, versions, occurred = prepared.view, prepared.versions, prepared.occurred
    known = {event_id: e.fingerprint for event_id, e in prepared.earlier.items()}
    decided = Decided()
    for post, fp in zip(posts, fps, strict=True):
        if any(event_id in known for event_id in post.event_ids):
            try:
                _may_repeat(view, post)
                check_repeat(post, known)
            except Refusal as refusal:
                decided.outcomes.append(refusal)
            else:
                decided.outcomes.append(Repeat(post.event_ids))
            continue
        undo = Undo(view, fp) if len(post.events) > 1 else None
        saved = {stream: versions.get(stream) for stream in post.streams}
        saved_times = {stream: occurred.get(stream) for stream in post.streams}
        try:
            stored = _decide_post(view, post, versions, occurred, recorded_at)
        except Refusal as refusal:
            # A single event is refused before it changes anything (the rules check
            # first); a batch's earlier events are taken back.
            if undo is not None:
                undo.restore()
            for stream, version in saved.items():
                if version is None:
                    versions.pop(stream, None)
                else:
                    versions[stream] = version
            for stream, time in saved_times.items():
                if time is None:
                    occurred.pop(stream, None)
                else:
                    occurred[stream] = time
            decided.outcomes.append(refusal)
            continue
        prints = [posted_fingerprint(p) for p in post.events]
        known.update(zip(post.event_ids, prints, strict=True))
        decided.outcomes.append(Accepted(stored, prints))
        decided.versions.update((s, versions[s]) for s in post.streams)
    return decided


def _decide_post(
    view: View,
    post: Post,
    versions: dict[str, int],
    occurred: dict[str, dt.datetime],
    recorded_at: dt.datetime,
) -> list[StoredEvent]:
    assert post.actor is not None, "a post is decided only once its poster is known"
    stored: list[StoredEvent] = []
    for index, posted in enumerate(post.events):
        try:
            stored.append(_decide_one(view, posted, post.actor, versions, occurred, recorded_at))
        except Refusal as refusal:
            raise refusal.at(f"$[{index}]") if post.batch else refusal from None
    return stored


def _may_repeat(view: View, post: Post) -> None:
    """Refuse (403) a repost by a key that may not post its events: the original receipt
    is answered only to a party the rules would let post them."""
    assert post.actor is not None, "a post is decided only once its poster is known"
    for index, posted in enumerate(post.events):
        try:
            authorize(view, posted.payload.TYPE, posted.payload, post.actor)
        except Refusal as refusal:
            raise refusal.at(f"$[{index}]") if post.batch else refusal from None


def check_repeat(post: Post, known: Mapping[str, bytes]) -> None:
    """Refuse a post that repeats only some earlier event ids, or reuses one for another event."""
    for index, posted in enumerate(post.events):
        where = f"$[{index}]: " if post.batch else ""
        fingerprint = known.get(posted.event_id)
        if fingerprint is None:
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}this post repeats some event ids of an earlier post but not all; "
                "repost the earlier post unchanged or use new event ids",
                extra={"event_id": posted.event_id},
            )
        if fingerprint != posted_fingerprint(posted):
            raise Refusal(
                409,
                "idempotency-conflict",
                f"{where}event_id {posted.event_id} was already used for a different event",
                extra={"event_id": posted.event_id},
            )


def _decide_one(
    view: View,
    posted: Posted,
    actor: Actor,
    versions: dict[str, int],
    occurred: dict[str, dt.datetime],
    recorded_at: dt.datetime,
) -> StoredEvent:
    envelope, payload = posted.envelope, posted.payload
    # Who may post it first: the checks below would tell a stream's version, its latest
    # business time or a witness id's use to a key that has no business knowing them.
    admit(view, payload.TYPE, payload, actor)
    stream_id = payload.stream_id
    current = versions.get(stream_id, 0)
    expected = envelope.expected_version
    if expected is not None and expected != current:
        raise Refusal(
            409,
            "version-conflict",
            f"stream {stream_id} is at version {current}, not {expected}",
            extra={
                "stream_id": stream_id,
                "current_version": current,
                "expected_version": expected,
            },
        )
    # Business time first: an event refused for it must change nothing in the View.
    when = envelope.occurred_at if envelope.occurred_at is not None else recorded_at
    check_occurred(stream_id, when, recorded_at, occurred.get(stream_id))
    if isinstance(payload, WitnessRegistered) and current > 0:
        # A witness's stream holds its registration alone: once it exists, the id is
        # taken (checked under the stream's lock, so two concurrent registrations
        # cannot both pass).
        raise invalid_state(f"witness {payload.witness_id} is already registered")
    derived = settle(view, payload, when)
    versions[stream_id] = current + 1
    occurred[stream_id] = when
    return store_posted(
        posted, derived=derived, stream_version=current + 1, recorded_at=recorded_at, actor=actor
    )
