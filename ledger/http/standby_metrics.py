"""Prometheus metrics about the hot standbys: replay lag, in use or skipped, reads served.

A collector over the read router, registered in the app's registry while the
runtime runs: each scrape reads what the last probe of each standby found.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ledger.standbys import ReadRouter, Standby

_LABELS = ["standby"]


def _gauge(name: str, help_: str, standbys: list[Standby], value: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_, labels=_LABELS)
    for standby in standbys:
        measured = getattr(standby, value)
        # A value not measured (standby down, primary away) is left out, not shown as 0.
        if measured is not None:
            family.add_metric([standby.name], float(measured))
    return family


def _counter(name: str, help_: str, standbys: list[Standby], value: str) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_, labels=_LABELS)
    for standby in standbys:
        family.add_metric([standby.name], float(getattr(standby, value)))
    return family


class StandbyCollector(Collector):
    """Each standby's state as the read router last saw it (nothing when none is configured)."""

    def __init__(self, router: ReadRouter) -> None:
        """Collect from `router` at every scrape."""
        self.router = router

    def collect(self) -> Iterator[Metric]:
        """The standby metric families, labelled by host:port/database (never a password)."""
        standbys = self.router.standbys
        if not standbys:
            return
        yield _gauge(
            "ledger_standby_up", "1 when the standby answered its last probe.", standbys, "up"
        )
        yield _gauge(
            "ledger_standby_in_use",
            "1 when read routes go to the standby (up, replaying, within LEDGER_READ_MAX_LAG_S).",
            standbys,
            "usable",
        )
        yield _gauge(
            "ledger_standby_replay_paused",
            "1 when the standby's WAL replay is paused.",
            standbys,
            "paused",
        )
        yield _gauge(
            "ledger_standby_replay_lag_seconds",
            "Seconds since the primary first wrote WAL the standby has not replayed "
            "(0: caught up).",
            standbys,
            "lag_s",
        )
        yield _gauge(
            "ledger_standby_replay_lag_bytes",
            "Bytes of the primary's WAL the standby has not replayed.",
            standbys,
            "lag_bytes",
        )
        yield _counter(
            "ledger_standby_reads",
            "Read requests this process answered from the standby.",
            standbys,
            "reads",
        )
        yield _counter(
            "ledger_standby_fallbacks",
            "Reads on the standby that failed for want of it and went to the primary.",
            standbys,
            "fallbacks",
        )
        primary = CounterMetricFamily(
            "ledger_primary_reads",
            "Read-route requests answered by the primary while standbys are configured.",
        )
        primary.add_metric([], float(self.router.primary_reads))
        yield primary
