"""The Expect header: 100-continue as aiohttp answers it, any other expectation ignored.

aiohttp answers an expectation it does not know with a text/plain 417, before any
middleware runs: the answer is no problem+json, and the request is neither logged
nor counted. RFC 9110 lets a server ignore such an expectation (it MAY answer 417),
so the ledger does, and the request is answered, logged and counted as any other.
"""

from __future__ import annotations

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11


async def expect(request: web.Request) -> None:
    """Tell a client that waits for it to send its body; ignore anything else."""
    wanted = request.headers.get(hdrs.EXPECT, "").strip().lower()
    if request.version == HttpVersion11 and wanted == "100-continue":
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer's own size starts after it


def install(app: web.Application) -> None:
    """Give every route of `app` this handling of Expect."""
    for route in app.router.routes():
        route._expect_handler = expect  # aiohttp has no public way to set it afterwards
