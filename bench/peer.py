"""The peer the ledger is measured beside: Python's `eventsourcing` on PostgreSQL.

Run in its own virtual environment (`.venv-peer`, made by `make bench`), never
imported by the ledger's: `.venv-peer/bin/python bench/peer.py`, with the
database in the environment as `eventsourcing.postgres` reads it
(POSTGRES_DBNAME, POSTGRES_HOST, ...; POSTGRES_ENABLE_DB_FUNCTIONS=y for its
database functions). It uses the standard library and `eventsourcing` only.

A tiny line protocol on standard input and output, so the benchmark can read
the CPU of this process and of PostgreSQL around each timed window alone:
it prints `ready` once its table exists; each line `go CONCURRENCY SECONDS`
then starts the application, warms it, saves new aggregates from CONCURRENCY
threads for SECONDS, each carrying the fields of a `guarantee.issued`, closes
it and prints one JSON line of figures; end of input ends it.
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
import time
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Guarantee(Aggregate):  # type: ignore[misc]
    """A guarantee, issued: the fields of the ledger's `guarantee.issued`."""

    @event("Issued")  # type: ignore[untyped-decorator]
    def __init__(
        self,
        guarantee_id: str,
        program_id: str,
        sme_id: str,
        bank_id: str,
        guarantor_id: str,
        loan_amount: int,
        fee_rate_bp: int,
        start_date: str,
        maturity_date: str,
    ) -> None:
        self.guarantee_id = guarantee_id
        self.program_id = program_id
        self.sme_id = sme_id
        self.bank_id = bank_id
        self.guarantor_id = guarantor_id
        self.loan_amount = loan_amount
        self.fee_rate_bp = fee_rate_bp
        self.start_date = start_date
        self.maturity_date = maturity_date


class Guarantees(Application):  # type: ignore[misc]
    """The application a user of the peer would write: one save per issued guarantee."""

    def issue(self, n: int, tag: str) -> None:
        """Save guarantee `tag`-n as a new aggregate."""
        self.save(
            Guarantee(
                guarantee_id=f"G-{tag}-{n}",
                program_id="bench-open",
                sme_id=f"91500000{n:09d}X",
                bank_id="BENCH-BANK",
                guarantor_id="BENCH-GUAR",
                loan_amount=100_000_000,
                fee_rate_bp=80,
                start_date="2025-03-01",
                maturity_date="2027-03-01",
            )
        )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def window(app: Guarantees, concurrency: int, seconds: float, tag: str) -> dict[str, Any]:
    """Save from `concurrency` threads for `seconds`; the figures bench/stats.py gives."""
    counter = itertools.count()
    latencies: list[float] = []
    errors: list[BaseException] = []
    deadline = time.perf_counter() + seconds

    def worker() -> None:
        try:
            while time.perf_counter() < deadline:
                n = next(counter)
                began = time.perf_counter()
                app.issue(n, tag)
                latencies.append(time.perf_counter() - began)
        except Exception as exc:  # a failed save is counted and reported, not hidden
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    ordered = sorted(latencies)
    if errors:
        print(f"peer save failed: {errors[0]!r}", file=sys.stderr)
    return {
        "operations": len(ordered),
        "events": len(ordered),
        "seconds": round(elapsed, 3),
        "events_per_s": round(len(ordered) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(ordered, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(ordered, 0.99) * 1000, 2),
        "errors": len(errors),
    }


def warmed(tag: str) -> Guarantees:
    """The application, with its pool's first connection and its statements' first plans."""
    app = Guarantees()
    for n in range(20):
        app.issue(n, tag)
    return app


def main() -> int:
    """Serve the line protocol until standard input ends.

    Each window has an application of its own, closed after it: the benchmark keeps
    the peer waiting between windows beside the ledger and the pass-through, and
    their connections together must stay within the server's limit.
    """
    warmed("ready").close()  # its table exists
    print("ready", flush=True)
    for rounds, line in enumerate(sys.stdin):
        word, concurrency, seconds = line.split()
        if word != "go":
            print(f"unknown command {word!r}", file=sys.stderr)
            return 2
        app = warmed(f"warm{rounds}")
        try:
            figures = window(app, int(concurrency), float(seconds), f"r{rounds}")
        finally:
            app.close()
        print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
