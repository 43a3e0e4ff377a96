"""`python -m bench`: the ledger beside raw PostgreSQL and a peer event store, in one run."""

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import feeds, options, standbys
from bench.measure import measure
from bench.phases import say, sql
from bench.report import evaluate, render
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
    parser = options.parser(__doc__)
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
