"""Read throughput of the SME exposure and guarantee routes, without and with a hot standby.

A private primary and one streaming standby are made on this machine
(tests/streaming.py); `ledger serve` runs on the primary, first alone, then
with LEDGER_READ_DATABASE_URL naming the standby. On one machine both
servers share the same cores, so the figure shows that the routing works
and what it costs, not the gain more machines would give.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.client import _response
from bench.payloads import GUARANTOR_ID, guarantee_issued, setup_events, sme_id, sme_registered
from bench.service import create_key, post, running_service
from bench.stats import Run
from ledger import aio
from tests import pg
from tests.streaming import streaming_pair

ROUTES = ("exposure", "guarantee")
"""The read routes measured."""

_TAG = "sb"


def _path(route: str, n: int) -> str:
    return (
        f"/v1/smes/{sme_id(n)}/exposure" if route == "exposure" else f"/v1/guarantees/G-{_TAG}-{n}"
    )


async def _reader(
    url: str, key: str, route: str, smes: int, until: float, out: list[float], errors: list[int]
) -> None:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = f"Host: {parts.netloc}\r\nAuthorization: Bearer {key}\r\n\r\n"
    try:
        while time.monotonic() < until:
            path = _path(route, random.randrange(smes))  # noqa: S311 - not for secrets
            started = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\n{head}".encode())
            status, _, _ = await _response(reader)
            out.append(time.perf_counter() - started)
            if status != 200:
                errors.append(status)
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


async def _read_load(
    url: str, key: str, route: str, smes: int, seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    errors: list[int] = []
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(_reader(url, key, route, smes, until, latencies, errors) for _ in range(concurrency))
    )
    elapsed = time.monotonic() - started
    figures = Run.of(latencies, len(latencies), elapsed, len(errors)).as_dict()
    figures["reads_per_s"] = figures.pop("events_per_s")
    del figures["events"]
    return figures


def _metric(url: str, name: str) -> float:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:  # noqa: S310 - loopback
        text = r.read().decode()
    found = re.findall(rf"^{re.escape(name)}(?:{{[^}}]*}})? (\S+)$", text, re.MULTILINE)
    return sum(float(v) for v in found)


def _wait_for(url: str, name: str, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while _metric(url, name) < 1:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} never reached 1")
        time.sleep(0.2)


def _wait_reflected(url: str, key: str, smes: int, position: int, within: float = 300.0) -> None:
    """Until the read models (on the primary) reflect `position`."""
    deadline = time.monotonic() + within
    while True:
        request = urllib.request.Request(  # noqa: S310 - loopback
            url + _path("guarantee", smes - 1) + f"?min_position={position}",
            headers={"Authorization": f"Bearer {key}"},
        )
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(request, timeout=10) as r,  # noqa: S310
        ):
            if r.status == 200:
                return
        if time.monotonic() > deadline:
            raise RuntimeError("the read models did not catch up")
        time.sleep(0.5)


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _fill(url: str, dsn: str, smes: int) -> str:
    """The program, `smes` SMEs each with a guarantee; a reader key."""
    admin = create_key(dsn, "--role", "admin")
    post(url, admin, setup_events())
    guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
    last: Any = None
    for start in range(0, smes, 100):
        numbers = range(start, min(smes, start + 100))
        post(url, guarantor, [sme_registered(n) for n in numbers])
        last = post(url, guarantor, [guarantee_issued(n, _TAG) for n in numbers])
    reader = create_key(dsn, "--role", "reader")
    _wait_reflected(url, reader, smes, int(last[-1]["position"]))
    return reader


def measure(
    workdir: Path, *, seconds: float, smes: int = 200, concurrency: int = 16, say: Any = print
) -> dict[str, Any]:
    """Reads/s and latency of each route, primary alone then with a streaming standby."""
    out: dict[str, Any] = {"smes": smes, "concurrency": concurrency}
    with streaming_pair() as pair:
        template = aio.run(pg.create_template(pair.primary_dsn()))
        name = aio.run(pg.create_database(pair.primary_dsn(), template))
        primary, standby = pair.primary_dsn(name), pair.standby_dsn(name)
        with running_service(primary, workdir / "standbys-primary.log") as served:
            say(f"standbys: {smes} SMEs with a guarantee each")
            reader = _fill(served.url, primary, smes)
            for route in ROUTES:
                say(f"standbys: {route} reads on the primary alone, concurrency {concurrency}")
                out[f"primary_{route}"] = aio.run(
                    _read_load(served.url, reader, route, smes, seconds, concurrency)
                )
        with (
            _environment(LEDGER_READ_DATABASE_URL=standby),
            running_service(primary, workdir / "standbys-standby.log") as served,
        ):
            _wait_for(served.url, "ledger_standby_in_use")
            for route in ROUTES:
                say(f"standbys: {route} reads through the standby, concurrency {concurrency}")
                before = _metric(served.url, "ledger_standby_reads_total")
                out[f"standby_{route}"] = aio.run(
                    _read_load(served.url, reader, route, smes, seconds, concurrency)
                )
                served_there = _metric(served.url, "ledger_standby_reads_total") - before
                out[f"standby_{route}"]["served_by_standby"] = int(served_there)
    return out


def render(figures: dict[str, Any]) -> list[str]:
    """Markdown lines: each route's reads/s and latency, without and with the standby."""
    if "skipped" in figures:
        return ["", f"Reads through a hot standby: not measured ({figures['skipped']})."]
    lines = [
        "",
        f"Reads, {figures['smes']} SMEs, concurrency {figures['concurrency']} "
        "(one machine: the standby shares its cores):",
        "",
        "| route | read from | reads/s | p50 ms | p99 ms | errors | answered by the standby |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for route in ROUTES:
        for where, label in (("primary", "primary alone"), ("standby", "hot standby")):
            f = figures.get(f"{where}_{route}")
            if f is not None:
                there = f.get("served_by_standby", 0)
                lines.append(
                    f"| {route} | {label} | {f['reads_per_s']} | {f['p50_ms']} | "
                    f"{f['p99_ms']} | {f['errors']} | {there} of {f['operations']} |"
                )
    return lines
