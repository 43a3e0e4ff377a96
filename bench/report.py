"""Reading the benchmark: targets met or not, and the tables docs/performance.md shows."""

from __future__ import annotations

from typing import Any

from bench import standbys

TARGETS = {
    "single_c32_ratio": ("single posts at concurrency 32 / raw INSERT rate", ">=", 0.40),
    "single_c32_p99_ms": ("single posts at concurrency 32, p99 ms", "<", 50.0),
    "batch100_events_per_s": ("batches of 100, events/s", ">=", 30_000.0),
    "replay_events_per_s": ("replay, events/s", ">=", 100_000.0),
    "replay_peak_rss_mb": ("replay, peak memory MB", "<", 300.0),
    "catch_up_events_per_s": ("projection catch-up, events/s", ">=", 10_000.0),
    "growth_ratio": ("append p50 full store / empty store", "<=", 1.25),
}


def figures(results: dict[str, Any]) -> dict[str, float]:
    """The figures the targets are about."""
    base, led = results["baseline"], results["ledger"]
    return {
        "single_c32_ratio": led["single_c32"]["events_per_s"] / base["single_c32"]["events_per_s"],
        "single_c32_p99_ms": led["single_c32"]["p99_ms"],
        "batch100_events_per_s": led["batch100_c8"]["events_per_s"],
        "replay_events_per_s": led["replay"]["events_per_s"],
        "replay_peak_rss_mb": led["replay"]["peak_rss_mb"],
        "catch_up_events_per_s": led["catch_up"]["events_per_s"],
        "growth_ratio": led["growth_full"]["p50_ms"] / led["growth_empty"]["p50_ms"],
    }


def evaluate(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with its measured value and whether it is met."""
    out: dict[str, dict[str, Any]] = {}
    for key, value in figures(results).items():
        label, op, limit = TARGETS[key]
        met = {">=": value >= limit, "<": value < limit, "<=": value <= limit}[op]
        out[key] = {
            "label": label,
            "value": round(value, 3),
            "target": f"{op} {limit:g}",
            "met": met,
        }
    return out


def _ratio(ledger: dict[str, Any], raw: dict[str, Any]) -> str:
    return f"{ledger['events_per_s'] / raw['events_per_s']:.2f}"


def render(results: dict[str, Any]) -> str:
    """A Markdown table of every measurement and every target."""
    lines = [
        f"PostgreSQL {results['postgresql']}, {results['machine']['cpus']} CPUs, "
        f"revision {results['git_revision']}",
        "",
        "| measurement | events/s | p50 ms | p99 ms | raw INSERT events/s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    base, led = results["baseline"], results["ledger"]
    for c in (1, 8, 32):
        b, m = base[f"single_c{c}"], led[f"single_c{c}"]
        lines.append(
            f"| single posts, concurrency {c} | {m['events_per_s']:.0f} | {m['p50_ms']:.1f} | "
            f"{m['p99_ms']:.1f} | {b['events_per_s']:.0f} | {_ratio(m, b)} |"
        )
    b, m = base["batch100_c8"], led["batch100_c8"]
    lines.append(
        f"| batches of 100, concurrency 8 | {m['events_per_s']:.0f} | {m['p50_ms']:.1f} | "
        f"{m['p99_ms']:.1f} | {b['events_per_s']:.0f} | {_ratio(m, b)} |"
    )
    passthrough = results.get("passthrough", {})
    for key, label in (
        ("single_c32", "single posts, concurrency 32"),
        ("batch100_c8", "batches of 100, concurrency 8"),
    ):
        if key in passthrough:
            b, m = base[key], passthrough[key]
            lines.append(
                f"| HTTP pass-through to the raw INSERT, {label} | {m['events_per_s']:.0f} | "
                f"{m['p50_ms']:.1f} | {m['p99_ms']:.1f} | {b['events_per_s']:.0f} | "
                f"{_ratio(m, b)} |"
            )
    for key, label in (
        ("growth_empty", "append, near-empty store"),
        ("growth_full", "append, full store"),
    ):
        m = led[key]
        lines.append(
            f"| {label} ({m['stored_events']} events) | {m['events_per_s']:.0f} | "
            f"{m['p50_ms']:.2f} | {m['p99_ms']:.2f} | | |"
        )
    for key, label in (("replay", "audit replay"), ("catch_up", "projection catch-up")):
        m = led[key]
        runs = m.get("runs_s", [])
        each = f", median of {', '.join(f'{t:g}' for t in runs)} s" if len(runs) > 1 else ""
        lines.append(
            f"| {label} ({m['events']} events{each}, peak {m['peak_rss_mb']} MB) | "
            f"{m['events_per_s']:.0f} | | | | |"
        )
    lines += _cpu_table(results)
    lines += ["", "| target | measured | wanted | met |", "|---|---:|---|---|"]
    for t in results["targets"].values():
        lines.append(
            f"| {t['label']} | {t['value']} | {t['target']} | {'yes' if t['met'] else 'NO'} |"
        )
    if "standbys" in results:
        lines += standbys.render(results["standbys"])
    probes = results.get("probe_ms", {})
    if probes:
        slowest = max(probes, key=probes.__getitem__)
        fastest = min(probes, key=probes.__getitem__)
        lines += [
            "",
            f"CPU probe (bench/probe.py, ms before each phase): {probes[fastest]:g} "
            f"({fastest}) to {probes[slowest]:g} ({slowest})",
        ]
    return "\n".join(lines)


_CPU_ROWS = (
    ("baseline", "single_c32", "raw INSERT, concurrency 32"),
    ("passthrough", "single_c32", "HTTP pass-through, single posts, concurrency 32"),
    ("ledger", "single_c32", "ledger, single posts, concurrency 32"),
    ("baseline", "batch100_c8", "raw batched INSERT of 100"),
    ("passthrough", "batch100_c8", "HTTP pass-through, batches of 100"),
    ("ledger", "batch100_c8", "ledger, batches of 100"),
)
# Each column's part; the fourth is the load generator, or the raw INSERTs' own client.
_CPU_COLUMNS = (("service",), ("runner",), ("postgresql",), ("load_generator", "client"))


def _cpu_table(results: dict[str, Any]) -> list[str]:
    """CPU per event by process, and the rate the machine's cores allow at that cost."""
    cores = int(results["machine"]["cpus"])
    lines = [
        "",
        "| CPU per event, us | service | runner | PostgreSQL | load generator or client | "
        f"total | {cores} cores / total, events/s | same without the service |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for group, key, label in _CPU_ROWS:
        cpu = results.get(group, {}).get(key, {}).get("cpu_us")
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
    return lines if len(lines) > 2 else []
