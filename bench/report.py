"""Reading the benchmark: targets met or not, and the tables docs/performance.md shows."""

from __future__ import annotations

from typing import Any

from bench import standbys
from bench.limits_cost import render as limits_table
from bench.report_tables import cpu_table, log_table, peer_table

TARGETS = {
    "single_c1_p50_ms": ("single posts at concurrency 1, p50 ms", "<=", 2.5),
    "single_c1_ratio": ("single posts at concurrency 1 / raw INSERT rate", ">=", 0.40),
    "single_c1_cpu_us": (
        "single posts at concurrency 1, CPU per post in the ledger's processes, us",
        "<=",
        1500.0,
    ),
    "single_c32_ratio": ("single posts at concurrency 32 / raw INSERT rate", ">=", 0.40),
    "single_c32_peer_ratio": (
        "single posts at concurrency 32 / eventsourcing with database functions",
        ">=",
        1.0,
    ),
    "single_c32_passthrough_ratio": (
        "single posts at concurrency 32 / HTTP pass-through",
        ">=",
        0.60,
    ),
    "single_c32_p99_ms": ("single posts at concurrency 32, p99 ms", "<", 50.0),
    "batch100_events_per_s": ("batches of 100, events/s", ">=", 20_000.0),
    "replay_events_per_s": ("replay, events/s", ">=", 150_000.0),
    "replay_peak_rss_mb": ("replay, peak memory MB", "<", 300.0),
    "catch_up_events_per_s": ("projection catch-up, events/s", ">=", 10_000.0),
    "growth_ratio": ("append p50 full store / empty store", "<=", 1.25),
    "inclusion_p99_ms": ("inclusion proof, p99 ms", "<", 10.0),
    "consistency_p99_ms": ("consistency proof, p99 ms", "<", 10.0),
    "checkpoint_lag_p99_s": ("checkpoint lag under load at concurrency 32, p99 s", "<=", 1.0),
    "tree_slower_pct": ("single posts at concurrency 32, % slower with the tree", "<=", 5.0),
    "limits_slower_pct": (
        "single posts without limits at concurrency 32, % slower with limits in use by others",
        "<",
        3.0,
    ),
    "verify_url_events_per_s": ("ledger audit verify --url, events/s", ">=", 50_000.0),
    "statement_ms": ("quarterly statement on the full store, p50 ms", "<", 1000.0),
    "as_of_ms": ("institution as of a business date on the full store, p50 ms", "<", 1000.0),
    "console_first_byte_p95_ms": ("console pages and their data, first byte p95 ms", "<", 100.0),
}


def _rate(group: dict[str, Any], key: str) -> float | None:
    return group[key]["events_per_s"] if key in group else None


def figures(results: dict[str, Any]) -> dict[str, float]:
    """The figures the targets are about, those the run measured (a quick run, fewer)."""
    base, led = results["baseline"], results["ledger"]
    peer = results.get("peer", {}).get("db_functions", {})
    passthrough = results.get("passthrough", {})
    out: dict[str, float] = {}
    c1, c32 = led.get("single_c1"), led.get("single_c32")
    if c1:
        out["single_c1_p50_ms"] = c1["p50_ms"]
        out["single_c1_ratio"] = c1["events_per_s"] / base["single_c1"]["events_per_s"]
        if c1.get("cpu_us", {}).get("total"):
            # The service, its runner and their PostgreSQL backends: what the ledger spends.
            # The load generator, counted in the total the machine's cores must serve, is
            # its client's CPU, not the ledger's.
            cpu = c1["cpu_us"]
            out["single_c1_cpu_us"] = round(cpu["total"] - cpu.get("load_generator", 0.0), 1)
    if c32:
        out["single_c32_ratio"] = c32["events_per_s"] / base["single_c32"]["events_per_s"]
        if (rate := _rate(peer, "single_c32")) is not None:
            out["single_c32_peer_ratio"] = c32["events_per_s"] / rate
        if (rate := _rate(passthrough, "single_c32")) is not None:
            out["single_c32_passthrough_ratio"] = c32["events_per_s"] / rate
        out["single_c32_p99_ms"] = c32["p99_ms"]
    if "batch100_c8" in base:  # not in the quick run, whose batches only register SMEs
        out["batch100_events_per_s"] = led["batch100_c8"]["events_per_s"]
    if "replay" in led:
        out["replay_events_per_s"] = led["replay"]["events_per_s"]
        out["replay_peak_rss_mb"] = led["replay"]["peak_rss_mb"]
    if "catch_up" in led:
        out["catch_up_events_per_s"] = led["catch_up"]["events_per_s"]
    if "growth_full" in led and "growth_empty" in led:
        out["growth_ratio"] = led["growth_full"]["p50_ms"] / led["growth_empty"]["p50_ms"]
    if "statement" in led:
        out["statement_ms"] = led["statement"]["now"]["p50_ms"]
    if "as_of" in led:  # results recorded before the as-of read model have none
        out["as_of_ms"] = led["as_of"]["now"]["p50_ms"]
    out.update(_log_figures(results.get("log")))
    if "limits_cost" in results:
        out["limits_slower_pct"] = results["limits_cost"]["single_c32"]["slower_pct"]
    if results.get("verify_url"):
        out["verify_url_events_per_s"] = results["verify_url"]["events_per_s"]
    # Results recorded before the console was timed have no such figure.
    if "console" in results:
        out["console_first_byte_p95_ms"] = results["console"]["worst_p95_ms"]
    return out


def _log_figures(log: dict[str, Any] | None) -> dict[str, float]:
    """The verifiable log's figures (bench/log_proofs.py), when measured."""
    if not log:
        return {}
    return {
        "inclusion_p99_ms": log["proofs"]["inclusion"]["p99_ms"],
        "consistency_p99_ms": log["proofs"]["consistency"]["p99_ms"],
        "checkpoint_lag_p99_s": log["checkpoint_lag_c32"]["p99_s"],
        "tree_slower_pct": log["tree_cost"]["single_c32"]["slower_pct"],
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


def _ledger_rows(results: dict[str, Any]) -> list[str]:
    base, led = results["baseline"], results["ledger"]
    lines = []
    for c in (1, 8, 32):
        b, m = base[f"single_c{c}"], led[f"single_c{c}"]
        lines.append(
            f"| single posts, concurrency {c} | {m['events_per_s']:.0f} | {m['p50_ms']:.1f} | "
            f"{m['p99_ms']:.1f} | {b['events_per_s']:.0f} | {_ratio(m, b)} |"
        )
    if "batch100_c8" in base:
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
        if key in passthrough and key in base:
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
        if key in led:
            m = led[key]
            lines.append(
                f"| {label} ({m['stored_events']} events) | {m['events_per_s']:.0f} | "
                f"{m['p50_ms']:.2f} | {m['p99_ms']:.2f} | | |"
            )
    for key, label in (("replay", "audit replay"), ("catch_up", "projection catch-up")):
        if key in led:
            m = led[key]
            runs = m.get("runs_s", [])
            each = f", median of {', '.join(f'{t:g}' for t in runs)} s" if len(runs) > 1 else ""
            lines.append(
                f"| {label} ({m['events']} events{each}, peak {m['peak_rss_mb']} MB) | "
                f"{m['events_per_s']:.0f} | | | | |"
            )
    if "statement" in led:
        for key, label in (("now", "as known now"), ("known_at_past", "as known before the fill")):
            m = led["statement"][key]
            lines.append(
                f"| quarterly statement, {label} ({m['guarantees']} guarantees, "
                f"{led['statement']['stored_events']} events) | | {m['p50_ms']:.2f} | "
                f"max {m['max_ms']:.2f} | | |"
            )
    if "as_of" in led:
        a = led["as_of"]
        for key, label in (("now", "as known now"), ("known_at_past", "as known before the fill")):
            lines.append(
                f"| institution as of {a['business_date']}, {label} ({a['stored_events']} "
                f"events; one fold {a['fold_ms']:.0f} ms) | | {a[key]['p50_ms']:.2f} | "
                f"max {a[key]['max_ms']:.2f} | | |"
            )
    synthetic = led.get("statement", {}).get("synthetic")
    if synthetic:
        lines.append(
            f"| statement query, {synthetic['guarantees']} guarantees of one institution "
            f"({synthetic['rows']} movement rows) | | {synthetic['p50_ms']:.2f} | "
            f"max {synthetic['max_ms']:.2f} | | |"
        )
    return lines


def render(results: dict[str, Any]) -> str:
    """A Markdown table of every measurement and every target."""
    lines = [
        f"PostgreSQL {results['postgresql']}, {results['machine']['cpus']} CPUs, "
        f"revision {results['git_revision']}, {results.get('run_seconds', '?')} s in all",
        "",
        "| measurement | events/s | p50 ms | p99 ms | raw INSERT events/s | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        *_ledger_rows(results),
    ]
    lines += peer_table(results)
    lines += cpu_table(results)
    lines += log_table(results.get("log"))
    if "limits_cost" in results:
        lines += limits_table(results["limits_cost"])
    if "console" in results:
        from bench.console import render as console_table

        lines += ["", console_table(results["console"])]
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
