"""API keys: creating, listing, revoking, and finding the actor a presented key stands for."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass

import asyncpg

from events.stored import Actor

PLAIN_ROLES: tuple[str, ...] = ("admin", "auditor", "reader")
"""Roles a key has without an institution; an institution's key has its kind as role."""

KEY_PREFIX = "lk_"
"""Every key starts with this, so a leaked key is easy to recognise in a scan."""

_KEY = re.compile(r"^lk_(?P<id>[0-9a-f]{16})_(?P<secret>[A-Za-z0-9_-]{43})$")
_KEY_ID = re.compile(r"^[0-9a-f]{16}$")


class KeyRefused(ValueError):
    """A key cannot be created or revoked as asked; the message says why."""


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listed: never its secret."""

    key_id: str
    role: str
    institution_id: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class NewKey:
    """A key just created: the full key is known only now, once."""

    info: KeyInfo
    key: str


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("ascii")).digest()


def split_key(presented: str) -> tuple[str, str] | None:
    """The (key id, secret) of a well-formed key, or None."""
    match = _KEY.fullmatch(presented)
    return None if match is None else (match["id"], match["secret"])


def _info(row: asyncpg.Record) -> KeyInfo:
    return KeyInfo(
        row["key_id"], row["role"], row["institution_id"], row["created_at"], row["revoked_at"]
    )


async def create_key(
    conn: asyncpg.Connection, *, role: str | None = None, institution_id: str | None = None
) -> NewKey:
    """Create a key for a plain role, or for a registered institution (role = its kind)."""
    if (role is None) == (institution_id is None):
        raise KeyRefused("give either a role or an institution, not both")
    if role is not None and role not in PLAIN_ROLES:
        raise KeyRefused(
            f"role must be one of {', '.join(PLAIN_ROLES)}; "
            "an institution's key is created with --institution"
        )
    if institution_id is not None:
        kind = await conn.fetchval(
            "SELECT kind FROM w_institutions WHERE institution_id = $1", institution_id
        )
        if kind is None:
            raise KeyRefused(f"institution {institution_id!r} is not registered in the ledger")
        role = str(kind)
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        """INSERT INTO api_keys (key_id, secret_sha256, role, institution_id)
           VALUES ($1, $2, $3, $4)
           RETURNING key_id, role, institution_id, created_at, revoked_at""",
        key_id,
        _digest(secret),
        role,
        institution_id,
    )
    assert row is not None
    return NewKey(_info(row), f"{KEY_PREFIX}{key_id}_{secret}")


async def list_keys(conn: asyncpg.Connection) -> list[KeyInfo]:
    """Every key ever created, oldest first, revoked ones included."""
    rows = await conn.fetch(
        """SELECT key_id, role, institution_id, created_at, revoked_at
             FROM api_keys ORDER BY created_at, key_id"""
    )
    return [_info(r) for r in rows]


async def revoke_key(conn: asyncpg.Connection, key_id: str) -> KeyInfo:
    """Revoke a key from now on (revoking twice keeps the first time)."""
    if not _KEY_ID.fullmatch(key_id):
        # Never echo what was given: a whole key pasted here must not reach a terminal or
        # a log; its id, when it is one, is enough.
        given = split_key(key_id)
        if given is not None:
            raise KeyRefused(f"that is a whole key, secret included: give its id, {given[0]}")
        raise KeyRefused("that is not a key id: give the 16 hex digits `ledger keys list` shows")
    row = await conn.fetchrow(
        """UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
            WHERE key_id = $1
        RETURNING key_id, role, institution_id, created_at, revoked_at""",
        key_id,
    )
    if row is None:
        raise KeyRefused(f"no key with id {key_id}")
    return _info(row)


async def count_keys(conn: asyncpg.Connection) -> int:
    """How many keys were ever created (0 on a brand-new store)."""
    return int(await conn.fetchval("SELECT count(*) FROM api_keys"))


@dataclass(frozen=True)
class Presented:
    """A well-formed key as presented: its id and the digest of its secret, never the secret."""

    key_id: str
    digest: bytes


def presented_key(presented: str) -> Presented | None:
    """The id and secret digest of a well-formed key, or None."""
    parts = split_key(presented)
    return None if parts is None else Presented(parts[0], _digest(parts[1]))


class UnknownKey(Exception):
    """The presented key is unknown, revoked, or does not match."""


@dataclass(frozen=True)
class StoredKey:
    """A key as stored: the digest of its secret and the actor it stands for."""

    digest: bytes
    actor: Actor


def matched(keys: Collection[Presented], stored: Mapping[str, StoredKey]) -> dict[Presented, Actor]:
    """The actor of each presented key whose secret matches the stored key of its id.

    `stored` holds the keys found under the presented ids that are not revoked.
    """
    actors = {}
    for key in keys:
        found = stored.get(key.key_id)
        # Compared in constant time, so response timing says nothing about the stored hash.
        if found is not None and hmac.compare_digest(found.digest, key.digest):
            actors[key] = found.actor
    return actors


async def actors_for(
    conn: asyncpg.Connection | asyncpg.Pool, keys: Collection[Presented]
) -> dict[Presented, Actor]:
    """The actor of each presented key that is known and not revoked, in one query."""
    rows = await conn.fetch(
        """SELECT key_id, secret_sha256, role, institution_id FROM api_keys
            WHERE key_id = ANY($1::text[]) AND revoked_at IS NULL""",
        sorted({k.key_id for k in keys}),
    )
    stored = {
        r["key_id"]: StoredKey(
            bytes(r["secret_sha256"]), Actor(role=r["role"], institution_id=r["institution_id"])
        )
        for r in rows
    }
    return matched(keys, stored)


async def actor_for(conn: asyncpg.Connection | asyncpg.Pool, presented: str) -> Actor | None:
    """The actor a presented key stands for, or None when it is unknown, malformed or revoked."""
    key = presented_key(presented)
    if key is None:
        return None
    return (await actors_for(conn, [key])).get(key)
