"""The HTTP load generator, run in its own process: `python -m bench.load LOAD_JSON`.

Posts events to a running ledger at a fixed concurrency for a fixed time and
prints one JSON line with the figures. Each worker takes the next number from
a shared counter, so every post names a distinct SME (and the cap check runs).
Single posts with a `max_operations` range start at a place in it set by the
load's tag and wrap around, so the windows of a run spread their guarantees over
all the SMEs registered instead of giving the first ones one more each time (after
30 windows those would be at the 30 million yuan cap and every post to them refused).
Each worker has one keep-alive connection (bench/client.py, lighter on the CPU
the generator shares with the service than a general HTTP client), and the
generator runs on the same event loop as the service (uvloop where installed).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

import msgspec

from bench.client import Connection, ConnectionLost
from bench.payloads import guarantee_issued, sme_registered
from bench.stats import Run
from ledger import aio

TIMEOUT_S = 60.0


def _body(mode: str, n: int, size: int, tag: str) -> Any:
    if mode == "issue":
        return guarantee_issued(n, tag)
    return [sme_registered(n * size + i) for i in range(size)]


def _numbering(mode: str, start: int, limit: int | None, tag: str) -> Callable[[int], int]:
    """The SME number of the load's n-th operation (n counts from `start`)."""
    if mode != "issue" or not limit:
        return lambda n: n
    offset = zlib.crc32(tag.encode()) % limit
    return lambda n: start + (n - start + offset) % limit


async def _all_done(tasks: list[asyncio.Task[None]], inflight: list[float]) -> None:
    """Wait for every worker; stop them all at the first failure, or once a post has had
    no answer for TIMEOUT_S (checked each second: a timer per post would cost the
    generator about a tenth of its CPU)."""
    pending = set(tasks)
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=1.0, return_when=asyncio.FIRST_EXCEPTION
            )
            for task in done:
                task.result()
            if time.perf_counter() - min(inflight) > TIMEOUT_S:
                raise TimeoutError(f"a post had no answer within {TIMEOUT_S:.0f} s")
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


async def load(spec: dict[str, Any]) -> Run:
    """Post for `spec["seconds"]` at `spec["concurrency"]`; count only acknowledged events."""
    start = int(spec.get("start", 0))
    counter = itertools.count(start)
    size = int(spec.get("batch", 1))
    mode = spec["mode"]
    tag = spec.get("tag", "b")
    per_post = size if mode == "batch" else 1
    limit = spec.get("max_operations")
    end = None if limit is None else start + int(limit)
    number = _numbering(mode, start, None if limit is None else int(limit), tag)
    encode = msgspec.json.Encoder().encode
    headers = {"Authorization": f"Bearer {spec['key']}", "Content-Type": "application/json"}
    connections = [
        Connection(spec["url"], "/v1/events", headers) for _ in range(int(spec["concurrency"]))
    ]
    inflight = [math.inf] * len(connections)  # when each worker's post went out
    latencies: list[float] = []
    events = 0
    errors = 0

    async def worker(i: int, connection: Connection) -> None:
        nonlocal events, errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if end is not None and n >= end:
                return
            body = encode(_body(mode, number(n), size, tag))
            began = inflight[i] = time.perf_counter()
            try:
                status, answer = await connection.post(body)
            except ConnectionLost as exc:
                status, answer = 0, str(exc).encode()
            inflight[i] = math.inf
            if status in (200, 201):
                latencies.append(time.perf_counter() - began)
                events += per_post
            else:
                errors += 1
                if errors <= 3:
                    text = answer.decode(errors="replace")
                    print(f"post refused: {status} {text}", file=sys.stderr)

    try:
        async with asyncio.timeout(TIMEOUT_S):
            await asyncio.gather(*(c.open() for c in connections))
        deadline = time.perf_counter() + float(spec["seconds"])
        began = time.perf_counter()
        await _all_done(
            [asyncio.create_task(worker(i, c)) for i, c in enumerate(connections)], inflight
        )
        elapsed = time.perf_counter() - began
    finally:
        await asyncio.gather(*(c.close() for c in connections))
    return Run.of(latencies, events, elapsed, errors)


def main() -> None:
    """Entry point: one JSON spec argument in, one JSON line of figures out."""
    spec = json.loads(sys.argv[1])
    print(json.dumps(aio.run(load(spec)).as_dict()))


if __name__ == "__main__":
    main()
