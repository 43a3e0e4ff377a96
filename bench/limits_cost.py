"""What risk limits cost the posts of guarantors and programs without them.

One service on one database posts single `guarantee.issued` (a guarantor and a
program without limits) in alternating windows: with no limits anywhere, and
with limits in use by others (bench/limits_switch.py), at concurrency 1, 8 and
32, several rounds, the order flipped each round so neither side always goes
first. Each side is rated by its median window, with the CPU of each process
per post. `measure` runs inside `make bench` (bench/measure.py);
`python -m bench.limits_cost` runs it alone on a fresh database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from bench.limits_switch import Switch, others_events, switch
from bench.phases import say, sql, wait_settled, with_cpu
from bench.service import create_key, post, run_load, running_service
from ledger import aio

CONCURRENCY = (1, 8, 32)
_PARTS = ("service", "postgresql", "runner", "load_generator", "total")


def set_up_others(url: str, admin_key: str) -> None:
    """Post the other guarantor's limits and the other program's rate limit."""
    post(url, admin_key, others_events())


def measure(spec: dict[str, Any], dsn: str, pid: int, *, rounds: int = 2) -> dict[str, Any]:
    """Single posts at each concurrency, limits off and on for others, alternating;
    the others' limits must have been set up (`set_up_others`). Leaves them on."""
    state: Switch | None = None
    out: dict[str, Any] = {"rounds": rounds, "seconds": spec["seconds"]}
    for c in CONCURRENCY:
        windows: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
        for r in range(rounds):
            for side in ("on", "off") if r % 2 else ("off", "on"):
                state = aio.run(switch(dsn, side == "on", state))
                wait_settled(dsn)
                figures = with_cpu(
                    pid,
                    dsn,
                    run_load,
                    {**spec, "mode": "issue", "tag": f"l{side}{c}r{r}", "concurrency": c},
                    settle=dsn,
                )
                windows[side].append(figures)
        out[f"single_c{c}"] = _compare(windows)
    aio.run(switch(dsn, True, state))
    return out


def _compare(windows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Both sides' median rate and CPU per post, and how much slower `on` is."""
    sides: dict[str, dict[str, Any]] = {}
    for side, runs in windows.items():
        cpu = {
            part: statistics.median(w["cpu_us"][part] for w in runs)
            for part in _PARTS
            if all(part in w["cpu_us"] for w in runs)
        }
        sides[side] = {
            "events_per_s": statistics.median(w["events_per_s"] for w in runs),
            "cpu_us": cpu,
            "runs": [round(w["events_per_s"], 1) for w in runs],
        }
    off, on = sides["off"]["events_per_s"], sides["on"]["events_per_s"]
    return {
        **sides,
        "slower_pct": round(100 * (1 - on / off), 2) if off else None,
        "service_cpu_pct": _more_pct(sides, "service"),
        "total_cpu_pct": _more_pct(sides, "total"),
    }


def _more_pct(sides: dict[str, dict[str, Any]], part: str) -> float | None:
    """How much more CPU per post `on` spends in `part` than `off`, in %."""
    off, on = sides["off"]["cpu_us"].get(part), sides["on"]["cpu_us"].get(part)
    return round(100 * (on / off - 1), 2) if off and on else None


def render(figures: dict[str, Any]) -> list[str]:
    """A Markdown table of the comparison."""
    lines = [
        "",
        f"| limits in use by others ({figures['rounds']} rounds of {figures['seconds']:g} s "
        "each side) | events/s off | events/s on | % slower | service CPU us/post off, on | "
        "all CPU us/post off, on |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in CONCURRENCY:
        m = figures[f"single_c{c}"]
        off, on = m["off"], m["on"]
        lines.append(
            f"| single posts, concurrency {c} | {off['events_per_s']:.0f} | "
            f"{on['events_per_s']:.0f} | {m['slower_pct']} | "
            f"{_us(off, 'service')}, {_us(on, 'service')} | "
            f"{_us(off, 'total')}, {_us(on, 'total')} |"
        )
    return lines


def _us(side: dict[str, Any], part: str) -> str:
    """A side's CPU per post in `part`, in whole microseconds (blank if not measured).

    A median of an even number of windows is the mean of two floats, which would
    otherwise print as 1255.3000000000002.
    """
    value = side["cpu_us"].get(part)
    return "" if value is None else f"{value:.0f}"


def main(argv: list[str] | None = None) -> int:
    """Measure on a fresh database of LEDGER_BENCH_DSN's server (`--dsn`); print JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.limits_cost", description=__doc__)
    parser.add_argument("--dsn", required=True, help="admin DSN of the PostgreSQL server")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each window")
    parser.add_argument("--rounds", type=int, default=3, help="windows on each side")
    parser.add_argument("--smes", type=int, default=20_000, help="SMEs registered first")
    args = parser.parse_args(argv)
    from bench.payloads import GUARANTOR_ID, setup_events
    from tests.pg import with_database

    name = f"ledger_limitcost_{uuid.uuid4().hex[:8]}"
    aio.run(sql(args.dsn, f'CREATE DATABASE "{name}"'))
    dsn = with_database(args.dsn, name)
    try:
        admin = create_key(dsn, "--role", "admin")
        with (
            tempfile.TemporaryDirectory(prefix="ledger-limitcost-") as tmp,
            running_service(dsn, Path(tmp) / "service.log") as ledger,
        ):
            post(ledger.url, admin, setup_events())
            set_up_others(ledger.url, admin)
            spec: dict[str, Any] = {
                "url": ledger.url,
                "key": create_key(dsn, "--institution", GUARANTOR_ID),
            }
            say(f"registering {args.smes} SMEs")
            batches = args.smes // 100
            registering = {"mode": "batch", "batch": 100, "concurrency": 4, "seconds": 600}
            run_load({**spec, **registering, "start": 0, "max_operations": batches})
            spec.update(seconds=args.seconds, start=0, max_operations=batches * 100)
            say("limits off and on for others, alternating")
            figures = measure(spec, dsn, ledger.pid, rounds=args.rounds)
    finally:
        aio.run(sql(args.dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps(figures, indent=2))
    print("\n".join(render(figures)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
