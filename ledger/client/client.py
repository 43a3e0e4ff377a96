"""LedgerClient: typed posts and read-model reads over HTTP, with bounded retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping, Sequence
from types import TracebackType
from typing import Any, TypeVar, overload

import aiohttp
import msgspec

from ledger.client import proofs
from ledger.client.backoff import Backoff
from ledger.client.errors import (
    ConnectionLost,
    NotCheckpointed,
    NotFound,
    NotWitnessed,
    ProofFailed,
    ServiceUnavailable,
)
from ledger.client.proofs import LogKeys, ProvedEvent, TrustedCheckpoint
from ledger.client.readmodels import (
    ClaimShares,
    GuaranteeSummary,
    InstitutionPosition,
    ProgramSummary,
    SmeExposure,
)
from ledger.client.statements import (
    FiledStatement,
    Period,
    Statement,
    StatementComparison,
    period_params,
)
from ledger.client.types import (
    Event,
    EventPage,
    NewEvent,
    Receipt,
    new_event_id,
)
from ledger.client.wire import decoded, error_of, segment

T = TypeVar("T")

Postable = NewEvent | Mapping[str, Any]
"""An event to post: a NewEvent, or an envelope as a dict (given an event_id in place if it
has none)."""

# Connection failures after which a request is tried again (when that is safe).
_LOST = (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, asyncio.TimeoutError)

_encode = msgspec.json.Encoder().encode


def _envelope(event: Postable) -> NewEvent | dict[str, Any]:
    if isinstance(event, NewEvent):
        return event
    # The id is fixed here, once, so every retry reposts the very same event; and in the
    # caller's own dict, so that posting that dict again after a lost answer does too.
    if isinstance(event, MutableMapping):
        event.setdefault("event_id", new_event_id())
        return dict(event)
    return {"event_id": new_event_id(), **event}


class LedgerClient:
    """A client of one ledger, with one API key. Use it as an async context manager."""

    def __init__(
        self,
        url: str,
        key: str,
        *,
        backoff: Backoff | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        """The ledger at `url` (e.g. http://127.0.0.1:8080), asked with `key`."""
        self.url = url.rstrip("/")
        self.backoff = backoff or Backoff()
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {key}"}
        self._session = session
        self._owns_session = session is None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The HTTP session (made on first use)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def close(self) -> None:
        """Close the session if this client made it."""
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> LedgerClient:
        return self

    async def __aexit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        await self.close()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        params: Mapping[str, str | int | float] | None = None,
        seconds: float | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, bytes]:
        """Send a request that is safe to repeat; retry it on 503 and on a lost connection.

        `seconds` bounds each try (default: the client's timeout). Returns the status
        and body of a success; raises the problem's exception class,
        or ConnectionLost once the retries are spent.
        """
        headers = dict(self._headers)
        if body is not None:
            headers["Content-Type"] = content_type
        limit = aiohttp.ClientTimeout(total=seconds or self.timeout)
        attempt = 0
        while True:
            try:
                async with self.session.request(
                    method,
                    self.url + path,
                    data=_sendable(body),
                    params=params,
                    headers=headers,
                    timeout=limit,
                ) as r:
                    data = await r.read()
                    status, answer_headers = r.status, dict(r.headers)
                    content_type = r.content_type
            except _LOST as exc:
                if attempt >= self.backoff.retries:
                    raise ConnectionLost(f"{method} {path}: {exc!r}") from exc
                await asyncio.sleep(self.backoff.delay(attempt))
                attempt += 1
                continue
            if status < 400:
                return status, data
            error = error_of(status, data, content_type, answer_headers)
            if isinstance(error, ServiceUnavailable) and attempt < self.backoff.retries:
                await asyncio.sleep(self.backoff.delay(attempt, error.retry_after))
                attempt += 1
                continue
            raise error

    async def _get(self, path: str, kind: type[T], **params: Any) -> T:
        query = {k: v for k, v in params.items() if v is not None}
        status, data = await self.request("GET", path, params=query)
        return decoded(status, data, kind)

    @overload
    async def post(self, events: Postable) -> Receipt: ...

    @overload
    async def post(self, events: Sequence[Postable]) -> list[Receipt]: ...

    async def post(self, events: Postable | Sequence[Postable]) -> Receipt | list[Receipt]:
        """Post one event (-> its Receipt) or a batch, atomically (-> a Receipt each).

        Retried on 503 and on a lost connection: each event keeps its event_id, so a
        repost of one already stored gets its original receipt, never a second copy.
        """
        if isinstance(events, NewEvent | Mapping):
            body = _encode(_envelope(events))
            status, data = await self.request("POST", "/v1/events", body=body)
            return decoded(status, data, Receipt)
        body = _encode([_envelope(e) for e in events])
        status, data = await self.request("POST", "/v1/events", body=body)
        return decoded(status, data, list[Receipt])

    async def events(self, after: int = 0, limit: int = 1000, wait: float = 0) -> EventPage:
        """One page of the log after `after`; waits up to `wait` s when there is none yet."""
        status, data = await self.request(
            "GET",
            "/v1/events",
            params={"after": after, "limit": limit, "wait": wait},
            seconds=self.timeout + wait,
        )
        return decoded(status, data, EventPage)

    async def exposure(self, sme_id: str, *, min_position: int | None = None) -> SmeExposure:
        """An SME's balance, cap and headroom per program."""
        return await self._get(
            f"/v1/smes/{segment(sme_id)}/exposure", SmeExposure, min_position=min_position
        )

    async def guarantee(
        self, guarantee_id: str, *, min_position: int | None = None
    ) -> GuaranteeSummary:
        """A guarantee's state, balance, shares and claims."""
        path = f"/v1/guarantees/{segment(guarantee_id)}"
        return await self._get(path, GuaranteeSummary, min_position=min_position)

    async def claim(self, claim_id: str, *, min_position: int | None = None) -> ClaimShares:
        """A claim's amounts and what each role bore and recovered."""
        path = f"/v1/claims/{segment(claim_id)}"
        return await self._get(path, ClaimShares, min_position=min_position)

    async def institution_position(
        self, institution_id: str, *, min_position: int | None = None
    ) -> InstitutionPosition:
        """An institution's volume, balance, losses and cap use per program."""
        path = f"/v1/institutions/{segment(institution_id)}/position"
        return await self._get(path, InstitutionPosition, min_position=min_position)

    async def program(self, program_id: str, *, min_position: int | None = None) -> ProgramSummary:
        """A program's current terms and version."""
        path = f"/v1/programs/{segment(program_id)}"
        return await self._get(path, ProgramSummary, min_position=min_position)

    async def statement(
        self,
        institution_id: str,
        period: Period,
        *,
        known_at: dt.datetime | None = None,
        min_position: int | None = None,
    ) -> Statement:
        """An institution's statement over `period` (`"2025-Q2"`, or the first and last
        business dates), per program, as known at `known_at` (default now)."""
        return await self._statement(institution_id, period, Statement, known_at, min_position)

    async def filed_statement(
        self,
        institution_id: str,
        period: Period,
        *,
        known_at: dt.datetime | None = None,
        min_position: int | None = None,
    ) -> FiledStatement:
        """The latest statement filed for `period` (by `known_at`, default now), recomputed
        from the log and checked against its digest. NotFound when none was filed."""
        return await self._statement(
            institution_id, period, FiledStatement, known_at, min_position, filed="latest"
        )

    async def compare_filed(
        self,
        institution_id: str,
        period: Period,
        *,
        known_at: dt.datetime | None = None,
        min_position: int | None = None,
    ) -> StatementComparison:
        """The latest statement filed for `period` beside the statement now: the figures
        that changed and the events reported late. NotFound when none was filed."""
        return await self._statement(
            institution_id, period, StatementComparison, known_at, min_position, compare="filed"
        )

    async def _statement(
        self,
        institution_id: str,
        period: Period,
        kind: type[T],
        known_at: dt.datetime | None,
        min_position: int | None,
        **choice: str,
    ) -> T:
        if known_at is not None and known_at.utcoffset() is None:
            raise ValueError("known_at needs a UTC offset (an aware datetime)")
        return await self._get(
            f"/v1/statements/{segment(institution_id)}",
            kind,
            **period_params(period),
            known_at=None if known_at is None else known_at.isoformat(),
            min_position=min_position,
            **choice,
        )

    async def checkpoint(
        self, keys: LogKeys, *, since: TrustedCheckpoint | None = None, wait: float = 0.0
    ) -> TrustedCheckpoint:
        """The log's latest checkpoint, once its signatures hold against `keys` and, given
        the last one trusted (`since`), a consistency proof shows the log only grew.
        While too few of the pinned witnesses have cosigned the latest, asks again for up
        to `wait` s, then NotWitnessed."""

        try:
            trusted = await _asked_until(lambda: self._latest(keys), wait)
        except NotWitnessed:
            if since is not None:
                await self._not_behind(keys, since)
            raise
        if since is not None:
            await self._link(since, trusted)
        return trusted

    async def _latest(self, keys: LogKeys) -> TrustedCheckpoint:
        _, data = await self.request("GET", "/v1/log/checkpoint")
        try:
            note = data.decode()
        except UnicodeDecodeError:
            raise ProofFailed("the checkpoint is not UTF-8 text") from None
        return proofs.trusted_checkpoint(note, keys)

    async def _not_behind(self, keys: LogKeys, since: TrustedCheckpoint) -> None:
        """ProofFailed when the log's latest checkpoint, signed by its key (cosigned or
        not), is behind `since` or forks from it: a log that went back says "not yet"
        for what it had already signed, and that is no reason to wait."""
        try:
            latest = await self._latest(LogKeys(keys.log.encode()))
        except NotFound:
            raise ProofFailed(
                f"the log serves no checkpoint, but one of size {since.size} was trusted"
            ) from None
        await self._link(since, latest)

    async def prove(
        self,
        event: str | Receipt,
        keys: LogKeys,
        *,
        since: TrustedCheckpoint | None = None,
        wait: float = 0.0,
    ) -> ProvedEvent:
        """That the log holds an event (by id, or at its receipt's position): its proof,
        checked against `keys`, and against `since` as `checkpoint()` does. While no
        checkpoint covers it yet, or the pinned witnesses have not cosigned the one that
        does, asks again for up to `wait` s, then NotCheckpointed or NotWitnessed."""
        event_id, position = (event, None) if isinstance(event, str) else (
            event.event_id, event.position
        )  # fmt: skip

        async def proof() -> ProvedEvent:
            _, data = await self.request("GET", f"/v1/events/{segment(event_id)}/proof")
            return proofs.proved_event(data, keys, event_id, position)

        try:
            proved = await _asked_until(proof, wait)
        except (NotCheckpointed, NotWitnessed):
            if since is not None:
                await self._not_behind(keys, since)
            raise
        if since is not None:
            await self._link(since, proved.checkpoint)
        return proved

    async def _link(self, old: TrustedCheckpoint, new: TrustedCheckpoint) -> None:
        asked = proofs.needed_proof(old, new)
        if asked is not None:
            proof = await self._get(
                "/v1/log/proof/consistency", proofs.ConsistencyProof, **{"from": asked[0]},
                to=asked[1],
            )  # fmt: skip
            proofs.check_consistency(old, new, proof)

    def follow(
        self, after: int = 0, *, page: int = 1000, wait: float = 30.0
    ) -> AsyncIterator[Event]:
        """Every event after `after`, in position order, forever (long polls; see feeds)."""
        from ledger.client.feeds import follow

        return follow(self, after, page=page, wait=wait)

    def stream(self, after: int = 0) -> AsyncIterator[Event]:
        """Every event after `after` through the server-sent event stream, forever."""
        from ledger.client.feeds import stream

        return stream(self, after)


_LARGE_BODY = 2**20
"""Bytes past which aiohttp would rather stream a body from a file-like object (it warns
that sending them as one block may hold up the event loop)."""


def _sendable(body: bytes | None) -> bytes | io.BytesIO | None:
    """`body` as aiohttp sends it best: a large one read from a fresh buffer each try."""
    return io.BytesIO(body) if body is not None and len(body) > _LARGE_BODY else body


_WITNESS_POLL = 0.2
"""Seconds between two looks for a checkpoint the pinned witnesses have cosigned."""


async def _asked_until(ask: Callable[[], Awaitable[T]], wait: float) -> T:
    """`ask()`, asked again for up to `wait` s while the log has not checkpointed or the
    witnesses not cosigned what it asks for; the last of those refusals past `wait`."""
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        try:
            return await ask()
        except (NotCheckpointed, NotWitnessed) as exc:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise
            pause = exc.retry_after if isinstance(exc, NotCheckpointed) else None
            await asyncio.sleep(min(left, pause or _WITNESS_POLL))
