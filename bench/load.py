"""The HTTP load generator, run in its own process: `python -m bench.load SPEC_JSON`.

Posts events to a running ledger at a fixed concurrency for a fixed time and
prints one JSON line with the figures. Each worker takes the next number from
a shared counter, so every post names a distinct SME (and the cap check runs).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from typing import Any

import aiohttp

from bench.payloads import guarantee_issued, sme_registered
from bench.stats import Run


def _body(mode: str, n: int, size: int, tag: str) -> Any:
    if mode == "issue":
        return guarantee_issued(n, tag)
    return [sme_registered(n * size + i) for i in range(size)]


async def load(spec: dict[str, Any]) -> Run:
    """Post for `spec["seconds"]` at `spec["concurrency"]`; count only acknowledged events."""
    counter = itertools.count(int(spec.get("start", 0)))
    size = int(spec.get("batch", 1))
    mode = spec["mode"]
    headers = {"Authorization": f"Bearer {spec['key']}", "Content-Type": "application/json"}
    latencies: list[float] = []
    events = 0
    errors = 0
    limit = spec.get("max_operations")
    deadline = time.perf_counter() + float(spec["seconds"])

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal events, errors
        while time.perf_counter() < deadline:
            n = next(counter)
            if limit is not None and n - int(spec.get("start", 0)) >= int(limit):
                return
            body = json.dumps(_body(mode, n, size, spec.get("tag", "b"))).encode()
            began = time.perf_counter()
            async with session.post(spec["url"] + "/v1/events", data=body, headers=headers) as r:
                await r.read()
                if r.status in (200, 201):
                    latencies.append(time.perf_counter() - began)
                    events += size if mode == "batch" else 1
                else:
                    errors += 1
                    if errors <= 3:
                        print(f"post refused: {r.status} {await r.text()}", file=sys.stderr)

    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(int(spec["concurrency"]))))
        elapsed = time.perf_counter() - began
    return Run.of(latencies, events, elapsed, errors)


def main() -> None:
    """Entry point: one JSON spec argument in, one JSON line of figures out."""
    spec = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(load(spec)).as_dict()))


if __name__ == "__main__":
    main()
