"""Prometheus metrics written by hand: request counts and latencies, appends, gauges."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the request latency histogram."""

_Labels = tuple[str, str, str]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(method: str, route: str, status: str) -> str:
    return f'method="{_escape(method)}",route="{_escape(route)}",status="{status}"'


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class _Histogram:
    counts: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.total += seconds


@dataclass
class Metrics:
    """Counters of one service process since it started."""

    requests: Counter[_Labels] = field(default_factory=Counter)
    latency: dict[_Labels, _Histogram] = field(default_factory=dict)
    events_appended: int = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; `route` is the route template, never the raw path."""
        labels = (method, route, str(status))
        self.requests[labels] += 1
        self.latency.setdefault(labels, _Histogram()).observe(seconds)

    def appended(self, count: int) -> None:
        """Count events newly stored by a post (reposts add nothing)."""
        self.events_appended += count

    def render(self, gauges: dict[str, tuple[str, float]]) -> str:
        """The Prometheus text exposition; `gauges` maps name -> (help, value)."""
        lines = [
            "# HELP ledger_http_requests_total HTTP requests answered.",
            "# TYPE ledger_http_requests_total counter",
        ]
        for labels, n in sorted(self.requests.items()):
            lines.append(f"ledger_http_requests_total{{{_labels(*labels)}}} {n}")
        lines += [
            "# HELP ledger_http_request_duration_seconds Time to answer an HTTP request.",
            "# TYPE ledger_http_request_duration_seconds histogram",
        ]
        for labels, hist in sorted(self.latency.items()):
            base = _labels(*labels)
            running = 0
            for bound, count in zip((*BUCKETS, float("inf")), hist.counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(
                    f'ledger_http_request_duration_seconds_bucket{{{base},le="{le}"}} {running}'
                )
            lines.append(f"ledger_http_request_duration_seconds_sum{{{base}}} {hist.total!r}")
            lines.append(f"ledger_http_request_duration_seconds_count{{{base}}} {running}")
        lines += [
            "# HELP ledger_events_appended_total Events stored by posts to this process.",
            "# TYPE ledger_events_appended_total counter",
            f"ledger_events_appended_total {self.events_appended}",
        ]
        for name, (help_, value) in gauges.items():
            lines += [f"# HELP {name} {help_}", f"# TYPE {name} gauge", f"{name} {_number(value)}"]
        return "\n".join(lines) + "\n"
