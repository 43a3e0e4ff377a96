"""A witness's or an auditor's HTTP client of the ledger: checkpoints, proofs, the export.

Answers other than the expected are raised as RemoteError with the server's
problem detail, so a command can tell the user what the ledger said.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncGenerator
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=10)
"""Long enough for a page of the export, short enough that a dead ledger is noticed."""


class RemoteError(Exception):
    """The ledger could not be reached, or answered something other than expected."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


async def _problem(response: aiohttp.ClientResponse) -> str:
    text = await response.text(errors="replace")
    try:
        detail = json.loads(text).get("detail")
    except (ValueError, AttributeError):
        detail = None
    return str(detail) if detail else text[:300]


class Ledger:
    """An open HTTP session with one ledger, with an API key."""

    def __init__(self, url: str, api_key: str) -> None:
        if "@" in urlsplit(url).netloc:
            # The key goes in its header; a user and password in the URL would clash with it
            # (and land in logs and shell histories).
            raise RemoteError(
                "the ledger's URL holds a user or password: give the URL without it, "
                "and the key with --api-key"
            )
        self._base = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}"}
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Ledger:
        self._session = aiohttp.ClientSession(headers=self._headers, timeout=TIMEOUT)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._session is not None:
            await self._session.close()

    async def _request(self, method: str, path: str, **kwargs: Any) -> tuple[int, bytes]:
        assert self._session is not None, "use `async with Ledger(...)`"
        try:
            async with self._session.request(method, self._base + path, **kwargs) as r:
                if r.status >= 400:
                    raise RemoteError(
                        f"{method} {path}: {r.status} {await _problem(r)}", status=r.status
                    )
                return r.status, await r.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RemoteError(f"cannot reach the ledger at {self._base}: {_why(exc)}") from None

    async def text(self, path: str) -> str:
        """A text answer (checkpoints, keys)."""
        return (await self._request("GET", path))[1].decode("utf-8", errors="replace")

    async def json(self, path: str, **params: int) -> Any:
        """A JSON answer."""
        body = (await self._request("GET", path, params=params))[1]
        try:
            return json.loads(body)
        except ValueError as exc:
            raise RemoteError(f"GET {path}: the answer is not JSON: {exc}") from None

    async def checkpoint(self) -> str:
        """The latest signed checkpoint note, with its cosignatures."""
        return await self.text("/v1/log/checkpoint")

    async def checkpoint_at(self, size: int) -> str:
        """The checkpoint note signed at `size`."""
        return await self.text(f"/v1/log/checkpoints/{size}")

    async def consistency(self, old: int, new: int) -> tuple[list[bytes], Any]:
        """The consistency proof from `old` to `new`: its hashes, and the answer as sent."""
        answer = await self.json("/v1/log/proof/consistency", **{"from": old, "to": new})
        try:
            return [base64.b64decode(h, validate=True) for h in answer["hashes"]], answer
        except (KeyError, TypeError, ValueError) as exc:
            raise RemoteError(f"the consistency proof is malformed: {exc!r}") from None

    async def tile(self, path: str) -> bytes:
        """A hash tile, by its tlog-tiles path."""
        return (await self._request("GET", f"/v1/log/tile/{path}"))[1]

    async def post_cosigned(self, note: str) -> Any:
        """POST a cosigned checkpoint; the ledger's JSON answer."""
        _, body = await self._request(
            "POST",
            "/v1/log/cosignatures",
            data=note.encode(),
            headers={"Content-Type": "text/plain; charset=utf-8"},
        )
        return json.loads(body)

    async def export_pages(
        self, after: int, through: int, limit: int
    ) -> AsyncGenerator[bytes, None]:
        """NDJSON pages of GET /v1/audit/export from `after` up to `through`, in order; they
        end early where the log does (the caller compares what it read with `through`)."""
        while after < through:
            _, body = await self._request(
                "GET",
                "/v1/audit/export",
                params={"after": after, "limit": min(limit, through - after)},
            )
            if not body:
                return
            yield body
            after += body.count(b"\n")


def _why(exc: BaseException) -> str:
    """What went wrong reaching the ledger, as a person reads it (not a repr)."""
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return exc.os_error.strerror or str(exc.os_error)
    return str(exc) or type(exc).__name__
