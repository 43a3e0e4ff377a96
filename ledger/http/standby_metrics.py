"""Prometheus lines about the hot standbys: replay lag, in use or skipped, reads served.

Kept apart from the request metrics so it renders from the read router alone.
"""

from __future__ import annotations

import math

from ledger.standbys import ReadRouter


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def standby_metrics(router: ReadRouter) -> str:
    """The exposition lines for every standby (empty when none is configured)."""
    if not router.standbys:
        return ""
    series: list[tuple[str, str, str, list[tuple[str, float | None]]]] = []

    def family(name: str, kind: str, help_: str, values: list[tuple[str, float | None]]) -> None:
        series.append((name, kind, help_, values))

    standbys = router.standbys
    family(
        "ledger_standby_up",
        "gauge",
        "1 when the standby answered its last probe.",
        [(s.name, float(s.up)) for s in standbys],
    )
    family(
        "ledger_standby_in_use",
        "gauge",
        "1 when read routes go to the standby (up, replaying, within LEDGER_READ_MAX_LAG_S).",
        [(s.name, float(s.usable)) for s in standbys],
    )
    family(
        "ledger_standby_replay_paused",
        "gauge",
        "1 when the standby's WAL replay is paused.",
        [(s.name, float(s.paused)) for s in standbys],
    )
    family(
        "ledger_standby_replay_lag_seconds",
        "gauge",
        "Seconds since the primary first wrote WAL the standby has not replayed (0: caught up).",
        [(s.name, s.lag_s) for s in standbys],
    )
    family(
        "ledger_standby_replay_lag_bytes",
        "gauge",
        "Bytes of the primary's WAL the standby has not replayed.",
        [(s.name, s.lag_bytes) for s in standbys],
    )
    family(
        "ledger_standby_reads_total",
        "counter",
        "Read requests this process answered from the standby.",
        [(s.name, float(s.reads)) for s in standbys],
    )
    family(
        "ledger_standby_fallbacks_total",
        "counter",
        "Reads on the standby that failed for want of it and went to the primary.",
        [(s.name, float(s.fallbacks)) for s in standbys],
    )
    lines: list[str] = []
    for name, kind, help_, values in series:
        lines += [f"# HELP {name} {help_}", f"# TYPE {name} {kind}"]
        for standby, value in values:
            # A value not measured (standby down, primary away) is left out, not shown as 0.
            if value is not None:
                lines.append(f'{name}{{standby="{_escape(standby)}"}} {_value(value)}')
    lines += [
        "# HELP ledger_primary_reads_total Read-route requests answered by the primary "
        "while standbys are configured.",
        "# TYPE ledger_primary_reads_total counter",
        f"ledger_primary_reads_total {router.primary_reads}",
    ]
    return "\n".join(lines) + "\n"
