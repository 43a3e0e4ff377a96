"""What the ledger is measured beside: raw INSERTs, the thinnest HTTP pass-through
(bench/passthrough.py) and the peer event store (bench/peer.py)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from bench import baseline, peers
from bench.phases import in_turns, raw, say, sql, with_cpu
from bench.probe import cpu_probe_ms
from bench.service import run_load, running_passthrough
from ledger import aio

Window = Callable[[int, int], dict[str, Any]]
"""A timed window of single posts at a concurrency (the second argument numbers the round)."""


def batches(dsn: str, args: argparse.Namespace, workdir: Path, out: dict[str, Any]) -> None:
    """Batches of 100 as raw batched INSERTs, then the same behind the thinnest HTTP service
    (bench/passthrough.py)."""
    say("raw batched INSERT of 100 rows, concurrency 8")
    out["probe_ms"]["baseline.batch100_c8"] = cpu_probe_ms()
    out["baseline"]["batch100_c8"] = with_cpu(
        None, dsn, raw, baseline.batch_inserts(dsn, 8, args.seconds, 100)
    )
    with running_passthrough(dsn, workdir / "passthrough.log") as passthrough:
        say("HTTP pass-through to the raw INSERT, batches of 100, concurrency 8")
        spec = {"url": passthrough.url, "key": "unused", "seconds": args.seconds, "start": 0}
        out["probe_ms"]["passthrough.batch100_c8"] = cpu_probe_ms()
        out["passthrough"]["batch100_c8"] = with_cpu(
            passthrough.pid,
            dsn,
            run_load,
            {**spec, "mode": "batch", "batch": 100, "concurrency": 8},
        )


def median_window(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """The window of the median rate (the lower middle one of an even number), whole, so
    its latency and CPU are those of the same moment; with every rate seen beside it."""
    ordered = sorted(windows, key=lambda w: float(w["events_per_s"]))
    chosen = dict(ordered[(len(ordered) - 1) // 2])
    chosen["rates_seen"] = [w["events_per_s"] for w in windows]
    return chosen


def singles_side_by_side(
    dsn: str,
    admin_dsn: str,
    args: argparse.Namespace,
    workdir: Path,
    out: dict[str, Any],
    ledger: Window,
) -> None:
    """Single posts at concurrency 1, 8 and 32 on every system, window by window in turns.

    This machine's speed changes by more than most differences between the systems
    within minutes, so a ratio of two rates taken at different moments says little.
    Here each round takes one window of each system, in an order that turns round
    from one round to the next, and each system's median window is reported.
    """
    seconds = args.seconds
    with contextlib.ExitStack() as stack:
        passthrough = stack.enter_context(running_passthrough(dsn, workdir / "passthrough.log"))
        windows: dict[str, Window] = {
            "baseline": lambda c, r: with_cpu(
                None, dsn, raw, baseline.single_inserts(dsn, c, seconds, tag=f"r{r}")
            ),
            "passthrough": lambda c, r: with_cpu(
                passthrough.pid,
                dsn,
                run_load,
                {
                    "url": passthrough.url,
                    "key": "unused",
                    "seconds": seconds,
                    "start": 0,
                    "mode": "issue",
                    "tag": f"pt{c}r{r}",
                    "concurrency": c,
                },
            ),
        }
        if peers.available():
            for name, settings in peers.SETTINGS.items():
                peer = stack.enter_context(peers.Peer(admin_dsn, settings))
                windows[f"peer.{name}"] = functools.partial(_peer_window, peer, seconds)
        else:
            say(f"no peer environment at {peers.PYTHON} (`make bench` makes it); peer not measured")
        windows["ledger"] = ledger
        for c in (1, 8, 32):
            rounds = {name: itertools.count(1) for name in windows}
            measures = {
                name: functools.partial(_probed, out["probe_ms"], name, window, c, rounds[name])
                for name, window in windows.items()
            }
            seen = in_turns(args.rounds, measures, f"single posts, concurrency {c}")
            for name, runs in seen.items():
                system, _, setting = name.partition(".")
                into = out[system].setdefault(setting, {}) if setting else out[system]
                into[f"single_c{c}"] = median_window(runs)
    aio.run(sql(dsn, "DROP TABLE IF EXISTS bench_raw_events"))


def _probed(
    probes: dict[str, float],
    name: str,
    window: Window,
    concurrency: int,
    rounds: Iterator[int],
) -> dict[str, Any]:
    """A window of `name`'s, with the CPU probe taken just before it."""
    r = next(rounds)
    probes[f"{name}.single_c{concurrency}.r{r}"] = cpu_probe_ms()
    return window(concurrency, r)


def _peer_window(peer: peers.Peer, seconds: float, concurrency: int, _round: int) -> dict[str, Any]:
    return peer.window(concurrency, seconds)
