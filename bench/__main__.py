"""`python -m bench`: the ledger beside raw PostgreSQL and a peer event store, in one run."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import baseline, console, feeds, log_proofs, peers, standbys, statements, verify_url
from bench.payloads import GUARANTOR_ID, setup_events
from bench.phases import checkpoint, head, raw, say, sql, wait_settled, with_cpu
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
from bench.stats import repeated
from ledger import aio
from tests.pg import with_database

HERE = Path(__file__).resolve().parent


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


def _git_revision() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
    )
    return done.stdout.strip() or "unknown"


def measure(dsn: str, admin_dsn: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Every phase of the benchmark against the fresh database `dsn` (on `admin_dsn`'s
    server, where the peer gets fresh databases of its own); with `args.peers_only`,
    only the single posts at each concurrency beside the raw INSERT, the pass-through
    and the peer."""
    out: dict[str, Any] = {"baseline": {}, "passthrough": {}, "peer": {}, "ledger": {}}
    out["probe_ms"] = {}
    _raw_and_passthrough(dsn, args, workdir, out)
    _peer(admin_dsn, args, out)
    probes: dict[str, float] = out["probe_ms"]
    seconds = args.seconds
    admin = create_key(dsn, "--role", "admin")
    with running_service(dsn, workdir / "service.log", *args.serve_args) as ledger:
        post(ledger.url, admin, setup_events())
        guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
        spec = {"url": ledger.url, "key": guarantor}
        say("registering 10 000 SMEs")
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
        wait_settled(dsn)
        checkpoint(dsn)
        if not args.peers_only:
            say("append latency with a near-empty store")
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
            out["ledger"]["growth_empty"]["stored_events"] = head(dsn)
        # Also registers the SMEs the single posts below name, in the quick run too.
        say("batches of 100 events, concurrency 8")
        probes["ledger.batch100_c8"] = cpu_probe_ms()
        out["ledger"]["batch100_c8"] = with_cpu(
            ledger.pid,
            dsn,
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
            wait_settled(dsn)
            say(f"single guarantee.issued posts, concurrency {c}")
            probes[f"ledger.single_c{c}"] = cpu_probe_ms()
            out["ledger"][f"single_c{c}"] = with_cpu(
                ledger.pid,
                dsn,
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
        if args.peers_only:
            return out
        fill_started = _full_store(dsn, args, spec, next_batch, out)
        wait_settled(dsn)
        say("statements of the guarantor for this quarter")
        probes["ledger.statement"] = cpu_probe_ms()
        # As known before the fill: what an auditor asks of a past moment.
        out["ledger"]["statement"] = statements.measure(
            ledger.url, guarantor, GUARANTOR_ID, fill_started
        )
        out["ledger"]["statement"]["stored_events"] = head(dsn)
        say("statement query over 100 000 guarantees of one institution")
        out["ledger"]["statement"]["synthetic"] = aio.run(statements.synthetic(dsn, 100_000))
        say("downstream feeds: catch-up through follow() and the stream, stream delay")
        auditor = create_key(dsn, "--role", "auditor")
        catch_up = min(head(dsn), feeds.CATCH_UP_EVENTS)
        out["feeds"] = feeds.measure(ledger.url, auditor, guarantor, seconds, catch_up)
        say("the verifiable log: tree on and off, checkpoint lag at 32, proof latency")
        out["log"] = log_proofs.measure(
            {
                **spec,
                "seconds": seconds,
                "start": 10_000,
                "max_operations": (next_batch - 100) * 100,
            },
            dsn,
            auditor,
        )
        say("ledger audit verify --url over the whole log")
        out["verify_url"] = verify_url.measure(ledger.url, auditor, dsn, head(dsn))
        say(f"console first byte with {args.console_guarantees} guarantees stored")
        out["console"] = console.phase(ledger.url, admin, guarantor, dsn, args.console_guarantees)
    _replay_and_catch_up(dsn, args, workdir, out)
    return out


def _raw_and_passthrough(
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


def _peer(admin_dsn: str, args: argparse.Namespace, out: dict[str, Any]) -> None:
    """The peer (bench/peer.py) in its own environment, each of its settings on a fresh
    database of the same server, at each concurrency."""
    if not peers.available():
        say(f"no peer environment at {peers.PYTHON} (`make bench` makes it); peer not measured")
        return
    for name, settings in peers.SETTINGS.items():
        say(f"peer eventsourcing ({name}), concurrency 1, 8, 32, {args.peer_seconds:g} s each")
        out["probe_ms"][f"peer.{name}"] = cpu_probe_ms()
        out["peer"][name] = peers.measure(admin_dsn, args.peer_seconds, (1, 8, 32), settings)


def _full_store(
    dsn: str, args: argparse.Namespace, spec: dict[str, Any], next_batch: int, out: dict[str, Any]
) -> datetime.datetime:
    """Fill the store to `args.events` events, then time appends to the full store;
    return when the fill started."""
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
    return fill_started


def _replay_and_catch_up(
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


def _standbys(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from tests.streaming import NoStandby

    try:
        figures = standbys.measure(workdir, seconds=args.seconds, smes=args.standby_smes, say=say)
    except NoStandby as exc:
        say(f"standbys: skipped, no streaming standby can be made here: {exc}")
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
    parser.add_argument(
        "--out",
        type=Path,
        help="where to write the figures (default bench/results.json; with --peers-only, "
        "bench/results-peers.json, so a quick run never replaces the recorded full one)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument(
        "--replays", type=int, default=3, help="timed replays (the median is reported)"
    )
    parser.add_argument(
        "--console-guarantees",
        type=int,
        default=100_000,
        help="guarantees stored when the console's first byte is timed",
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
    parser.add_argument(
        "--peer-seconds", type=float, default=3.0, help="length of each timed load of the peer"
    )
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="only single posts at concurrency 1, 8 and 32: the ledger beside the raw "
        "INSERT, the HTTP pass-through and the peer (a minute or two at --seconds 3)",
    )
    args = parser.parse_args(argv)
    if args.out is None:
        args.out = HERE / ("results-peers.json" if args.peers_only else "results.json")
    if args.standby_smes < 1:
        parser.error("--standby-smes must be 1 or more")
    if args.standbys_only:
        return _standbys_only(args)
    if args.replays < 1:
        parser.error("--replays must be 1 or more")
    args.serve_args = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp, server(Path(tmp)) as admin_dsn:
        name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        aio.run(sql(admin_dsn, f'CREATE DATABASE "{name}"'))
        dsn = with_database(admin_dsn, name)
        try:
            figures = measure(dsn, admin_dsn, args, Path(tmp))
            version = aio.run(sql(dsn, "SHOW server_version"))
            if not args.no_standbys and not args.peers_only:
                figures["standbys"] = _standbys(args, Path(tmp))
        finally:
            if not args.keep:
                aio.run(sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    results = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "postgresql": version,
        "git_revision": _git_revision(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "run_seconds": round(time.monotonic() - began),
        **figures,
    }
    results["targets"] = evaluate(results)
    if "feeds" in results:
        results["targets"].update(feeds.evaluate(results["feeds"]))
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(render(results))
    if "feeds" in results:
        print(feeds.render(results["feeds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
