"""What the ledger is measured beside: raw INSERTs, the thinnest HTTP pass-through
(bench/passthrough.py) and the peer event store (bench/peer.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from bench import baseline, peers
from bench.phases import raw, say, sql, with_cpu
from bench.probe import cpu_probe_ms
from bench.service import run_load, running_passthrough
from ledger import aio


def raw_and_passthrough(
    dsn: str, args: argparse.Namespace, workdir: Path, out: dict[str, Any]
) -> None:
    """Raw INSERTs, then the same behind the thinnest HTTP service (bench/passthrough.py)."""
    seconds, probes = args.seconds, out["probe_ms"]
    # aio.run: the same event loop as `ledger serve` (uvloop where installed), so the raw
    # INSERTs and the service are measured alike.
    for c in (1, 8, 32):
        say(f"raw INSERT, concurrency {c}")
        probes[f"baseline.single_c{c}"] = cpu_probe_ms()
        out["baseline"][f"single_c{c}"] = with_cpu(
            None, dsn, raw, baseline.single_inserts(dsn, c, seconds)
        )
    if not args.peers_only:
        say("raw batched INSERT of 100 rows, concurrency 8")
        probes["baseline.batch100_c8"] = cpu_probe_ms()
        out["baseline"]["batch100_c8"] = with_cpu(
            None, dsn, raw, baseline.batch_inserts(dsn, 8, seconds, 100)
        )
    # The same INSERTs over HTTP with the ledger's load generator: what HTTP alone leaves
    # of the raw rate here.
    with running_passthrough(dsn, workdir / "passthrough.log") as passthrough:
        spec = {"url": passthrough.url, "key": "unused", "seconds": seconds, "start": 0}
        for c in (1, 8, 32):
            say(f"HTTP pass-through to the raw INSERT, single posts, concurrency {c}")
            probes[f"passthrough.single_c{c}"] = cpu_probe_ms()
            out["passthrough"][f"single_c{c}"] = with_cpu(
                passthrough.pid,
                dsn,
                run_load,
                {**spec, "mode": "issue", "tag": f"pt{c}", "concurrency": c},
            )
        if not args.peers_only:
            say("HTTP pass-through to the raw INSERT, batches of 100, concurrency 8")
            probes["passthrough.batch100_c8"] = cpu_probe_ms()
            out["passthrough"]["batch100_c8"] = with_cpu(
                passthrough.pid,
                dsn,
                run_load,
                {**spec, "mode": "batch", "batch": 100, "concurrency": 8},
            )
    aio.run(sql(dsn, "DROP TABLE bench_raw_events"))


def peer(admin_dsn: str, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """The peer (bench/peer.py) in its own environment, each of its settings on a fresh
    database of the same server, at each concurrency."""
    if not peers.available():
        say(f"no peer environment at {peers.PYTHON} (`make bench` makes it); peer not measured")
        return
    for name, settings in peers.SETTINGS.items():
        say(f"peer eventsourcing ({name}), concurrency 1, 8, 32, {args.peer_seconds:g} s each")
        out["probe_ms"][f"peer.{name}"] = cpu_probe_ms()
        out["peer"][name] = peers.measure(admin_dsn, args.peer_seconds, (1, 8, 32), settings)
