"""This checkout's ledger beside another revision's, in alternating windows of one run.

`python -m bench.revisions --dsn ADMIN_DSN --rev main` extracts the revision
(`git archive`) into a temporary directory, starts one `ledger serve` of each
(the other with that directory first on PYTHONPATH), each on a fresh database
of the server with the same set-up, and posts single `guarantee.issued` to one
then the other, the order flipped each round, at concurrency 1, 8 and 32. Each
side is rated by its median window, with the CPU of each process per post.
Prints the figures as JSON (standard output) and a table (standard error).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.limits_cost import CONCURRENCY
from bench.payloads import GUARANTOR_ID, setup_events
from bench.phases import say, sql, wait_settled, with_cpu
from bench.service import Served, create_key, post, run_load, running_service
from ledger import aio
from tests.pg import with_database

HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def _pythonpath(path: str | None) -> Iterator[None]:
    """Run the ledger's CLI and service from `path` (None: from this checkout)."""
    before = os.environ.get("PYTHONPATH")
    if path is not None:
        os.environ["PYTHONPATH"] = path
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = before


@contextlib.contextmanager
def _side(
    admin_dsn: str, code: str | None, smes: int, workdir: Path
) -> Iterator[tuple[Served, dict[str, Any], str]]:
    """A set-up ledger from `code` on a fresh database: the service, the load's spec, the DSN."""
    name = f"ledger_revisions_{uuid.uuid4().hex[:8]}"
    aio.run(sql(admin_dsn, f'CREATE DATABASE "{name}"'))
    dsn = with_database(admin_dsn, name)
    try:
        with contextlib.ExitStack() as stack:
            with _pythonpath(code):
                admin = create_key(dsn, "--role", "admin")
                ledger = stack.enter_context(running_service(dsn, workdir / f"{name}.log"))
            post(ledger.url, admin, setup_events())
            with _pythonpath(code):
                guarantor = create_key(dsn, "--institution", GUARANTOR_ID)
            spec: dict[str, Any] = {"url": ledger.url, "key": guarantor}
            batches = smes // 100
            registering = {"mode": "batch", "batch": 100, "concurrency": 4, "seconds": 600}
            run_load({**spec, **registering, "start": 0, "max_operations": batches})
            spec.update(start=0, max_operations=batches * 100)
            yield ledger, spec, dsn
    finally:
        aio.run(sql(admin_dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _rated(runs: list[dict[str, Any]]) -> dict[str, Any]:
    parts = set.intersection(*(set(w["cpu_us"]) for w in runs))
    return {
        "events_per_s": statistics.median(w["events_per_s"] for w in runs),
        "cpu_us": {p: statistics.median(w["cpu_us"][p] for w in runs) for p in sorted(parts)},
        "runs": [round(w["events_per_s"], 1) for w in runs],
    }


def main(argv: list[str] | None = None) -> int:
    """Compare this checkout with `--rev`; print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.revisions", description=__doc__)
    parser.add_argument("--dsn", required=True, help="admin DSN of the PostgreSQL server")
    parser.add_argument("--rev", default="main", help="the other revision (git)")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=3, help="windows of each side")
    parser.add_argument("--smes", type=int, default=20_000, help="SMEs registered first")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ledger-revisions-") as tmp:
        other = Path(tmp) / "other"
        other.mkdir()
        archive = subprocess.run(  # noqa: S603 - git, on this repository
            ["git", "archive", args.rev],  # noqa: S607
            cwd=HERE.parent,
            capture_output=True,
            check=True,
        )
        untar = ["tar", "-x", "-C", str(other)]
        subprocess.run(untar, input=archive.stdout, check=True)  # noqa: S603 - tar, our archive
        with (
            _side(args.dsn, None, args.smes, Path(tmp)) as this,
            _side(args.dsn, str(other), args.smes, Path(tmp)) as that,
        ):
            sides = {"this": this, args.rev: that}
            out: dict[str, Any] = {"rev": args.rev, "rounds": args.rounds}
            for c in CONCURRENCY:
                windows: dict[str, list[dict[str, Any]]] = {s: [] for s in sides}
                for r in range(args.rounds):
                    order = list(sides) if r % 2 == 0 else list(reversed(sides))
                    for side in order:
                        served, spec, dsn = sides[side]
                        wait_settled(dsn)
                        load = {**spec, "mode": "issue", "tag": f"v{c}r{r}", "concurrency": c}
                        load["seconds"] = args.seconds
                        windows[side].append(with_cpu(served.pid, dsn, run_load, load, settle=dsn))
                say(f"concurrency {c} done")
                rated = {side: _rated(runs) for side, runs in windows.items()}
                this_rate, that_rate = (
                    rated["this"]["events_per_s"],
                    rated[args.rev]["events_per_s"],
                )
                rated["this_faster_pct"] = round(100 * (this_rate / that_rate - 1), 2)
                out[f"single_c{c}"] = rated
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
