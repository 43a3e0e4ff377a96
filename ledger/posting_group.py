"""One group transaction's posts: each waiting post, the group's outcome, the actors of
posts that presented a key, and the rows an accepted post appends."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from events.stored import Actor, encode_stored
from ledger.auth.keys import Presented
from ledger.grouping import Accepted, Post
from ledger.receipts import Stored
from ledger.store import decisions


@dataclass(eq=False)
class Waiting:
    """A post waiting to be stored, and the future its poster waits on."""

    post: Post
    future: asyncio.Future[Stored]
    key: Presented | None
    """The poster's key, looked up in the transaction (None: the post's actor is known)."""


@dataclass
class Appended:
    """One group transaction's outcome: each decided post's result, and the posts deferred."""

    results: list[tuple[Waiting, Stored | Exception]]
    later: list[Waiting]
    stored_any: bool


def give_actors(group: list[Waiting], actors: dict[Presented, Actor]) -> list[Waiting]:
    """Give each post whose key was presented its actor; return those whose key is refused."""
    refused = []
    for waiting in group:
        if waiting.key is None:
            continue
        actor = actors.get(waiting.key)
        if actor is None:
            refused.append(waiting)
        else:
            waiting.post.actor = actor
    return refused


def new_events(post: Post, accepted: Accepted) -> list[decisions.NewEvent]:
    """The rows to append for an accepted post: one per event, with its stored bytes."""
    return [
        decisions.NewEvent(
            p.envelope.event_id,
            s.stream_id,
            s.stream_version,
            s.type,
            fingerprint,
            encode_stored(s),
        )
        for p, s, fingerprint in zip(
            post.events, accepted.stored, accepted.fingerprints, strict=True
        )
    ]
