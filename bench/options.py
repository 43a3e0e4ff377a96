"""The benchmark's command line: what `make bench BENCH_ARGS=...` accepts."""

from __future__ import annotations

import argparse
from pathlib import Path


def parser(description: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m bench`."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=description)
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
        "--rounds",
        type=int,
        default=3,
        help="windows of single posts for each system and concurrency, taken in turns "
        "(the ledger, the raw INSERT, the pass-through and the peer); the median is reported",
    )
    parser.add_argument(
        "--peers-only",
        action="store_true",
        help="only single posts at concurrency 1, 8 and 32: the ledger beside the raw "
        "INSERT, the HTTP pass-through and the peer (a minute or two at --seconds 3)",
    )
    return parser
