"""Two revisions of the ledger side by side: `python -m bench.ab REV_A [REV_B]`.

A figure measured at one moment on this shared machine cannot be set beside one
measured at another: other work on the cores moves it by more than most changes
do. This runs both revisions at once instead, each from its own checkout (a git
worktree under the temporary directory; REV_B defaults to this working tree) on
its own fresh database of the same server, and alternates short windows of
single `guarantee.issued` posts between them at concurrency 1, 8 and 32 (and,
with `--batches`, of batches of 100 SME registrations at concurrency 8), with the
CPU each process spent per post (bench/cpu.py). The load generator is this
checkout's for both, so only the ledger differs.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from bench.__main__ import server
from bench.payloads import GUARANTOR_ID, setup_events
from bench.phases import in_turns, sql, wait_settled, with_cpu
from bench.service import Service, create_key, post, run_load
from ledger import aio
from ledger.embedded import with_database

HERE = Path(__file__).resolve().parent.parent
SMES = 20_000
"""SMEs registered on each side; a window posts at most one guarantee for each."""


@contextlib.contextmanager
def checkout(revision: str | None, tmp: Path) -> Iterator[Path]:
    """A directory holding `revision` (this working tree when None)."""
    if revision is None:
        yield HERE
        return
    where = tmp / f"rev-{uuid.uuid4().hex[:6]}"
    subprocess.run(  # noqa: S603 - git, on our own repository
        ["git", "worktree", "add", "--detach", str(where), revision],  # noqa: S607
        cwd=HERE,
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(  # noqa: S603
            ["git", "worktree", "remove", "--force", str(where)],  # noqa: S607
            cwd=HERE,
            check=False,
            capture_output=True,
        )


@contextlib.contextmanager
def inside(tree: Path) -> Iterator[None]:
    """Processes started here import the ledger from `tree` (cwd and PYTHONPATH)."""
    cwd, path = Path.cwd(), os.environ.get("PYTHONPATH")
    os.chdir(tree)
    os.environ["PYTHONPATH"] = str(tree)
    try:
        yield
    finally:
        os.chdir(cwd)
        if path is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = path


class Side:
    """One revision: its service on its own database, with a guarantor's key."""

    def __init__(self, label: str, tree: Path, admin_dsn: str, tmp: Path, fill: int = 0) -> None:
        self.label = label
        self.tree = tree
        self.name = f"ledger_ab_{label}_{uuid.uuid4().hex[:6]}"
        self.admin_dsn = admin_dsn
        aio.run(sql(admin_dsn, f'CREATE DATABASE "{self.name}"'))
        self.dsn = with_database(admin_dsn, self.name)
        (tmp / label).mkdir()
        self.service = Service(self.dsn, tmp / label / "service.log")
        with inside(tree):
            self.service.start()
            admin = create_key(self.dsn, "--role", "admin")
            post(self.service.url, admin, setup_events())
            self.key = create_key(self.dsn, "--institution", GUARANTOR_ID)
        # The SMEs the single posts name (bench/measure.py registers them the same way).
        run_load(self.spec(mode="batch", batch=100, concurrency=4, seconds=600, start=0))
        run_load(self.spec(mode="batch", batch=100, concurrency=4, seconds=600, start=100))
        # A grown store: some plans are chosen differently once tables are large.
        batches = (fill + 99) // 100
        if batches:
            run_load(
                self.spec(
                    mode="batch",
                    batch=100,
                    concurrency=8,
                    seconds=3600,
                    start=200,
                    max_operations=batches,
                )
            )
        wait_settled(self.dsn, 1800)
        self.windows = 0
        self.next_batch = 200 + batches  # batches of registrations number their SMEs from here

    def spec(self, **fields: Any) -> dict[str, Any]:
        """A load generator spec against this side."""
        return {"url": self.service.url, "key": self.key, "max_operations": 100, **fields}

    def window(self, concurrency: int, seconds: float, *, settle: bool = True) -> dict[str, Any]:
        """One timed window of single posts, with CPU per post (counted until the read
        models have caught up, unless `settle` is false)."""
        assert self.service.proc is not None
        # Each window guarantees the registered SMEs again, under guarantee ids of its own.
        self.windows += 1
        spec = self.spec(
            mode="issue",
            tag=f"ab{self.windows}",
            concurrency=concurrency,
            seconds=seconds,
            start=0,
            max_operations=SMES,
        )
        return with_cpu(
            self.service.proc.pid, self.dsn, run_load, spec, settle=self.dsn if settle else None
        )

    def batch_window(self, seconds: float) -> dict[str, Any]:
        """One timed window of batches of 100 new SME registrations at concurrency 8, as
        `make bench` posts them, with CPU per event."""
        assert self.service.proc is not None
        spec = self.spec(
            mode="batch",
            batch=100,
            concurrency=8,
            seconds=seconds,
            start=self.next_batch,
            max_operations=None,
        )
        run = with_cpu(self.service.proc.pid, self.dsn, run_load, spec, settle=self.dsn)
        self.next_batch += run["operations"] + 16
        return run

    def close(self) -> None:
        """Stop the service and drop its database."""
        self.service.stop()
        aio.run(sql(self.admin_dsn, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summary(windows: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over a side's windows at one concurrency."""
    cpu_parts = sorted({part for w in windows for part in w["cpu_us"]})
    out = {
        "events_per_s": _median([w["events_per_s"] for w in windows]),
        "p50_ms": _median([w["p50_ms"] for w in windows]),
        "p99_ms": _median([w["p99_ms"] for w in windows]),
    }
    for part in cpu_parts:
        out[f"cpu_{part}_us"] = _median([w["cpu_us"].get(part, 0.0) for w in windows])
    return out


def alternated(
    rounds: int, measures: Mapping[str, Callable[[], dict[str, Any]]], what: str
) -> dict[str, dict[str, float]]:
    """Medians (`summary`) of `rounds` windows of each measure, taken in turns (`in_turns`)."""
    return {label: summary(w) for label, w in in_turns(rounds, measures, what).items()}


def main(argv: list[str] | None = None) -> int:
    """Measure, print one JSON document of medians per side and concurrency."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("a", help="the first revision (e.g. main)")
    parser.add_argument("b", nargs="?", help="the second revision (default: this tree)")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=3, help="windows per side and load")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument(
        "--batches", action="store_true", help="also windows of batches of 100 at concurrency 8"
    )
    parser.add_argument(
        "--fill", type=int, default=0, help="SME registrations stored on each side beforehand"
    )
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"a": args.a, "b": args.b or "working tree"}
    with (
        tempfile.TemporaryDirectory(prefix="ledger-ab-") as tmp_name,
        server(Path(tmp_name)) as admin_dsn,
        checkout(args.a, Path(tmp_name)) as tree_a,
        checkout(args.b, Path(tmp_name)) as tree_b,
    ):
        tmp = Path(tmp_name)
        # The embedded server's major version may not be the configured one's, and the
        # two can differ in what a change is worth (bench/__main__.py picks the server).
        results["postgresql"] = aio.run(sql(admin_dsn, "SHOW server_version"))
        sides = [Side("a", tree_a, admin_dsn, tmp, args.fill)]
        try:
            sides.append(Side("b", tree_b, admin_dsn, tmp, args.fill))
            for c in args.concurrency:
                singles = {s.label: functools.partial(s.window, c, args.seconds) for s in sides}
                results[f"c{c}"] = alternated(args.rounds, singles, f"concurrency {c}")
            if args.batches:
                batches = {s.label: functools.partial(s.batch_window, args.seconds) for s in sides}
                results["batch100_c8"] = alternated(args.rounds, batches, "batches of 100")
        finally:
            for side in sides:
                side.close()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
