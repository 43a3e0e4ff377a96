"""`python -m bench`: measure the ledger beside raw PostgreSQL in one run and write results.json."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg

from bench import baseline, feeds, standbys
from bench.cpu import CpuSplit
from bench.payloads import GUARANTOR_ID, setup_events
from bench.probe import cpu_probe_ms
from bench.report import evaluate, render
from bench.service import (
    create_key,
    post,
    run_load,
    running_passthrough,
    running_service,
    timed_command,
)
from bench.stats import Run, repeated
from ledger import aio
from tests.pg import with_database

HERE = Path(__file__).resolve().parent


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def server(workdir: Path) -> Iterator[str]:
    """Admin DSN of the PostgreSQL to measure on: configured, else the embedded one."""
    configured = os.environ.get("LEDGER_BENCH_DSN") or os.environ.get("LEDGER_DATABASE_URL")
    if configured:
        yield configured
        return
    from ledger.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(workdir)
    try:
        yield embedded.start()
    finally:
        embedded.stop()


async def _sql(dsn: str, statement: str) -> Any:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(statement)
    finally:
        await conn.close()


def _git_revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    return done.stdout.strip() or "unknown"


def measure(dsn: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every phase of the benchmark against the fresh database `dsn`."""
    seconds = args.seconds
    out: dict[str, Any] = {"baseline": {}, "passthrough": {}, "ledger": {}, "probe_ms": {}}
    probes: dict[str, float] = out["probe_ms"]
    # aio.run: the same event loop as `ledger serve` (uvloop where installed), so the raw
    # INSERTs and the service are measured alike.
    for c in (1, 8, 32):
        _say(f"raw INSERT, concurrency {c}")
        probes[f"baseline.single_c{c}"] = cpu_probe_ms()
        out["baseline"][f"single_c{c}"] = _with_cpu(
            None, _raw, baseline.single_inserts(dsn, c, seconds)
        )
    _say("raw batched INSERT of 100 rows, concurrency 8")
    probes["baseline.batch100_c8"] = cpu_probe_ms()
    out["baseline"]["batch100_c8"] = _with_cpu(
        None, _raw, baseline.batch_inserts(dsn, 8, seconds, 100)
    )
    # The same INSERTs behind the thinnest HTTP service, with the ledger's load generator:
    # what HTTP alone leaves of the raw rate here (bench/passthrough.py).
    with running_passthrough(dsn, workdir / "passthrough.log") as passthrough:
        spec = {"url": passthrough.url, "key": "unused", "seconds": seconds, "start": 0}
        _say("HTTP pass-through to the raw INSERT, single posts, concurrency 32")
        probes["passthrough.single_c32"] = cpu_probe_ms()
        out["passthrough"]["single_c32"] = _with_cpu(
            passthrough.pid,
            run_load,
            {**spec, "mode": "issue", "tag": "pt", "concurrency": 32},
        )
        _say("HTTP pass-through to the raw INSERT, batches of 100, concurrency 8")
        probes["passthrough.batch100_c8"] = cpu_probe_ms()
        out["passthrough"]["batch100_c8"] = _with_cpu(
            passthrough.pid,
            run_load,
            {**spec, "mode": "batch", "batch": 100, "concurrency": 8},
        )
    aio.run(_sql(dsn, "DROP TABLE bench_raw_events"))

    admin = create_key(dsn, "--role", "admin")
    with running_service(dsn, workdir / "service.log", *args.serve_args) as ledger:
        post(ledger.url, admin, setup_events())
        guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
        spec = {"url": ledger.url, "key": guarantor}
        _say("registering 10 000 SMEs")
        run_load(
            {
                **spec,
                "mode": "batch",
                "batch": 100,
                "concurrency": 4,
                "seconds": 600,
                "start": 0,
                "max_operations": 100,
            }
        )
        _settle(dsn)
        _checkpoint(dsn)
        _say("append latency with a near-empty store")
        probes["ledger.growth_empty"] = cpu_probe_ms()
        out["ledger"]["growth_empty"] = run_load(
            {
                **spec,
                "mode": "issue",
                "tag": "ge",
                "concurrency": 1,
                "seconds": seconds,
                "start": 0,
                "max_operations": 9000,
            }
        )
        out["ledger"]["growth_empty"]["stored_events"] = _head(dsn)
        _say("batches of 100 events, concurrency 8")
        probes["ledger.batch100_c8"] = cpu_probe_ms()
        out["ledger"]["batch100_c8"] = _with_cpu(
            ledger.pid,
            run_load,
            {
                **spec,
                "mode": "batch",
                "batch": 100,
                "concurrency": 8,
                "seconds": seconds,
                "start": 100,
            },
            settle=dsn,
        )
        next_batch = 100 + out["ledger"]["batch100_c8"]["operations"] + 16
        for c in (1, 8, 32):
            _settle(dsn)
            _say(f"single guarantee.issued posts, concurrency {c}")
            probes[f"ledger.single_c{c}"] = cpu_probe_ms()
            out["ledger"][f"single_c{c}"] = _with_cpu(
                ledger.pid,
                run_load,
                {
                    **spec,
                    "mode": "issue",
                    "tag": f"c{c}",
                    "concurrency": c,
                    "seconds": seconds,
                    "start": 10_000,
                    "max_operations": (next_batch - 100) * 100,
                },
                settle=dsn,
            )
        target = args.events
        _say(f"filling the store to {target} events")
        while (head := _head(dsn)) < target:
            missing = (target - head + 99) // 100
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
        _say("letting the read models catch up")
        _settle(dsn)
        # Both growth figures are taken just after a checkpoint, so they compare the
        # store's size and not what PostgreSQL is still writing out.
        _checkpoint(dsn)
        _say("append latency with the store full")
        probes["ledger.growth_full"] = cpu_probe_ms()
        out["ledger"]["growth_full"] = run_load(
            {
                **spec,
                "mode": "issue",
                "tag": "gf",
                "concurrency": 1,
                "seconds": seconds,
                "start": 10_000,
                "max_operations": 9000,
            }
        )
        out["ledger"]["growth_full"]["stored_events"] = _head(dsn)
        _say("downstream feeds: catch-up through follow() and the stream, stream delay")
        auditor = create_key(dsn, "--role", "auditor")
        catch_up = min(_head(dsn), feeds.CATCH_UP_EVENTS)
        out["feeds"] = feeds.measure(ledger.url, auditor, guarantor, seconds, catch_up)
    head = _head(dsn)
    _checkpoint(dsn)
    # Replay is timed `--replays` times over the same store and the median taken: on
    # this kind of shared machine one run can take half again as long as the next
    # for the same work (see bench/probe.py). Catch-up runs once: each rebuild leaves
    # the generation it replaced behind as dead rows, so the next would start worse off.
    _say(f"replaying {head} events, {args.replays} times")
    probes["ledger.replay"] = cpu_probe_ms()
    replays = [
        timed_command(
            ["audit", "replay", "--to-position", str(head), "--out", str(workdir / "replay.json")],
            dsn,
        )
        for _ in range(args.replays)
    ]
    out["ledger"]["replay"] = repeated(head, replays)
    _say(f"projection catch-up from position 1 over {head} events")
    probes["ledger.catch_up"] = cpu_probe_ms()
    out["ledger"]["catch_up"] = repeated(head, [timed_command(["projections", "rebuild"], dsn)])
    return out


def _raw(load: Coroutine[Any, Any, Run]) -> dict[str, Any]:
    return aio.run(load).as_dict()


def _with_cpu(
    server: int | None,
    phase: Callable[..., dict[str, Any]],
    *args: Any,
    settle: str | None = None,
) -> dict[str, Any]:
    """The figures of a timed phase, with the CPU each process spent on it per event
    (bench/cpu.py). With `settle` (a ledger's DSN), counting goes on until its read models
    have caught up, so the runner's share of the phase is counted whole."""
    split = CpuSplit(server)
    split.start()
    figures = phase(*args)
    if settle is not None:
        _settle(settle)
    figures["cpu_us"] = split.stop(int(figures["events"]))
    return figures


def _settle(dsn: str, within: float = 600.0) -> None:
    """Wait until every read model has caught up with the log, so a timed load has the
    machine to itself rather than sharing it with the runner's catch-up."""
    deadline = time.monotonic() + within
    query = """SELECT coalesce(min(c.position), 0) >= (SELECT coalesce(max(position), 0)
                                                          FROM event_log)
                 FROM projection_checkpoints c"""
    while not aio.run(_sql(dsn, query)):
        if time.monotonic() > deadline:
            _say("read models still catching up; measuring anyway")
            return
        time.sleep(1.0)


def _checkpoint(dsn: str) -> None:
    """Write out what the loads so far left dirty, so the next figure is timed on a ledger
    at rest rather than beside PostgreSQL flushing them (a checkpoint of the fill's
    million writes takes tens of seconds and started during the full-store appends)."""
    _say("checkpoint")
    try:
        aio.run(_sql(dsn, "CHECKPOINT"))
    except asyncpg.InsufficientPrivilegeError:
        _say("this role may not CHECKPOINT; measuring anyway")


def _head(dsn: str) -> int:
    return int(aio.run(_sql(dsn, "SELECT coalesce(max(position), 0) FROM event_log")))


def _standbys(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from tests.streaming import NoStandby

    try:
        figures = standbys.measure(workdir, seconds=args.seconds, smes=args.standby_smes, say=_say)
    except NoStandby as exc:
        _say(f"standbys: skipped, no streaming standby can be made here: {exc}")
        figures = {"skipped": str(exc)}
    return {
        "git_revision": _git_revision(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **figures,
    }


def _standbys_only(args: argparse.Namespace) -> int:
    """Measure the standby phase alone and put it into --out beside what is there."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        figures = _standbys(args, Path(tmp))
    results: dict[str, Any] = {}
    if args.out.exists():
        results = json.loads(args.out.read_text())
    results["standbys"] = figures
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(standbys.render(figures)))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write bench/results.json."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="events stored for replay")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each timed load")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--replays", type=int, default=3, help="timed replays (the median is reported)"
    )
    parser.add_argument(
        "--standby-smes",
        type=int,
        default=1000,
        help="SMEs (each with a guarantee) read in the hot standby phase (bench/standbys.py)",
    )
    parser.add_argument(
        "--no-standbys", action="store_true", help="leave out the hot standby read phase"
    )
    parser.add_argument(
        "--standbys-only",
        action="store_true",
        help="run only the hot standby read phase; its figures replace the 'standbys' "
        "entry of --out, the rest of the file is kept",
    )
    args = parser.parse_args(argv)
    if args.replays < 1:
        parser.error("--replays must be 1 or more")
    if args.standby_smes < 1:
        parser.error("--standby-smes must be 1 or more")
    if args.standbys_only:
        return _standbys_only(args)
    args.serve_args = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp, server(Path(tmp)) as admin_dsn:
        name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        aio.run(_sql(admin_dsn, f'CREATE DATABASE "{name}"'))
        dsn = with_database(admin_dsn, name)
        try:
            figures = measure(dsn, args, Path(tmp))
            version = aio.run(_sql(dsn, "SHOW server_version"))
            if not args.no_standbys:
                figures["standbys"] = _standbys(args, Path(tmp))
        finally:
            if not args.keep:
                aio.run(_sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "postgresql": version,
        "git_revision": _git_revision(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **figures,
    }
    results["targets"] = evaluate(results)
    results["targets"].update(feeds.evaluate(results["feeds"]))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    print(feeds.render(results["feeds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
