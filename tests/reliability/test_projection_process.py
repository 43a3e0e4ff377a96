"""`ledger serve` runs the read-model runner as a child process that lives and dies with it."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path

import psutil

from bench.payloads import sme_id
from tests.reliability.harness import Service, prepare


def _get(url: str, key: str) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=10) as r:
        return r.status, json.loads(r.read())


async def test_read_models_follow_posts_and_the_runner_dies_with_a_killed_service(
    db_dsn: str, tmp_path: Path
) -> None:
    service = Service(db_dsn, tmp_path / "service.log")
    service.start()
    try:
        assert service.proc is not None
        children = psutil.Process(service.proc.pid).children()
        assert len(children) == 1, "one read-model runner beside the service"
        key = await asyncio.to_thread(prepare, db_dsn, service)
        url = f"{service.url}/v1/programs/bench-open?min_position=3"
        status, body = await asyncio.to_thread(_get, url, key)
        assert (status, body["program_id"]) == (200, "bench-open")
        assert sme_id(0)
        service.kill()
        _gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
    finally:
        service.stop()
