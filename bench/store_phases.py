"""The phases over a full store: filling it, appends to it, replay and catch-up."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from bench.phases import checkpoint, head, say, wait_settled
from bench.probe import cpu_probe_ms
from bench.service import run_load, timed_command
from bench.stats import repeated


def full_store(
    dsn: str, args: argparse.Namespace, spec: dict[str, Any], next_batch: int, out: dict[str, Any]
) -> tuple[datetime.datetime, datetime.datetime]:
    """Fill the store to `args.events` events, then time appends to the full store;
    return when the fill started and when the store was full (before those appends)."""
    target = args.events
    fill_started = datetime.datetime.now(datetime.UTC)
    say(f"filling the store to {target} events")
    while (stored := head(dsn)) < target:
        missing = (target - stored + 99) // 100
        run_load(
            {
                **spec,
                "mode": "batch",
                "batch": 100,
                "concurrency": 8,
                "seconds": 3600,
                "start": next_batch,
                "max_operations": missing,
            }
        )
        next_batch += missing + 16
    say("letting the read models catch up")
    wait_settled(dsn)
    # Both growth figures are taken just after a checkpoint, so they compare the
    # store's size and not what PostgreSQL is still writing out.
    checkpoint(dsn)
    full_at = datetime.datetime.now(datetime.UTC)
    say("append latency with the store full")
    out["probe_ms"]["ledger.growth_full"] = cpu_probe_ms()
    out["ledger"]["growth_full"] = run_load(
        {
            **spec,
            "mode": "issue",
            "tag": "gf",
            "concurrency": 1,
            "seconds": args.seconds,
            "start": 10_000,
            "max_operations": 9000,
        }
    )
    out["ledger"]["growth_full"]["stored_events"] = head(dsn)
    return fill_started, full_at


def replay_and_catch_up(
    dsn: str, args: argparse.Namespace, workdir: Path, out: dict[str, Any]
) -> None:
    """Replay and projection catch-up over the whole store."""
    stored = head(dsn)
    checkpoint(dsn)
    # Replay is timed `--replays` times over the same store and the median taken: on
    # this kind of shared machine one run can take half again as long as the next
    # for the same work (see bench/probe.py). Catch-up runs once: each rebuild leaves
    # the generation it replaced behind as dead rows, so the next would start worse off.
    say(f"replaying {stored} events, {args.replays} times")
    out["probe_ms"]["ledger.replay"] = cpu_probe_ms()
    replay = ["audit", "replay", "--to-position", str(stored), "--out"]
    replays = [
        timed_command([*replay, str(workdir / "replay.json")], dsn) for _ in range(args.replays)
    ]
    out["ledger"]["replay"] = repeated(stored, replays)
    say(f"projection catch-up from position 1 over {stored} events")
    out["probe_ms"]["ledger.catch_up"] = cpu_probe_ms()
    out["ledger"]["catch_up"] = repeated(stored, [timed_command(["projections", "rebuild"], dsn)])
