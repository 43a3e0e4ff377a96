"""Latency and rate summaries."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted values lie (nearest rank)."""
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[rank]


@dataclass(frozen=True)
class Run:
    """One measured load: how many operations and events, over what time, with what latencies."""

    operations: int
    events: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int = 0

    @property
    def events_per_s(self) -> float:
        """Events per second over the run."""
        return self.events / self.seconds if self.seconds else 0.0

    @classmethod
    def of(cls, latencies_s: list[float], events: int, seconds: float, errors: int = 0) -> Run:
        """Summarise raw latencies (seconds)."""
        ordered = sorted(latencies_s)
        return cls(
            operations=len(ordered),
            events=events,
            seconds=seconds,
            p50_ms=percentile(ordered, 0.50) * 1000,
            p99_ms=percentile(ordered, 0.99) * 1000,
            errors=errors,
        )

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready figures."""
        return {
            "operations": self.operations,
            "events": self.events,
            "seconds": round(self.seconds, 3),
            "events_per_s": round(self.events_per_s, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "errors": self.errors,
        }


def repeated(events: int, runs: list[tuple[float, int]]) -> dict[str, Any]:
    """Figures of one command timed several times over the same `events`.

    `runs` are (seconds, peak resident bytes) in the order they ran. The rate is
    taken from the median time, so one run beside a burst of load elsewhere on the
    machine moves it no more than one run of the rest does; each run's time is kept,
    and the peak is the highest of all.
    """
    if not runs:
        raise ValueError("no runs to summarise")
    seconds = [took for took, _ in runs]
    median = statistics.median(seconds)
    return {
        "events": events,
        "seconds": round(median, 3),
        "events_per_s": round(events / median, 1) if median else 0.0,
        "runs_s": [round(took, 3) for took in seconds],
        "peak_rss_mb": round(max(peak for _, peak in runs) / 2**20, 1),
    }
