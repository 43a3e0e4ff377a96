"""A minimal HTTP/1.1 keep-alive client: just enough to post events to the ledger.

The load generator shares the machine with the service and PostgreSQL, so the CPU
its HTTP client spends is taken from what is measured; aiohttp's client costs
about half a millisecond per request. The ledger answers every request with a
Content-Length, so a response is a status line, headers and exactly that many bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class ConnectionLost(Exception):
    """The connection closed before the whole answer arrived (the post may or may not
    have been stored)."""


class Connection:
    """One keep-alive connection posting to `path`; opens a new one when the server closes it."""

    def __init__(self, url: str, path: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"need an http:// URL, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._head = ("\r\n".join(lines) + "\r\nContent-Length: ").encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        """Connect, unless connected and the server has not closed its side."""
        await self._connected()

    async def close(self) -> None:
        """Close the connection, if open."""
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def post(self, body: bytes) -> tuple[int, bytes]:
        """POST `body`; return the status and the body of the answer."""
        reader, writer = self._reader, self._writer
        if reader is None or writer is None or reader.at_eof():
            reader, writer = await self._connected()
        writer.write(b"%s%d\r\n\r\n%s" % (self._head, len(body), body))
        try:
            status, answer, keep_alive = await _response(reader)
        except (OSError, asyncio.IncompleteReadError) as exc:
            await self.close()
            raise ConnectionLost(f"connection lost before the answer: {exc!r}") from exc
        if not keep_alive:
            await self.close()
        return status, answer

    async def _connected(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = self._reader, self._writer
        if reader is None or writer is None or reader.at_eof():
            await self.close()
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self._reader, self._writer = reader, writer
        return reader, writer


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Read one response: (status, body, whether the connection stays open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    version, status, _ = (lines[0] + b" ").split(b" ", 2)
    keep_alive = version == b"HTTP/1.1"
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        match name.strip().lower():
            case b"content-length":
                length = int(value)
            case b"connection":
                keep_alive = value.strip().lower() != b"close"
            case b"transfer-encoding" if b"chunked" in value.lower():
                raise ValueError("chunked answers are not supported")
    code = int(status)
    if length is not None:
        return code, await reader.readexactly(length), keep_alive
    if code in (204, 304):
        return code, b"", keep_alive
    return code, await reader.read(), False  # the body runs to the end of the connection
