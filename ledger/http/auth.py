"""Who is asking: the bearer key of a request, looked up on every request (no caching).

A post's key is looked up in the transaction that stores it (one query for
all the posts stored together); every other request looks its key up first.
"""

from __future__ import annotations

from aiohttp import hdrs, web

from events.stored import Actor
from ledger.auth.keys import Presented, actor_for, presented_key
from ledger.http.db import read_connection
from ledger.http.problems import Problem

STAFF_ROLES = frozenset({"admin", "auditor"})
"""Roles that may read every event."""

READ_ROLES = frozenset({"admin", "auditor", "reader"})
"""Roles that may read every read model."""


def _unauthorized(detail: str) -> Problem:
    return Problem("unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="ledger"'})


def unknown_key() -> Problem:
    """401 for a key that is unknown, revoked or malformed."""
    return _unauthorized("unknown or revoked API key")


def _bearer(request: web.Request) -> str:
    sent = request.headers.getall(hdrs.AUTHORIZATION, ())
    if not sent:
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>'")
    if len(sent) > 1:
        # One field, never a list (RFC 9110 11.6.2): which one a proxy on the way would
        # have passed on cannot be known, so neither is taken.
        raise Problem(
            "malformed-request", f"send one Authorization header, not {len(sent)}", status=400
        )
    header = sent[0]
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <key>'")
    return presented.strip()


def bearer_key(request: web.Request) -> Presented:
    """The request's key as presented (checked against the store later), or 401 if malformed."""
    key = presented_key(_bearer(request))
    if key is None:
        raise unknown_key()
    return key


async def authenticate(request: web.Request) -> Actor:
    """The actor of the request's key, or 401; a revoked key fails from the next request on."""
    presented = _bearer(request)
    async with read_connection(request) as conn:
        actor = await actor_for(conn, presented)
    if actor is None:
        raise unknown_key()
    return actor


def require(actor: Actor, roles: frozenset[str], what: str) -> None:
    """403 unless the actor has one of `roles`."""
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Problem("forbidden", f"{what} needs a key with role {allowed}, not {actor.role}")
