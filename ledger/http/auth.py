"""Who is asking: the bearer key of a request, looked up on every request (no caching)."""

from __future__ import annotations

from aiohttp import web

from events.stored import Actor
from ledger.auth.keys import actor_for
from ledger.http.db import read_connection
from ledger.http.problems import Problem

STAFF_ROLES = frozenset({"admin", "auditor"})
"""Roles that may read every event."""

READ_ROLES = frozenset({"admin", "auditor", "reader"})
"""Roles that may read every read model."""


def _unauthorized(detail: str) -> Problem:
    return Problem("unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="ledger"'})


async def authenticate(request: web.Request) -> Actor:
    """The actor of the request's key, or 401; a revoked key fails from the next request on."""
    header = request.headers.get("Authorization")
    if header is None:
        raise _unauthorized("send an API key as 'Authorization: Bearer <key>'")
    scheme, _, presented = header.partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise _unauthorized("the Authorization header must be 'Bearer <key>'")
    async with read_connection(request) as conn:
        actor = await actor_for(conn, presented.strip())
    if actor is None:
        raise _unauthorized("unknown or revoked API key")
    return actor


def require(actor: Actor, roles: frozenset[str], what: str) -> None:
    """403 unless the actor has one of `roles`."""
    if actor.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Problem("forbidden", f"{what} needs a key with role {allowed}, not {actor.role}")
