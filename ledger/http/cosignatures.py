"""POST /v1/log/cosignatures: a witness's cosigned checkpoint, checked then kept."""

from __future__ import annotations

import time

import structlog
from aiohttp import web

from ledger.http.auth import authenticate
from ledger.http.bodies import read_body
from ledger.http.context import LIMITS, RUNTIME
from ledger.http.db import pooled
from ledger.http.params import MAX_POSITION
from ledger.http.problems import Problem
from ledger.http.schemas import CosignatureResult, CosignaturesAccepted, json_response_body
from ledger.store import checkpoints, identity, witnesses
from ledger.tlog.cosignature import cosignature_time
from ledger.tlog.errors import TlogError
from ledger.tlog.keys import parse_verifier
from ledger.tlog.note import parse, signature_line
from ledger.witness.accept import Refused, accept, read_note, witnesses_of

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


def _refused(exc: Refused) -> Problem:
    return Problem("validation-error", f"cosigned checkpoint refused: {exc}", errors=exc.errors)


@routes.post("/v1/log/cosignatures")
async def post_cosignatures(request: web.Request) -> web.Response:
    """Keep the witnesses' cosignatures of a checkpoint the log signed; 422 says what is wrong."""
    await authenticate(request)
    try:
        note, checkpoint = read_note(await read_body(request))
    except Refused as exc:
        raise _refused(exc) from None
    limits = request.app[LIMITS]
    pool = request.app[RUNTIME].pool
    async with pooled(pool, limits.acquire_timeout, limits.post_timeout) as conn:
        known = await identity.recorded(conn)
        if known is None:
            raise Problem(
                "not-found", "this ledger has no log key yet: start it with `ledger serve`"
            )
        # A size past any position was never signed (nor can the database hold it).
        signed = (
            None
            if checkpoint.size > MAX_POSITION
            else await checkpoints.at_size(conn, checkpoint.size)
        )
        try:
            signed_text = None if signed is None else parse(signed.note).text
            registered = await witnesses.registered(conn)
            accepted = accept(
                note,
                signed_text,
                parse_verifier(known.verifier_key),
                witnesses_of([(w.witness_id, w.key) for w in registered]),
                now=int(time.time()),
            )
        except Refused as exc:
            raise _refused(exc) from None
        except TlogError as exc:  # the store's own note or key does not parse
            raise Problem(
                "invalid-state", f"the log's stored checkpoint is unreadable: {exc}"
            ) from None
        async with conn.transaction():
            new = await witnesses.store_cosignatures(
                conn, checkpoint.size, [(c.witness_id, c.line) for c in accepted]
            )
    results = [
        CosignatureResult(c.witness_id, _time_of(kept), fresh)
        for c, (fresh, kept) in zip(accepted, new, strict=True)
    ]
    log.info(
        "cosignatures.received", size=checkpoint.size, witnesses=[c.witness_id for c in accepted]
    )
    return web.Response(
        status=201 if any(fresh for fresh, _ in new) else 200,
        body=json_response_body(CosignaturesAccepted(checkpoint.size, results)),
        content_type="application/json",
    )


def _time_of(line: str) -> int:
    """The time a kept cosignature line states (a line this route checked when it came)."""
    return cosignature_time(signature_line(line.rstrip("\n")))
