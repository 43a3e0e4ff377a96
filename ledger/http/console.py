"""GET / and /console/...: the web console's static files, with a strict Content-Security-Policy.

The console is a small static app (plain ES modules, no build step) that reads the
JSON API with the key the person signs in with; these routes serve its files and
nothing else, so they need no key and reach no database.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from aiohttp import web

from ledger.http.problems import Problem

ASSETS = Path(__file__).resolve().parent.parent / "console"
"""The console's files, shipped inside the ledger package (and so in its wheel)."""

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
"""Only the ledger's own files run, style and connect: no inline script or style at all."""

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
"""Headers on every console answer (its refusals too: see `guard`)."""

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}

routes = web.RouteTableDef()


def _console_path(path: str) -> bool:
    return path == "/" or path == "/console" or path.startswith("/console/")


async def guard(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer under the console's paths carries its security headers, a 404 for a
    file it does not have or a path no route takes included (on_response_prepare)."""
    if _console_path(request.path):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)


@functools.cache
def _files() -> dict[str, tuple[bytes, str, str]]:
    # Every file read once per process, and looked up by name: the files ship with the
    # package and never change under it, and a name that is not one of them is never
    # joined to a path (no traversal) nor remembered (no growth with what is asked).
    files = {}
    for path in sorted(ASSETS.rglob("*")):
        if path.is_file() and path.suffix in _TYPES:
            body = path.read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            files[path.relative_to(ASSETS).as_posix()] = (body, _TYPES[path.suffix], etag)
    return files


def _asset(name: str) -> tuple[bytes, str, str] | None:
    return _files().get(name)


def _answer(request: web.Request, name: str, cache: str) -> web.Response:
    found = _asset(name)
    if found is None:
        raise Problem("not-found", "no such console file")
    body, kind, etag = found
    headers = {**SECURITY_HEADERS, "Cache-Control": cache, "ETag": etag}
    if request.headers.get("If-None-Match") == etag:
        return web.Response(status=304, headers=headers)
    return web.Response(body=body, headers={**headers, "Content-Type": kind})


@routes.get("/")
async def home(request: web.Request) -> web.Response:
    """The console's page; the app inside routes by path."""
    return _answer(request, "index.html", "no-store")


@routes.get("/console")
@routes.get("/console/{page:(?!assets/).*}")
async def page(request: web.Request) -> web.Response:
    """Any console page is the same document: the app reads the path and shows that page."""
    return _answer(request, "index.html", "no-store")


@routes.get("/console/assets/{name:(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+[.][a-z]+}")
async def asset(request: web.Request) -> web.Response:
    """A script, style sheet or image of the console (revalidated by ETag on each load)."""
    return _answer(request, "assets/" + request.match_info["name"], "no-cache")
