"""The verifiable log over HTTP: key, checkpoints, proofs and hash tiles.

Proofs and tiles are read on a standby in use (docs/standbys.md): they depend only on
the tree, which is the same on every copy up to the size each has. What names "the
latest" checkpoint is read on the primary, so a standby's lag never makes the log look
smaller than a checkpoint a client or a witness already holds.
"""

from __future__ import annotations

import base64
import uuid

import asyncpg
import msgspec
from aiohttp import web

from ledger.audit.event_proof import build_proof, event_head, find_event
from ledger.http.access import check_stream_access
from ledger.http.auth import authenticate
from ledger.http.context import RUNTIME
from ledger.http.db import read_connection
from ledger.http.params import MAX_POSITION, int_param, optional_int, whole_number
from ledger.http.problems import Problem, invalid
from ledger.http.replicas import Behind, read_routed
from ledger.http.schemas import json_response_body
from ledger.standbys import Standby
from ledger.store import checkpoints, identity, tree
from ledger.tlog.errors import FormatError
from ledger.tlog.tiles import parse_tile_path, tile_path

routes = web.RouteTableDef()

TEXT = "text/plain"
_RETRY = {"Retry-After": "1"}


def _event_id(text: str) -> str | None:
    # Every spelling a post's event_id may take (hyphens or none, either case), in the
    # canonical form the receipts give; None for any other text.
    try:
        return str(msgspec.convert(text, uuid.UUID))
    except msgspec.ValidationError:
        return None


def _text(body: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, content_type=TEXT, charset="utf-8", headers=headers)


_GROWS = {"Cache-Control": "private, no-cache"}
"""A checkpoint note: the latest moves on, and any gains cosignatures (C2SP tlog-tiles:
not cached beyond a few seconds). Private, as every answer to a key is."""


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def not_checkpointed(what: str) -> Problem:
    """409: no signed checkpoint covers `what` yet; retry in a second."""
    return Problem("not-checkpointed", f"no signed checkpoint covers {what} yet", headers=_RETRY)


async def _latest(conn: asyncpg.Connection) -> checkpoints.Signed:
    signed = await checkpoints.latest(conn)
    if signed is None:
        raise not_checkpointed("the log")
    return signed


@routes.get("/v1/log/key")
async def log_key(request: web.Request) -> web.Response:
    """The log's verifier key, `<name>+<8 hex>+<base64>`."""
    await authenticate(request)
    async with read_connection(request) as conn:
        known = await identity.recorded(conn)
    if known is None:
        raise Problem("not-found", "this ledger has no log key yet: start it with `ledger serve`")
    return _text(known.verifier_key + "\n")


@routes.get("/v1/log/checkpoint")
async def latest_checkpoint(request: web.Request) -> web.Response:
    """The latest signed checkpoint with every cosignature received for it."""
    await authenticate(request)
    async with read_connection(request) as conn:
        signed = await checkpoints.latest(conn)
        if signed is None:
            raise Problem("not-found", "no checkpoint is signed yet")
        return _text(await checkpoints.with_cosignatures(conn, signed), _GROWS)


@routes.get("/v1/log/checkpoints/{size}")
async def checkpoint_at(request: web.Request) -> web.Response:
    """The checkpoint signed at `size`, with its cosignatures; 404 if none was."""
    await authenticate(request)
    raw = request.match_info["size"]
    # One spelling per size, as a path should have: no leading zero.
    size = 0 if raw == "0" else None if raw.startswith("0") else whole_number(raw, 1, MAX_POSITION)
    if size is None:
        raise invalid("path.size", f"must be a whole number from 0 to {MAX_POSITION}")
    if size == 0:
        raise Problem("not-found", "no checkpoint is signed at size 0: the log signs from size 1")
    async with read_connection(request) as conn:
        signed = await checkpoints.at_size(conn, size)
        if signed is None:
            raise Problem("not-found", f"no checkpoint was signed at size {raw}")
        return _text(await checkpoints.with_cosignatures(conn, signed), _GROWS)


@routes.get("/v1/log/proof/inclusion")
async def inclusion(request: web.Request) -> web.Response:
    """RFC 9162 inclusion proof of the event at `position` in the tree of `size`."""
    await authenticate(request)
    if "position" not in request.query:
        raise invalid("query.position", "required: the log position (from 1) to prove")
    position = int_param(request, "position", 1, 1, MAX_POSITION)
    asked = optional_int(request, "size", 1, MAX_POSITION)
    if asked is None and request.app[RUNTIME].reads.standbys:
        async with read_connection(request) as conn:
            asked = await _latest_size_covering(conn, position)

    async def work(
        conn: asyncpg.Connection, standby: Standby | None
    ) -> tuple[int, bytes, list[bytes], bytes]:
        sealed = await tree.tree_size(conn)
        size = asked if asked is not None else await _latest_size_covering(conn, position, sealed)
        _within_tree(size, sealed, standby, "query.size")
        if position > size:
            raise invalid("query.position", f"must be at most size ({size})")
        cache = request.app[RUNTIME].tiles
        leaf, hashes, root = await tree.proof_with_root(conn, position - 1, size, cache)
        return size, leaf, hashes, root

    size, leaf, hashes, root = await read_routed(request, work)
    body = {
        "position": position,
        "size": size,
        "leaf_hash": _b64(leaf),
        "root": _b64(root),
        "hashes": [_b64(h) for h in hashes],
    }
    return web.Response(body=json_response_body(body), content_type="application/json")


async def _latest_size_covering(
    conn: asyncpg.Connection, position: int, sealed: int | None = None
) -> int:
    """The latest checkpoint's size, for a proof of `position` asked without a size
    (`sealed`: the tree's size, when the caller has read it already)."""
    if sealed is None:
        sealed = await tree.tree_size(conn)
    if position > sealed:
        # No event there for any checkpoint to cover: asked wrongly, not asked too soon.
        raise invalid("query.position", f"must be at most the sealed log's size ({sealed})")
    return (await _latest(conn)).size


def _within_tree(size: int, sealed: int, standby: Standby | None, field: str) -> None:
    """Refuse a tree size past the one read: a standby behind is asked no more (Behind, the
    primary answers); on the primary it was asked wrongly (422 at `field`)."""
    if size > sealed:
        if standby is not None:
            raise Behind(f"standby {standby.name} has the tree to {sealed}, not {size}")
        raise invalid(field, f"must be at most the sealed log's size ({sealed})")


@routes.get("/v1/log/proof/consistency")
async def consistency(request: web.Request) -> web.Response:
    """RFC 9162 consistency proof from the tree of `from` leaves to that of `to`."""
    await authenticate(request)
    for name in ("from", "to"):
        if name not in request.query:
            raise invalid(f"query.{name}", "required: a tree size from 1")
    old = int_param(request, "from", 1, 1, MAX_POSITION)
    new = int_param(request, "to", 1, 1, MAX_POSITION)
    if old > new:
        raise invalid("query.from", f"must be at most to ({new})")

    async def work(conn: asyncpg.Connection, standby: Standby | None) -> list[bytes]:
        _within_tree(new, await tree.tree_size(conn), standby, "query.to")
        return await tree.consistency_proof(conn, old, new, request.app[RUNTIME].tiles)

    hashes = await read_routed(request, work)
    body = {"from": old, "to": new, "hashes": [_b64(h) for h in hashes]}
    return web.Response(body=json_response_body(body), content_type="application/json")


@routes.get(r"/v1/log/tile/{level}/{index:.+}")
async def tile(request: web.Request) -> web.Response:
    """A C2SP tlog-tiles hash tile, full or `.p/W`; 404 for a tile that does not exist."""
    await authenticate(request)
    path = f"{request.match_info['level']}/{request.match_info['index']}"
    try:
        wanted = parse_tile_path(path)
    except FormatError as exc:
        raise Problem("not-found", f"no tile {path}: {exc}") from None
    if wanted.index >= MAX_POSITION >> 8:
        raise Problem("not-found", f"tile {path} lies beyond any log this ledger can hold")

    async def work(conn: asyncpg.Connection, _standby: Standby | None) -> bytes:
        # A tile a standby lacks yet is a 404 there, which the primary is asked again.
        try:
            return (await tree.read_tiles(conn, [wanted]))[wanted]
        except tree.MissingTile:
            raise Problem("not-found", f"tile {tile_path(wanted)} does not exist") from None

    data = await read_routed(request, work)
    return web.Response(
        body=data,
        content_type="application/octet-stream",
        # A full tile never changes; a partial one at a width never does either. Private:
        # the route needs a key, which a shared cache would not ask for.
        headers={"Cache-Control": "private, max-age=31536000, immutable"},
    )


@routes.get("/v1/events/{event_id}/proof")
async def event_proof(request: web.Request) -> web.Response:
    """The event's C2SP tlog-proof@v1 in the latest checkpoint (auditor, admin, its parties)."""
    actor = await authenticate(request)
    event_id = _event_id(request.match_info["event_id"])
    if event_id is None:
        raise Problem("not-found", "no event: the id is not a UUID")
    # The latest checkpoint, with its cosignatures, is the primary's (see above).
    latest: tuple[checkpoints.Signed | None, str | None] = (None, None)
    if request.app[RUNTIME].reads.standbys:
        async with read_connection(request) as conn:
            signed = await checkpoints.latest(conn)
            note = None if signed is None else await checkpoints.with_cosignatures(conn, signed)
            latest = (signed, note)

    async def work(conn: asyncpg.Connection, standby: Standby | None) -> str:
        event = await find_event(conn, event_id)
        if event is None:
            raise Problem("not-found", f"no event {event_id}")
        try:
            stream_id = event_head(event.body).stream_id
        except FormatError:
            raise Problem("invalid-state", "the event's stored bytes do not decode") from None
        await check_stream_access(conn, actor, stream_id)
        signed, note = latest if standby is not None else (await checkpoints.latest(conn), None)
        if standby is not None and (
            event.position is None
            or (signed is not None and await tree.tree_size(conn) < signed.size)
        ):
            raise Behind(f"standby {standby.name} has not sealed or hashed this event yet")
        if event.position is None or signed is None or signed.size < event.position:
            raise not_checkpointed(f"event {event_id}")
        return await build_proof(conn, event, signed, request.app[RUNTIME].tiles, note)

    return _text(await read_routed(request, work))
