"""The benchmark report's side tables: the ledger beside its peer, CPU per event, the log."""

from __future__ import annotations

from typing import Any

_PEERS = (("default", "eventsourcing"), ("db_functions", "eventsourcing, database functions"))


def _cell(group: dict[str, Any], key: str) -> str:
    m = group.get(key)
    return f"{m['events_per_s']:.0f} ({m['p50_ms']:.1f})" if m else ""


def peer_table(results: dict[str, Any]) -> list[str]:
    """Single posts at each concurrency: the ledger beside the peer, the pass-through and
    the raw INSERT, events/s (p50 ms), and the ledger's rate over each of theirs."""
    led, peer = results["ledger"], results.get("peer", {})
    others = [(results["baseline"], "raw INSERT")]
    if "single_c1" in results.get("passthrough", {}):
        others.append((results["passthrough"], "pass-through"))
    others += [(peer[name], label) for name, label in _PEERS if name in peer]
    lines = [
        "",
        "| single posts, events/s (p50 ms) | ledger | "
        + " | ".join(label for _, label in others)
        + " | "
        + " | ".join(f"ledger / {label}" for _, label in others)
        + " |",
        "|---" + "|---:" * (1 + 2 * len(others)) + "|",
    ]
    for c in (1, 8, 32):
        key = f"single_c{c}"
        mine = led[key]["events_per_s"]
        rates = [g[key]["events_per_s"] if key in g else None for g, _ in others]
        lines.append(
            f"| concurrency {c} | {_cell(led, key)} | "
            + " | ".join(_cell(g, key) for g, _ in others)
            + " | "
            + " | ".join(f"{mine / r:.2f}" if r else "" for r in rates)
            + " |"
        )
    return lines


# Each column's part: the HTTP service or the peer's process; the ledger's read-model
# runner; PostgreSQL (the backends of the measured database), then the ledger's split by
# what each backend does; the load generator, or the raw INSERTs' own client.
_CPU_COLUMNS = (
    ("service", "peer"),
    ("runner",),
    ("postgresql",),
    ("pg_appender",),
    ("pg_sealer",),
    ("pg_runner",),
    ("load_generator", "client"),
)


def _cpu_rows(results: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    rows = []
    peer = results.get("peer", {})
    for c in (1, 8, 32):
        key = f"single_c{c}"
        groups = [
            (results["baseline"], "raw INSERT"),
            (results.get("passthrough", {}), "HTTP pass-through"),
            *((peer[name], label) for name, label in _PEERS if name in peer),
            (results["ledger"], "ledger"),
        ]
        rows += [(g[key], f"{label}, single, concurrency {c}") for g, label in groups if key in g]
    for group, label in (
        ("baseline", "raw batched INSERT of 100"),
        ("passthrough", "HTTP pass-through, batches of 100"),
        ("ledger", "ledger, batches of 100"),
    ):
        if "batch100_c8" in results.get(group, {}):
            rows.append((results[group]["batch100_c8"], label))
    return rows


def cpu_table(results: dict[str, Any]) -> list[str]:
    """CPU per event by process, and the rate the machine's cores allow at that cost."""
    cores = int(results["machine"]["cpus"])
    lines = [
        "",
        "| CPU per event, us | service or peer | runner | PostgreSQL | of which appends "
        "| sealer | runner | load generator or client "
        f"| total | {cores} cores / total, events/s | same without the service |",
        "|---" + "|---:" * 10 + "|",
    ]
    for figures_, label in _cpu_rows(results):
        cpu = figures_.get("cpu_us")
        if not cpu or not cpu.get("total"):
            continue
        cells = [
            next((f"{cpu[part]:g}" for part in parts if part in cpu), "") for parts in _CPU_COLUMNS
        ]
        others = cpu["total"] - cpu["service"] if "service" in cpu else None
        without = f"{cores * 1e6 / others:.0f}" if others else ""
        lines.append(
            f"| {label} | {' | '.join(cells)} | {cpu['total']:g} | "
            f"{cores * 1e6 / cpu['total']:.0f} | {without} |"
        )
    return lines if len(lines) > 3 else []


def log_table(log: dict[str, Any] | None) -> list[str]:
    """The verifiable log's figures: proofs, checkpoint lag, the tree's cost to posts."""
    if not log:
        return []
    proofs, lag = log["proofs"], log["checkpoint_lag_c32"]
    lines = [
        "",
        f"| verifiable log ({proofs['size']} events) | p50 | p99 |",
        "|---|---:|---:|",
        f"| inclusion proof, ms | {proofs['inclusion']['p50_ms']} | "
        f"{proofs['inclusion']['p99_ms']} |",
        f"| consistency proof, ms | {proofs['consistency']['p50_ms']} | "
        f"{proofs['consistency']['p99_ms']} |",
        f"| checkpoint lag at concurrency 32, s (max {lag['max_s']}) | {lag['p50_s']} | "
        f"{lag['p99_s']} |",
    ]
    for c in (1, 32):
        cost = log["tree_cost"][f"single_c{c}"]
        lines.append(
            f"| single posts at concurrency {c}: {cost['tree_on_events_per_s']:.0f} events/s "
            f"with the tree, {cost['tree_off_events_per_s']:.0f} without "
            f"({cost['slower_pct']}% slower) | | |"
        )
    return lines
