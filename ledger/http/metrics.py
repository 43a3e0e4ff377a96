"""Prometheus metrics of one service process, kept with prometheus_client in a registry per app."""

from __future__ import annotations

from collections.abc import Iterator

import prometheus_client
from prometheus_client import (
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Upper bounds (seconds) of the request latency histogram."""

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""The media type of the text exposition rendered here (format 0.0.4)."""

# A `_created` timestamp beside every counter doubles the series a scrape carries
# and says nothing the process start time does not.
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]


class _ScrapeGauges(Collector):
    """Gauges measured by the scrape itself (pool use, read-model lag), set just before it."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[str, float]] = {}

    def collect(self) -> Iterator[Metric]:
        for name, (help_, value) in self.values.items():
            yield GaugeMetricFamily(name, help_, value=float(value))


class Metrics:
    """Request counts and latencies, appends, and the process's own metrics, in a registry of
    this app's (apps in one process, as in the tests, count apart)."""

    def __init__(self) -> None:
        """Register the ledger's metrics and prometheus_client's process, platform and GC ones."""
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        labels = ("method", "route", "status")
        self._requests = Counter(
            "ledger_http_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self._latency = Histogram(
            "ledger_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )
        self._appended = Counter(
            "ledger_events_appended",
            "Events stored by posts to this process.",
            registry=self.registry,
        )
        self._gauges = _ScrapeGauges()
        self.registry.register(self._gauges)
        # Each request would otherwise look its label set up twice; the children stay
        # few (method x route template x status).
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request; `route` is the route template, never the raw path."""
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            values = (method, route, str(status))
            children = (self._requests.labels(*values), self._latency.labels(*values))
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def appended(self, count: int) -> None:
        """Count events newly stored by a post (reposts add nothing)."""
        self._appended.inc(count)

    def render(self, gauges: dict[str, tuple[str, float]]) -> bytes:
        """The Prometheus text exposition; `gauges` maps name -> (help, value), measured by
        this scrape."""
        # No await between setting and rendering: a concurrent scrape cannot interleave.
        self._gauges.values = gauges
        return prometheus_client.generate_latest(self.registry)
